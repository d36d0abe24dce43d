"""The HTML pages: the permission matrix through pages, the content of lists and forms, query
counts, the English locale and the login page (with django-axes throttling)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enforcement import periods, services
from enforcement.models import (
    AuditEntry,
    CaseDocument,
    CaseEvent,
    CaseStatus,
    ClosingMethod,
    EnforcementCase,
    Party,
    PartyKind,
)
from enforcement.permissions import Action
from enforcement.templatetags.court_tags import yuan
from tests.factories import (
    PASSWORD,
    EnforcementCaseFactory,
    PartyFactory,
    make_cast,
    make_courts,
    valid_id_number,
    valid_uscc,
)
from tests.support.shared_rows import SharedCast

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
    allowed = ALLOWED[who]
    if action in allowed:
        return ok
    return 403 if Action.VIEW in allowed else 404


def snapshot(case: EnforcementCase) -> dict:
    case = EnforcementCase.objects.get(pk=case.pk)
    return {
        "fields": {
            field: getattr(case, field)
            for field in (
                "status",
                "closing_method",
                "basis_document_number",
                "basis_issuing_court",
                "amount_due",
                "amount_recovered",
                "successor_case_id",
            )
        },
        "judges": [judge.pk for judge in services.assigned_judges(case)],
        "events": CaseEvent.objects.count(),
        "audit": AuditEntry.objects.count(),
        "documents": CaseDocument.objects.count(),
        "cases": EnforcementCase.objects.count(),
    }


def pdf(name: str = "ruling.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 test document", content_type="application/pdf")


@pytest.fixture
def document(cast):
    return services.add_document(cast.assigned, cast.case, doc_type="ruling", title="执行裁定书", upload=pdf())


# --------------------------------------------------------------------------------------------
# the permission matrix through pages
# --------------------------------------------------------------------------------------------

# name -> (action needed, success status, method, url builder, data builder)
PAGE_ACTIONS = {
    "detail": (Action.VIEW, 200, "get", lambda c, d: reverse("case_detail", args=[c.case.pk]), None),
    "parties": (Action.VIEW, 200, "get", lambda c, d: reverse("case_parties", args=[c.case.pk]), None),
    "log": (Action.VIEW, 200, "get", lambda c, d: reverse("case_log", args=[c.case.pk]), None),
    "edit_form": (Action.HANDLE, 200, "get", lambda c, d: reverse("case_edit", args=[c.case.pk]), None),
    "edit": (
        Action.HANDLE,
        302,
        "post",
        lambda c, d: reverse("case_edit", args=[c.case.pk]),
        lambda c: {
            "basis_document_number": "（2025）湘0302民初999号",
            "basis_issuing_court": "湘潭市雨湖区人民法院",
            "amount_due": "120000.00",
        },
    ),
    "transition": (
        Action.HANDLE,
        302,
        "post",
        lambda c, d: reverse("case_transition", args=[c.case.pk]),
        lambda c: {"to": CaseStatus.IN_PROGRESS, "reason": ""},
    ),
    "assign": (
        Action.ASSIGN,
        302,
        "post",
        lambda c, d: reverse("case_assign", args=[c.case.pk]),
        lambda c: {"assigned_judges": [c.colleague.pk]},
    ),
    "upload": (
        Action.HANDLE,
        302,
        "post",
        lambda c, d: reverse("case_documents", args=[c.case.pk]),
        lambda c: {"doc_type": "ruling", "title": "执行通知书", "file": pdf("notice.pdf")},
    ),
    "documents_tab": (Action.VIEW_FILE, 200, "get", lambda c, d: reverse("case_documents", args=[c.case.pk]), None),
    "download": (
        Action.VIEW_FILE,
        200,
        "get",
        lambda c, d: reverse("document_download", args=[c.case.pk, d.pk]),
        None,
    ),
}


def build_cast_and_document(request) -> SimpleNamespace:
    cast = make_cast(make_courts())
    document = services.add_document(cast.assigned, cast.case, doc_type="ruling", title="执行裁定书", upload=pdf())
    return SimpleNamespace(cast=cast, document=document)


class TestPermissionMatrixThroughPages(SharedCast):
    """The cast and the document (its file in the class's MEDIA_ROOT) are built once for the class's
    100 tests (tests/support/shared_rows.py): each test's request, and what it writes, is rolled
    back before the next one."""

    build_rows = staticmethod(build_cast_and_document)

    @pytest.fixture
    def document(self, shared_rows):
        return shared_rows.document

    @pytest.mark.parametrize("who", sorted(ALLOWED))
    @pytest.mark.parametrize("page", sorted(PAGE_ACTIONS))
    def test_permission_matrix_through_pages(self, client, cast, document, who, page):
        action, ok, method, url_of, data_of = PAGE_ACTIONS[page]
        user = getattr(cast, who)
        client.force_login(user)
        before = snapshot(cast.case)
        url = url_of(cast, document)
        if method == "get":
            response = client.get(url)
        else:
            response = client.post(url, data_of(cast))
        expected = expected_status(who, action, ok)
        assert response.status_code == expected, (who, page, response.status_code)
        after = snapshot(cast.case)
        if expected != ok:
            assert after == before, f"{who} changed something through {page}"
            return
        if method == "get":
            # Reading the file from outside the handling court is audited; nothing else changes.
            outside = user.court_id != cast.case.court_id
            audited = page in ("documents_tab", "download") and outside
            assert after["audit"] == before["audit"] + (1 if audited else 0)
            assert {k: v for k, v in after.items() if k != "audit"} == {k: v for k, v in before.items() if k != "audit"}
        else:
            assert after["audit"] > before["audit"]
            assert after["events"] > before["events"]


def test_page_effects_when_allowed(client, cast, document):
    client.force_login(cast.head)
    client.post(
        reverse("case_edit", args=[cast.case.pk]),
        {"basis_document_number": "（2025）湘0302民初7号", "basis_issuing_court": "某法院", "amount_due": "150000"},
    )
    client.post(reverse("case_assign", args=[cast.case.pk]), {"assigned_judges": [cast.colleague.pk]})
    client.post(reverse("case_transition", args=[cast.case.pk]), {"to": CaseStatus.IN_PROGRESS})
    case = EnforcementCase.objects.get(pk=cast.case.pk)
    assert case.basis_document_number == "（2025）湘0302民初7号"
    assert case.amount_due == Decimal("150000.00")
    assert case.status == CaseStatus.IN_PROGRESS
    assert [j.pk for j in services.assigned_judges(case)] == [cast.colleague.pk]

    response = client.get(reverse("document_download", args=[case.pk, document.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test document"


def test_supervisor_reading_the_file_is_audited(client, cast, document):
    client.force_login(cast.supervisor)
    client.get(reverse("case_documents", args=[cast.case.pk]))
    client.get(reverse("document_download", args=[cast.case.pk, document.pk]))
    reads = AuditEntry.objects.filter(action="case.file_read", actor=cast.supervisor).order_by("seq")
    assert [entry.payload["what"] for entry in reads] == ["documents", "document"]


def test_actions_shown_only_when_allowed(client, cast):
    edit_url = reverse("case_edit", args=[cast.case.pk])
    assign_url = reverse("case_assign", args=[cast.case.pk])
    documents_url = reverse("case_documents", args=[cast.case.pk])
    client.force_login(cast.supervisor)
    html = client.get(reverse("case_detail", args=[cast.case.pk])).content.decode()
    assert cast.case.number in html and documents_url in html
    assert edit_url not in html and assign_url not in html and "开始执行" not in html
    client.force_login(cast.assigned)
    html = client.get(reverse("case_detail", args=[cast.case.pk])).content.decode()
    assert edit_url in html and "开始执行" in html and assign_url not in html
    client.force_login(cast.head)
    html = client.get(reverse("case_detail", args=[cast.case.pk])).content.decode()
    assert edit_url in html and assign_url in html


def test_transition_errors_show_next_to_the_field(client, cast):
    services.transition_case(cast.assigned, cast.case, CaseStatus.IN_PROGRESS)
    client.force_login(cast.assigned)
    before = snapshot(cast.case)
    response = client.post(
        reverse("case_transition", args=[cast.case.pk]),
        {"to": CaseStatus.CLOSED, "closing_method": ClosingMethod.CLOSED_FOR_NOW, "reason": ""},
    )
    assert response.status_code == 400
    assert "终结本次执行程序或终结执行须写明理由" in response.content.decode()
    assert snapshot(cast.case) == before
    # 销案 is not offered on the page.
    response = client.get(reverse("case_transition", args=[cast.case.pk]) + "?to=closed")
    assert 'value="withdrawn_by_transfer"' not in response.content.decode()


def test_close_for_now_then_resume_links_the_cases(client, cast):
    services.transition_case(cast.assigned, cast.case, CaseStatus.IN_PROGRESS)
    client.force_login(cast.assigned)
    response = client.post(
        reverse("case_transition", args=[cast.case.pk]),
        {"to": CaseStatus.CLOSED, "closing_method": ClosingMethod.CLOSED_FOR_NOW, "reason": "暂无可供执行的财产"},
    )
    assert response.status_code == 302
    html = client.get(reverse("case_detail", args=[cast.case.pk])).content.decode()
    assert reverse("case_resume", args=[cast.case.pk]) in html
    response = client.post(reverse("case_resume", args=[cast.case.pk]), {"reason": "发现新的财产线索"})
    new = EnforcementCase.objects.get(origin_case=cast.case)
    assert response.status_code == 302 and response["Location"] == reverse("case_detail", args=[new.pk])
    assert new.type_code == "执恢"
    html = client.get(reverse("case_detail", args=[new.pk])).content.decode()
    assert cast.case.number in html
    html = client.get(reverse("case_detail", args=[cast.case.pk])).content.decode()
    assert new.number in html


# --------------------------------------------------------------------------------------------
# workbench and case list
# --------------------------------------------------------------------------------------------


def test_yuan_filter():
    assert yuan(Decimal("1234.5")) == "¥1,234.50"
    assert yuan(Decimal("0")) == "¥0.00"
    assert yuan(Decimal("12345678.91")) == "¥12,345,678.91"
    assert yuan(None) == ""


def test_workbench_shows_my_cases_only(client, cast):
    mine = EnforcementCaseFactory(
        court=cast.courts.yuhu,
        judges=[cast.assigned],
        amount_due=Decimal("1234567.80"),
        amount_recovered=Decimal("1000"),
    )
    others = EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.colleague])
    closed = EnforcementCaseFactory(
        court=cast.courts.yuhu, judges=[cast.assigned], status=CaseStatus.CLOSED, closing_method="rejected"
    )
    client.force_login(cast.assigned)
    response = client.get(reverse("workbench"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "我的工作台" in html
    assert mine.number in html and cast.case.number in html
    assert "¥1,234,567.80" in html and "¥1,000.00" in html
    assert others.number not in html and closed.number not in html


def test_workbench_highlights_the_art237_date(client, cast):
    today = timezone.localdate()
    past = EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.assigned], filed_on=today - dt.timedelta(400))
    client.force_login(cast.assigned)
    html = client.get(reverse("workbench")).content.decode()
    assert re.search(r'class="[^"]*art237-past[^"]*">' + past.art237_eligible_on.isoformat(), html)


def test_workbench_empty_state(client, cast):
    client.force_login(cast.colleague)
    assert "目前没有由您承办的在办案件" in client.get(reverse("workbench")).content.decode()


def test_case_list_search(client, cast):
    other = EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.assigned])
    respondent = cast.case.case_parties.get(role="respondent").party
    client.force_login(cast.assigned)
    for q in (cast.case.number, respondent.name, respondent.id_number, respondent.id_number.lower()):
        html = client.get(reverse("case_list"), {"q": q}).content.decode()
        assert cast.case.number in html, q
        assert other.number not in html, q


def test_case_list_search_by_uscc(client, cast):
    company = PartyFactory(entity=True, name="湘潭某某建材有限公司")
    case = EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.assigned], parties__respondents=[company])
    client.force_login(cast.assigned)
    html = client.get(reverse("case_list"), {"q": company.uscc}).content.decode()
    assert case.number in html and cast.case.number not in html


def test_case_list_filters(client, cast):
    today = timezone.localdate()
    yuhu = cast.courts.yuhu
    old = EnforcementCaseFactory(court=yuhu, judges=[cast.assigned], filed_on=today - dt.timedelta(days=200))
    old_closed = EnforcementCaseFactory(
        court=yuhu,
        judges=[cast.assigned],
        filed_on=today - dt.timedelta(days=200),
        status=CaseStatus.CLOSED,
        closing_method="rejected",
    )
    preservation = EnforcementCaseFactory(court=yuhu, judges=[cast.assigned], type_code="执保")
    yuetang = EnforcementCaseFactory(court=cast.courts.yuetang)
    client.force_login(cast.assigned)

    html = client.get(reverse("case_list"), {"status": CaseStatus.CLOSED}).content.decode()
    assert old_closed.number in html and old.number not in html and cast.case.number not in html

    html = client.get(reverse("case_list"), {"type_code": "执保"}).content.decode()
    assert preservation.number in html and old.number not in html

    html = client.get(reverse("case_list"), {"art237": "eligible"}).content.decode()
    assert old.number in html
    assert old_closed.number not in html and cast.case.number not in html and preservation.number not in html

    html = client.get(reverse("case_list"), {"art237": "not_yet"}).content.decode()
    assert cast.case.number in html and old.number not in html

    # A supervisor of the intermediate court filters by subordinate court.
    client.force_login(cast.supervisor)
    html = client.get(reverse("case_list")).content.decode()
    assert yuetang.number in html and cast.case.number in html
    html = client.get(reverse("case_list"), {"court": yuhu.pk}).content.decode()
    assert cast.case.number in html and yuetang.number not in html
    assert f'<option value="{cast.courts.yuetang.pk}"' in html
    assert f'<option value="{cast.courts.jiaocheng.pk}"' not in html


def test_case_list_sorts_by_filing_date(client, cast):
    today = timezone.localdate()
    older = EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.assigned], filed_on=today - dt.timedelta(99))
    client.force_login(cast.assigned)
    html = client.get(reverse("case_list")).content.decode()
    assert html.index(cast.case.number) < html.index(older.number)
    html = client.get(reverse("case_list"), {"sort": "filed_on"}).content.decode()
    assert html.index(older.number) < html.index(cast.case.number)


def test_case_list_paginates(client, cast):
    EnforcementCaseFactory.create_batch(55, court=cast.courts.yuhu, judges=[cast.assigned])
    client.force_login(cast.assigned)
    first = client.get(reverse("case_list"))
    second = client.get(reverse("case_list"), {"page": 2})
    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 6


def test_case_log_pages_a_long_timeline_and_other_tabs_do_not_load_it(client, cast):
    """A case of some years has thousands of timeline entries: the log tab shows them 50 at a
    time, newest first, and the other case pages do not read them at all."""
    client.force_login(cast.assigned)
    detail = reverse("case_detail", args=[cast.case.pk])
    client.get(detail)
    with CaptureQueriesContext(connection) as few:
        client.get(detail)
    before = cast.case.events.count()
    for i in range(120 - before):
        services.add_event(cast.case, cast.assigned, "note", f"第{i:03d}条记录")
    with CaptureQueriesContext(connection) as many:
        client.get(detail)
    assert len(many) == len(few)
    assert not [q for q in many if "enforcement_caseevent" in q["sql"]]
    log = reverse("case_log", args=[cast.case.pk])
    first = client.get(log)
    newest = list(cast.case.events.order_by("-at", "-id").values_list("message", flat=True))
    assert [e.message for e in first.context["page"].object_list] == newest[:50]
    assert newest[0] in first.content.decode() and newest[50] not in first.content.decode()
    last = client.get(log, {"page": 3})
    assert [e.message for e in last.context["page"].object_list] == newest[100:]
    assert "3 / 3" in last.content.decode()


@pytest.mark.parametrize("today", ["2025-02-28", "2025-03-31", "2025-10-08", "2025-10-09", "2026-01-05"])
def test_art237_filter_in_sql_agrees_with_the_case_property(cast, today):
    from enforcement.queries import art237_filter

    today = dt.date.fromisoformat(today)
    start = periods.add_months(today, -6) - dt.timedelta(days=15)
    cases = [EnforcementCaseFactory(court=cast.courts.yuhu, filed_on=start + dt.timedelta(days=i)) for i in range(30)]
    # excluded periods push the day later; a case filed long before becomes not yet eligible
    EnforcementCase.objects.filter(pk=cases[0].pk).update(art237_excluded_days=40)
    everything = EnforcementCase.objects.filter(pk__in=[c.pk for c in cases])
    eligible = set(art237_filter(everything, today).values_list("pk", flat=True))
    not_yet = set(art237_filter(everything, today, eligible=False).values_list("pk", flat=True))
    expected = {c.pk for c in everything if c.art237_eligible_on <= today}
    assert eligible == expected and not_yet == {c.pk for c in cases} - expected
    assert cases[0].pk in not_yet and 0 < len(expected) < 30


def test_outsiders_do_not_find_the_case(client, cast):
    client.force_login(cast.outsider)
    response = client.get(reverse("case_list"), {"q": cast.case.number})
    assert list(response.context["page"].object_list) == []
    assert "没有符合条件的案件" in response.content.decode()


@pytest.mark.parametrize("page", ["workbench", "case_list"])
def test_lists_issue_a_constant_number_of_queries(client, cast, page):
    def count(total: int) -> int:
        existing = EnforcementCase.objects.filter(court=cast.courts.yuhu).count()
        EnforcementCaseFactory.create_batch(total - existing, court=cast.courts.yuhu, judges=[cast.assigned, cast.head])
        client.force_login(cast.head)
        client.get(reverse(page))  # warm up: session bookkeeping and per-process caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse(page))
        assert response.status_code == 200
        assert len(response.context["page"].object_list) == min(total, 50)
        return len(queries)

    assert count(5) == count(100)


# --------------------------------------------------------------------------------------------
# new case
# --------------------------------------------------------------------------------------------


def _create_data(**overrides) -> dict:
    data = {
        "type_code": "执",
        "basis_document_number": "（2024）湘0302民初1234号",
        "basis_issuing_court": "湘潭市雨湖区人民法院",
        "amount_due": "250,000.50",
        "filed_on": timezone.localdate().isoformat(),
        "applicants-TOTAL_FORMS": "1",
        "applicants-INITIAL_FORMS": "0",
        "applicants-0-kind": PartyKind.PERSON,
        "applicants-0-name": "张三",
        "applicants-0-id_number": valid_id_number(15),
        "respondents-TOTAL_FORMS": "2",
        "respondents-INITIAL_FORMS": "0",
        "respondents-0-kind": PartyKind.ENTITY,
        "respondents-0-name": "湘潭某某贸易有限公司",
        "respondents-0-uscc": valid_uscc(22),
        "respondents-1-kind": PartyKind.PERSON,
        "respondents-1-name": "李四",
        "respondents-1-id_number": valid_id_number(36),
    }
    data.update(overrides)
    return data


def test_create_case_through_the_form(client, cast):
    client.force_login(cast.assigned)
    form = client.get(reverse("case_create"))
    assert form.status_code == 200
    assert f'value="{cast.assigned.pk}" selected' in form.content.decode()
    response = client.post(reverse("case_create"), _create_data(), follow=True)
    assert response.status_code == 200, re.findall(
        r"invalid-feedback[^>]*>([^<]*)<|alert-danger[^>]*>([^<]*)<", response.content.decode()
    )
    case = EnforcementCase.objects.exclude(pk=cast.case.pk).get()
    year = timezone.localdate().year
    assert re.fullmatch(rf"（{year}）湘0302执\d+号", case.number)
    assert response.redirect_chain[-1][0] == reverse("case_detail", args=[case.pk])
    html = response.content.decode()
    assert f"已立案，案号：{case.number}" in html
    assert case.amount_due == Decimal("250000.50")
    assert sorted(p.name for p in Party.objects.filter(case_roles__case=case)) == sorted(
        ["张三", "湘潭某某贸易有限公司", "李四"]
    )
    assert [j.pk for j in services.assigned_judges(case)] == [cast.assigned.pk]
    assert case.number in client.get(reverse("workbench")).content.decode()
    assert case.number in client.get(reverse("case_list")).content.decode()


def test_create_case_skips_blank_rows_and_assigns_chosen_judges(client, cast):
    client.force_login(cast.head)
    data = _create_data(
        **{
            "applicants-TOTAL_FORMS": "3",
            "applicants-1-kind": PartyKind.PERSON,
            "applicants-2-kind": PartyKind.ORGANIZATION,
            "applicants-2-name": "某某合伙企业",
            "assigned_judges": [cast.colleague.pk, cast.assigned.pk],
        }
    )
    response = client.post(reverse("case_create"), data)
    assert response.status_code == 302
    case = EnforcementCase.objects.exclude(pk=cast.case.pk).get()
    assert case.case_parties.filter(role="applicant").count() == 2
    assert sorted(j.pk for j in services.assigned_judges(case)) == sorted([cast.colleague.pk, cast.assigned.pk])


def test_create_case_with_a_bad_id_number_writes_nothing(client, cast):
    good = valid_id_number(36)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    parties, cases, audit = Party.objects.count(), EnforcementCase.objects.count(), AuditEntry.objects.count()
    client.force_login(cast.assigned)
    response = client.post(reverse("case_create"), _create_data(**{"respondents-1-id_number": bad}))
    assert response.status_code == 400
    html = response.content.decode()
    # The Chinese message sits in the row of the field that caused it, and the typed values stay.
    row = re.search(
        r'<tr class="party-row">(?:(?!</tr>).)*name="respondents-1-id_number"(?:(?!</tr>).)*</tr>', html, re.S
    )
    assert row, "respondent row 1 not rendered"
    assert "身份证号校验位错误" in row.group(0)
    assert f'value="{bad}"' in row.group(0) and "is-invalid" in row.group(0)
    assert 'value="李四"' in html and 'value="湘潭某某贸易有限公司"' in html and 'value="250,000.50"' in html
    assert (Party.objects.count(), EnforcementCase.objects.count(), AuditEntry.objects.count()) == (
        parties,
        cases,
        audit,
    )


def test_create_case_field_errors(client, cast):
    client.force_login(cast.assigned)
    data = _create_data(
        amount_due="abc",
        basis_document_number="",
        **{"respondents-TOTAL_FORMS": "1", "respondents-0-name": "", "respondents-0-uscc": ""},
    )
    response = client.post(reverse("case_create"), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "执行标的须为金额数字" in html
    assert "执行依据文号不能为空" in html
    assert "至少需要一名被执行人" in html
    assert EnforcementCase.objects.count() == 1


@pytest.mark.parametrize("who", ["supervisor", "admin", "superuser"])
def test_only_judges_and_heads_create_cases(client, cast, who):
    client.force_login(getattr(cast, who))
    assert client.get(reverse("case_create")).status_code == 403
    assert client.post(reverse("case_create"), _create_data()).status_code == 403
    assert EnforcementCase.objects.count() == 1


# --------------------------------------------------------------------------------------------
# navigation, home, admin pages, locale
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who,target",
    [
        ("assigned", "workbench"),
        ("head", "workbench"),
        ("supervisor", "case_list"),
        ("admin", "admin_courts"),
        ("superuser", "admin_courts"),
    ],
)
def test_home_redirects_by_role(client, cast, who, target):
    client.force_login(getattr(cast, who))
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse(target)


def test_navigation_by_role(client, cast):
    client.force_login(cast.head)
    html = client.get(reverse("workbench")).content.decode()
    for word in ("我的工作台", "本院案件", "分案", "退出"):
        assert word in html
    assert cast.head.court.name in html
    assert "辖区案件" not in html and reverse("admin_courts") not in html

    client.force_login(cast.supervisor)
    html = client.get(reverse("case_list")).content.decode()
    assert "辖区案件" in html and reverse("workbench") not in html

    client.force_login(cast.admin)
    html = client.get(reverse("admin_courts")).content.decode()
    assert reverse("admin_users") in html and reverse("case_list") not in html
    assert "湘潭市雨湖区人民法院" in html and "湘0302" in html


@pytest.mark.parametrize("who", ["admin", "superuser"])
def test_system_admins_see_no_case_pages(client, cast, who):
    client.force_login(getattr(cast, who))
    assert client.get(reverse("workbench")).status_code == 403
    assert client.get(reverse("case_list")).status_code == 403
    assert client.get(reverse("case_detail", args=[cast.case.pk])).status_code == 404
    assert client.get(reverse("admin_users")).status_code == 200


@pytest.mark.parametrize("who", ["assigned", "head", "supervisor"])
def test_admin_pages_are_for_system_admins(client, cast, who):
    client.force_login(getattr(cast, who))
    assert client.get(reverse("admin_courts")).status_code == 403
    assert client.get(reverse("admin_users")).status_code == 403


def test_assign_list_for_heads(client, cast):
    unassigned = EnforcementCaseFactory(court=cast.courts.yuhu)
    client.force_login(cast.head)
    html = client.get(reverse("assign_list")).content.decode()
    assert cast.case.number in html and unassigned.number in html
    assert reverse("case_assign", args=[unassigned.pk]) in html
    client.force_login(cast.assigned)
    assert client.get(reverse("assign_list")).status_code == 403


def test_english_locale(client, cast):
    client.force_login(cast.assigned)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("workbench")})
    assert response.status_code == 302
    html = client.get(reverse("workbench")).content.decode()
    assert "<h1>My workbench</h1>" in html
    assert "我的工作台" not in html
    client.post(reverse("set_language"), {"language": "zh-hans"})
    assert "<h1>我的工作台</h1>" in client.get(reverse("workbench")).content.decode()


# --------------------------------------------------------------------------------------------
# login
# --------------------------------------------------------------------------------------------


def test_login_page_logs_in_and_out(client, cast):
    assert client.get(reverse("workbench"))["Location"].startswith(reverse("login"))
    response = client.post(reverse("login"), {"username": "assigned", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home"))["Location"] == reverse("workbench")
    assert client.get(reverse("workbench")).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("workbench")).status_code == 302


def test_wrong_password_shows_an_error(client, cast):
    response = client.post(reverse("login"), {"username": "assigned", "password": "wrong"})
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sixth_wrong_password_is_locked_out(client, cast, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _attempt in range(4):
        response = client.post(reverse("login"), {"username": "assigned", "password": "wrong"})
        assert response.status_code == 200
    client.post(reverse("login"), {"username": "assigned", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "assigned", "password": "wrong"})
    assert response.status_code == 429
    html = response.content.decode()
    assert "登录失败次数过多" in html and "15 分钟" in html
    # Even the right password is refused while locked out.
    response = client.post(reverse("login"), {"username": "assigned", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_workbench_and_case_header_show_the_frozen_amount(client, cast):
    from clues import services as clue_services
    from enforcement.queries import case_detail, respondents

    respondent = respondents(case_detail(cast.assigned, cast.case.pk))[0]
    clue = clue_services.add_clue(
        cast.assigned,
        cast.case,
        respondent=respondent.pk,
        category="funds",
        kind="bank_deposit",
        registry="工商银行",
        account="6222-0001",
        source="investigation",
    )
    clue_services.record_measure(cast.assigned, cast.case, clue=clue, kind="freeze", amount="12345.67")
    client.force_login(cast.assigned)
    workbench = client.get(reverse("workbench")).content.decode()
    header = client.get(reverse("case_detail", args=[cast.case.pk])).content.decode()
    assert "已冻结" in workbench and "¥12,345.67" in workbench
    assert "已冻结" in header and "¥12,345.67" in header
