"""Demo data: a real hierarchy, users of each role, valid parties, well-formed cases; idempotent."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from stdnum.cn import ric, uscc

from enforcement import audit, demo
from enforcement.models import (
    AuditEntry,
    CaseEvent,
    CaseParty,
    Court,
    CourtLevel,
    EnforcementCase,
    Party,
    PartyKind,
    Role,
    User,
)
from enforcement.permissions import Action, can

NUMBER_RE = re.compile(r"^（(\d{4})）(.+?)执(\d+)号$")


@pytest.fixture
def loaded(db):
    return demo.load()


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Court, User, Party, EnforcementCase, CaseParty, CaseEvent, AuditEntry)
    }


@pytest.mark.django_db
def test_hierarchy_of_yuhu_court(loaded):
    yuhu = Court.objects.get(code="湘0302")
    assert yuhu.name == "湘潭市雨湖区人民法院"
    assert yuhu.level == CourtLevel.BASIC
    assert yuhu.region == "430302"
    assert [c.code for c in yuhu.ancestors()] == ["湘03", "湘", "最高法"]
    assert [c.level for c in yuhu.ancestors()] == ["intermediate", "high", "supreme"]


@pytest.mark.django_db
def test_every_court_sits_under_the_level_above(loaded):
    above = {"high": "supreme", "intermediate": "high", "basic": "intermediate"}
    assert Court.objects.filter(level="supreme").count() == 1
    for court in Court.objects.select_related("parent"):
        if court.level == "supreme":
            assert court.parent is None
            continue
        assert court.parent.level == above[court.level], court
        # every court below a high court carries its province's abbreviation (湘0302 under 湘)
        province = [c for c in [court, *court.ancestors()] if c.level == "high"]
        if province:
            assert court.code.startswith(province[0].code), court
    assert counts()["Court"] == len(demo.COURTS)


@pytest.mark.django_db
def test_courts_named_in_the_domain_brief_exist(loaded):
    for name in [
        "湘潭市雨湖区人民法院",
        "宁德市蕉城区人民法院",
        "克东县人民法院",
        "东台市人民法院",
        "杭州市余杭区人民法院",
    ]:
        assert Court.objects.filter(name=name, level="basic").exists(), name
    for code in ["苏", "浙", "湘", "闽", "黑", "京", "沪", "粤"]:
        assert Court.objects.get(code=code).level == "high"


@pytest.mark.django_db
def test_users_and_roles(loaded):
    for username, display_name, court_code, roles in demo.USERS:
        user = User.objects.get(username=username)
        assert user.display_name == display_name
        assert user.court.code == court_code
        assert user.role_codes == frozenset(roles)
        assert user.check_password(demo.DEMO_PASSWORD)
        assert user.is_active and not user.is_superuser
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.has_role(Role.SYSTEM_ADMIN)
    assert admin.check_password(demo.DEMO_PASSWORD)
    # every role is represented
    held = set(User.objects.values_list("roles__code", flat=True))
    assert held >= set(Role.CODES)


@pytest.mark.django_db
def test_parties_have_valid_identity_numbers(loaded):
    parties = list(Party.objects.all())
    assert len(parties) >= 8
    for party in parties:
        if party.kind == PartyKind.PERSON:
            assert ric.is_valid(party.id_number), party
            assert party.uscc == ""
        elif party.kind == PartyKind.ENTITY:
            assert uscc.is_valid(party.uscc), party
            assert party.id_number == ""
    assert {p.kind for p in parties} >= {PartyKind.PERSON, PartyKind.ENTITY}


@pytest.mark.django_db
def test_cases_have_well_formed_numbers_and_parties(loaded):
    cases = list(EnforcementCase.objects.select_related("court"))
    assert len(cases) == loaded["cases"] > 0
    for case in cases:
        match = NUMBER_RE.match(case.number)
        assert match, case.number
        assert int(match[1]) == case.filed_on.year == case.year
        assert match[2] == case.court.code
        assert int(match[3]) == case.sequence
        roles = set(case.case_parties.values_list("role", flat=True))
        assert roles == {"applicant", "respondent"}
        assert case.amount_due > 0
    # numbers count up from 1 per court, type and year
    by_key: dict[tuple, list[int]] = {}
    for case in cases:
        by_key.setdefault((case.court_id, case.type_code, case.year), []).append(case.sequence)
    for sequences in by_key.values():
        assert sorted(sequences) == list(range(1, len(sequences) + 1))


@pytest.mark.django_db
def test_demo_judge_handles_demo_cases(loaded):
    judge = User.objects.get(username="judge_yuhu")
    handled = [c for c in EnforcementCase.objects.filter(court__code="湘0302") if can(judge, Action.HANDLE, c)]
    assert handled, "the demo judge should have cases in the workbench"
    supervisor = User.objects.get(username="supervisor_hunan")
    assert all(can(supervisor, Action.VIEW, c) for c in EnforcementCase.objects.filter(court__code__startswith="湘"))
    admin = User.objects.get(username="admin")
    assert not any(can(admin, Action.VIEW, c) for c in EnforcementCase.objects.all())


@pytest.mark.django_db
def test_loading_twice_creates_nothing_new(loaded):
    before = counts()
    assert demo.load() == {"courts": 0, "users": 0, "cases": 0}
    assert counts() == before


@pytest.mark.django_db
def test_audit_trail_is_intact_after_loading(loaded):
    assert AuditEntry.objects.filter(chain="system").count() >= len(demo.COURTS) + len(demo.USERS)
    assert AuditEntry.objects.exclude(chain="system").exists()
    assert audit.verify() is None
    demo.load()
    assert audit.verify() is None


@pytest.mark.django_db
def test_management_command_loads_and_prints_logins(db):
    out = io.StringIO()
    call_command("load_demo_data", stdout=out)
    assert f"{len(demo.COURTS)} courts" in out.getvalue()
    out = io.StringIO()
    call_command("load_demo_data", stdout=out)
    assert "0 courts, 0 users, 0 cases" in out.getvalue()
    out = io.StringIO()
    call_command("load_demo_data", "--print-logins", stdout=out)
    text = out.getvalue()
    assert demo.DEMO_PASSWORD in text
    for username, *_rest in demo.USERS:
        assert username in text


@pytest.mark.django_db
def test_demo_connectors_follow_the_stand_in_platforms(monkeypatch):
    from django.core.management import call_command

    from platforms.models import Connector

    monkeypatch.setenv("MOCK_PLATFORMS_URL", "http://127.0.0.1:9100")
    call_command("load_demo_data")
    assert {c.base_url for c in Connector.objects.all()} == {
        f"http://127.0.0.1:9100/{code}" for code in Connector.objects.values_list("platform__code", flat=True)
    }
    monkeypatch.setenv("MOCK_PLATFORMS_URL", "http://127.0.0.1:9200")
    call_command("load_demo_data")
    assert all(c.base_url.startswith("http://127.0.0.1:9200/") for c in Connector.objects.all())
    assert Connector.objects.count() == 7
