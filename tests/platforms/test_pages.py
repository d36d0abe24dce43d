"""The notice and connector pages: the permission matrix through every page and POST, what the
协助通知 tab, the one-click query progress and the navigation pages show, field errors that write
nothing, the write-only connector secret, and constant query counts.

Completed notices are delivered to the real stand-in platform process (one per module) by calling
``platforms.services.deliver``; no worker is needed because the test transaction never commits.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clues import services as clue_services
from clues.models import PropertyClue
from enforcement.models import AuditEntry, CaseEvent, CaseParty, CasePartyRole, Role
from enforcement.permissions import Action
from platforms import crypto, services
from platforms.models import Connector, DeliveryAttempt, Notice, NoticeState, Platform
from platforms.views import NOTICE_BATCHES_PER_PAGE
from tests.clues.factories import PlatformFactory, add_clue, add_measure, respondent_of
from tests.clues.test_pages import _effective_for_days_left
from tests.factories import EnforcementCaseFactory, PartyFactory, UserFactory, make_cast, make_courts
from tests.support.platforms import COMPANY_USCC, MockPlatforms, holding, platform_config
from tests.support.shared_rows import SharedCast, SharedCastAndWorld

pytestmark = pytest.mark.django_db

# relation to cast.case -> actions allowed (the same table as the policy tests)
ALLOWED = {
    "assigned": {Action.VIEW, Action.VIEW_FILE, Action.HANDLE},
    "colleague": set(),
    "head": set(Action),
    "supervisor": {Action.VIEW, Action.VIEW_FILE},
    "high_supervisor": {Action.VIEW, Action.VIEW_FILE},
    "sibling_head": set(),
    "outsider": set(),
    "other_supervisor": set(),
    "admin": set(),
    "superuser": set(),
}
ADMINS = {"admin", "superuser"}
DEAD_URL = "http://127.0.0.1:9/jd"  # nothing listens on the discard port: connection refused at once
MOCK_CONFIG = {
    "alipay": platform_config("alipay", holdings=[holding("ali-1", "88000.00", kind="payment_account")]),
    "taobao": platform_config("taobao", holdings=[holding("tb-1", "1200.50"), holding("tb-2", "300.00")]),
}


def expected_status(who: str, action: Action, ok: int) -> int:
    if action in ALLOWED[who]:
        return ok
    return 403 if Action.VIEW in ALLOWED[who] else 404


def counts() -> dict[str, int]:
    """Row counts that a refused request must leave untouched."""
    models = [Notice, DeliveryAttempt, AuditEntry, CaseEvent, PropertyClue, Platform, Connector]
    return {model.__name__: model.objects.count() for model in models}


def connector_state() -> list[tuple]:
    return list(
        Connector.objects.order_by("pk").values_list(
            "pk", "base_url", "key_id", "secret_encrypted", "enabled", "last_health_at", "previous_valid_until"
        )
    )


@pytest.fixture(scope="module")
def shared_mock(tmp_path_factory):
    """One stand-in platform process for the module (notices carry fresh keys, so tests do not clash)."""
    mock = MockPlatforms(MOCK_CONFIG, tmp_path_factory.mktemp("mock"))
    yield mock
    mock.stop()


@pytest.fixture
def sysadmin(db):
    return UserFactory(username="sysadmin", court=None, roles=[Role.SYSTEM_ADMIN])


@pytest.fixture
def company(cast):
    return add_company(cast)


def add_company(cast):
    """A respondent of cast.case holding accounts on the stand-in platforms."""
    party = PartyFactory(entity=True, name="湘潭鲜享家网络科技有限公司", uscc=COMPANY_USCC)
    CaseParty.objects.create(case=cast.case, party=party, role=CasePartyRole.RESPONDENT)
    return party


@pytest.fixture
def connected(shared_mock, sysadmin):
    return connect(shared_mock, sysadmin)


def connect(shared_mock, sysadmin) -> dict:
    """alipay and taobao on the stand-in service; jd on a dead address that fails at the first try."""
    alipay = PlatformFactory(code="alipay", name="支付宝", kind="payment")
    taobao = PlatformFactory(code="taobao", name="淘宝", kind="ecommerce")
    jd = PlatformFactory(code="jd", name="京东", kind="ecommerce")
    shared_mock.connect(sysadmin, alipay)
    shared_mock.connect(sysadmin, taobao)
    services.save_connector(
        sysadmin,
        jd,
        base_url=DEAD_URL,
        key_id="k-jd",
        secret="secret-of-jd-0123456789",
        capabilities=["query", "freeze"],
        max_attempts=1,
        timeout_s=1,
    )
    return {"alipay": alipay, "taobao": taobao, "jd": jd}


def deliver_all(notices) -> list[str]:
    return [services.deliver(notice.pk) for notice in notices]


@pytest.fixture
def world(cast, company, connected):
    return build_world(cast, company)


def build_world(cast, company) -> dict:
    """On cast.case: a one-click query by the head (alipay and taobao answered, jd failed), a
    judge's freeze awaiting approval and a queued query."""
    batch = services.request_notices(cast.head, cast.case, kind="query", platforms="all", respondent=company.pk)
    deliver_all(batch)
    by_code = {n.platform.code: Notice.objects.get(pk=n.pk) for n in batch}
    assert by_code["jd"].state == NoticeState.FAILED and by_code["alipay"].state == NoticeState.COMPLETED
    (awaiting,) = services.request_notices(
        cast.assigned,
        cast.case,
        kind="freeze",
        platforms=["alipay"],
        respondent=company.pk,
        account="ali-1",
        amount="1000.00",
    )
    (queued,) = services.request_notices(
        cast.assigned, cast.case, kind="query", platforms=["taobao"], respondent=company.pk
    )
    found = [f"{by_code['alipay'].pk}-0"]
    return {
        "batch": batch[0].batch,
        "failed": by_code["jd"],
        "completed": by_code["alipay"],
        "awaiting": awaiting,
        "queued": queued,
        "found": found,
        "company": company,
    }


def case_url(name, cast, *args):
    return reverse(name, args=[cast.case.pk, *args])


# name -> (action needed, success status, method, url builder, data builder)
CASE_PAGES = {
    "notices_tab": (Action.VIEW, 200, "get", lambda c, w: case_url("case_notices", c), None),
    "batch": (Action.VIEW, 200, "get", lambda c, w: case_url("notice_batch", c, w["batch"]), None),
    "batch_rows": (Action.VIEW, 200, "get", lambda c, w: case_url("notice_batch_rows", c, w["batch"]), None),
    "pdf": (Action.VIEW_FILE, 200, "get", lambda c, w: reverse("notice_pdf", args=[w["completed"].pk]), None),
    "query_all_form": (Action.HANDLE, 200, "get", lambda c, w: case_url("notice_query_all", c), None),
    "send_notice": (
        Action.HANDLE,
        302,
        "post",
        lambda c, w: case_url("case_notices", c),
        lambda c, w: {"kind": "query", "all_platforms": "on", "respondent": w["company"].pk, "freeze_mode": "amount"},
    ),
    "query_all": (
        Action.HANDLE,
        302,
        "post",
        lambda c, w: case_url("notice_query_all", c),
        lambda c, w: {"respondent": w["company"].pk},
    ),
    "freeze_found": (
        Action.HANDLE,
        302,
        "post",
        lambda c, w: case_url("notice_batch_freeze", c, w["batch"]),
        lambda c, w: {"pick": w["found"], f"amount_{w['found'][0]}": "5000.00", "freeze_mode": "amount"},
    ),
    "replay": (
        Action.HANDLE,
        302,
        "post",
        lambda c, w: reverse("notice_replay", args=[w["failed"].pk]),
        lambda c, w: {},
    ),
    "cancel": (
        Action.HANDLE,
        302,
        "post",
        lambda c, w: reverse("notice_cancel", args=[w["queued"].pk]),
        lambda c, w: {"reason": "已另行查询"},
    ),
    "approve": (
        Action.APPROVE,
        302,
        "post",
        lambda c, w: reverse("notice_approve", args=[w["awaiting"].pk]),
        lambda c, w: {},
    ),
}


def build_cast_and_connected(request) -> SimpleNamespace:
    """The cast and the connected platforms (on the module's stand-in process)."""
    cast = make_cast(make_courts())
    sysadmin = UserFactory(username="sysadmin", court=None, roles=[Role.SYSTEM_ADMIN])
    return SimpleNamespace(cast=cast, connected=connect(request.getfixturevalue("shared_mock"), sysadmin))


def build_cast_and_world(request) -> SimpleNamespace:
    rows = build_cast_and_connected(request)
    rows.world = build_world(rows.cast, add_company(rows.cast))
    return rows


class TestPermissionMatrixOfCasePages(SharedCastAndWorld):
    """The cast and the world (its notices delivered to the stand-in process) are built once for the
    class's 110 tests (tests/support/shared_rows.py): each test's request, and what it writes, is
    rolled back before the next one."""

    build_rows = staticmethod(build_cast_and_world)

    @pytest.mark.parametrize("who", sorted(ALLOWED))
    @pytest.mark.parametrize("page", sorted(CASE_PAGES))
    def test_permission_matrix_of_case_pages(self, client, cast, world, who, page, django_capture_on_commit_callbacks):
        action, ok, method, url_of, data_of = CASE_PAGES[page]
        client.force_login(getattr(cast, who))
        before = counts()
        target = url_of(cast, world)
        with django_capture_on_commit_callbacks() as callbacks:
            response = client.get(target) if method == "get" else client.post(target, data_of(cast, world))
        expected = expected_status(who, action, ok)
        assert response.status_code == expected, (who, page, response.status_code)
        if expected == ok and page == "pdf" and getattr(cast, who).court_id != cast.case.court_id:
            # The PDF is part of the case file: a read from outside the handling court is audited.
            assert counts() == {**before, "AuditEntry": before["AuditEntry"] + 1}
            assert callbacks == []
        elif expected != ok or method == "get":
            # Refused, or only read: nothing written, not even an audit entry, and nothing queued.
            assert counts() == before, f"{who} changed something through {page}"
            assert callbacks == [], f"{who} queued something through {page}"
        else:
            assert counts()["AuditEntry"] > before["AuditEntry"]


ADMIN_PAGES = {
    "platforms": ("get", lambda w: reverse("admin_platforms"), None, 200),
    "add_platform": (
        "post",
        lambda w: reverse("admin_platforms"),
        lambda w: {"code": "pdd", "name": "拼多多", "kind": "ecommerce", "region": ""},
        302,
    ),
    "connector_form": ("get", lambda w: reverse("admin_connector", args=["alipay"]), None, 200),
    "connector_save": (
        "post",
        lambda w: reverse("admin_connector", args=["alipay"]),
        lambda w: {
            "base_url": Connector.objects.get(platform__code="alipay").base_url,
            "key_id": "k-alipay",
            "secret": "",
            "capabilities": ["query", "freeze"],
            "enabled": "on",
            "timeout_s": "3",
            "max_attempts": "5",
        },
        302,
    ),
    "rotate": (
        "post",
        lambda w: reverse("admin_connector_rotate", args=["alipay"]),
        lambda w: {"secret": "a-brand-new-secret-0123456789", "key_id": "", "grace_hours": "12"},
        302,
    ),
    "test_connection": ("post", lambda w: reverse("admin_connector_test", args=["alipay"]), lambda w: {}, 302),
}


class TestPermissionMatrixOfConnectorPages(SharedCast):
    """The cast and the connectors are built once for the class's 60 tests
    (tests/support/shared_rows.py): each test's request, and what it writes, is rolled back before
    the next one."""

    build_rows = staticmethod(build_cast_and_connected)

    @pytest.fixture
    def connected(self, shared_rows):
        return shared_rows.connected

    @pytest.mark.parametrize("who", sorted(ALLOWED))
    @pytest.mark.parametrize("page", sorted(ADMIN_PAGES))
    def test_permission_matrix_of_connector_pages(self, client, cast, connected, who, page):
        method, url_of, data_of, ok = ADMIN_PAGES[page]
        client.force_login(getattr(cast, who))
        before, state = counts(), connector_state()
        target = url_of(connected)
        response = client.get(target) if method == "get" else client.post(target, data_of(connected))
        expected = ok if who in ADMINS else 403
        assert response.status_code == expected, (who, page, response.status_code)
        if expected != ok or method == "get":
            assert counts() == before and connector_state() == state, f"{who} changed something through {page}"
        elif page != "test_connection":
            assert counts()["AuditEntry"] > before["AuditEntry"]
        else:
            assert Connector.objects.get(platform__code="alipay").last_health_ok is True


@pytest.mark.parametrize(
    "who,notices,approvals",
    [
        ("assigned", 200, 403),
        ("colleague", 200, 403),
        ("head", 200, 200),
        ("sibling_head", 200, 200),
        ("outsider", 200, 200),
        ("supervisor", 200, 403),
        ("admin", 403, 403),
        ("superuser", 403, 403),
    ],
)
def test_navigation_pages_access(client, cast, world, who, notices, approvals):
    client.force_login(getattr(cast, who))
    before = counts()
    assert client.get(reverse("notice_list")).status_code == notices
    assert client.get(reverse("approval_list")).status_code == approvals
    assert counts() == before


def test_unknown_notice_batch_and_foreign_notices_404(client, cast, world):
    client.force_login(cast.assigned)
    before = counts()
    assert client.get(reverse("notice_pdf", args=[999999])).status_code == 404
    assert client.post(reverse("notice_replay", args=[999999])).status_code == 404
    assert client.get(case_url("notice_batch", cast, "00000000-0000-0000-0000-000000000000")).status_code == 404
    # a batch of this case addressed through another case of the same judge is not found
    other = EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.assigned])
    assert client.get(reverse("notice_batch", args=[other.pk, world["batch"]])).status_code == 404
    assert client.post(reverse("notice_batch_freeze", args=[other.pk, world["batch"]]), {}).status_code == 404
    assert counts() == before


def test_action_urls_refuse_get(client, cast, world):
    client.force_login(cast.head)
    for name, notice in (("notice_approve", "awaiting"), ("notice_replay", "failed"), ("notice_cancel", "queued")):
        assert client.get(reverse(name, args=[world[notice].pk])).status_code == 405
    assert client.get(case_url("notice_batch_freeze", cast, world["batch"])).status_code == 405


# --------------------------------------------------------------------------------------------
# content
# --------------------------------------------------------------------------------------------


def test_tab_shows_batches_states_attempts_and_results(client, cast, world):
    client.force_login(cast.assigned)
    html = client.get(case_url("case_notices", cast)).content.decode()
    assert case_url("case_notices", cast) in html and ">协助通知<" in html
    failed = re.search(rf'<tr id="notice-{world["failed"].pk}".*?</tr>', html, re.S).group(0)
    assert "京东" in failed and "失败" in failed and "connection_error" in failed
    assert reverse("notice_replay", args=[world["failed"].pk]) in failed
    done = re.search(rf'<tr id="notice-{world["completed"].pk}".*?</tr>', html, re.S).group(0)
    assert "已回复" in done and "ali-1" in done and "¥88,000.00" in done and "HTTP 200" in done
    assert world["completed"].document_number in done
    assert reverse("notice_pdf", args=[world["completed"].pk]) in done
    awaiting = re.search(rf'<tr id="notice-{world["awaiting"].pk}".*?</tr>', html, re.S).group(0)
    assert "待审批" in awaiting and "¥1,000.00" in awaiting
    # the judge may cancel but not approve; the head may approve
    assert reverse("notice_approve", args=[world["awaiting"].pk]) not in html
    assert reverse("notice_cancel", args=[world["awaiting"].pk]) in awaiting
    client.force_login(cast.head)
    assert (
        reverse("notice_approve", args=[world["awaiting"].pk])
        in client.get(case_url("case_notices", cast)).content.decode()
    )
    client.force_login(cast.supervisor)
    html = client.get(case_url("case_notices", cast)).content.decode()
    assert "ali-1" in html and "notice-form" not in html and "/replay/" not in html and "/cancel/" not in html


def test_attempts_listed_in_order_with_time_status_and_error(client, cast, world):
    """Each attempt: number, local start time, HTTP status or —, the error class (escaped), duration."""
    failed = world["failed"]
    first = DeliveryAttempt.objects.get(notice=failed)
    start = first.started_at + dt.timedelta(seconds=30)
    # two later attempts, stored out of order: the cell lists them by number
    DeliveryAttempt.objects.create(
        notice=failed, number=3, started_at=start, duration_ms=7, error_class="<Timeout>", outcome="failed"
    )
    DeliveryAttempt.objects.create(
        notice=failed,
        number=2,
        started_at=start,
        duration_ms=120,
        http_status=503,
        error_class="HTTPError",
        outcome="retry",
    )
    client.force_login(cast.assigned)
    html = client.get(case_url("case_notices", cast)).content.decode()
    cell = re.search(rf'<tr id="notice-{failed.pk}".*?<td class="attempts small">(.*?)</td>', html, re.S).group(1)
    local = timezone.localtime(first.started_at).strftime("%m-%d %H:%M:%S")
    later = timezone.localtime(start).strftime("%m-%d %H:%M:%S")
    lines = re.findall(r'<div class="attempt [^"]*">.*?</div>', cell)
    assert lines == [
        f'<div class="attempt attempt-{first.outcome}">#1 <span class="text-nowrap">{local}</span> · — · '
        f'<span class="text-danger">connection_error</span> · {first.duration_ms} ms</div>',
        f'<div class="attempt attempt-retry">#2 <span class="text-nowrap">{later}</span> · HTTP 503 · '
        '<span class="text-danger">HTTPError</span> · 120 ms</div>',
        f'<div class="attempt attempt-failed">#3 <span class="text-nowrap">{later}</span> · — · '
        '<span class="text-danger">&lt;Timeout&gt;</span> · 7 ms</div>',
    ]
    done = re.search(rf'<tr id="notice-{world["completed"].pk}".*?</tr>', html, re.S).group(0)
    assert re.search(
        r'<div class="attempt attempt-done">#1 <span class="text-nowrap">[^<]*</span> · HTTP 200 · \d+ ms</div>', done
    )


def test_sent_query_has_one_row_per_platform(client, cast, company, connected):
    client.force_login(cast.assigned)
    data = {"kind": "query", "all_platforms": "on", "respondent": company.pk, "freeze_mode": "amount"}
    response = client.post(case_url("case_notices", cast), data)
    assert response.status_code == 302
    notices = Notice.objects.filter(case=cast.case)
    assert sorted(n.platform.code for n in notices) == ["alipay", "jd", "taobao"]
    assert {n.state for n in notices} == {NoticeState.QUEUED} and len({n.batch for n in notices}) == 1
    html = client.get(case_url("case_notices", cast)).content.decode()
    for notice in notices:
        row = re.search(rf'<tr id="notice-{notice.pk}".*?</tr>', html, re.S).group(0)
        assert notice.platform.name in row and "排队" in row and "协助查询" in row
    assert "已发出协助查询：支付宝、京东、淘宝" in html


def _notice_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="notice-(\d+)"', html)]


@pytest.fixture
def many_requests(cast, company, connected, settings):
    """12 requests on cast.case, oldest first: one-click queries of 3 notices and single queries."""
    settings.QUERY_RATE_PER_CASE_HOUR = 1000
    return [
        services.request_notices(
            cast.assigned, cast.case, kind="query", platforms="all" if i % 2 == 0 else ["taobao"], respondent=company.pk
        )
        for i in range(12)
    ]


def test_notice_tab_pages_by_request_newest_first(client, cast, many_requests):
    newest_first = list(reversed(many_requests))
    client.force_login(cast.assigned)
    response = client.get(case_url("case_notices", cast))
    html = response.content.decode()
    # Ten requests on the first page, each whole (a one-click query is never split), newest first.
    page_one = newest_first[:NOTICE_BATCHES_PER_PAGE]
    assert [group["batch"] for group in response.context["batches"]] == [batch[0].batch for batch in page_one]
    assert sorted(_notice_ids(html)) == sorted(n.pk for batch in page_one for n in batch)
    assert response.context["notice_count"] == 24 and "24 份通知" in html
    assert f'href="{case_url("case_notices", cast)}?page=2" rel="next"' in html and "1 / 2" in html

    # The second page holds the two oldest requests, whole; the count is still the case's.
    response = client.get(case_url("case_notices", cast) + "?page=2")
    html = response.content.decode()
    page_two = newest_first[NOTICE_BATCHES_PER_PAGE:]
    assert [group["batch"] for group in response.context["batches"]] == [batch[0].batch for batch in page_two]
    assert sorted(_notice_ids(html)) == sorted(n.pk for batch in page_two for n in batch)
    assert "24 份通知" in html and "2 / 2" in html
    # The actions on a row come back to this page.
    assert f'name="next" value="{case_url("case_notices", cast)}?page=2"' in html

    # Past the end: the last page; not a number: the first.
    response = client.get(case_url("case_notices", cast) + "?page=9")
    assert response.context["page"].number == 2 and sorted(_notice_ids(response.content.decode())) == sorted(
        n.pk for batch in page_two for n in batch
    )
    assert client.get(case_url("case_notices", cast) + "?page=x").context["page"].number == 1


def test_a_request_larger_than_others_stays_whole(client, cast, company, connected, settings):
    """Pages count requests, not notices: ten requests of three notices fill one page."""
    settings.QUERY_RATE_PER_CASE_HOUR = 1000
    for _ in range(NOTICE_BATCHES_PER_PAGE + 1):
        services.request_notices(cast.assigned, cast.case, kind="query", platforms="all", respondent=company.pk)
    client.force_login(cast.assigned)
    html = client.get(case_url("case_notices", cast)).content.decode()
    assert len(_notice_ids(html)) == 3 * NOTICE_BATCHES_PER_PAGE and html.count("batch-title") == 10
    html = client.get(case_url("case_notices", cast) + "?page=2").content.decode()
    assert len(_notice_ids(html)) == 3 and html.count("batch-title") == 1


def test_link_to_one_notice_opens_its_page(client, cast, many_requests):
    oldest = many_requests[0][0]
    client.force_login(cast.assigned)
    response = client.get(case_url("case_notices", cast) + f"?notice={oldest.pk}")
    assert response.context["page"].number == 2 and oldest.pk in _notice_ids(response.content.decode())
    # An explicit page wins; an unknown or foreign notice gives the first page.
    assert client.get(case_url("case_notices", cast) + f"?notice={oldest.pk}&page=1").context["page"].number == 1
    assert client.get(case_url("case_notices", cast) + "?notice=999999").context["page"].number == 1
    # The notice list links to the notice's page.
    html = client.get(reverse("notice_list")).content.decode()
    assert f"{case_url('case_notices', cast)}?notice={oldest.pk}#notice-{oldest.pk}" in html


def test_selected_platforms_and_freeze_needs_approval(client, cast, company, connected):
    client.force_login(cast.assigned)
    data = {
        "kind": "freeze",
        "platforms": ["alipay"],
        "respondent": company.pk,
        "account": "ali-1",
        "amount": "2000.00",
        "freeze_mode": "block_outflow",
    }
    assert client.post(case_url("case_notices", cast), data).status_code == 302
    (notice,) = Notice.objects.filter(case=cast.case)
    assert (notice.platform.code, notice.state, notice.amount) == (
        "alipay",
        NoticeState.AWAITING_APPROVAL,
        Decimal("2000.00"),
    )
    assert notice.freeze_mode == "block_outflow"


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"kind": "freeze", "platforms": ["alipay"], "amount": "10.00"}, "account", "冻结、扣划、解冻和续行须指明账户"),
        ({"kind": "freeze", "platforms": ["alipay"], "account": "ali-1"}, "amount", "冻结和扣划须填写金额"),
        ({"kind": "freeze", "platforms": ["alipay"], "account": "ali-1", "amount": "9999999"}, "amount", "超标的冻结"),
        ({"kind": "query"}, "platforms", "请选择平台，或选择全部平台"),
        ({"kind": "query", "account": "ali*"}, "account", "账户不能使用通配符"),
        ({"kind": "renew", "all_platforms": "on"}, "measure", "请选择本案的一项措施"),
    ],
)
def test_refused_notice_shows_the_reason_next_to_the_field(client, cast, company, connected, data, field, message):
    client.force_login(cast.assigned)
    before = counts()
    payload = {"respondent": company.pk, "freeze_mode": "amount", **data}
    response = client.post(case_url("case_notices", cast), payload)
    assert response.status_code == 400
    html = response.content.decode()
    form = html[html.index('id="notice-form"') :]
    if field == "platforms":
        block = form[form.index('class="col-12 col-md-7 platform-choice"') :]
    else:
        block = form[form.index(f'name="{field}"') :]
    assert message in block[:1500], (field, message)
    if "account" in data:
        assert f'value="{data["account"]}"' in form  # what the user typed is kept
    assert counts() == before


def test_approve_moves_awaiting_to_queued(client, cast, world):
    client.force_login(cast.head)
    target = reverse("notice_approve", args=[world["awaiting"].pk])
    response = client.post(target, {"next": reverse("approval_list")})
    assert response.status_code == 302 and response["Location"] == reverse("approval_list")
    notice = Notice.objects.get(pk=world["awaiting"].pk)
    assert notice.state == NoticeState.QUEUED and notice.approved_by == cast.head
    # a second approval is refused with the reason, nothing changes
    before = counts()
    response = client.post(target, follow=True)
    assert "只有待审批的通知可以审批" in response.content.decode()
    assert counts() == before


def test_replay_keeps_the_idempotency_key(client, cast, world):
    failed = world["failed"]
    client.force_login(cast.assigned)
    response = client.post(reverse("notice_replay", args=[failed.pk]))
    assert response.status_code == 302 and response["Location"] == case_url("case_notices", cast)
    notice = Notice.objects.get(pk=failed.pk)
    assert notice.state == NoticeState.QUEUED and notice.idempotency_key == failed.idempotency_key
    assert notice.attempts == 0


def test_cancel_with_reason_and_refused_on_finished_notice(client, cast, world):
    client.force_login(cast.assigned)
    assert client.post(reverse("notice_cancel", args=[world["queued"].pk]), {"reason": "重复查询"}).status_code == 302
    notice = Notice.objects.get(pk=world["queued"].pk)
    assert notice.state == NoticeState.CANCELLED and notice.cancel_reason == "重复查询"
    before = counts()
    response = client.post(reverse("notice_cancel", args=[world["completed"].pk]), follow=True)
    assert "已发出的通知不能撤销" in response.content.decode()
    assert counts() == before


def test_one_click_query_progress_fragment(client, cast, company, connected, settings):
    settings.NOTICE_CLAIM_BATCH = 1  # one platform answers first: its task takes no other notice along
    client.force_login(cast.assigned)
    response = client.post(case_url("notice_query_all", cast), {"respondent": company.pk})
    assert response.status_code == 302
    notices = list(Notice.objects.filter(case=cast.case).order_by("platform__code"))
    assert len(notices) == 3 and len({n.batch for n in notices}) == 1
    batch = notices[0].batch
    assert response["Location"] == case_url("notice_batch", cast, batch)

    page = client.get(response["Location"]).content.decode()
    rows_url = case_url("notice_batch_rows", cast, batch)
    assert f'hx-get="{rows_url}"' in page and 'hx-trigger="every 1s"' in page
    fragment = client.get(rows_url).content.decode()
    assert "<html" not in fragment and 'hx-trigger="every 1s"' in fragment
    assert fragment.count('class="progress-row"') == 3 and "排队" in fragment and "¥88,000.00" not in fragment

    services.deliver(notices[0].pk)  # alipay answers first
    fragment = client.get(rows_url).content.decode()
    alipay = re.search(r'<tr id="progress-alipay".*?</tr>', fragment, re.S).group(0)
    assert "已回复" in alipay and "ali-1" in alipay and "¥88,000.00" in alipay
    assert 'hx-trigger="every 1s"' in fragment  # the others are still queued

    deliver_all(notices[1:])
    fragment = client.get(rows_url).content.decode()
    assert "hx-trigger" not in fragment  # every notice has ended: polling stops
    assert "¥1,200.50" in fragment and "¥300.00" in fragment and "失败" in fragment
    assert "freeze-found-form" in fragment and "未履行金额" in fragment and "尚可冻结" in fragment
    found = set(PropertyClue.objects.filter(case=cast.case).values_list("account", flat=True))
    assert found == {"ali-1", "tb-1", "tb-2"}


def test_freeze_found_accounts_within_and_beyond_the_room(client, cast, world):
    client.force_login(cast.assigned)
    key = world["found"][0]
    target = case_url("notice_batch_freeze", cast, world["batch"])
    before = counts()
    response = client.post(target, {"pick": [key], f"amount_{key}": "999999.00", "freeze_mode": "amount"})
    assert response.status_code == 400
    html = response.content.decode()
    block = html[html.index(f'name="amount_{key}"') :][:1200]
    assert "超标的冻结" in block and "本次最多可冻结" in block
    assert 'value="999999.00"' in html and f'value="{key}" id="pick-{key}" checked' in html
    assert counts() == before

    response = client.post(target, {"pick": [], "freeze_mode": "amount"})
    assert response.status_code == 400 and "请勾选要冻结的账户" in response.content.decode()

    taobao_keys = [
        f"{n.pk}-{i}" for n in Notice.objects.filter(batch=world["batch"], platform__code="taobao") for i in range(2)
    ]
    data = {"pick": [key, *taobao_keys], f"amount_{key}": "5000.00", "freeze_mode": "amount"}
    data.update({f"amount_{k}": "100.00" for k in taobao_keys})
    response = client.post(target, data)
    assert response.status_code == 302
    freezes = Notice.objects.filter(case=cast.case, kind="freeze").exclude(pk=world["awaiting"].pk)
    assert sorted((n.platform.code, n.account, n.amount) for n in freezes) == [
        ("alipay", "ali-1", Decimal("5000.00")),
        ("taobao", "tb-1", Decimal("100.00")),
        ("taobao", "tb-2", Decimal("100.00")),
    ]
    assert {n.state for n in freezes} == {NoticeState.AWAITING_APPROVAL}
    assert all(n.clue_id for n in freezes)  # linked to the clues the query created


def test_freeze_found_is_all_or_nothing(client, cast, world):
    """The second account exceeds the room left after the first: neither freeze is sent."""
    client.force_login(cast.assigned)
    key = world["found"][0]
    (taobao,) = Notice.objects.filter(batch=world["batch"], platform__code="taobao")
    other = f"{taobao.pk}-0"
    before = counts()
    data = {"pick": [key, other], f"amount_{key}": "60000.00", f"amount_{other}": "60000.00", "freeze_mode": "amount"}
    response = client.post(case_url("notice_batch_freeze", cast, world["batch"]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "超标的冻结" in html[html.index(f'name="amount_{other}"') :][:1200]
    assert counts() == before


def test_pdf_of_a_notice(client, cast, world):
    client.force_login(cast.supervisor)
    response = client.get(reverse("notice_pdf", args=[world["awaiting"].pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    client.force_login(cast.admin)
    assert client.get(reverse("notice_pdf", args=[world["awaiting"].pk])).status_code == 404


def test_navigation_items(client, cast, world):
    client.force_login(cast.assigned)
    html = client.get(reverse("workbench")).content.decode()
    assert f'href="{reverse("notice_list")}">协助通知<' in html and reverse("approval_list") not in html
    client.force_login(cast.head)
    html = client.get(reverse("workbench")).content.decode()
    assert f'href="{reverse("notice_list")}">协助通知<' in html and f'href="{reverse("approval_list")}">待审批<' in html
    client.force_login(cast.admin)
    html = client.get(reverse("admin_courts")).content.decode()
    assert f'href="{reverse("admin_platforms")}">平台与连接器<' in html and reverse("notice_list") not in html


def test_notice_list_and_approvals(client, cast, world):
    client.force_login(cast.assigned)
    html = client.get(reverse("notice_list")).content.decode()
    attention = html[: html.index("最近的通知")]
    assert f'id="notice-{world["failed"].pk}"' in attention and f'id="notice-{world["awaiting"].pk}"' in attention
    assert f'id="notice-{world["completed"].pk}"' not in attention
    assert f'id="notice-{world["completed"].pk}"' in html and cast.case.number in html
    client.force_login(cast.colleague)
    assert cast.case.number not in client.get(reverse("notice_list")).content.decode()

    client.force_login(cast.head)
    html = client.get(reverse("approval_list")).content.decode()
    assert f'id="notice-{world["awaiting"].pk}"' in html and f'id="notice-{world["failed"].pk}"' not in html
    assert reverse("notice_approve", args=[world["awaiting"].pk]) in html
    client.force_login(cast.sibling_head)
    html = client.get(reverse("approval_list")).content.decode()
    assert f'id="notice-{world["awaiting"].pk}"' not in html and "没有待审批的通知" in html


def test_workbench_panel_lists_failed_and_awaiting(client, cast, world):
    client.force_login(cast.assigned)
    html = client.get(reverse("workbench")).content.decode()
    panel = html[html.index("panel-notices") :]
    assert f"#notice-{world['failed'].pk}" in panel and f"#notice-{world['awaiting'].pk}" in panel
    assert f"#notice-{world['completed'].pk}" not in panel


# The workbench's statements: session, user and roles; the count of the open cases, the court's
# notifications, the five panels (clues to verify, expiring measures, reminders, visits, notices),
# the user's court (page header), the page of cases and their respondents.
WORKBENCH_STATEMENTS = 13


def test_workbench_statements_with_every_panel_filled(client, cast, world):
    alipay = Platform.objects.get(code="alipay")
    pending = add_clue(cast.assigned, cast.case, platform=alipay, account="WB-PENDING")
    frozen = add_clue(cast.assigned, cast.case, platform=alipay, account="WB-FROZEN")
    freeze = add_measure(
        cast.assigned, cast.case, frozen, effective_on=_effective_for_days_left("platform_balance", 10)
    )
    clue_services.remind_expiring()
    goods = add_clue(cast.assigned, cast.case, category="traditional", kind="movables", account="货物", registry="仓库")
    live = add_measure(cast.assigned, cast.case, goods, kind="live_seizure")
    visit = clue_services.schedule_visit(cast.assigned, live, scheduled_on=timezone.localdate())
    client.force_login(cast.assigned)
    client.get(reverse("workbench"))  # warm up: session bookkeeping and per-process caches
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("workbench")).content.decode()
    assert len(queries) == WORKBENCH_STATEMENTS, "\n".join(q["sql"][:120] for q in queries.captured_queries)
    assert cast.case.number in html and "我承办的在办案件" in html
    assert f"?clue={pending.pk}#clue-{pending.pk}" in html and "WB-PENDING" in html
    assert re.search(rf"{freeze.expires_on.isoformat()}</td>\s*<td><span class=\"badge days-left days-amber", html)
    assert "到期前 30 天" in html
    assert f"#visit-{visit.pk}" in html
    panel = html[html.index("panel-notices") :]
    assert f"?notice={world['failed'].pk}#notice-{world['failed'].pk}" in panel
    assert f"?notice={world['awaiting'].pk}#notice-{world['awaiting'].pk}" in panel


def test_case_clues_link_to_notices(client, cast, world):
    client.force_login(cast.assigned)
    html = client.get(case_url("case_clues", cast)).content.decode()
    assert case_url("notice_query_all", cast) in html
    clue = PropertyClue.objects.get(case=cast.case, account="ali-1")
    link = f"{case_url('case_notices', cast)}?kind=freeze&amp;clue={clue.pk}"
    assert link in html
    form = client.get(f"{case_url('case_notices', cast)}?kind=freeze&clue={clue.pk}").content.decode()
    assert re.search(rf'<option value="{clue.pk}" selected>', form)
    assert re.search(r'<option value="freeze" selected>', form)


def test_english_labels(client, cast, world):
    client.force_login(cast.head)
    client.post(reverse("set_language"), {"language": "en", "next": reverse("workbench")})
    html = client.get(case_url("case_notices", cast)).content.decode()
    for word in ("协助通知", "一键查询", "发送协助执行通知书", "待审批", "已回复", "份通知"):
        assert word not in html, word
    assert "5 notices" in html


# --------------------------------------------------------------------------------------------
# connectors (system admins)
# --------------------------------------------------------------------------------------------


def test_connectors_page_never_shows_the_secret(client, cast, connected):
    client.force_login(cast.admin)
    secrets = [cfg["secret"] for cfg in MOCK_CONFIG.values()] + ["secret-of-jd-0123456789"]
    for target in (
        reverse("admin_platforms"),
        reverse("admin_connector", args=["alipay"]),
        reverse("admin_connector", args=["jd"]),
    ):
        html = client.get(target).content.decode()
        for secret in secrets:
            assert secret not in html
        for connector in Connector.objects.all():
            assert connector.secret_encrypted not in html
    html = client.get(reverse("admin_platforms")).content.decode()
    row = re.search(r'<tr id="platform-jd".*?</tr>', html, re.S).group(0)
    assert DEAD_URL in row and "k-jd" in row and "query" in row


def test_connector_edit_blank_secret_keeps_it_and_errors_next_to_fields(client, cast, connected):
    client.force_login(cast.admin)
    target = reverse("admin_connector", args=["jd"])
    old = Connector.objects.get(platform__code="jd")
    data = {
        "base_url": "http://127.0.0.1:9/jd2",
        "key_id": "k-jd",
        "secret": "",
        "capabilities": ["query"],
        "timeout_s": "2",
        "max_attempts": "3",
    }
    assert client.post(target, data).status_code == 302
    new = Connector.objects.get(pk=old.pk)
    assert new.secret_encrypted == old.secret_encrypted and new.base_url == "http://127.0.0.1:9/jd2"
    assert new.enabled is False and new.capabilities == ["query"]

    before, state = counts(), connector_state()
    response = client.post(target, {**data, "base_url": "ftp://x", "secret": "short", "timeout_s": "500"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "接口地址须以 http:// 或 https:// 开头" in html[html.index('name="base_url"') :][:600]
    assert "密钥至少16个字符" in html[html.index('name="secret"') :][:600]
    assert "超时须在1至120秒之间" in html[html.index('name="timeout_s"') :][:600]
    assert 'value="short"' not in html  # the secret is never sent back, not even as typed
    assert counts() == before and connector_state() == state


def test_add_platform_and_connector(client, cast, connected):
    client.force_login(cast.admin)
    response = client.post(reverse("admin_platforms"), {"code": "Bad Code", "name": "", "kind": "ecommerce"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "平台代码须为" in html and "平台名称不能为空" in html
    assert (
        client.post(reverse("admin_platforms"), {"code": "pdd", "name": "拼多多", "kind": "ecommerce"}).status_code
        == 302
    )
    html = client.get(reverse("admin_platforms")).content.decode()
    assert "拼多多" in html and reverse("admin_connector", args=["pdd"]) in html and "未接入" in html
    target = reverse("admin_connector", args=["pdd"])
    data = {"base_url": "https://pdd.example/api", "key_id": "k1", "secret": "", "timeout_s": "5", "max_attempts": "5"}
    response = client.post(target, data)
    assert response.status_code == 400 and "新建连接器须填写密钥" in response.content.decode()
    assert client.post(target, {**data, "secret": "pdd-secret-0123456789", "enabled": "on"}).status_code == 302
    connector = Connector.objects.get(platform__code="pdd")
    assert crypto.decrypt(connector.secret_encrypted) == "pdd-secret-0123456789" and connector.enabled


def test_rotate_secret_and_test_connection(client, cast, connected):
    client.force_login(cast.admin)
    old = Connector.objects.get(platform__code="alipay")
    response = client.post(
        reverse("admin_connector_rotate", args=["alipay"]), {"secret": "too-short", "grace_hours": "24"}
    )
    assert response.status_code == 400 and "密钥至少16个字符" in response.content.decode()
    response = client.post(
        reverse("admin_connector_rotate", args=["alipay"]),
        {"secret": "rotated-secret-0123456789", "key_id": "k-alipay-2", "grace_hours": "6"},
    )
    assert response.status_code == 302
    new = Connector.objects.get(pk=old.pk)
    assert new.previous_secret_encrypted == old.secret_encrypted and new.key_id == "k-alipay-2"
    assert crypto.decrypt(new.secret_encrypted) == "rotated-secret-0123456789"

    response = client.post(reverse("admin_connector_test", args=["jd"]), follow=True)
    assert "京东连接失败" in response.content.decode()
    jd = Connector.objects.get(platform__code="jd")
    assert jd.last_health_ok is False and jd.last_health_at is not None
    response = client.post(reverse("admin_connector_test", args=["alipay"]), follow=True)
    assert "支付宝连接正常" in response.content.decode()
    html = client.get(reverse("admin_platforms")).content.decode()
    assert "正常" in re.search(r'<tr id="platform-alipay".*?</tr>', html, re.S).group(0)


# --------------------------------------------------------------------------------------------
# query counts
# --------------------------------------------------------------------------------------------


def _grow(cast, party, start: int, stop: int) -> None:
    """Notices on cast.case and on new cases of the judge (one case per step): failed ones with an
    attempt, and freezes awaiting approval."""
    for i in range(start, stop):
        if i % 2 == 0:
            case, respondent = cast.case, party
        else:
            case = EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.assigned], amount_due=Decimal("1e6"))
            respondent = respondent_of(case)
        (notice,) = services.request_notices(cast.head, case, kind="query", platforms=["jd"], respondent=respondent.pk)
        services.deliver(notice.pk)
        services.request_notices(
            cast.assigned,
            case,
            kind="freeze",
            platforms=["alipay"],
            respondent=respondent.pk,
            account=f"acct-{i}",
            amount="1.00",
        )


def _counted(client, user, target) -> tuple[int, int]:
    """(status, queries) of the second GET of ``target`` as ``user``."""
    client.force_login(user)
    client.get(target)  # warm up: session bookkeeping and per-process caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(target)
    return response.status_code, len(ctx.captured_queries)


QUERY_PAGES = [
    ("assigned", "case_notices"),
    ("assigned", "notice_list"),
    ("head", "case_notices"),
    ("head", "notice_list"),
    ("head", "approval_list"),  # approvals are for the bureau head only
]


def _target(cast, page) -> str:
    return reverse(page, args=[cast.case.pk]) if page.startswith("case_") else reverse(page)


def build_grown_notices(request) -> SimpleNamespace:
    """The notices grown to 3 steps, every (user, page) of the query-count test measured at that
    size, each in a savepoint rolled back after it (so that each starts from the same rows, as if
    its test had built them alone), then grown to 30 steps."""
    rows = build_cast_and_connected(request)
    company = add_company(rows.cast)
    with override_settings(QUERY_RATE_PER_CASE_HOUR=1000):
        _grow(rows.cast, company, 0, 3)
        rows.small = {}
        for who, page in QUERY_PAGES:
            savepoint = transaction.savepoint()
            rows.small[who, page] = _counted(Client(), getattr(rows.cast, who), _target(rows.cast, page))
            transaction.savepoint_rollback(savepoint)
        _grow(rows.cast, company, 3, 30)
    return rows


class TestConstantQueries:
    """Growing the notices from 3 to 30 steps is done once for the class's 5 tests
    (tests/support/shared_rows.py): the count at 3 steps is measured while building, the count at
    30 steps by each test."""

    build_rows = staticmethod(build_grown_notices)

    @pytest.mark.parametrize(("who", "page"), QUERY_PAGES)
    def test_constant_queries(self, client, shared_rows, settings, who, page):
        settings.QUERY_RATE_PER_CASE_HOUR = 1000
        status, small = shared_rows.small[who, page]
        assert status == 200, (who, page, status)
        status, large = _counted(client, getattr(shared_rows.cast, who), _target(shared_rows.cast, page))
        assert status == 200, (who, page, status)
        assert large == small, (page, small, large)
