"""The HTML side: thin views that load cases through the policy and call services to change them."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from clues.presenters import choice_labels, workbench_panels

from . import queries, services
from .forms import (
    AssignForm,
    CaseCreateForm,
    CaseEditForm,
    DocumentForm,
    PartyFormSet,
    ResumeForm,
    TransitionForm,
    apply_service_errors,
)
from .models import CaseStatus, CaseType, ClosingMethod, Court, EnforcementCase, Role, User
from .permissions import Action, can, get_case, require, sees_no_cases
from .templatetags.court_tags import ART237_CLASSES, status_badge, yuan

PAGE_SIZE = 50

# The step a transition is called on its button, by (from, to).
TRANSITION_LABELS = {
    (CaseStatus.FILED, CaseStatus.IN_PROGRESS): gettext_lazy("开始执行"),
    (CaseStatus.IN_PROGRESS, CaseStatus.SUSPENDED): gettext_lazy("中止"),
    (CaseStatus.FILED, CaseStatus.SUSPENDED): gettext_lazy("中止"),
    (CaseStatus.SUSPENDED, CaseStatus.IN_PROGRESS): gettext_lazy("恢复"),
    (CaseStatus.FILED, CaseStatus.CLOSED): gettext_lazy("结案"),
    (CaseStatus.IN_PROGRESS, CaseStatus.CLOSED): gettext_lazy("结案"),
    (CaseStatus.SUSPENDED, CaseStatus.CLOSED): gettext_lazy("结案"),
}


# --------------------------------------------------------------------------------------------
# access helpers
# --------------------------------------------------------------------------------------------


def is_system_admin(user) -> bool:
    return user.is_superuser or user.has_role(Role.SYSTEM_ADMIN)


def case_worker_required(view):
    """Pages about cases: logged in, and not a system admin or superuser (they see no cases)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if sees_no_cases(request.user):
            raise PermissionDenied(_("您的角色不能查看案件"))
        return view(request, *args, **kwargs)

    return wrapper


def system_admin_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_system_admin(request.user):
            raise PermissionDenied(_("仅系统管理员可查看此页面"))
        return view(request, *args, **kwargs)

    return wrapper


def page_of(request, queryset, size: int = PAGE_SIZE, *, number=None):
    """The page of ``queryset`` named by the ``page`` parameter, or ``number`` when given: the last
    page when the number is past the end, the first when it is not a number."""
    return Paginator(queryset, size).get_page(request.GET.get("page") if number is None else number)


def counted_page_of(request, queryset, size: int = PAGE_SIZE):
    """``page_of`` for a list whose count is as costly as its page (``queries.rows_and_total``):
    the page and the total come from one query."""
    try:
        number = max(int(request.GET.get("page") or 1), 1)
    except (TypeError, ValueError):
        number = 1
    rows, total = queries.rows_and_total(queryset, (number - 1) * size, size)
    paginator = Paginator(queryset, size)
    paginator.count = total  # known: Paginator does not count again
    if not rows and total:  # past the end: the last page
        number = paginator.num_pages
        rows, _total = queries.rows_and_total(queryset, (number - 1) * size, size)
    return Page(rows, number, paginator)


# --------------------------------------------------------------------------------------------
# home, workbench, lists
# --------------------------------------------------------------------------------------------


@login_required
def home(request):
    user = request.user
    if is_system_admin(user):
        return redirect("admin_courts")
    if user.has_role(Role.JUDGE) or user.has_role(Role.BUREAU_HEAD):
        return redirect("workbench")
    return redirect("case_list")


@case_worker_required
def workbench(request):
    from transfers.queries import notifications_for  # transfers builds on enforcement

    today = timezone.localdate()
    page = page_of(request, queries.my_open_cases(request.user))
    page.object_list = list(page.object_list)
    context = {
        "page": page,
        "case_rows": workbench_case_rows(page.object_list, today),
        "today": today,
        "court_notifications": list(notifications_for(request.user)),
        **workbench_panels(request.user, today),
    }
    return render(request, "enforcement/workbench.html", context)


def workbench_case_rows(cases: list[EnforcementCase], today) -> list[dict]:
    """The rows of the workbench list as the template writes them, each value computed once: the
    link, the amounts in yuan, the status label looked up once per page (``get_status_display``
    translates every status on each call) and its badge, the art. 237 day once per case (the
    template asked for it twice: date and highlight), the respondents' names from one query. Closed
    cases (never listed here) would get no highlight, as ``art237_class``. Filters and tags per row
    were most of the time the page took to draw its fifty rows."""
    statuses = choice_labels(CaseStatus.choices)
    names = queries.respondent_names([case.pk for case in cases])
    rows = []
    for case in cases:
        eligible = case.art237_eligible_on
        rows.append(
            {
                "url": reverse("case_detail", args=[case.pk]),
                "number": case.number,
                "respondents": names.get(case.pk, []),
                "amount_due": yuan(case.amount_due),
                "amount_recovered": yuan(case.amount_recovered),
                "amount_frozen": yuan(case.amount_frozen),
                "age_days": (today - case.filed_on).days,
                "art237_on": eligible.isoformat(),
                "art237_class": ART237_CLASSES[queries.art237_state_of(eligible, today)] if case.is_open else "",
                "status_badge": status_badge(case.status),
                "status_label": statuses.get(case.status, case.status),
            }
        )
    return rows


def visible_courts(user) -> list[Court]:
    """Courts offered in the court filter: a supervisor's subordinates, otherwise the own court."""
    courts: dict[int, Court] = {}
    if user.court_id:
        if user.has_role(Role.SUPERVISOR):
            courts.update((court.pk, court) for court in user.court.subordinates())
        if user.has_role(Role.JUDGE) or user.has_role(Role.BUREAU_HEAD) or not courts:
            courts.setdefault(user.court_id, user.court)
    return sorted(courts.values(), key=lambda court: court.path)


SORTS = {"filed_on": ("filed_on", "id"), "-filed_on": ("-filed_on", "-id")}


@case_worker_required
def case_list(request):
    user = request.user
    courts = visible_courts(user)
    court_ids = {str(court.pk) for court in courts}
    params = {
        "q": request.GET.get("q", "").strip(),
        "status": request.GET.get("status", "") if request.GET.get("status", "") in CaseStatus.values else "",
        "court": request.GET.get("court", "") if request.GET.get("court", "") in court_ids else "",
        "type_code": request.GET.get("type_code", "") if request.GET.get("type_code", "") in CaseType.values else "",
    }
    art237 = request.GET.get("art237", "")
    sort = request.GET.get("sort", "-filed_on")
    if sort not in SORTS:
        sort = "-filed_on"
    if art237 not in ("eligible", "not_yet"):
        art237 = ""
    page = page_of(request, queries.case_list(user, **params, art237=art237, order=SORTS[sort]))
    context = {
        "page": page,
        "params": params,
        "art237": art237,
        "sort": sort,
        "courts": courts,
        "statuses": CaseStatus.choices,
        "types": CaseType.choices,
        "can_create": user.has_role(Role.JUDGE) or user.has_role(Role.BUREAU_HEAD),
        "own_court_view": params["court"] == str(user.court_id) and user.has_role(Role.BUREAU_HEAD),
    }
    return render(request, "enforcement/case_list.html", context)


@case_worker_required
def assign_list(request):
    """分案: the bureau head's list of open cases of the own court with their judges."""
    if not request.user.has_role(Role.BUREAU_HEAD):
        raise PermissionDenied(_("仅执行局长可以分案"))
    cases = queries.case_list(request.user, court=request.user.court_id, open_only=True, order=("filed_on", "id"))
    page = page_of(request, cases)
    return render(request, "enforcement/assign_list.html", {"page": page})


# --------------------------------------------------------------------------------------------
# new case
# --------------------------------------------------------------------------------------------


def _filled_rows(formset) -> list[int]:
    return [index for index, form in enumerate(formset.forms) if not form.is_blank()]


@case_worker_required
@require_http_methods(["GET", "POST"])
def case_create(request):
    user = request.user
    if not (user.has_role(Role.JUDGE) or user.has_role(Role.BUREAU_HEAD)):
        raise PermissionDenied(_("只有执行法官或执行局长可以立案"))
    group_errors: dict[str, list] = {}
    if request.method == "POST":
        form = CaseCreateForm(request.POST, user=user)
        applicant_set = PartyFormSet(request.POST, prefix="applicants")
        respondent_set = PartyFormSet(request.POST, prefix="respondents")
        valid = form.is_valid() & applicant_set.is_valid() & respondent_set.is_valid()
        if valid:
            rows = {"applicants": _filled_rows(applicant_set), "respondents": _filled_rows(respondent_set)}
            data = form.cleaned_data
            try:
                case = services.register_case(
                    user,
                    applicants=[applicant_set.forms[i].as_service_entry() for i in rows["applicants"]],
                    respondents=[respondent_set.forms[i].as_service_entry() for i in rows["respondents"]],
                    type_code=data["type_code"],
                    basis_document_number=data["basis_document_number"],
                    basis_issuing_court=data["basis_issuing_court"],
                    amount_due=data["amount_due"],
                    filed_on=data["filed_on"],
                    assigned_judges=data["assigned_judges"],
                )
            except ValidationError as exc:
                group_errors = apply_service_errors(
                    exc,
                    form,
                    {
                        "applicants": (applicant_set, rows["applicants"]),
                        "respondents": (respondent_set, rows["respondents"]),
                    },
                )
            else:
                messages.success(request, _("已立案，案号：%(number)s") % {"number": case.number})
                return redirect("case_detail", pk=case.pk)
        status = 400
    else:
        form = CaseCreateForm(user=user)
        applicant_set = PartyFormSet(prefix="applicants")
        respondent_set = PartyFormSet(prefix="respondents")
        status = 200
    context = {
        "form": form,
        "groups": [
            ("applicants", _("申请执行人"), applicant_set),
            ("respondents", _("被执行人"), respondent_set),
        ],
        "group_errors": group_errors,
    }
    return render(request, "enforcement/case_form.html", context, status=status)


# --------------------------------------------------------------------------------------------
# case detail and its tabs
# --------------------------------------------------------------------------------------------


def case_context(request, case: EnforcementCase, tab: str) -> dict:
    user = request.user
    may_handle = can(user, Action.HANDLE, case)
    transitions = []
    if may_handle:
        for to in services.allowed_transitions(case):
            transitions.append({"to": to, "label": TRANSITION_LABELS[(case.status, to)]})
    return {
        "case": case,
        "tab": tab,
        "judges": queries.judges(case),
        "applicants": queries.applicants(case),
        "respondents": queries.respondents(case),
        "can_handle": may_handle and case.is_open,
        "can_assign": can(user, Action.ASSIGN, case) and case.is_open,
        "can_view_file": can(user, Action.VIEW_FILE, case),
        "can_upload": may_handle,
        "can_resume": may_handle
        and case.status == CaseStatus.CLOSED
        and case.closing_method == ClosingMethod.CLOSED_FOR_NOW
        and not case.successor_case_id,
        "transitions": transitions,
        "origin_case": case.origin_case if case.origin_case_id else None,
        "successor_case": case.successor_case if case.successor_case_id else None,
    }


@login_required
def case_detail(request, pk):
    case = queries.case_detail(request.user, pk)
    return render(request, "enforcement/case_overview.html", case_context(request, case, "overview"))


@login_required
def case_parties(request, pk):
    case = queries.case_detail(request.user, pk)
    return render(request, "enforcement/case_parties.html", case_context(request, case, "parties"))


@login_required
def case_log(request, pk):
    case = queries.case_detail(request.user, pk)
    context = case_context(request, case, "log")
    context["page"] = page_of(request, queries.case_events(case))
    return render(request, "enforcement/case_log.html", context)


def _documents_page(request, case, form, status=200):
    # Reading the list of the case file is a file read: checked, and audited outside the handling court.
    services.record_file_read(request.user, case, "documents")
    context = case_context(request, case, "documents")
    context["documents"] = case.documents.select_related("uploaded_by")
    context["form"] = form
    return render(request, "enforcement/case_documents.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def case_documents(request, pk):
    if request.method == "GET":
        return _documents_page(request, queries.case_detail(request.user, pk), DocumentForm())
    case = require(request.user, Action.HANDLE, queries.case_detail(request.user, pk))
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            document = services.add_document(
                request.user,
                case,
                doc_type=form.cleaned_data["doc_type"],
                title=form.cleaned_data["title"],
                upload=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, _("已上传：%(title)s") % {"title": document.title})
            return redirect("case_documents", pk=case.pk)
    return _documents_page(request, case, form, status=400)


@login_required
def document_download(request, pk, doc_id):
    case = get_case(request.user, pk, Action.VIEW_FILE)
    document = get_object_or_404(case.documents, pk=doc_id)
    services.record_file_read(request.user, case, "document", document)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("文件不存在")) from None
    return FileResponse(
        handle, as_attachment=True, filename=document.original_name, content_type=document.content_type or None
    )


# --------------------------------------------------------------------------------------------
# acting on a case
# --------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_edit(request, pk):
    case = get_case(request.user, pk, Action.HANDLE)
    current = {
        "basis_document_number": case.basis_document_number,
        "basis_issuing_court": case.basis_issuing_court,
        "amount_due": f"{case.amount_due:.2f}",
    }
    if request.method == "POST":
        form = CaseEditForm(request.POST)
        if form.is_valid():
            changes = {
                field: form.cleaned_data[field] for field in current if form.cleaned_data[field] != current[field]
            }
            if not changes:
                messages.info(request, _("未作修改"))
                return redirect("case_detail", pk=case.pk)
            try:
                services.update_case(request.user, case, **changes)
            except ValidationError as exc:
                apply_service_errors(exc, form)
            else:
                messages.success(request, _("案件信息已保存"))
                return redirect("case_detail", pk=case.pk)
        status = 400
    else:
        form = CaseEditForm(initial=current)
        status = 200
    return render(request, "enforcement/case_edit.html", {"case": case, "form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def case_assign(request, pk):
    case = get_case(request.user, pk, Action.ASSIGN)
    if request.method == "POST":
        form = AssignForm(request.POST, court=case.court)
        if form.is_valid():
            try:
                new = services.assign_judges(request.user, case, form.cleaned_data["assigned_judges"])
            except ValidationError as exc:
                apply_service_errors(exc, form)
            else:
                names = "、".join(str(judge) for judge in new)
                messages.success(request, _("已指定承办人：%(names)s") % {"names": names})
                return redirect("case_detail", pk=case.pk)
        status = 400
    else:
        current = [judge.pk for judge in services.assigned_judges(case)]
        form = AssignForm(initial={"assigned_judges": current}, court=case.court)
        status = 200
    return render(request, "enforcement/case_assign.html", {"case": case, "form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def case_transition(request, pk):
    case = get_case(request.user, pk, Action.HANDLE)
    data = request.POST if request.method == "POST" else None
    form = TransitionForm(data, case=case, initial={"to": request.GET.get("to", "")})
    to = (request.POST if data is not None else request.GET).get("to", "")
    label = TRANSITION_LABELS.get((case.status, to))
    if label is None and data is None:
        messages.error(request, _("当前状态下不能进行该操作"))
        return redirect("case_detail", pk=case.pk)
    if data is not None and form.is_valid():
        try:
            services.transition_case(
                request.user,
                case,
                form.cleaned_data["to"],
                closing_method=form.cleaned_data["closing_method"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            case.refresh_from_db(fields=["status"])
            messages.success(request, _("案件状态已变更为：%(status)s") % {"status": case.get_status_display()})
            return redirect("case_detail", pk=case.pk)
    context = {"case": case, "form": form, "to": to, "label": label or "", "closing": to == "closed"}
    return render(request, "enforcement/case_transition.html", context, status=200 if data is None else 400)


@login_required
@require_http_methods(["GET", "POST"])
def case_resume(request, pk):
    case = get_case(request.user, pk, Action.HANDLE)
    if request.method == "POST":
        form = ResumeForm(request.POST)
        if form.is_valid():
            try:
                new = services.resume_case(request.user, case, reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                apply_service_errors(exc, form)
            else:
                messages.success(request, _("已恢复执行，新案号：%(number)s") % {"number": new.number})
                return redirect("case_detail", pk=new.pk)
        status = 400
    else:
        form = ResumeForm()
        status = 200
    return render(request, "enforcement/case_resume.html", {"case": case, "form": form}, status=status)


# --------------------------------------------------------------------------------------------
# system administration (read-only; editing is in the Django admin)
# --------------------------------------------------------------------------------------------


@system_admin_required
def admin_courts(request):
    courts = list(Court.objects.order_by("path"))
    for court in courts:
        court.depth = max(court.path.strip("/").count("/"), 0)
    return render(request, "enforcement/admin_courts.html", {"courts": courts})


@system_admin_required
def admin_users(request):
    users = User.objects.select_related("court").prefetch_related("roles").order_by("court__path", "username")
    return render(request, "enforcement/admin_users.html", {"page": page_of(request, users)})
