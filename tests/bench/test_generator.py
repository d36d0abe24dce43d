"""The scale generator (bench/generate.py) at a tiny size: the rows it writes are consistent."""

from __future__ import annotations

import pytest
from django.db import connection

from bench import checks, generate
from clues.models import PropertyClue
from enforcement import audit
from enforcement.models import AuditChainHead, AuditEntry, CaseParty, Court, EnforcementCase, Party, Role
from platforms.models import DeliveryAttempt, Notice

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = [
    ("judge", "执行法官"),
    ("bureau_head", "执行局长"),
    ("supervisor", "上级法院监督"),
    ("system_admin", "系统管理员"),
]


def _url() -> str:
    s = connection.settings_dict
    auth = f"{s.get('USER') or 'postgres'}{':' + s['PASSWORD'] if s.get('PASSWORD') else ''}@"
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


@pytest.fixture
def generated():
    for code, name in ROLES:  # a flush by an earlier transactional test removes the seeded roles
        Role.objects.get_or_create(code=code, defaults={"name": name})
    scenario = generate.generate(_url(), 200, vacuum=False, log=lambda message: None)
    yield scenario
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_scale_meta")


def test_generated_rows_are_consistent(generated):
    """One generation (it takes a few seconds), every property checked on it."""
    assert EnforcementCase.objects.count() == 200
    assert checks.audit_chains(sample=200) == []
    assert checks.identifiers(sample=1000) == []
    assert checks.references() == []
    assert checks.special_case(generated) == []
    assert checks.respondent_load() == []
    assert checks.derived_marks() == []
    assert audit.verify() is None
    # one case.open, one clue.add per clue and one notice.request per notice, chained per case
    assert AuditEntry.objects.count() == 200 + PropertyClue.objects.count() + Notice.objects.count()
    assert AuditChainHead.objects.count() == 200
    assert DeliveryAttempt.objects.exists()
    # the court hierarchy has the real shape
    levels = generated["courts_by_level"]
    assert levels["supreme"] == 1 and levels["high"] == 32
    assert 380 <= levels["intermediate"] <= 420 and levels["basic"] >= 2800
    basic = Court.objects.filter(level="basic").select_related("parent__parent").first()
    assert basic.parent.level == "intermediate" and basic.parent.parent.level == "high"
    assert basic.path == f"{basic.parent.path}{basic.pk}/"
    assert basic.code.startswith(basic.parent.code) and len(basic.code) == len(basic.parent.code) + 2
    # case numbers in the official format
    for case in EnforcementCase.objects.select_related("court")[:50]:
        assert case.number == EnforcementCase.format_number(case.year, case.court.code, case.type_code, case.sequence)
    assert Party.objects.filter(kind="person").exclude(id_number="").exists()


def test_the_checks_see_wrong_derived_marks(generated):
    unmarked = CaseParty.objects.filter(role="respondent", over_trigger=False).first()
    CaseParty.objects.filter(pk=unmarked.pk).update(over_trigger=True)
    EnforcementCase.objects.filter(pk=unmarked.case_id).update(last_activity_at=None)
    assert sorted(p.split(":")[0] for p in checks.derived_marks()) == ["last_activity_at", "same-respondent mark"]
    EnforcementCase.objects.filter(undisposed_since__isnull=False).update(undisposed_since="2020-01-01")
    assert "undisposed_since" in {p.split(":")[0] for p in checks.derived_marks()}
