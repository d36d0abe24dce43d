"""A supervisor starts a designation (指令执行) from the eligible list and approves it to another
court; that court's bureau head accepts and assigns a judge; the judge sees the new case and the
full history of the original (its clues, measures and timeline)."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from enforcement.models import EnforcementCase, Role
from tests.clues.factories import PlatformFactory, add_clue, add_measure
from tests.factories import EnforcementCaseFactory, UserFactory
from tests.support.browser import login
from transfers.models import Transfer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_supervisor_designates_and_the_receiving_judge_sees_the_full_history(page, courts):
    judge = UserFactory(username="wang_fang", display_name="王芳", court=courts.yuhu, roles=[Role.JUDGE])
    UserFactory(username="zhou_jian", display_name="周建", court=courts.mid, roles=[Role.SUPERVISOR])
    UserFactory(username="liu_ju", display_name="刘局", court=courts.yuetang, roles=[Role.BUREAU_HEAD])
    UserFactory(username="chen_jing", display_name="陈静", court=courts.yuetang, roles=[Role.JUDGE])
    alipay = PlatformFactory(code="alipay", name="支付宝", kind="payment")
    filed = timezone.localdate() - dt.timedelta(days=240)
    case = EnforcementCaseFactory(court=courts.yuhu, judges=[judge], filed_on=filed)
    # the account was named in the application: the art. 237 clock runs from filing
    clue = add_clue(judge, case, platform=alipay, account="ZFB-7788-0001", received_on=filed)
    add_measure(judge, case, clue, amount="12000.00")

    # the supervisor: eligible list -> 发起交叉执行 (指令执行)
    login(page, "zhou_jian")
    page.goto("/transfers/eligible/")
    row = page.locator(f"tr#eligible-{case.pk}")
    expect(row).to_contain_text("237条")
    row.locator("text=发起交叉执行").click()
    form = page.locator("form.transfer-create-form")
    form.locator("select[name=mode]").select_option("designate")
    form.locator("select[name=trigger]").select_option("supervisor_initiative")
    form.locator("textarea[name=reason]").fill("立案已满六个月，财产长期未处置")
    form.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("已提出交叉执行（指令执行）")
    expect(page.locator("#transfer-state")).to_have_text("审查中")
    expect(page.locator("ol.recommendation")).to_contain_text(courts.yuetang.name)

    # approve with the receiving court and a deadline
    approve = page.locator("form.approve-form")
    approve.locator("select[name=receiving_court]").select_option(str(courts.yuetang.pk))
    approve.locator("input[name=deadline_days]").fill("30")
    approve.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text(courts.yuetang.name)
    expect(page.locator("#transfer-state")).to_have_text("已决定")
    transfer = Transfer.objects.get(case=case)

    # the receiving court's bureau head: 收案 -> accept and assign 陈静
    login(page, "liu_ju")
    page.click("nav >> text=收案")
    page.locator(f"tr#transfer-{transfer.pk} >> text={case.number}").click()
    accept = page.locator("form.accept-form")
    accept.get_by_label("陈静").check()
    accept.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("已接收，新案号")
    new = EnforcementCase.objects.get(origin_case=case)
    expect(page.locator("a.receiving-case")).to_have_text(new.number)
    expect(page.locator(".handover-counts")).to_be_visible()

    # the judge: the new case, the link to the original, its clues, measures and timeline
    login(page, "chen_jing")
    page.goto(f"/cases/{new.pk}/")
    expect(page.locator("h1.case-number")).to_have_text(new.number)
    page.click("ul.case-tabs >> text=交叉执行")
    expect(page.locator(".transfer-links")).to_contain_text(case.number)
    page.click("a.origin-link")
    expect(page).to_have_url(re.compile(rf".*/cases/{case.pk}/$"))
    expect(page.locator(".case-header")).to_contain_text("销案")
    page.click("ul.case-tabs >> text=财产线索")
    expect(page.locator(f"tr#clue-{clue.pk}")).to_contain_text("ZFB-7788-0001")
    page.click("ul.case-tabs >> text=查控措施")
    expect(page.locator("table.measure-table")).to_contain_text("¥12,000.00")
    page.click("ul.case-tabs >> text=办案日志")
    expect(page.locator("ol.timeline")).to_contain_text(new.number)
    expect(page.locator("ol.timeline")).to_contain_text("交叉执行已决定（指令执行）")
