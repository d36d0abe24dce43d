"""The transfer pages: the permission matrix through every page and POST (nothing written on
denial), what the pages show (reasons, recommendation, handover, 销案 and the new case number) and
the query counts of the lists."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enforcement.models import AuditEntry, CaseEvent, CaseUserObjectPermission, EnforcementCase, Role
from tests.factories import EnforcementCaseFactory, UserFactory
from transfers import services
from transfers.models import FileAccessGrant, Transfer

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


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("page", sorted(PAGES))
def test_permission_matrix(client, cast, world, who, page):
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
    assert "237条" in html and "立案已满6个月" in html
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
