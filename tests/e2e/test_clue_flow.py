"""A judge opens a case of theirs, records a platform-balance clue on a respondent, freezes an
amount within the limit and sees the freeze with its exact expiry date."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clues import services
from clues.models import Measure, PropertyClue
from enforcement.models import Role
from tests.clues.factories import PlatformFactory, add_clue, case_in, respondent_of, twin_of
from tests.factories import CourtFactory, EnforcementCaseFactory, UserFactory
from tests.support.browser import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_judge_records_a_clue_and_a_freeze_and_sees_the_expiry(page, courts):
    judge = UserFactory(username="li_ming", display_name="李明", court=courts.yuhu, roles=[Role.JUDGE])
    PlatformFactory(code="taobao", name="淘宝", kind="ecommerce")
    case = EnforcementCaseFactory(court=courts.yuhu, judges=[judge])
    respondent = respondent_of(case)

    login(page, "li_ming")
    expect(page).to_have_url(re.compile(r".*/workbench/$"))

    page.goto(f"/cases/{case.pk}/")
    page.click("ul.case-tabs >> text=财产线索")
    expect(page).to_have_url(re.compile(rf".*/cases/{case.pk}/clues/$"))

    form = page.locator("form.clue-form")
    form.locator("select[name=respondent]").select_option(str(respondent.pk))
    form.locator("select[name=category]").select_option("rights")
    # The kind select follows the category: funds kinds are hidden while 权益类 is chosen.
    expect(form.locator("select[name=kind] option[value=platform_balance]")).to_be_disabled()
    expect(form.locator("select[name=kind]")).to_have_value("store_operating_right")
    form.locator("select[name=category]").select_option("funds")
    form.locator("select[name=kind]").select_option("platform_balance")
    form.locator("select[name=platform]").select_option("taobao")
    form.locator("input[name=account]").fill("TB-20250101-88")
    form.locator("input[name=estimated_value]").fill("30000")
    form.locator("select[name=source]").select_option("applicant")
    page.click("form.clue-form button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("已登记财产线索")

    clue = PropertyClue.objects.get(case=case)
    row = page.locator(f"tr#clue-{clue.pk}")
    expect(row).to_contain_text("TB-20250101-88")
    expect(row).to_contain_text(clue.verify_by.isoformat())

    row.locator("text=采取措施").click()
    expect(page).to_have_url(re.compile(rf".*/cases/{case.pk}/measures/\?clue={clue.pk}#measure-form$"))
    measure_form = page.locator("form.measure-form")
    expect(measure_form.locator("select[name=clue]")).to_have_value(str(clue.pk))
    measure_form.locator("select[name=kind]").select_option("freeze")
    measure_form.locator("input[name=amount]").fill("25000.00")
    page.click("form.measure-form button[type=submit]")

    expected = services.measure_expiry("platform_balance", timezone.localdate())
    expect(page.locator(".alert-success")).to_contain_text(expected.isoformat())
    measure = Measure.objects.get(case=case)
    assert measure.expires_on == expected
    measure_row = page.locator(f"tr#measure-{measure.pk}")
    expect(measure_row.locator("td.expires-on")).to_have_text(expected.isoformat())
    expect(measure_row).to_contain_text("¥25,000.00")
    expect(measure_row.locator("span.days-left")).to_have_text(f"{(expected - timezone.localdate()).days} 天")
    expect(page.locator(".freeze-figures")).to_contain_text("¥25,000.00")


def test_judge_opens_every_other_court_on_an_asset(page, courts):
    """The clue tab names three other courts on the asset; 另有 N 家法院… loads the rest in place."""
    judge = UserFactory(username="li_ming", display_name="李明", court=courts.yuhu, roles=[Role.JUDGE])
    alipay = PlatformFactory(code="alipay", name="支付宝", kind="payment")
    case = EnforcementCaseFactory(court=courts.yuhu, judges=[judge])
    others = []
    for code in ("湘0321", "湘0322", "湘0323", "湘0324", "湘0325"):
        court = CourtFactory(code=code, name=f"测试{code}法院", parent=courts.mid)
        rival, rival_judge = case_in(court, respondent=twin_of(respondent_of(case), "王五"))
        add_clue(rival_judge, rival, platform=alipay, account="ZFB-5566")
        others.append(rival)
    clue = add_clue(judge, case, platform=alipay, account="ZFB-5566")

    login(page, "li_ming")
    expect(page).to_have_url(re.compile(r".*/workbench/$"))
    page.goto(f"/cases/{case.pk}/clues/")
    cell = page.locator(f"tr#clue-{clue.pk} td.other-courts")
    expect(cell.locator(".other-court")).to_have_count(3)
    cell.locator("a.other-courts-more").click()
    expect(cell.locator(".other-court")).to_have_count(5)
    expect(cell).to_contain_text(others[-1].number)
    expect(cell.locator("a.other-courts-more")).to_have_count(0)
    expect(page).to_have_url(re.compile(rf".*/cases/{case.pk}/clues/$"))  # in place, not a new page
