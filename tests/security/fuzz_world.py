"""The rows the API fuzzer aims at (tests/security/test_schemathesis.py): one case of 雨湖 court with
something behind every path parameter of the API, the users who call it, and a fingerprint of
everything a caller of another court (or a system administrator) must never change.

The courts and users are those of the cast (tests/conftest.py), built here once for the whole module
(the fuzzer's operations share them; the cast fixture is per test). 雨湖 (``cast.case``'s court) is
the *home* court; its rows are made through the services, as in production. The second court is 蕉城
(Fujian), whose judge and bureau head ``outsider`` has a case of its own so that its lists are not
empty.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.authtoken.models import Token

from clues import services as clue_services
from clues.models import LiveSeizureVisit, Measure, MeasureReminder, PropertyClue
from enforcement import services as case_services
from enforcement.models import (
    AuditEntry,
    CaseDocument,
    CaseEvent,
    CaseParty,
    CaseStatus,
    CaseUserObjectPermission,
    Court,
    EnforcementCase,
    Party,
    Role,
    User,
)
from platforms import services as platform_services
from platforms.models import Connector, DeliveryAttempt, Notice, NoticeState, Platform
from tests.clues.factories import PlatformFactory, add_clue, add_measure, respondent_of
from tests.factories import EnforcementCaseFactory, PartyFactory, UserFactory, make_courts
from transfers import services as transfer_services
from transfers.models import (
    Art237ExcludedPeriod,
    BankruptcyStep,
    FileAccessGrant,
    HandoverRecord,
    MaterialRequest,
    ProgressReport,
    Transfer,
    TransferCase,
    TransferStep,
    TriggerConfig,
)

# Strings that only the home court's rows contain: a response to another court's user (or to a
# system administrator) that shows one of them has leaked case content.
RESPONDENT_NAME = "雨湖被执行人甲"
RESPONDENT_USCC = "91430302MA4R8XYZ1B"
CLUE_ACCOUNT = "yuhu-secret-account-0001"
DATA_ACCOUNT = "yuhu-user-data-0002"
DOCUMENT_TITLE = "雨湖执行依据副本"


@dataclass
class World:
    cast: SimpleNamespace
    tokens: dict[str, str]
    ids: dict[str, int | str]  # path parameter ("case_id", "doc_id", "code") or path prefix -> real value
    own_ids: dict[str, int]  # the same for the rows of the second court's judge (``outsider``)
    refs: dict[str, object]  # body field -> real value of the home court (see test_schemathesis.refer)
    markers: list[str]
    baseline: dict[str, str] = field(default_factory=dict)


def _document(actor, case, title):
    upload = SimpleUploadedFile("basis.pdf", b"%PDF-1.4 fuzz", content_type="application/pdf")
    return case_services.add_document(actor, case, doc_type="other", title=title, upload=upload)


def make_cast() -> SimpleNamespace:
    """The cast's courts and the users the fuzzer calls with (as tests/conftest.py makes them)."""
    courts = make_courts()
    yuhu, mid, yuetang, jiaocheng, fj = courts.yuhu, courts.mid, courts.yuetang, courts.jiaocheng, courts.fj
    assigned = UserFactory(username="assigned", court=yuhu, roles=[Role.JUDGE])
    return SimpleNamespace(
        courts=courts,
        case=EnforcementCaseFactory(court=yuhu, judges=[assigned]),
        assigned=assigned,
        head=UserFactory(username="head", court=yuhu, roles=[Role.BUREAU_HEAD, Role.JUDGE]),
        supervisor=UserFactory(username="supervisor", court=mid, roles=[Role.SUPERVISOR]),
        sibling_head=UserFactory(username="sibling_head", court=yuetang, roles=[Role.BUREAU_HEAD]),
        outsider=UserFactory(username="outsider", court=jiaocheng, roles=[Role.JUDGE, Role.BUREAU_HEAD]),
        other_supervisor=UserFactory(username="other_supervisor", court=fj, roles=[Role.SUPERVISOR]),
        admin=UserFactory(username="admin", court=None, roles=[Role.SYSTEM_ADMIN]),
    )


def build() -> World:
    cast = make_cast()
    courts = cast.courts
    admin = cast.admin
    taobao = PlatformFactory(code="taobao", name="淘宝")
    connector = platform_services.save_connector(
        admin,
        taobao,
        base_url="http://127.0.0.1:9/taobao",
        key_id="k",
        secret="s" * 24,
        capabilities=["query", "freeze"],
    )

    # The home case: started, with a named respondent, a clue on the platform, a freeze, a live
    # seizure with a visit, a document, notices, a pending transfer and another court's file request.
    case = cast.case
    respondent = respondent_of(case)
    Party.objects.filter(pk=respondent.pk).update(
        name=RESPONDENT_NAME, kind="entity", uscc=RESPONDENT_USCC, id_number=""
    )
    case_services.transition_case(cast.assigned, case, CaseStatus.IN_PROGRESS)
    case.amount_due = Decimal("500000.00")
    case.save(update_fields=["amount_due"])
    clue = add_clue(cast.assigned, case, platform=taobao, account=CLUE_ACCOUNT)
    freeze = add_measure(cast.assigned, case, clue)
    add_clue(
        cast.assigned, case, category="data", kind="user_data", account=DATA_ACCOUNT, estimated_value="3000.00"
    )  # personal data: masked for those who may not read the case file
    pigs = add_clue(cast.assigned, case, category="traditional", kind="livestock", account="生猪40头")
    live = add_measure(cast.assigned, case, pigs, kind="live_seizure")
    visit = clue_services.schedule_visit(cast.assigned, live, scheduled_on=dt.date.today())
    document = _document(cast.assigned, case, DOCUMENT_TITLE)
    (awaiting,) = platform_services.request_notices(
        cast.assigned, case, kind="freeze", platforms=["taobao"], respondent=respondent.pk, account="a", amount="10"
    )
    (failed,) = platform_services.request_notices(
        cast.assigned, case, kind="query", platforms=["taobao"], respondent=respondent.pk
    )
    Notice.objects.filter(pk=failed.pk).update(state=NoticeState.FAILED)
    transfer = transfer_services.create_transfer(
        cast.supervisor, case=case, mode="designate", trigger="supervisor_initiative", reason="长期未执行"
    )
    grant = transfer_services.request_file_access(cast.sibling_head, case=case.pk, reason="核对财产线索")

    # A second home case designated to 岳塘 and accepted there, whose receiving court asked for materials.
    moved = EnforcementCaseFactory(court=courts.yuhu, judges=[cast.assigned])
    case_services.transition_case(cast.assigned, moved, CaseStatus.IN_PROGRESS)
    designated = transfer_services.create_transfer(
        cast.supervisor, case=moved, mode="designate", trigger="supervisor_initiative", reason="长期未执行"
    )
    designated = transfer_services.approve_transfer(
        cast.supervisor, designated, receiving_court=courts.yuetang, deadline_days=30
    )
    designated = transfer_services.accept_transfer(cast.sibling_head, designated)
    material = transfer_services.request_materials(cast.sibling_head, designated, description="补充执行依据")

    # The second court's own case, so that its judge's lists have rows, and so that the fuzzer can
    # send the judge's own rows with references to 雨湖's in the body (its clue, measure, document).
    own_party = PartyFactory(name="蕉城被执行人乙")
    own = EnforcementCaseFactory(court=courts.jiaocheng, judges=[cast.outsider], parties__respondents=[own_party])
    case_services.transition_case(cast.outsider, own, CaseStatus.IN_PROGRESS)
    own_clue = add_clue(cast.outsider, own, platform=taobao, account="jiaocheng-account-0001")
    own_measure = add_measure(cast.outsider, own, own_clue)

    users = {
        "judge": cast.assigned,
        "supervisor": cast.supervisor,
        "outsider": cast.outsider,
        "other_supervisor": cast.other_supervisor,
        "admin": admin,
    }
    ids: dict[str, int | str] = {
        "case_id": case.pk,
        "doc_id": document.pk,
        "code": "taobao",
        "/api/v1/cases/{id}": case.pk,
        "/api/v1/clues/{id}": clue.pk,
        "/api/v1/measures/{id}/visits": live.pk,
        "/api/v1/measures/{id}/proceeds": live.pk,
        "/api/v1/measures/{id}": freeze.pk,
        "/api/v1/visits/{id}": visit.pk,
        "/api/v1/notices/{id}/replay": failed.pk,
        "/api/v1/notices/{id}": awaiting.pk,
        "/api/v1/parties/{id}": respondent.pk,
        "/api/v1/courts/{id}": courts.yuhu.pk,
        "/api/v1/users/{id}": cast.assigned.pk,
        "/api/v1/connectors/{id}": connector.pk,
        "/api/v1/transfers/{id}/materials": designated.pk,
        "/api/v1/transfers/{id}/reports": designated.pk,
        "/api/v1/transfers/{id}/conclude": designated.pk,
        "/api/v1/transfers/{id}": transfer.pk,
        "/api/v1/transfer-materials/{id}": material.pk,
        "/api/v1/file-access/{id}": grant.pk,
    }
    refs = {
        "case": case.pk,
        "cases": [case.pk],
        "respondent": respondent.pk,
        "respondents": [respondent.pk],
        "applicants": [p.pk for p in Party.objects.filter(case_roles__case=case, case_roles__role="applicant")],
        "clue": clue.pk,
        "measure": freeze.pk,
        "court": courts.yuhu.pk,
        "receiving_court": courts.yuetang.pk,
        "parent": courts.mid.pk,
        "hq_court": courts.yuhu.pk,
        "assigned_judges": [cast.assigned.pk],
        "judges": [cast.assigned.pk],
        "platform": "taobao",
        "platforms": ["taobao"],
        "application_document": document.pk,
        "consent_document": document.pk,
        "photos": [document.pk],
        "evidence": [document.pk],
    }
    tokens = {name: Token.objects.create(user=user).key for name, user in users.items()}
    markers = [case.number, moved.number, RESPONDENT_NAME, RESPONDENT_USCC, CLUE_ACCOUNT, DATA_ACCOUNT, DOCUMENT_TITLE]
    own_ids = {
        "case_id": own.pk,
        "/api/v1/cases/{id}": own.pk,
        "/api/v1/clues/{id}": own_clue.pk,
        "/api/v1/measures/{id}": own_measure.pk,
    }
    world = World(cast=cast, tokens=tokens, ids=ids, own_ids=own_ids, refs=refs, markers=markers)
    world.baseline = fingerprint(courts.yuhu)
    return world


def _digests(querysets: dict[str, object]) -> dict[str, str]:
    """A hash of each queryset's rows: on PostgreSQL in one statement (the fuzzer takes thousands)."""
    if connection.vendor != "postgresql":
        return {
            name: hashlib.sha256(repr(list(qs.order_by("pk").values_list())).encode()).hexdigest()
            for name, qs in querysets.items()
        }
    parts, params = [], []
    for qs in querysets.values():
        sql, qs_params = qs.values_list().query.sql_with_params()
        parts.append(f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM ({sql}) t)")
        params.extend(qs_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        return dict(zip(querysets, cursor.fetchone(), strict=True))


def write_counts() -> dict[str, int] | None:
    """Rows inserted, updated or deleted so far in this transaction, per table (PostgreSQL counts
    them in pg_stat_xact_user_tables, rolled-back savepoints included); None elsewhere."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables")
        return dict(cursor.fetchall())


def fingerprint(home: Court) -> dict[str, str]:
    """Every row of the home court's cases (content) and of the registries (courts, users,
    platforms, connectors, the home province's trigger thresholds), hashed per table."""
    cases = EnforcementCase.objects.filter(court=home).values("pk")
    on_case = {
        EnforcementCase: {"court": home},
        CaseParty: {"case__in": cases},
        CaseEvent: {"case__in": cases},
        CaseDocument: {"case__in": cases},
        CaseUserObjectPermission: {"content_object__in": cases},
        AuditEntry: {"case__in": cases},
        PropertyClue: {"case__in": cases},
        Measure: {"case__in": cases},
        MeasureReminder: {"measure__case__in": cases},
        LiveSeizureVisit: {"measure__case__in": cases},
        Notice: {"case__in": cases},
        DeliveryAttempt: {"notice__case__in": cases},
        Transfer: {"case__in": cases},
        TransferCase: {"case__in": cases},
        TransferStep: {"transfer__case__in": cases},
        BankruptcyStep: {"transfer__case__in": cases},
        HandoverRecord: {"original_case__in": cases},
        MaterialRequest: {"transfer__case__in": cases},
        ProgressReport: {"transfer__case__in": cases},
        Art237ExcludedPeriod: {"case__in": cases},
        FileAccessGrant: {"case__in": cases},
        Party: {"case_roles__case__in": cases},
    }
    querysets = {f"content.{model.__name__}": model.objects.filter(**q) for model, q in on_case.items()}
    for model in (Court, User, User.roles.through, Role, Platform, Connector):
        querysets[f"registry.{model.__name__}"] = model.objects.all()
    # the home province's trigger thresholds (another province's supervisors set their own)
    ancestors = [int(pk) for pk in home.path.strip("/").split("/")]
    querysets["registry.TriggerConfig"] = TriggerConfig.objects.filter(high_court_id__in=ancestors)
    return _digests(querysets)


def changed(world: World, home: Court, *, scope: str, writes_before: dict[str, int] | None) -> list[str]:
    """The tables (of ``scope``: "content" or "" for all) whose rows differ from the baseline. Only
    hashed again when something was written since ``writes_before`` (see write_counts)."""
    if writes_before is not None and write_counts() == writes_before:
        return []
    now = fingerprint(home)
    return [name for name, digest in now.items() if name.startswith(scope) and world.baseline[name] != digest]
