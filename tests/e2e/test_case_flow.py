"""A judge logs in, files a case with a new applicant and respondent, and finds it on the workbench."""

import re

import pytest
from playwright.sync_api import expect

from enforcement.models import EnforcementCase, Role
from tests.factories import UserFactory
from tests.support.browser import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_judge_creates_case_and_sees_it_on_the_workbench(page, courts):
    UserFactory(username="li_ming", display_name="李明", court=courts.yuhu, roles=[Role.JUDGE])

    login(page, "li_ming")
    expect(page).to_have_url(re.compile(r".*/workbench/$"))
    expect(page.locator("h1")).to_have_text("我的工作台")

    page.goto("/cases/new/")
    page.fill("input[name=basis_document_number]", "（2025）湘0302民初88号")
    page.fill("input[name=basis_issuing_court]", "湘潭市雨湖区人民法院")
    page.fill("input[name=amount_due]", "42000.50")
    page.select_option("select[name=applicants-0-kind]", "person")
    page.fill("input[name=applicants-0-name]", "张晓燕")
    page.fill("input[name=applicants-0-id_number]", "11010519491231002x")
    page.select_option("select[name=respondents-0-kind]", "entity")
    page.fill("input[name=respondents-0-name]", "湘潭鲜享家网络科技有限公司")
    page.fill("input[name=respondents-0-uscc]", "91350100M000100Y43")
    page.click("form.case-form button[type=submit]")
    expect(page).to_have_url(re.compile(r".*/cases/\d+/$"))

    case = EnforcementCase.objects.get()
    assert re.fullmatch(r"（\d{4}）湘0302执1号", case.number)
    assert case.number in page.locator("body").inner_text()

    page.goto("/workbench/")
    row = page.locator("table tr", has_text=case.number)
    assert row.count() == 1
    text = row.inner_text()
    assert "湘潭鲜享家网络科技有限公司" in text
    assert "¥42,000.50" in text
