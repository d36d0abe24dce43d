"""The transfer pages: the permission matrix through every page and POST (nothing written on
denial), what the pages show (reasons, recommendation, handover, 销案 and the new case number) and
the query counts of the lists."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enforcement import periods
from enforcement.models import AuditEntry, CaseEvent, CaseUserObjectPermission, EnforcementCase, Role
from tests.factories import EnforcementCaseFactory, PartyFactory, UserFactory, make_cast, make_courts
from tests.support.shared_rows import SharedCastAndWorld
from tests.transfers.conftest import document
from transfers import services
from transfers.models import (
    Art237ExcludedPeriod,
    BankruptcyStep,
    FileAccessGrant,
    Transfer,
    TransferCase,
    TriggerConfig,
)

pytestmark = pytest.mark.django_db

WHO = (
    "assigned",
    "colleague",
    "head",
    "supervisor",
    "high_supervisor",
    "sibling_head",
    "outsider",
    "other_supervisor",
    "admin",
    "superuser",
)


def counts() -> dict:
    return {
        "Transfer": list(Transfer.objects.order_by("pk").values_list("pk", "state")),
        "AuditEntry": AuditEntry.objects.count(),
        "CaseEvent": CaseEvent.objects.count(),
        "EnforcementCase": EnforcementCase.objects.count(),
        "grants": CaseUserObjectPermission.objects.count(),
        "FileAccessGrant": list(FileAccessGrant.objects.order_by("pk").values_list("pk", "state")),
    }


def old_case(cast, **kwargs):
    """A case of 雨湖 handled by ``assigned``, filed eight months ago (art. 237 eligible)."""
    filed = timezone.localdate() - dt.timedelta(days=240)
    return EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.assigned], filed_on=filed, **kwargs)


@pytest.fixture
def world(cast):
    return build_world(cast)


def build_world(cast) -> dict:
    """proposed: a court request on cast.case; approved: a designation to 岳塘 waiting for
    acceptance; accepted: a designation accepted by 岳塘 with a material request; fresh: an
    eligible case without a transfer; grant: a pending file-access request of the outsider."""
    receiving_judge = UserFactory(username="receiving_judge", court=cast.courts.yuetang, roles=[Role.JUDGE])
    proposed = services.create_transfer(
        cast.head, case=cast.case, mode="designate", trigger="court_request", reason="本院执行不能"
    )
    approved_case, accepted_case, fresh = old_case(cast), old_case(cast), old_case(cast)
    approved = services.create_transfer(
        cast.supervisor, case=approved_case, mode="designate", trigger="supervisor_initiative", reason="长期未执行"
    )
    approved = services.approve_transfer(cast.supervisor, approved, receiving_court=cast.courts.yuetang.pk)
    accepted = services.create_transfer(
        cast.supervisor, case=accepted_case, mode="designate", trigger="supervisor_initiative", reason="长期未执行"
    )
    accepted = services.approve_transfer(cast.supervisor, accepted, receiving_court=cast.courts.yuetang.pk)
    accepted = services.accept_transfer(cast.sibling_head, accepted, judges=[receiving_judge.pk])
    material = services.request_materials(cast.sibling_head, accepted, description="执行依据原件")
    grant = services.request_file_access(cast.outsider, case=cast.case.pk, reason="同一被执行人")
    return {
        "proposed": proposed,
        "approved": approved,
        "accepted": accepted,
        "material": material,
        "fresh": fresh,
        "grant": grant,
        "receiving_judge": receiving_judge,
    }


SUPERVISORS = {"supervisor": 200, "high_supervisor": 200, "other_supervisor": 200}
HEADS = {"head": 200, "sibling_head": 200, "outsider": 200}
WORKERS = {"assigned": 200, "colleague": 200, "head": 200, "sibling_head": 200, "outsider": 200}
# viewers of a 雨湖 case (no transfer to another court)
VIEWERS = {"assigned": 200, "head": 200, "supervisor": 200, "high_supervisor": 200}


def matrix(allowed: dict, *, viewers=VIEWERS, ok_key=None) -> dict:
    """who -> status: ``allowed`` as given, other viewers 403, everyone else 404."""
    return {who: allowed.get(who, 403 if who in viewers else 404) for who in WHO}


def role_page(allowed: dict) -> dict:
    """A page of a role: the role's users as given, everyone else 403."""
    return {who: allowed.get(who, 403) for who in WHO}


APPROVED_VIEWERS = {**VIEWERS, "sibling_head": 200}
ACCEPTED_VIEWERS = {**VIEWERS, "sibling_head": 200}

# name -> (method, url builder, data builder, who -> status)
PAGES = {
    "eligible": ("get", lambda c, w: reverse("transfer_eligible"), None, role_page(SUPERVISORS)),
    "pending": ("get", lambda c, w: reverse("transfer_pending"), None, role_page(SUPERVISORS)),
    "decided": ("get", lambda c, w: reverse("transfer_decided"), None, role_page(SUPERVISORS)),
    "overdue": ("get", lambda c, w: reverse("transfer_overdue"), None, role_page(SUPERVISORS)),
    "incoming": ("get", lambda c, w: reverse("transfer_incoming"), None, role_page(HEADS)),
    "file_access": ("get", lambda c, w: reverse("file_access"), None, role_page(WORKERS)),
    "detail": ("get", lambda c, w: reverse("transfer_detail", args=[w["proposed"].pk]), None, matrix(VIEWERS)),
    "detail_approved": (
        "get",
        lambda c, w: reverse("transfer_detail", args=[w["approved"].pk]),
        None,
        matrix(APPROVED_VIEWERS, viewers=APPROVED_VIEWERS),
    ),
    "case_tab": ("get", lambda c, w: reverse("case_transfers", args=[c.case.pk]), None, matrix(VIEWERS)),
    "create_form": (
        "get",
        lambda c, w: reverse("transfer_create", args=[w["fresh"].pk]),
        None,
        matrix({"head": 200, "supervisor": 200, "high_supervisor": 200}),
    ),
    "create": (
        "post",
        lambda c, w: reverse("transfer_create", args=[w["fresh"].pk]),
        lambda c, w, who: {
            "mode": "designate",
            "trigger": "court_request" if who == "head" else "supervisor_initiative",
            "reason": "长期无进展",
        },
        matrix({"head": 302, "supervisor": 302, "high_supervisor": 302}),
    ),
    "review": (
        "post",
        lambda c, w: reverse("transfer_review", args=[w["proposed"].pk]),
        lambda c, w, who: {},
        matrix({"supervisor": 302}),
    ),
    "approve": (
        "post",
        lambda c, w: reverse("transfer_approve", args=[w["proposed"].pk]),
        lambda c, w, who: {"receiving_court": c.courts.yuetang.pk, "deadline_days": "30"},
        matrix({"supervisor": 302}),
    ),
    "reject": (
        "post",
        lambda c, w: reverse("transfer_reject", args=[w["proposed"].pk]),
        lambda c, w, who: {"reason": "原执行法院仍在处置财产"},
        matrix({"supervisor": 302}),
    ),
    "accept": (
        "post",
        lambda c, w: reverse("transfer_accept", args=[w["approved"].pk]),
        lambda c, w, who: {"judges": [w["receiving_judge"].pk]},
        matrix({"sibling_head": 302}, viewers=APPROVED_VIEWERS),
    ),
    "report": (
        "post",
        lambda c, w: reverse("transfer_report", args=[w["accepted"].pk]),
        lambda c, w, who: {"text": "已查封车辆一台"},
        matrix({"sibling_head": 302}, viewers=ACCEPTED_VIEWERS),
    ),
    "materials": (
        "post",
        lambda c, w: reverse("transfer_materials", args=[w["accepted"].pk]),
        lambda c, w, who: {"description": "送达回证"},
        matrix({"sibling_head": 302}, viewers=ACCEPTED_VIEWERS),
    ),
    "supply": (
        "post",
        lambda c, w: reverse("transfer_supply", args=[w["accepted"].pk, w["material"].pk]),
        lambda c, w, who: {"note": "已邮寄原件"},
        matrix({"head": 302}, viewers=ACCEPTED_VIEWERS),
    ),
    "conclude": (
        "post",
        lambda c, w: reverse("transfer_conclude", args=[w["accepted"].pk]),
        lambda c, w, who: {"note": "执行完毕"},
        matrix({"supervisor": 302}, viewers=ACCEPTED_VIEWERS),
    ),
    "grant_approve": (
        "post",
        lambda c, w: reverse("file_access_approve", args=[w["grant"].pk]),
        lambda c, w, who: {},
        matrix({"head": 302}),
    ),
    "grant_refuse": (
        "post",
        lambda c, w: reverse("file_access_refuse", args=[w["grant"].pk]),
        lambda c, w, who: {},
        matrix({"head": 302}),
    ),
    "grant_request": (
        "post",
        lambda c, w: reverse("file_access"),
        lambda c, w, who: {"case": w["fresh"].number, "reason": "同一被执行人在本院有案件", "days": "10"},
        role_page({"sibling_head": 302, "outsider": 302, "assigned": 400, "colleague": 400, "head": 400}),
    ),
}


def build_cast_and_world(request) -> SimpleNamespace:
    cast = make_cast(make_courts())
    return SimpleNamespace(cast=cast, world=build_world(cast))


class TestPermissionMatrix(SharedCastAndWorld):
    """The cast and the world are built once for the class's 220 tests (tests/support/shared_rows.py):
    each test's request, and what it writes, is rolled back before the next one."""

    build_rows = staticmethod(build_cast_and_world)

    @pytest.mark.parametrize("who", WHO)
    @pytest.mark.parametrize("page", sorted(PAGES))
    def test_permission_matrix(self, client, cast, world, who, page):
        method, url_of, data_of, expected_by_who = PAGES[page]
        client.force_login(getattr(cast, who))
        target = url_of(cast, world)
        before = counts()
        if method == "get":
            response = client.get(target)
        else:
            response = client.post(target, data_of(cast, world, who))
        expected = expected_by_who[who]
        assert response.status_code == expected, (who, page, response.status_code)
        if method == "post" and expected != 302:
            assert counts() == before, f"{who} changed something through {page}"
        if method == "post" and expected == 302:
            assert counts() != before


def test_admins_see_no_transfer_pages(client, cast, world):
    for who in ("admin", "superuser"):
        client.force_login(getattr(cast, who))
        html = client.get(reverse("admin_courts")).content.decode()
        assert "可交叉案件" not in html and "收案" not in html


def test_eligible_list_shows_reasons_and_the_start_action(client, cast, world):
    client.force_login(cast.supervisor)
    html = client.get(reverse("transfer_eligible")).content.decode()
    fresh = world["fresh"]
    assert fresh.number in html
    assert "237条" in html and f"自立案之日（{fresh.filed_on.isoformat()}）起满6个月" in html
    assert reverse("transfer_create", args=[fresh.pk]) in html
    # a case with a running transfer links to it instead
    assert reverse("transfer_detail", args=[world["approved"].pk]) in html
    html = client.get(reverse("transfer_eligible") + "?reason=same_respondent").content.decode()
    assert fresh.number not in html


def test_refused_create_keeps_what_was_typed(client, cast, world):
    client.force_login(cast.supervisor)
    before = counts()
    response = client.post(
        reverse("transfer_create", args=[world["fresh"].pk]),
        {
            "mode": "elevate",
            "trigger": "supervisor_initiative",
            "reason": "",
            "receiving_court": cast.courts.yuetang.pk,
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "请写明理由" in html
    assert '<option value="elevate" selected>' in html
    assert f'<option value="{cast.courts.yuetang.pk}" selected>' in html
    assert counts() == before


def test_review_page_shows_recommendation_without_the_original_court(client, cast, world):
    client.force_login(cast.supervisor)
    transfer = world["proposed"]
    html = client.get(reverse("transfer_detail", args=[transfer.pk])).content.decode()
    assert "推荐接收法院" in html
    assert "在办案件人均" in html
    recommendation = html.split('class="recommendation"')[1].split("</ol>")[0]
    assert cast.courts.yuetang.name in recommendation
    assert cast.courts.yuhu.name not in recommendation
    select = html.split('name="receiving_court"')[1].split("</select>")[0]
    assert cast.courts.yuhu.name not in select and cast.courts.yuetang.name in select
    assert cast.case.number in html and "¥" in html
    # the original court's people see the transfer but no decision form
    client.force_login(cast.head)
    html = client.get(reverse("transfer_detail", args=[transfer.pk])).content.decode()
    assert "approve-form" not in html


def test_refused_approval_shows_the_error_and_writes_nothing(client, cast, world):
    client.force_login(cast.supervisor)
    before = counts()
    response = client.post(
        reverse("transfer_approve", args=[world["proposed"].pk]),
        {"receiving_court": cast.courts.yuetang.pk, "deadline_days": "abc", "decision_number": "（2025）湘03执监1号"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "期限须为整数" in html
    assert 'value="abc"' in html and "（2025）湘03执监1号" in html
    assert counts() == before


def test_approve_then_accept_shows_the_new_case_and_the_link_to_the_original(client, cast, world):
    transfer, case = world["proposed"], cast.case
    client.force_login(cast.supervisor)
    response = client.post(
        reverse("transfer_approve", args=[transfer.pk]),
        {"receiving_court": cast.courts.yuetang.pk, "deadline_days": "30"},
    )
    assert response.status_code == 302
    client.force_login(cast.sibling_head)
    html = client.get(reverse("transfer_incoming")).content.decode()
    assert case.number in html
    response = client.post(reverse("transfer_accept", args=[transfer.pk]), {"judges": [world["receiving_judge"].pk]})
    assert response.status_code == 302
    transfer.refresh_from_db()
    new = transfer.receiving_case
    assert new is not None and new.court_id == cast.courts.yuetang.pk
    html = client.get(reverse("transfer_detail", args=[transfer.pk])).content.decode()
    assert new.number in html and "移交记录" in html and "handover-sha" in html

    client.force_login(world["receiving_judge"])
    html = client.get(reverse("case_transfers", args=[new.pk])).content.decode()
    assert new.number in html and case.number in html
    assert reverse("case_detail", args=[case.pk]) in html
    html = client.get(reverse("case_detail", args=[new.pk])).content.decode()
    assert reverse("case_detail", args=[case.pk]) in html
    # the original: 销案, with the link to the successor
    client.force_login(cast.assigned)
    html = client.get(reverse("case_transfers", args=[case.pk])).content.decode()
    assert "销案" in html and new.number in html


def test_case_tab_offers_the_court_request_and_the_grant_approvals(client, cast, world):
    client.force_login(cast.head)
    html = client.get(reverse("case_transfers", args=[world["fresh"].pk])).content.decode()
    assert "申请交叉执行" in html
    html = client.get(reverse("case_transfers", args=[cast.case.pk])).content.decode()
    assert "申请交叉执行" not in html  # a transfer is running
    assert f"grant-{world['grant'].pk}" in html and "准许" in html
    client.force_login(cast.assigned)
    html = client.get(reverse("case_transfers", args=[world["fresh"].pk])).content.decode()
    assert "申请交叉执行" not in html and "申请调卷" not in html


def _queries(client, target) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(target)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _more_transfers(cast, n: int) -> None:
    for _ in range(n):
        case = old_case(cast)
        transfer = services.create_transfer(
            cast.supervisor, case=case, mode="designate", trigger="supervisor_initiative", reason="长期未执行"
        )
        if _ % 2:
            services.approve_transfer(cast.supervisor, transfer, receiving_court=cast.courts.yuetang.pk)


@pytest.mark.parametrize(
    ("who", "name"),
    [
        ("supervisor", "transfer_eligible"),
        ("supervisor", "transfer_pending"),
        ("supervisor", "transfer_decided"),
        ("supervisor", "transfer_overdue"),
        ("sibling_head", "transfer_incoming"),
    ],
)
def test_list_query_counts_do_not_grow(client, cast, world, who, name):
    client.force_login(getattr(cast, who))
    target = reverse(name)
    _more_transfers(cast, 1)
    for _ in range(2):
        old_case(cast)
    _queries(client, target)  # warm the per-process caches (content types, holidays)
    few = _queries(client, target)
    _more_transfers(cast, 17)
    for _ in range(17):
        old_case(cast)
    many = _queries(client, target)
    assert few == many, (name, few, many)


# --------------------------------------------------------------------------------------------
# reconsideration, 执转破, 集中执行 with several cases, trigger thresholds, art. 237 excluded periods
# --------------------------------------------------------------------------------------------

MORE_WHO = (*WHO, "mid_head")


def more_counts() -> dict:
    return {
        **counts(),
        "reconsideration": list(
            Transfer.objects.order_by("pk").values_list("reconsideration_requested_at", "reconsideration_upheld")
        ),
        "TransferCase": TransferCase.objects.count(),
        "BankruptcyStep": BankruptcyStep.objects.count(),
        "Art237ExcludedPeriod": Art237ExcludedPeriod.objects.count(),
        "TriggerConfig": list(TriggerConfig.objects.values_list("high_court_id", "same_respondent_min_cases")),
    }


def company_case(cast, **kwargs):
    """A 雨湖 case against an enterprise legal person, handled by ``assigned``, with a written consent."""
    company = PartyFactory(entity=True, name=f"湘潭某某科技有限公司{PartyFactory._meta.model.objects.count()}")
    case = old_case(cast, parties__respondents=[company], **kwargs)
    consent = document(cast.assigned, case, title="申请执行人同意移送破产审查的书面意见")
    return case, consent


def refer(cast, case, consent):
    return services.create_transfer(
        cast.assigned,
        case=case,
        mode="bankruptcy",
        trigger="court_request",
        reason="不能清偿到期债务",
        consent_document=consent.pk,
    )


@pytest.fixture
def more(cast, world):
    return build_more(cast, world)


def build_more(cast, world) -> dict:
    """reconsidered: a designation with a pending reconsideration; bankruptcy: a proposed 执转破;
    referred: a decided 执转破 to the intermediate court; company: an entity case without a
    transfer; conc_a / conc_b: two cases (雨湖, 岳塘) against one person."""
    mid_head = UserFactory(username="mid_head", court=cast.courts.mid, roles=[Role.BUREAU_HEAD])
    reconsidered = services.create_transfer(
        cast.supervisor, case=old_case(cast), mode="designate", trigger="supervisor_initiative", reason="长期未执行"
    )
    reconsidered = services.approve_transfer(cast.supervisor, reconsidered, receiving_court=cast.courts.yuetang.pk)
    reconsidered = services.request_reconsideration(cast.head, reconsidered, reason="本院已查封房产，即将拍卖")
    case, consent = company_case(cast)
    bankruptcy = refer(cast, case, consent)
    case, consent = company_case(cast)
    referred = refer(cast, case, consent)
    services.record_bankruptcy_step(cast.assigned, referred, kind="judge_opinion", note="符合执转破条件")
    services.record_bankruptcy_step(cast.assigned, referred, kind="panel", note="合议庭同意")
    services.record_bankruptcy_step(cast.head, referred, kind="president_signature", note="同意移送")
    referred = services.approve_transfer(cast.head, referred)
    company, company_consent = company_case(cast)
    person = PartyFactory(name="王某")
    conc_a = old_case(cast, parties__respondents=[person])
    yuetang_judge = UserFactory(username="yuetang_judge", court=cast.courts.yuetang, roles=[Role.JUDGE])
    filed = timezone.localdate() - dt.timedelta(days=240)
    conc_b = EnforcementCaseFactory(
        court=cast.courts.yuetang, judges=[yuetang_judge], filed_on=filed, parties__respondents=[person]
    )
    cast.mid_head = mid_head
    return {
        "mid_head": mid_head,
        "reconsidered": reconsidered,
        "bankruptcy": bankruptcy,
        "referred": referred,
        "company": company,
        "company_consent": company_consent,
        "conc_a": conc_a,
        "conc_b": conc_b,
    }


def excluded_data(case, *, start=10, end=40, kind="public_notice"):
    return {
        "kind": kind,
        "started_on": (case.filed_on + dt.timedelta(days=start)).isoformat(),
        "ended_on": (case.filed_on + dt.timedelta(days=end)).isoformat(),
        "note": "公告送达",
    }


TRIGGER_DATA = {
    "same_respondent_min_cases": "8",
    "same_respondent_min_courts": "3",
    "undisposed_months": "4",
    "stalled_days": "60",
}
HIGH_SUPERVISORS = {"high_supervisor": 200, "other_supervisor": 200}
REFERRED_VIEWERS = {**VIEWERS, "mid_head": 200}


def more_matrix(allowed: dict, *, viewers=VIEWERS) -> dict:
    return {who: allowed.get(who, 403 if who in viewers else 404) for who in MORE_WHO}


def more_role_page(allowed: dict) -> dict:
    return {who: allowed.get(who, 403) for who in MORE_WHO}


# name -> (method, url builder, data builder, who -> status); builders take (cast, world, more)
MORE_PAGES = {
    "reconsider": (
        "post",
        lambda c, w, m: reverse("transfer_reconsider", args=[w["approved"].pk]),
        lambda c, w, m, who: {"reason": "本院即将执行到位"},
        more_matrix({"head": 302, "sibling_head": 302}, viewers=APPROVED_VIEWERS),
    ),
    "reconsider_answer": (
        "post",
        lambda c, w, m: reverse("transfer_reconsider_answer", args=[m["reconsidered"].pk]),
        lambda c, w, m, who: {"upheld": "0", "answer": "原执行法院已查封房产，撤销指令执行决定"},
        more_matrix({"supervisor": 302}, viewers=APPROVED_VIEWERS),
    ),
    "bankruptcy_detail": (
        "get",
        lambda c, w, m: reverse("transfer_detail", args=[m["bankruptcy"].pk]),
        None,
        more_matrix(VIEWERS),
    ),
    "bankruptcy_step": (
        "post",
        lambda c, w, m: reverse("transfer_bankruptcy_step", args=[m["bankruptcy"].pk]),
        lambda c, w, m, who: {"kind": "judge_opinion", "note": "被执行人资不抵债"},
        more_matrix({"assigned": 302, "head": 302}),
    ),
    "bankruptcy_refuse": (
        "post",
        lambda c, w, m: reverse("transfer_refuse", args=[m["referred"].pk]),
        lambda c, w, m, who: {"reason": "不符合破产受理条件"},
        more_matrix({"mid_head": 302}, viewers=REFERRED_VIEWERS),
    ),
    "bankruptcy_create_form": (
        "get",
        lambda c, w, m: reverse("transfer_create", args=[m["company"].pk]),
        None,
        more_matrix({"assigned": 200, "head": 200, "supervisor": 200, "high_supervisor": 200}),
    ),
    "bankruptcy_create": (
        "post",
        lambda c, w, m: reverse("transfer_create", args=[m["company"].pk]),
        lambda c, w, m, who: {
            "mode": "bankruptcy",
            "trigger": "court_request",
            "reason": "不能清偿到期债务",
            "consent_document": m["company_consent"].pk,
        },
        # supervisors may start transfers of this case, but not 执转破: the form refuses the choice
        more_matrix({"assigned": 302, "head": 302, "supervisor": 400, "high_supervisor": 400}),
    ),
    "concentrate_create": (
        "post",
        lambda c, w, m: reverse("transfer_create", args=[m["conc_a"].pk]),
        lambda c, w, m, who: {
            "mode": "concentrate",
            "trigger": "court_request" if who == "head" else "supervisor_initiative",
            "reason": "同一被执行人多案集中执行",
            "cases": [m["conc_b"].pk],
        },
        # the head does not see the 岳塘 case: it is not offered, the form refuses it
        more_matrix({"supervisor": 302, "high_supervisor": 302, "head": 400}),
    ),
    "excluded_period": (
        "post",
        lambda c, w, m: reverse("excluded_period_create", args=[w["fresh"].pk]),
        lambda c, w, m, who: excluded_data(w["fresh"]),
        more_matrix({"assigned": 302, "head": 302}),
    ),
    "triggers": ("get", lambda c, w, m: reverse("transfer_triggers"), None, more_role_page(HIGH_SUPERVISORS)),
    "triggers_save": (
        "post",
        lambda c, w, m: reverse("transfer_triggers"),
        lambda c, w, m, who: TRIGGER_DATA,
        more_role_page({"high_supervisor": 302, "other_supervisor": 302}),
    ),
}


def build_cast_world_and_more(request) -> SimpleNamespace:
    rows = build_cast_and_world(request)
    rows.more = build_more(rows.cast, rows.world)
    return rows


class TestMorePermissionMatrix(SharedCastAndWorld):
    """The cast, the world and ``more`` are built once for the class's 121 tests
    (tests/support/shared_rows.py): each test's request, and what it writes, is rolled back before
    the next one."""

    build_rows = staticmethod(build_cast_world_and_more)

    @pytest.fixture
    def more(self, shared_rows):
        return shared_rows.more

    @pytest.mark.parametrize("who", MORE_WHO)
    @pytest.mark.parametrize("page", sorted(MORE_PAGES))
    def test_more_permission_matrix(self, client, cast, world, more, who, page):
        method, url_of, data_of, expected_by_who = MORE_PAGES[page]
        client.force_login(getattr(cast, who))
        target = url_of(cast, world, more)
        before = more_counts()
        if method == "get":
            response = client.get(target)
        else:
            response = client.post(target, data_of(cast, world, more, who))
        expected = expected_by_who[who]
        assert response.status_code == expected, (who, page, response.status_code)
        if method == "post" and expected != 302:
            assert more_counts() == before, f"{who} changed something through {page}"
        if method == "post" and expected == 302:
            assert more_counts() != before


def test_reconsideration_request_and_revocation(client, cast, world):
    transfer = world["approved"]
    url = reverse("transfer_detail", args=[transfer.pk])
    client.force_login(cast.head)
    html = client.get(url).content.decode()
    assert "reconsider-form" in html and "复议申请期限至" in html
    client.force_login(cast.assigned)
    assert "reconsider-form" not in client.get(url).content.decode()
    client.force_login(cast.supervisor)
    html = client.get(url).content.decode()
    assert "reconsider-form" not in html and "reconsider-answer-form" not in html

    client.force_login(cast.head)
    response = client.post(reverse("transfer_reconsider", args=[transfer.pk]), {"reason": "本院已查封房产"})
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert "本院已查封房产" in html and "待决定法院答复" in html and "reconsider-form" not in html

    client.force_login(cast.sibling_head)
    html = client.get(url).content.decode()
    assert "reconsider-form" not in html  # already requested

    client.force_login(cast.supervisor)
    html = client.get(url).content.decode()
    assert "reconsider-answer-form" in html and "维持原决定" in html and "撤销原决定" in html
    response = client.post(
        reverse("transfer_reconsider_answer", args=[transfer.pk]), {"upheld": "0", "answer": "撤销指令执行"}
    )
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.state == "rejected" and transfer.reconsideration_upheld is False
    html = client.get(url).content.decode()
    assert "撤销原决定" in html and "撤销指令执行" in html and "reconsider-answer-form" not in html
    assert "不予准许" in html


def test_reconsideration_after_the_deadline_is_not_offered(client, cast, world):
    transfer = world["approved"]
    Transfer.objects.filter(pk=transfer.pk).update(reconsideration_due=timezone.localdate() - dt.timedelta(days=1))
    client.force_login(cast.head)
    assert "reconsider-form" not in client.get(reverse("transfer_detail", args=[transfer.pk])).content.decode()
    before = more_counts()
    response = client.post(reverse("transfer_reconsider", args=[transfer.pk]), {"reason": "逾期"})
    assert response.status_code == 403
    assert more_counts() == before


def test_refused_reconsideration_forms_show_the_error(client, cast, world, more):
    client.force_login(cast.head)
    before = more_counts()
    response = client.post(reverse("transfer_reconsider", args=[world["approved"].pk]), {"reason": "  "})
    assert response.status_code == 400
    assert "请写明申请复议的理由" in response.content.decode()
    assert more_counts() == before
    client.force_login(cast.supervisor)
    response = client.post(
        reverse("transfer_reconsider_answer", args=[more["reconsidered"].pk]), {"upheld": "1", "answer": ""}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "请写明复议意见" in html and 'value="1" id="id_upheld_0" required checked' in html
    assert more_counts() == before


def test_reconsideration_upheld_lets_the_receiving_court_accept(client, cast, world, more):
    transfer = more["reconsidered"]
    client.force_login(cast.sibling_head)
    response = client.post(reverse("transfer_accept", args=[transfer.pk]), {"judges": [world["receiving_judge"].pk]})
    assert response.status_code == 400 and "复议申请尚未答复" in response.content.decode()
    client.force_login(cast.supervisor)
    response = client.post(
        reverse("transfer_reconsider_answer", args=[transfer.pk]), {"upheld": "1", "answer": "维持指令执行"}
    )
    assert response.status_code == 302
    html = client.get(reverse("transfer_detail", args=[transfer.pk])).content.decode()
    assert "维持原决定" in html and "维持指令执行" in html
    client.force_login(cast.sibling_head)
    response = client.post(reverse("transfer_accept", args=[transfer.pk]), {"judges": [world["receiving_judge"].pk]})
    assert response.status_code == 302


def test_bankruptcy_created_from_the_case_with_the_consent_document(client, cast, world, more):
    case = more["company"]
    client.force_login(cast.assigned)
    html = client.get(reverse("case_transfers", args=[case.pk])).content.decode()
    assert "申请交叉执行" in html
    html = client.get(reverse("transfer_create", args=[case.pk])).content.decode()
    assert 'value="bankruptcy"' in html and 'value="designate"' not in html
    assert "申请执行人同意移送破产审查的书面意见" in html
    # without the consent: 400, the Chinese message, the typed reason kept, nothing written
    before = more_counts()
    response = client.post(
        reverse("transfer_create", args=[case.pk]),
        {"mode": "bankruptcy", "trigger": "court_request", "reason": "资不抵债"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "书面同意" in html and "资不抵债" in html
    assert more_counts() == before
    response = client.post(
        reverse("transfer_create", args=[case.pk]),
        {
            "mode": "bankruptcy",
            "trigger": "court_request",
            "reason": "资不抵债",
            "consent_document": more["company_consent"].pk,
        },
    )
    assert response.status_code == 302
    transfer = Transfer.objects.get(case=case)
    assert transfer.mode == "bankruptcy" and transfer.consent_document_id == more["company_consent"].pk
    # a natural-person respondent: no 执转破 offered
    client.force_login(cast.head)
    html = client.get(reverse("transfer_create", args=[world["fresh"].pk])).content.decode()
    assert 'value="bankruptcy"' not in html and "consent_document" not in html


def test_bankruptcy_steps_in_order_then_decision_and_answer(client, cast, world, more):
    transfer = more["bankruptcy"]
    url = reverse("transfer_detail", args=[transfer.pk])
    step_url = reverse("transfer_bankruptcy_step", args=[transfer.pk])
    client.force_login(cast.assigned)
    html = client.get(url).content.decode()
    assert "bankruptcy-step-form" in html and "承办法官意见" in html
    # out of order: the service refuses, nothing written
    before = more_counts()
    response = client.post(step_url, {"kind": "panel", "note": "合议"})
    assert response.status_code == 400 and "请先完成：承办法官意见" in response.content.decode()
    response = client.post(step_url, {"kind": "judge_opinion", "note": ""})
    assert response.status_code == 400 and "请填写意见" in response.content.decode()
    assert more_counts() == before
    assert client.post(step_url, {"kind": "judge_opinion", "note": "资不抵债"}).status_code == 302
    html = client.get(url).content.decode()
    assert "资不抵债" in html and "合议庭评议" in html and 'value="panel"' in html
    assert client.post(step_url, {"kind": "panel", "note": "合议庭同意"}).status_code == 302
    # the president's signature is the bureau head's
    html = client.get(url).content.decode()
    assert "bankruptcy-step-form" not in html and "院长签发" in html
    before = more_counts()
    assert client.post(step_url, {"kind": "president_signature", "note": "签发"}).status_code == 403
    assert more_counts() == before
    client.force_login(cast.head)
    html = client.get(url).content.decode()
    assert 'value="president_signature"' in html
    assert client.post(step_url, {"kind": "president_signature", "note": "同意移送"}).status_code == 302
    html = client.get(url).content.decode()
    assert "bankruptcy-step-form" not in html and "approve-form" in html
    response = client.post(reverse("transfer_approve", args=[transfer.pk]), {"receiving_court": ""})
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.state == "approved" and transfer.receiving_court_id == cast.courts.mid.pk
    assert transfer.case.__class__.objects.get(pk=transfer.case_id).status == "suspended"
    # the receiving (intermediate) court answers
    client.force_login(more["mid_head"])
    html = client.get(url).content.decode()
    assert "refuse-form" in html and "accept-form" in html and "reconsider-form" not in html
    before = more_counts()
    response = client.post(reverse("transfer_refuse", args=[transfer.pk]), {"reason": ""})
    assert response.status_code == 400 and "请写明不予受理的理由" in response.content.decode()
    assert more_counts() == before
    response = client.post(reverse("transfer_refuse", args=[transfer.pk]), {"reason": "不符合受理条件"})
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.state == "returned"
    # the intermediate court no longer sees the case; the original court sees the refusal and resumes
    assert client.get(url).status_code == 404
    client.force_login(cast.head)
    html = client.get(url).content.decode()
    assert "不符合受理条件" in html and "refuse-form" not in html and "accept-form" not in html
    assert transfer.case.__class__.objects.get(pk=transfer.case_id).status == "in_progress"


def test_concentrate_lists_the_same_respondent_cases_and_joins_them(client, cast, world, more):
    conc_a, conc_b = more["conc_a"], more["conc_b"]
    client.force_login(cast.supervisor)
    html = client.get(reverse("transfer_create", args=[conc_a.pk])).content.decode()
    assert "concentrate-cases" in html and conc_b.number in html and world["fresh"].number not in html
    # several cases outside 集中执行: refused next to the field, the boxes kept
    before = more_counts()
    response = client.post(
        reverse("transfer_create", args=[conc_a.pk]),
        {"mode": "designate", "trigger": "supervisor_initiative", "reason": "多案", "cases": [conc_b.pk]},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "只有集中执行可以包含多个案件" in html and f'value="{conc_b.pk}"' in html and "checked" in html
    assert more_counts() == before
    response = client.post(
        reverse("transfer_create", args=[conc_a.pk]),
        {
            "mode": "concentrate",
            "trigger": "supervisor_initiative",
            "reason": "多案",
            "cases": [conc_b.pk],
            "receiving_court": cast.courts.yuetang.pk,
        },
    )
    assert response.status_code == 302
    transfer = Transfer.objects.get(case=conc_a)
    assert sorted(transfer.links.values_list("case_id", flat=True)) == sorted([conc_a.pk, conc_b.pk])
    html = client.get(reverse("transfer_detail", args=[transfer.pk])).content.decode()
    assert conc_a.number in html and conc_b.number in html


def test_excluded_periods_move_the_art237_date(client, cast, world):
    case = world["fresh"]
    url = reverse("case_transfers", args=[case.pk])
    client.force_login(cast.supervisor)
    html = client.get(url).content.decode()
    assert "237条不计入期间" in html and "excluded-form" not in html
    client.force_login(cast.assigned)
    assert "excluded-form" in client.get(url).content.decode()
    before = more_counts()
    response = client.post(reverse("excluded_period_create", args=[case.pk]), excluded_data(case, start=40, end=10))
    assert response.status_code == 400
    html = response.content.decode()
    assert "截止日不能早于起始日" in html and "公告送达" in html
    assert (case.filed_on + dt.timedelta(days=40)).isoformat() in html
    response = client.post(reverse("excluded_period_create", args=[case.pk]), {"kind": "", "note": "x"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "不计入期间的类型须为" in html and "请填写起始日" in html and "请填写截止日" in html
    assert more_counts() == before
    response = client.post(reverse("excluded_period_create", args=[case.pk]), excluded_data(case))
    assert response.status_code == 302
    case.refresh_from_db()
    # 31 days later than without the period (then the holiday rule, which the old day may have had)
    raw = periods.add_months(case.filed_on, 6) + dt.timedelta(days=31)
    assert case.art237_excluded_days == 31 and case.art237_eligible_on == periods.next_working_day(raw)
    html = client.get(url).content.decode()
    assert "公告期间" in html and "公告送达" in html and case.art237_eligible_on.strftime("%Y-%m-%d") in html


def test_trigger_thresholds_page(client, cast, world):
    client.force_login(cast.supervisor)
    assert reverse("transfer_triggers") not in client.get(reverse("transfer_pending")).content.decode()
    client.force_login(cast.high_supervisor)
    html = client.get(reverse("transfer_pending")).content.decode()
    assert reverse("transfer_triggers") in html and "触发条件" in html
    html = client.get(reverse("transfer_triggers")).content.decode()
    assert cast.courts.high.name in html and 'name="stalled_days"' in html
    before = more_counts()
    response = client.post(reverse("transfer_triggers"), {**TRIGGER_DATA, "stalled_days": "abc"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "须为整数" in html and 'value="abc"' in html and 'value="8"' in html
    assert more_counts() == before
    response = client.post(reverse("transfer_triggers"), TRIGGER_DATA)
    assert response.status_code == 302
    config = TriggerConfig.objects.get(high_court=cast.courts.high)
    assert (config.same_respondent_min_cases, config.stalled_days) == (8, 60)
    html = client.get(reverse("transfer_triggers")).content.decode()
    assert 'value="60"' in html and "trigger-updated" in html
