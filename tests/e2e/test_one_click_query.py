"""A judge clicks 一键查询 on a case and watches three platforms answer live: the real stand-in
platform process holds the respondent's accounts, a real Celery worker delivers the notices, and
the progress page shows each platform reach 已回复 with the balances without being reloaded."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from clues.models import PropertyClue
from enforcement.models import Role
from platforms.models import Notice, NoticeState
from tests.clues.factories import PlatformFactory
from tests.factories import EnforcementCaseFactory, PartyFactory, UserFactory
from tests.support.browser import login
from tests.support.platforms import COMPANY_USCC, holding, platform_config

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PLATFORMS = {
    "taobao": ("淘宝", [holding("tb-1", "1200.50"), holding("tb-2", "300.00")], ["¥1,200.50", "¥300.00"]),
    "alipay": ("支付宝", [holding("ali-1", "88000.00", kind="payment_account")], ["¥88,000.00"]),
    "jd": ("京东", [holding("jd-1", "4567.89")], ["¥4,567.89"]),
}


def test_one_click_query_shows_live_progress(page, courts, mock_platforms, sysadmin, celery_worker_process):  # noqa: F811
    config = {code: platform_config(code, holdings=h, latency_ms=300) for code, (_, h, _) in PLATFORMS.items()}
    mock = mock_platforms(config)
    for code, (name, _, _) in PLATFORMS.items():
        mock.connect(sysadmin, PlatformFactory(code=code, name=name))
    judge = UserFactory(username="li_ming", display_name="李明", court=courts.yuhu, roles=[Role.JUDGE])
    company = PartyFactory(entity=True, name="湘潭鲜享家网络科技有限公司", uscc=COMPANY_USCC)
    case = EnforcementCaseFactory(
        court=courts.yuhu, judges=[judge], parties__respondents=[company], amount_due=Decimal("500000.00")
    )

    login(page, "li_ming")
    expect(page).to_have_url(re.compile(r".*/workbench/$"))

    page.goto(f"/cases/{case.pk}/")
    page.click("ul.case-tabs >> text=协助通知")
    expect(page).to_have_url(re.compile(rf".*/cases/{case.pk}/notices/$"))
    form = page.locator("form.query-all-form")
    form.locator("select[name=respondent]").select_option(str(company.pk))
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url) if "/rows/" in request.url else None)
    form.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(rf".*/cases/{case.pk}/notices/batches/[0-9a-f-]+/$"))
    progress_url = page.url
    page.evaluate("window.__notReloaded = true")  # gone if the page were loaded again
    expect(page.locator("tr.progress-row")).to_have_count(3)

    for code, (name, _, balances) in PLATFORMS.items():
        row = page.locator(f"tr#progress-{code}")
        expect(row).to_contain_text(name)
        expect(row).to_contain_text("已回复", timeout=60_000)
        for balance in balances:
            expect(row).to_contain_text(balance, timeout=60_000)
    expect(page.locator(".progress-note")).to_contain_text("已完成")
    expect(page.locator("form.freeze-found-form")).to_be_visible()
    expect(page.locator(".freeze-found-form .freeze-room")).to_contain_text("¥")

    assert page.url == progress_url
    assert polls, "the rows were never fetched by htmx"  # three platforms, 300 ms each: at least one poll
    assert page.evaluate("window.__notReloaded") is True
    assert set(Notice.objects.filter(case=case).values_list("state", flat=True)) == {NoticeState.COMPLETED}
    accounts = set(PropertyClue.objects.filter(case=case).values_list("account", flat=True))
    assert accounts == {"tb-1", "tb-2", "ali-1", "jd-1"}
    for code in PLATFORMS:
        assert [r["kind"] for r in mock.ledger(code)["requests"]] == ["query"]
