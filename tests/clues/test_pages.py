"""The clue and measure pages: the permission matrix through pages and POST actions, what the tabs
show (核实期限, exact 到期日 and days-left badges, 轮候, other courts), masking of data clues, field
errors that write nothing, workbench panels, navigation pages and query counts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from clues import services
from clues.models import ClueStatus, LiveSeizureVisit, Measure, MeasureStatus, PropertyClue
from clues.views import CLUE_PAGE_SIZE
from enforcement.models import AuditEntry, Role
from enforcement.permissions import Action
from tests.clues.factories import (
    PlatformFactory,
    add_clue,
    add_measure,
    case_in,
    counts,
    respondent_of,
    twin_of,
)
from tests.factories import CourtFactory, EnforcementCaseFactory, UserFactory, make_cast, make_courts
from tests.support.shared_rows import SharedCastAndWorld

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


def expected_status(who: str, action: Action, ok: int) -> int:
    if action in ALLOWED[who]:
        return ok
    return 403 if Action.VIEW in ALLOWED[who] else 404


def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def world(cast, alipay):
    return build_world(cast, alipay)


def build_world(cast, alipay) -> dict:
    """On cast.case: a pending clue, a second pending clue, an active freeze (on a third clue) and
    a live seizure on goods with a visit scheduled for today."""
    case, judge = cast.case, cast.assigned
    pending = add_clue(judge, case, platform=alipay, account="ZFB-PENDING")
    other = add_clue(judge, case, platform=alipay, account="ZFB-OTHER")
    frozen_clue = add_clue(judge, case, platform=alipay, account="ZFB-FROZEN")
    freeze = add_measure(judge, case, frozen_clue, amount="1000.00")
    goods = add_clue(judge, case, category="traditional", kind="movables", account="仓库A-货架3", registry="雨湖区仓库")
    live = add_measure(judge, case, goods, kind="live_seizure")
    visit = services.schedule_visit(judge, live, scheduled_on=today())
    return {"pending": pending, "other": other, "freeze": freeze, "live": live, "visit": visit, "clue": frozen_clue}


def url(name: str, cast, *args) -> str:
    return reverse(name, args=[cast.case.pk, *args])


# name -> (action needed, success status, method, url builder, data builder)
PAGE_ACTIONS = {
    "clues_tab": (Action.VIEW, 200, "get", lambda c, w: url("case_clues", c), None),
    "measures_tab": (Action.VIEW, 200, "get", lambda c, w: url("case_measures", c), None),
    "other_courts": (Action.VIEW, 200, "get", lambda c, w: url("clue_other_courts", c, w["pending"].pk), None),
    "add_clue": (
        Action.HANDLE,
        302,
        "post",
        lambda c, w: url("case_clues", c),
        lambda c, w: {
            "respondent": respondent_of(c.case).pk,
            "category": "funds",
            "kind": "platform_balance",
            "platform": "alipay",
            "account": "ZFB-NEW",
            "source": "applicant",
            "received_on": today().isoformat(),
        },
    ),
    "verify": (Action.HANDLE, 302, "post", lambda c, w: url("clue_verify", c, w["pending"].pk), lambda c, w: {}),
    "invalidate": (
        Action.HANDLE,
        302,
        "post",
        lambda c, w: url("clue_invalidate", c, w["other"].pk),
        lambda c, w: {"reason": "账户已注销"},
    ),
    "record_measure": (
        Action.HANDLE,
        302,
        "post",
        lambda c, w: url("case_measures", c),
        lambda c, w: {"clue": w["pending"].pk, "kind": "freeze", "amount": "500.00"},
    ),
    "renew": (Action.HANDLE, 302, "post", lambda c, w: url("measure_renew", c, w["freeze"].pk), lambda c, w: {}),
    "release": (
        Action.HANDLE,
        302,
        "post",
        lambda c, w: url("measure_release", c, w["freeze"].pk),
        lambda c, w: {"reason": "被执行人已提供担保"},
    ),
    "schedule_visit": (
        Action.HANDLE,
        302,
        "post",
        lambda c, w: url("measure_visit", c, w["live"].pk),
        lambda c, w: {"scheduled_on": (today() + dt.timedelta(days=10)).isoformat()},
    ),
    "record_visit": (
        Action.HANDLE,
        302,
        "post",
        lambda c, w: url("visit_record", c, w["visit"].pk),
        lambda c, w: {"visited_on": today().isoformat(), "count": "120", "condition": "完好", "notes": "货物齐全"},
    ),
    "proceeds": (
        Action.HANDLE,
        302,
        "post",
        lambda c, w: url("measure_proceeds", c, w["live"].pk),
        lambda c, w: {"amount": "5000.00"},
    ),
}


def build_cast_and_world(request) -> SimpleNamespace:
    cast = make_cast(make_courts())
    alipay = PlatformFactory(code="alipay", name="支付宝", kind="payment")  # tests/clues/conftest.py's
    return SimpleNamespace(cast=cast, world=build_world(cast, alipay))


class TestPermissionMatrixThroughPages(SharedCastAndWorld):
    """The cast and the world are built once for the class's 120 tests (tests/support/shared_rows.py):
    each test's request, and what it writes, is rolled back before the next one."""

    build_rows = staticmethod(build_cast_and_world)

    @pytest.mark.parametrize("who", sorted(ALLOWED))
    @pytest.mark.parametrize("page", sorted(PAGE_ACTIONS))
    def test_permission_matrix_through_pages(self, client, cast, world, who, page):
        action, ok, method, url_of, data_of = PAGE_ACTIONS[page]
        client.force_login(getattr(cast, who))
        before = counts()
        target = url_of(cast, world)
        response = client.get(target) if method == "get" else client.post(target, data_of(cast, world))
        expected = expected_status(who, action, ok)
        assert response.status_code == expected, (who, page, response.status_code)
        after = counts()
        if expected != ok or method == "get":
            # Refused, or only read (no sensitive clue here): nothing written, not even an audit entry.
            assert after == before, f"{who} changed something through {page}"
        else:
            assert after["AuditEntry"] > before["AuditEntry"]
            tab = "case_clues" if page in ("add_clue", "verify", "invalidate") else "case_measures"
            assert response["Location"] == reverse(tab, args=[cast.case.pk])


def test_post_effects_when_allowed(client, cast, world):
    client.force_login(cast.assigned)
    for page in ("verify", "invalidate", "record_measure", "schedule_visit", "record_visit"):
        _, ok, _, url_of, data_of = PAGE_ACTIONS[page]
        assert client.post(url_of(cast, world), data_of(cast, world)).status_code == ok, page
    assert PropertyClue.objects.get(pk=world["pending"].pk).status == ClueStatus.UNDER_MEASURE
    other = PropertyClue.objects.get(pk=world["other"].pk)
    assert other.status == ClueStatus.INVALID and other.invalid_reason == "账户已注销"
    assert Measure.objects.filter(clue=world["pending"], kind="freeze", amount=Decimal("500.00")).exists()
    visit = LiveSeizureVisit.objects.get(pk=world["visit"].pk)
    assert (visit.visited_on, visit.count, visit.condition) == (today(), 120, "完好")
    assert LiveSeizureVisit.objects.filter(measure=world["live"], scheduled_on=today() + dt.timedelta(days=10)).exists()

    assert client.post(url("measure_renew", cast, world["freeze"].pk)).status_code == 302
    renewal = Measure.objects.get(renewed_from=world["freeze"])
    assert renewal.effective_on == world["freeze"].expires_on + dt.timedelta(days=1)
    html = client.get(url("case_measures", cast)).content.decode()
    assert "续行自" in html and "已续行至" in html and renewal.expires_on.isoformat() in html

    assert client.post(url("measure_proceeds", cast, world["live"].pk), {"amount": "5000.00"}).status_code == 302
    cast.case.refresh_from_db()
    assert cast.case.amount_recovered == Decimal("5000.00")
    assert Measure.objects.get(pk=world["live"].pk).status == MeasureStatus.COMPLETED

    response = client.post(url("measure_release", cast, world["freeze"].pk), {"reason": "已提供担保"})
    assert response.status_code == 302
    released = Measure.objects.get(pk=world["freeze"].pk)
    assert released.status == MeasureStatus.RELEASED and released.release_reason == "已提供担保"


@pytest.mark.parametrize("name", ["case_clues", "case_measures"])
def test_unknown_case_and_foreign_objects_404(client, cast, world, name):
    client.force_login(cast.assigned)
    assert client.get(reverse(name, args=[999999])).status_code == 404
    other, judge = case_in(cast.courts.yuhu)
    foreign = add_clue(judge, other, account="FOREIGN")
    assign_perm("handle_case", cast.assigned, other)
    before = counts()
    # A clue or measure of another case, addressed through this case, is not found.
    assert client.post(url("clue_verify", cast, foreign.pk)).status_code == 404
    assert client.post(reverse("measure_renew", args=[other.pk, world["freeze"].pk])).status_code == 404
    assert counts() == before


def test_action_urls_refuse_get(client, cast, world):
    client.force_login(cast.assigned)
    assert client.get(url("clue_verify", cast, world["pending"].pk)).status_code == 405
    assert client.get(url("measure_release", cast, world["freeze"].pk)).status_code == 405


def test_actions_shown_only_to_handlers(client, cast, world):
    verify_url = url("clue_verify", cast, world["pending"].pk)
    release_url = url("measure_release", cast, world["freeze"].pk)
    client.force_login(cast.supervisor)
    clues_html = client.get(url("case_clues", cast)).content.decode()
    measures_html = client.get(url("case_measures", cast)).content.decode()
    assert "ZFB-PENDING" in clues_html and "clue-form" not in clues_html and verify_url not in clues_html
    assert "measure-form" not in measures_html and release_url not in measures_html
    for who in ("assigned", "head"):
        client.force_login(getattr(cast, who))
        assert verify_url in client.get(url("case_clues", cast)).content.decode()
        html = client.get(url("case_measures", cast)).content.decode()
        assert release_url in html and 'class="court-fieldset measure-form"' in html


def test_case_tabs_link_the_new_pages(client, cast):
    client.force_login(cast.supervisor)
    html = client.get(reverse("case_detail", args=[cast.case.pk])).content.decode()
    assert url("case_clues", cast) in html and url("case_measures", cast) in html
    assert ">财产线索<" in html and ">查控措施<" in html


# --------------------------------------------------------------------------------------------
# content
# --------------------------------------------------------------------------------------------


def test_created_clue_appears_with_its_deadline(client, cast, alipay):
    client.force_login(cast.assigned)
    received = today() - dt.timedelta(days=1)
    data = {
        "respondent": respondent_of(cast.case).pk,
        "category": "funds",
        "kind": "platform_balance",
        "platform": "alipay",
        "account": "ZFB-8866",
        "estimated_value": "23,456.70",
        "source": "applicant",
        "urgent": "on",
        "received_on": received.isoformat(),
    }
    response = client.post(url("case_clues", cast), data, follow=True)
    assert response.redirect_chain[-1][0] == url("case_clues", cast)
    clue = PropertyClue.objects.get(account="ZFB-8866")
    assert clue.verify_by == services.verify_by_for(received, True)
    html = response.content.decode()
    row = re.search(rf'<tr id="clue-{clue.pk}".*?</tr>', html, re.S).group(0)
    assert clue.verify_by.isoformat() in row and "ZFB-8866" in row and "¥23,456.70" in row
    assert "支付宝" in row and "平台账户余额" in row and "申请执行人提供" in row and "紧急" in row
    assert f"核实期限 {clue.verify_by.isoformat()}" in html


def test_overdue_pending_clue_is_red(client, cast, alipay):
    old = add_clue(cast.assigned, cast.case, platform=alipay, account="OLD", received_on=today() - dt.timedelta(30))
    fresh = add_clue(cast.assigned, cast.case, platform=alipay, account="NEW")
    client.force_login(cast.assigned)
    html = client.get(url("case_clues", cast)).content.decode()
    assert re.search(rf'class="text-nowrap clue-overdue">{old.verify_by.isoformat()}<', html)
    assert re.search(rf'class="text-nowrap">{fresh.verify_by.isoformat()}<', html)


def _effective_for_days_left(asset_kind: str, left: int) -> dt.date:
    """An effective date whose measure (a one-year period) has ``left`` days to go today."""
    for back in range(max(364 - left - 5, 0), 800):
        effective = today() - dt.timedelta(days=back)
        if (services.measure_expiry(asset_kind, effective) - today()).days == left:
            return effective
    raise AssertionError(f"no effective date leaves {left} days")


@pytest.mark.parametrize(
    "left,css", [(5, "days-red"), (6, "days-red"), (7, "days-amber"), (14, "days-amber"), (15, "days-ok")]
)
def test_freeze_shows_exact_expiry_and_badge(client, cast, alipay, left, css):
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    effective = _effective_for_days_left("platform_balance", left)
    freeze = add_measure(cast.assigned, cast.case, clue, amount="12345.60", effective_on=effective)
    assert freeze.expires_on == services.measure_expiry("platform_balance", effective)
    client.force_login(cast.assigned)
    html = client.get(url("case_measures", cast)).content.decode()
    row = re.search(rf'<tr id="measure-{freeze.pk}".*?</tr>', html, re.S).group(0)
    assert f'class="text-nowrap expires-on">{freeze.expires_on.isoformat()}<' in row
    assert effective.isoformat() in row and "¥12,345.60" in row
    assert re.search(rf'<span class="badge days-left {css}[^"]*">{left} 天</span>', row)


def test_waiting_measure_other_courts_and_no_foreign_parties(client, cast, alipay):
    ours = respondent_of(cast.case)
    rival_case, rival_judge = case_in(cast.courts.yuetang, respondent=twin_of(ours, "王五（岳塘登记）"))
    rival_applicant = rival_case.case_parties.get(role="applicant").party
    theirs = add_clue(rival_judge, rival_case, platform=alipay, account="ZFB 7788")
    add_measure(rival_judge, rival_case, theirs, amount="800.00")
    clue = add_clue(cast.assigned, cast.case, platform=alipay, account="zfb7788")
    client.force_login(cast.assigned)
    response = client.post(url("case_measures", cast), {"clue": clue.pk, "kind": "freeze", "amount": "900.00"})
    assert response.status_code == 302
    waiting = Measure.objects.get(clue=clue)
    assert waiting.status == MeasureStatus.WAITING and waiting.queue_position == 1
    html = client.get(url("case_measures", cast)).content.decode()
    row = re.search(rf'<tr id="measure-{waiting.pk}".*?</tr>', html, re.S).group(0)
    assert "轮候第1位" in row and "轮候" in row

    html = client.get(url("case_clues", cast)).content.decode()
    cell = re.search(rf'<tr id="clue-{clue.pk}".*?<td class="other-courts">(.*?)</td>', html, re.S).group(1)
    assert "湘潭市岳塘区人民法院" in cell and rival_case.number in cell and "冻结" in cell and "有效" in cell
    for secret in ("王五（岳塘登记）", rival_applicant.name, rival_case.basis_document_number):
        assert secret not in html

    # The rival's page names our court and case, with the queue position, and not our parties.
    client.force_login(rival_judge)
    html = client.get(reverse("case_clues", args=[rival_case.pk])).content.decode()
    assert "湘潭市雨湖区人民法院" in html and cast.case.number in html and "轮候第1位" in html
    assert ours.name not in html


def _other_courts_cell(html: str, clue) -> str:
    return re.search(rf'<tr id="clue-{clue.pk}".*?<td class="other-courts">(.*?)</td>', html, re.S).group(1)


def _other_court_numbers(html: str) -> list[str]:
    """The case numbers of the other-court entries, in the order shown."""
    return re.findall(
        r'<div class="other-court">\s*<span class="fw-semibold">[^<]*</span> <span class="text-nowrap">([^<]*)<', html
    )


@pytest.fixture
def crowded_asset(cast, alipay):
    """Our clue on an asset six other courts hold too: 湘0382 with the active freeze, 岳塘 (湘0304)
    with a freeze waiting behind it, 湘0321 with a freeze it released and three with a clue only
    (湘0322, 湘0323, 湘0381).
    Returns our clue and the other cases in the order the tab lists them, with their judges."""
    mid = cast.courts.mid
    courts = {
        code: CourtFactory(code=code, name=f"测试{code}法院", parent=mid)
        for code in ("湘0321", "湘0322", "湘0323", "湘0381", "湘0382")
    }
    courts["湘0304"] = cast.courts.yuetang
    respondent = respondent_of(cast.case)
    cases = {}
    for code in ("湘0382", "湘0304", "湘0321", "湘0322", "湘0323", "湘0381"):
        case, judge = case_in(courts[code], respondent=twin_of(respondent, f"王五（{code}登记）"))
        theirs = add_clue(judge, case, platform=alipay, account="ZFB-CROWD")
        if code in ("湘0382", "湘0304", "湘0321"):
            freeze = add_measure(judge, case, theirs, amount="500.00")
            if code == "湘0321":
                services.release_measure(judge, freeze, reason="已提供担保")
        cases[code] = (case, judge)
    ours = add_clue(cast.assigned, cast.case, platform=alipay, account="zfb-crowd")
    # measures in force first, then ended ones, then clues only; each by court code
    order = ["湘0304", "湘0382", "湘0321", "湘0322", "湘0323", "湘0381"]
    return ours, [cases[code] for code in order]


def test_clue_tab_shows_the_first_other_courts_measures_first(client, cast, crowded_asset):
    ours, others = crowded_asset
    client.force_login(cast.assigned)
    cell = _other_courts_cell(client.get(url("case_clues", cast)).content.decode(), ours)
    assert _other_court_numbers(cell) == [case.number for case, _ in others[:3]]
    assert "轮候第1位" in cell and cell.count('data-kind="freeze"') == 3 and "已解除" in cell
    more = reverse("clue_other_courts", args=[cast.case.pk, ours.pk])
    link = re.search(r'<a class="other-courts-more[^"]*"([^>]*)>([^<]*)</a>', cell)
    assert link.group(2) == "另有 3 家法院…"
    # htmx loads the full list into the cell; without JavaScript the link opens it as a page.
    assert f'href="{more}"' in link.group(1) and f'hx-get="{more}"' in link.group(1)
    assert 'hx-target="closest td"' in link.group(1)

    client.post(reverse("set_language"), {"language": "en", "next": reverse("workbench")})
    cell = _other_courts_cell(client.get(url("case_clues", cast)).content.decode(), ours)
    assert "3 more courts…" in cell and "另有" not in cell


def test_more_rows_of_courts_already_shown(client, cast, alipay):
    """Hidden rows that belong to courts already shown are counted as rows, not as courts."""
    for _ in range(4):
        case, judge = case_in(cast.courts.yuetang, respondent=twin_of(respondent_of(cast.case), "王五（岳塘登记）"))
        add_clue(judge, case, platform=alipay, account="ZFB-SAME")
    ours = add_clue(cast.assigned, cast.case, platform=alipay, account="ZFB-SAME")
    client.force_login(cast.assigned)
    cell = _other_courts_cell(client.get(url("case_clues", cast)).content.decode(), ours)
    assert len(_other_court_numbers(cell)) == 3 and "另有 1 条…" in cell and "家法院" not in cell


def test_no_more_line_within_the_limit(client, cast, alipay):
    for court in (cast.courts.yuetang, cast.courts.jiaocheng):
        case, judge = case_in(court, respondent=twin_of(respondent_of(cast.case), "王五（他院登记）"))
        add_clue(judge, case, platform=alipay, account="ZFB-FEW")
    ours = add_clue(cast.assigned, cast.case, platform=alipay, account="ZFB-FEW")
    client.force_login(cast.assigned)
    cell = _other_courts_cell(client.get(url("case_clues", cast)).content.decode(), ours)
    assert len(_other_court_numbers(cell)) == 2 and "other-courts-more" not in cell


def test_other_courts_view_lists_them_all(client, cast, crowded_asset):
    ours, others = crowded_asset
    target = reverse("clue_other_courts", args=[cast.case.pk, ours.pk])
    client.force_login(cast.supervisor)  # may view the case, not handle it
    before = counts()
    fragment = client.get(target, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert _other_court_numbers(html) == [case.number for case, _ in others]
    assert "<html" not in html and "测试湘0381法院" in html and "轮候第1位" in html
    # Without JavaScript: the same list on a page of its own, with the way back to the clue.
    page = client.get(target).content.decode()
    assert "<html" in page and _other_court_numbers(page) == [case.number for case, _ in others]
    assert f"{url('case_clues', cast)}?clue={ours.pk}#clue-{ours.pk}" in page
    assert counts() == before


def test_other_courts_view_hidden_from_other_courts(client, cast, crowded_asset):
    ours, others = crowded_asset
    target = reverse("clue_other_courts", args=[cast.case.pk, ours.pk])
    before = counts()
    client.force_login(cast.outsider)  # a judge and bureau head of 蕉城 court
    assert client.get(target, headers={"HX-Request": "true"}).status_code == 404
    assert client.get(target).status_code == 404
    # The judge of a case holding the same asset does not see ours through it either.
    rival_case, rival_judge = others[0]
    client.force_login(rival_judge)
    assert client.get(target, headers={"HX-Request": "true"}).status_code == 404
    # A clue of another case, addressed through ours, is not found.
    client.force_login(cast.assigned)
    theirs = PropertyClue.objects.get(case=rival_case)
    assert client.get(reverse("clue_other_courts", args=[cast.case.pk, theirs.pk])).status_code == 404
    assert client.post(target).status_code == 405
    assert counts() == before


def test_data_clue_masked_for_view_only_user_and_audited_for_readers(client, cast, alipay):
    clue = add_clue(
        cast.assigned,
        cast.case,
        platform=alipay,
        category="data",
        kind="user_data",
        account="USERDB-4455",
        estimated_value="777.00",
        notes="含会员手机号",
    )
    viewer = UserFactory(court=cast.courts.yuhu, roles=[Role.JUDGE])
    assign_perm("view_enforcementcase", viewer, cast.case)
    client.force_login(viewer)
    before = AuditEntry.objects.count()
    response = client.get(url("case_clues", cast))
    assert response.status_code == 200
    html = response.content.decode()
    row = re.search(rf'<tr id="clue-{clue.pk}".*?</tr>', html, re.S).group(0)
    assert "USERDB-4455" not in html and "777.00" not in html and "含会员手机号" not in html
    assert "***" in row and "用户数据" in row
    assert AuditEntry.objects.count() == before
    # Nor does the measure form or the measure tab leak it.
    assert "USERDB-4455" not in client.get(url("case_measures", cast)).content.decode()

    for who in ("assigned", "supervisor"):
        client.force_login(getattr(cast, who))
        before = AuditEntry.objects.filter(action="clue.sensitive_read").count()
        html = client.get(url("case_clues", cast)).content.decode()
        assert "USERDB-4455" in html and "¥777.00" in html
        reads = AuditEntry.objects.filter(action="clue.sensitive_read").order_by("-seq")
        assert reads.count() == before + 1 and reads.first().payload["clues"] == [clue.pk]
    client.force_login(cast.assigned)
    assert "USERDB-4455" not in client.get(url("case_measures", cast)).content.decode()


# --------------------------------------------------------------------------------------------
# the clue tab in pages (CLUE_PAGE_SIZE rows, grouped by category within a page)
# --------------------------------------------------------------------------------------------


def _row_ids(html: str, prefix: str) -> list[int]:
    return [int(pk) for pk in re.findall(rf'<tr id="{prefix}-(\d+)"', html)]


@pytest.fixture
def many_clues(cast, alipay):
    """25 clues, funds and goods interleaved: 15 funds (ZFB-00..14) and 10 movables (G-00..09)."""
    funds, goods = [], []
    for i in range(25):
        if i % 5 in (1, 3):
            goods.append(
                add_clue(
                    cast.assigned, cast.case, category="traditional", kind="movables", account=f"G-{len(goods):02d}"
                )
            )
        else:
            funds.append(add_clue(cast.assigned, cast.case, platform=alipay, account=f"ZFB-{len(funds):02d}"))
    return {"funds": funds, "goods": goods}


def test_clue_tab_shows_one_page_by_category_and_the_rest_on_the_next(client, cast, many_clues):
    funds, goods = many_clues["funds"], many_clues["goods"]
    client.force_login(cast.assigned)
    response = client.get(url("case_clues", cast))
    html = response.content.decode()
    # Category by category, newest first within each: all 15 funds, then the 5 newest movables.
    newest_first = [c.pk for c in reversed(funds)] + [c.pk for c in reversed(goods)]
    assert _row_ids(html, "clue") == newest_first[:CLUE_PAGE_SIZE]
    assert re.findall(r'<h2 class="section-title">([^<]+)</h2>', html) == ["资金类", "传统财产", "登记财产线索"]
    assert response.context["clue_count"] == 25 and "25 条线索" in html
    assert f'href="{url("case_clues", cast)}?page=2" rel="next"' in html and "1 / 2" in html

    html = client.get(url("case_clues", cast) + "?page=2").content.decode()
    assert _row_ids(html, "clue") == newest_first[CLUE_PAGE_SIZE:]
    assert re.findall(r'<h2 class="section-title">([^<]+)</h2>', html) == ["传统财产", "登记财产线索"]
    assert "25 条线索" in html and "2 / 2" in html and 'rel="prev"' in html

    # Past the end: the last page; not a number: the first.
    assert _row_ids(client.get(url("case_clues", cast) + "?page=99").content.decode(), "clue") == newest_first[20:]
    assert _row_ids(client.get(url("case_clues", cast) + "?page=x").content.decode(), "clue") == newest_first[:20]


def test_a_case_within_one_page_has_no_pager(client, cast, alipay):
    add_clue(cast.assigned, cast.case, platform=alipay, account="ONLY")
    client.force_login(cast.assigned)
    html = client.get(url("case_clues", cast)).content.decode()
    assert "1 条线索" in html and 'class="pagination' not in html


def test_only_the_clues_of_the_page_are_presented(client, cast, alipay):
    """The audited read of data clues (and the other-courts lookup) covers the page shown only."""
    for i in range(CLUE_PAGE_SIZE + 1):
        add_clue(cast.assigned, cast.case, platform=alipay, account=f"ZFB-{i:02d}")
    data = add_clue(cast.assigned, cast.case, platform=alipay, category="data", kind="user_data", account="DB-1")
    client.force_login(cast.assigned)
    reads = AuditEntry.objects.filter(action="clue.sensitive_read")
    html = client.get(url("case_clues", cast)).content.decode()
    assert "DB-1" not in html and reads.count() == 0
    html = client.get(url("case_clues", cast) + "?page=2").content.decode()
    assert _row_ids(html, "clue")[-1] == data.pk
    assert reads.count() == 1 and reads.get().payload["clues"] == [data.pk]


def test_clue_actions_come_back_to_their_page(client, cast, many_clues):
    client.force_login(cast.assigned)
    oldest = many_clues["goods"][0]  # the last row of page 2
    html = client.get(url("case_clues", cast) + "?page=2").content.decode()
    row = re.search(rf'<tr id="clue-{oldest.pk}".*?</tr>', html, re.S).group(0)
    verify = url("clue_verify", cast, oldest.pk) + "?page=2"
    assert f'action="{verify}"' in row
    response = client.post(verify)
    assert response.status_code == 302 and response["Location"] == url("case_clues", cast) + "?page=2"
    assert PropertyClue.objects.get(pk=oldest.pk).status == ClueStatus.VERIFIED
    # A refused invalidation shows the page holding that clue, whatever page it came from.
    response = client.post(url("clue_invalidate", cast, oldest.pk), {"reason": " "})
    assert response.status_code == 400
    html = response.content.decode()
    assert oldest.pk in _row_ids(html, "clue") and "2 / 2" in html
    assert "须写明线索无效的原因" in _field_block(html, f"invalid_{oldest.pk}_reason")
    # Its page links lead to the tab, not to the invalidate URL the page was rendered for.
    assert f'href="{url("case_clues", cast)}?page=1"' in html
    # A refused new clue shows the first page, with status 400.
    response = client.post(url("case_clues", cast), {"category": "funds"})
    assert response.status_code == 400 and response.context["page"].number == 1


def test_link_to_one_clue_opens_its_page(client, cast, many_clues):
    oldest = many_clues["goods"][0]
    client.force_login(cast.assigned)
    html = client.get(url("case_clues", cast) + f"?clue={oldest.pk}").content.decode()
    assert oldest.pk in _row_ids(html, "clue") and "2 / 2" in html
    # An explicit page wins (the pager keeps the clue parameter); an unknown clue is page 1.
    html = client.get(url("case_clues", cast) + f"?clue={oldest.pk}&page=1").content.decode()
    assert oldest.pk not in _row_ids(html, "clue")
    assert "1 / 2" in client.get(url("case_clues", cast) + "?clue=999999").content.decode()
    # The clue lists link to the clue's page.
    listed = client.get(reverse("clue_list")).content.decode()
    assert f"{url('case_clues', cast)}?clue={oldest.pk}#clue-{oldest.pk}" in listed


# --------------------------------------------------------------------------------------------
# bad input: the Chinese message next to the field, what was typed kept, nothing written
# --------------------------------------------------------------------------------------------


def _field_block(html: str, name: str) -> str:
    """The wrapper of one form field as rendered by includes/field.html."""
    match = re.search(
        rf'<div class="[^"]*">\s*<label class="form-label" for="id_{name}">.*?</div>\s*(?=<div|</div>)', html, re.S
    )
    assert match, f"field {name} not rendered"
    return match.group(0)


def test_kind_outside_category_is_refused_next_to_the_field(client, cast, alipay):
    client.force_login(cast.assigned)
    before = counts()
    data = {
        "respondent": respondent_of(cast.case).pk,
        "category": "funds",
        "kind": "user_data",
        "platform": "alipay",
        "account": "ZFB-TYPED",
        "estimated_value": "1,500.00",
        "source": "applicant",
        "received_on": today().isoformat(),
        "notes": "申请人提供截图",
    }
    response = client.post(url("case_clues", cast), data)
    assert response.status_code == 400
    html = response.content.decode()
    block = _field_block(html, "kind")
    assert "不属于类别“资金类”" in block and "is-invalid" in block
    assert 'value="ZFB-TYPED"' in html and 'value="1,500.00"' in html and "申请人提供截图" in html
    assert re.search(r'<option value="user_data" selected data-category="data">', html)
    assert counts() == before


def test_clue_without_holder_or_account(client, cast):
    client.force_login(cast.assigned)
    before = counts()
    data = {
        "respondent": respondent_of(cast.case).pk,
        "category": "funds",
        "kind": "bank_deposit",
        "source": "applicant",
    }
    response = client.post(url("case_clues", cast), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "资金类和数据类线索须指明平台或开户/登记机构" in _field_block(html, "platform")
    assert "账户或登记号不能为空" in _field_block(html, "account")
    assert counts() == before


def test_kind_options_carry_their_category(client, cast):
    client.force_login(cast.assigned)
    html = client.get(url("case_clues", cast)).content.decode()
    assert 'data-kind-filter="kind"' in html
    assert '<option value="platform_balance" data-category="funds"' in html
    assert '<option value="user_data" data-category="data"' in html
    assert '<option value="livestock" data-category="traditional"' in html


def test_freeze_over_the_limit_shows_the_figures_and_writes_nothing(client, cast, alipay):
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    add_measure(cast.assigned, cast.case, clue, amount="100000.00")
    second = add_clue(cast.assigned, cast.case, platform=alipay, account="ZFB-2")
    client.force_login(cast.assigned)
    before = counts()
    response = client.post(url("case_measures", cast), {"clue": second.pk, "kind": "freeze", "amount": "20000.00"})
    assert response.status_code == 400
    html = response.content.decode()
    block = _field_block(html, "amount")
    for figure in ("超标的冻结", "100000.00", "110000.00", "10000.00", "20000.00"):
        assert figure in block, figure
    assert 'value="20000.00"' in block
    assert counts() == before
    # The figures above the table too.
    assert "¥110,000.00" in html and "¥100,000.00" in html

    response = client.post(
        url("case_measures", cast), {"clue": second.pk, "kind": "freeze", "amount": "20000.00", "reduce_to_fit": "on"}
    )
    assert response.status_code == 302
    assert Measure.objects.get(clue=second).amount == Decimal("10000.00")
    html = client.get(response["Location"]).content.decode()
    assert "超出部分已减至上限" in html


def test_excess_frozen_listed_for_release(client, cast, alipay):
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    freeze = add_measure(cast.assigned, cast.case, clue, amount="100000.00")
    other = add_clue(cast.assigned, cast.case, registry="某银行", kind="bank_deposit", account="6222")
    add_measure(cast.assigned, cast.case, other, kind="deduct", amount="50000.00")
    # outstanding 50,000 -> limit 55,000, frozen 100,000 -> 45,000 over
    cast.case.refresh_from_db()
    assert services.excess_frozen(cast.case) == Decimal("45000.00")
    client.force_login(cast.assigned)
    html = client.get(url("case_measures", cast)).content.decode()
    assert re.search(r'class="num text-danger fw-semibold excess-frozen">¥45,000.00<', html)
    listing = re.search(r'<div class="alert alert-warning[^"]*excess-list".*?</div>', html, re.S).group(0)
    assert f"#measure-{freeze.pk}" in listing


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("amount", "-5", "金额须大于零"),
        ("amount", "10.123", "金额最多保留两位小数"),
        ("effective_on", "2999-01-01", "生效日不能晚于今天"),
    ],
)
def test_measure_bad_input(client, cast, alipay, field, value, message):
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    client.force_login(cast.assigned)
    before = counts()
    data = {"clue": clue.pk, "kind": "freeze", "amount": "100.00", field: value}
    response = client.post(url("case_measures", cast), data)
    assert response.status_code == 400
    assert message in _field_block(response.content.decode(), field)
    assert counts() == before


def test_invalidate_without_reason_and_visit_errors(client, cast, world):
    client.force_login(cast.assigned)
    before = counts()
    response = client.post(url("clue_invalidate", cast, world["pending"].pk), {"reason": "  "})
    assert response.status_code == 400
    html = response.content.decode()
    assert "须写明线索无效的原因" in _field_block(html, f"invalid_{world['pending'].pk}_reason")
    response = client.post(url("visit_record", cast, world["visit"].pk), {"visited_on": "2999-01-01", "count": "3"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "回访日期不能晚于今天" in _field_block(html, f"record_{world['visit'].pk}_visited_on")
    response = client.post(url("measure_proceeds", cast, world["live"].pk), {"amount": "999999.00"})
    assert response.status_code == 400
    assert "变价款超过未履行金额" in response.content.decode()
    # Verifying twice: the second is refused with a message, nothing written.
    assert client.post(url("clue_verify", cast, world["pending"].pk)).status_code == 302
    middle = counts()
    response = client.post(url("clue_verify", cast, world["pending"].pk), follow=True)
    assert "只有待核实的线索可以核实" in response.content.decode()
    assert counts() == middle
    assert middle["AuditEntry"] == before["AuditEntry"] + 1


# --------------------------------------------------------------------------------------------
# workbench panels and navigation pages
# --------------------------------------------------------------------------------------------


def test_workbench_panels(client, cast, alipay):
    late = add_clue(cast.assigned, cast.case, platform=alipay, account="LATE", received_on=today() - dt.timedelta(20))
    clue = add_clue(cast.assigned, cast.case, platform=alipay, account="SOON")
    effective = _effective_for_days_left("platform_balance", 10)
    freeze = add_measure(cast.assigned, cast.case, clue, amount="100.00", effective_on=effective)
    services.remind_expiring()
    goods = add_clue(cast.assigned, cast.case, category="traditional", kind="movables", account="货物", registry="仓库")
    live = add_measure(cast.assigned, cast.case, goods, kind="live_seizure")
    services.schedule_visit(cast.assigned, live, scheduled_on=today())
    client.force_login(cast.assigned)
    html = client.get(reverse("workbench")).content.decode()
    for title in ("待核实线索", "即将到期措施", "到期提醒", "活查封回访"):
        assert title in html
    assert re.search(rf'class="text-nowrap clue-overdue">{late.verify_by.isoformat()}', html)
    assert freeze.expires_on.isoformat() in html
    assert re.search(r'<span class="badge days-left days-amber[^"]*">10 天</span>', html)
    assert "到期前 30 天" in html and "到期前 15 天" in html
    assert reverse("case_measures", args=[cast.case.pk]) + "#visit-" in html
    # Another judge's workbench shows none of it.
    client.force_login(cast.colleague)
    html = client.get(reverse("workbench")).content.decode()
    assert "LATE" not in html and freeze.expires_on.isoformat() not in html


def test_clue_list_overdue_first_and_court_overdue_for_head(client, cast, alipay):
    fresh = add_clue(cast.assigned, cast.case, platform=alipay, account="FRESH")
    late = add_clue(cast.assigned, cast.case, platform=alipay, account="LATE", received_on=today() - dt.timedelta(20))
    colleague_case = EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.colleague])
    theirs = add_clue(
        cast.colleague,
        colleague_case,
        platform=alipay,
        account="COLLEAGUE-LATE",
        received_on=today() - dt.timedelta(20),
    )
    client.force_login(cast.assigned)
    html = client.get(reverse("clue_list")).content.decode()
    assert html.index("LATE") < html.index("FRESH")
    assert "COLLEAGUE-LATE" not in html and "本院逾期未核实线索" not in html
    assert late.verify_by.isoformat() in html and fresh.verify_by.isoformat() in html
    client.force_login(cast.head)
    html = client.get(reverse("clue_list")).content.decode()
    section = re.search(r'<section class="court-overdue">.*?</section>', html, re.S).group(0)
    assert "COLLEAGUE-LATE" in section and "LATE" in section and "FRESH" not in section
    assert colleague_case.number in section and theirs.verify_by.isoformat() in section


def test_reminder_list(client, cast, alipay):
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    effective = _effective_for_days_left("platform_balance", 3)
    freeze = add_measure(cast.assigned, cast.case, clue, amount="100.00", effective_on=effective)
    services.remind_expiring()
    client.force_login(cast.assigned)
    html = client.get(reverse("reminder_list")).content.decode()
    assert freeze.expires_on.isoformat() in html and cast.case.number in html
    assert re.search(r'<span class="badge days-left days-red[^"]*">3 天</span>', html)
    assert "到期前 7 天" in html
    client.force_login(cast.colleague)
    assert freeze.expires_on.isoformat() not in client.get(reverse("reminder_list")).content.decode()


@pytest.mark.parametrize(
    "who,status", [("assigned", 200), ("head", 200), ("supervisor", 200), ("admin", 403), ("superuser", 403)]
)
def test_navigation_pages_access(client, cast, who, status):
    client.force_login(getattr(cast, who))
    before = counts()
    assert client.get(reverse("clue_list")).status_code == status
    assert client.get(reverse("reminder_list")).status_code == status
    assert counts() == before


def test_navigation_items(client, cast):
    for who in ("assigned", "head"):
        client.force_login(getattr(cast, who))
        html = client.get(reverse("workbench")).content.decode()
        assert f'href="{reverse("clue_list")}">财产线索<' in html
        assert f'href="{reverse("reminder_list")}">到期提醒<' in html
    client.force_login(cast.supervisor)
    html = client.get(reverse("case_list")).content.decode()
    assert reverse("clue_list") not in html and reverse("reminder_list") not in html


def test_english_labels(client, cast, world):
    client.force_login(cast.assigned)
    client.post(reverse("set_language"), {"language": "en", "next": reverse("workbench")})
    html = client.get(url("case_measures", cast)).content.decode()
    assert "查控措施" not in html and "允许冻结上限" not in html
    html = client.get(url("case_clues", cast)).content.decode()
    assert "登记财产线索" not in html and "核实期限" not in html
    assert "条线索" not in html and "4 clues" in html


# --------------------------------------------------------------------------------------------
# query counts
# --------------------------------------------------------------------------------------------


def _grow(cast, alipay, rival, start: int, stop: int) -> None:
    rival_case, rival_judge = rival
    for i in range(start, stop):
        account = f"ZFB-{i:03d}"
        theirs = add_clue(rival_judge, rival_case, platform=alipay, account=account)
        add_measure(rival_judge, rival_case, theirs, amount="10.00")
        category, kind = ("data", "transaction_records") if i % 5 == 0 else ("funds", "platform_balance")
        ours = add_clue(cast.assigned, cast.case, platform=alipay, account=account, category=category, kind=kind)
        add_measure(cast.assigned, cast.case, ours, amount="10.00")  # waits behind the rival's freeze
        own = add_clue(cast.assigned, cast.case, platform=alipay, account=f"OWN-{i:03d}")
        freeze = add_measure(
            cast.assigned,
            cast.case,
            own,
            amount="10.00",
            effective_on=_effective_for_days_left("platform_balance", 5 + i % 20),
        )
        if i % 3 == 0:
            services.renew_measure(cast.assigned, freeze)
        if i % 4 == 0:
            goods = add_clue(
                cast.assigned, cast.case, category="traditional", kind="movables", account=f"G{i}", registry="仓库"
            )
            live = add_measure(cast.assigned, cast.case, goods, kind="live_seizure")
            services.schedule_visit(cast.assigned, live, scheduled_on=today())
    services.remind_expiring()


def _counted(client, user, target) -> tuple[int, int]:
    """(status, queries) of the second GET of ``target`` as ``user``."""
    client.force_login(user)
    client.get(target)  # warm up: session bookkeeping and per-process caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(target)
    return response.status_code, len(ctx.captured_queries)


def _queries(client, user, target) -> int:
    status, queries = _counted(client, user, target)
    assert status == 200
    return queries


QUERY_USERS = ["assigned", "head", "supervisor"]
QUERY_PAGES = ["case_clues", "case_measures", "workbench", "clue_list", "reminder_list"]


def build_grown_case(request) -> SimpleNamespace:
    """cast.case and a rival case of 蕉城 grown to 3 steps, every (page, user) of the query-count
    test measured at that size, then grown to 30 steps. Each measurement runs in a savepoint rolled
    back after it, so that each starts from the same rows, as if its test had built them alone."""
    cast = make_cast(make_courts())
    alipay = PlatformFactory(code="alipay", name="支付宝", kind="payment")  # tests/clues/conftest.py's
    rival = case_in(cast.courts.jiaocheng, respondent=twin_of(respondent_of(cast.case), "张三（蕉城）"))
    _grow(cast, alipay, rival, 0, 3)
    targets = {}
    for page in QUERY_PAGES:
        targets[page] = reverse(page, args=[cast.case.pk]) if page.startswith("case_") else reverse(page)
        if page == "case_clues":
            # The clue tab shows one page: ask for the page holding a data clue, so that the audited
            # read happens for 3 rows and for a full page (page 3 of 30 steps: funds, then data).
            data_clue = PropertyClue.objects.filter(case=cast.case, category="data").earliest("pk")
            targets[page] += f"?clue={data_clue.pk}"
    small = {}
    for page in QUERY_PAGES:
        for who in QUERY_USERS:
            savepoint = transaction.savepoint()
            small[page, who] = _counted(Client(), getattr(cast, who), targets[page])
            transaction.savepoint_rollback(savepoint)
    _grow(cast, alipay, rival, 3, 30)
    return SimpleNamespace(cast=cast, targets=targets, small=small)


class TestConstantQueries:
    """Growing the case from 3 to 30 steps (about 200 service calls) is done once for the class's 15
    tests (tests/support/shared_rows.py): the count at 3 steps is measured while building, the count
    at 30 steps by each test."""

    build_rows = staticmethod(build_grown_case)

    @pytest.mark.parametrize("who", QUERY_USERS)
    @pytest.mark.parametrize("page", QUERY_PAGES)
    def test_constant_queries(self, client, shared_rows, who, page):
        status, small = shared_rows.small[page, who]
        assert status == 200, (page, who, status)
        large = _queries(client, getattr(shared_rows.cast, who), shared_rows.targets[page])
        assert large == small, (page, small, large)


def test_clue_tab_and_other_courts_queries_do_not_grow_with_other_courts(client, cast, alipay):
    ours = add_clue(cast.assigned, cast.case, platform=alipay, account="ZFB-Q")

    def rivals(n: int) -> None:
        for i in range(n):
            court = cast.courts.jiaocheng if i % 2 else cast.courts.yuetang
            case, judge = case_in(court, respondent=twin_of(respondent_of(cast.case), "王五（他院登记）"))
            add_measure(judge, case, add_clue(judge, case, platform=alipay, account="ZFB-Q"), amount="10.00")

    tab, more = url("case_clues", cast), url("clue_other_courts", cast, ours.pk)
    rivals(1)
    small = (_queries(client, cast.assigned, tab), _queries(client, cast.assigned, more))
    rivals(8)
    large = (_queries(client, cast.assigned, tab), _queries(client, cast.assigned, more))
    assert large == small, (small, large)
    cell = _other_courts_cell(client.get(tab).content.decode(), ours)
    assert len(_other_court_numbers(cell)) == 3 and "另有 1 家法院…" in cell  # 9 rows of 2 courts
