"""The HTML side of cross-enforcement (交叉执行): thin views that load the transfer or the case
through the policy and call one transfer service to change anything.

Supervisors: 可交叉案件, 待审查, 已决定, 逾期 and the review page of a transfer; the receiving court's
bureau head: 收案 (accept and assign), materials and progress reports; every case: the 交叉执行 tab;
judges and bureau heads: 调卷申请 (file-access grants)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from clues import presenters
from clues import queries as clue_queries
from enforcement import queries as case_queries
from enforcement.forms import apply_service_errors
from enforcement.models import CaseDocument, CaseStatus, Court, CourtLevel, EnforcementCase, PartyKind, Role, User
from enforcement.permissions import Action, can, cases_for, require
from enforcement.views import case_context, case_worker_required, counted_page_of, page_of

from . import queries, recommendation, services
from .forms import (
    PAGE_MODES,
    AcceptForm,
    ApproveForm,
    BankruptcyStepForm,
    ConcludeForm,
    ExcludedPeriodForm,
    FileAccessForm,
    GrantDecisionForm,
    MaterialsForm,
    ReasonForm,
    ReconsiderationAnswerForm,
    ReportForm,
    SupplyForm,
    TransferCreateForm,
    TriggerConfigForm,
)
from .models import (
    BANKRUPTCY_STEP_ORDER,
    Art237ExcludedPeriod,
    BankruptcyStepKind,
    FileAccessGrant,
    GrantState,
    MaterialRequest,
    Mode,
    State,
    Transfer,
    TransferReminder,
    Trigger,
    TriggerConfig,
)

PENDING_STATES = (State.PROPOSED, State.UNDER_REVIEW)
DECIDED_STATES = (
    State.APPROVED,
    State.ACCEPTED,
    State.IN_PROGRESS,
    State.CONCLUDED,
    State.REJECTED,
    State.RETURNED,
)
RUNNING_STATES = (State.ACCEPTED, State.IN_PROGRESS)
STATE_BADGES = {
    State.PROPOSED: "text-bg-secondary",
    State.UNDER_REVIEW: "text-bg-info",
    State.APPROVED: "text-bg-primary",
    State.REJECTED: "text-bg-dark",
    State.ACCEPTED: "text-bg-success",
    State.IN_PROGRESS: "text-bg-success",
    State.CONCLUDED: "text-bg-light",
    State.RETURNED: "text-bg-warning",
}


# --------------------------------------------------------------------------------------------
# access helpers
# --------------------------------------------------------------------------------------------


def _role_required(role: str, message):
    def decorator(view):
        @case_worker_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.has_role(role):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


supervisor_required = _role_required(Role.SUPERVISOR, gettext_lazy("只有上级法院的监督人员可以查看此页面"))
bureau_head_required = _role_required(Role.BUREAU_HEAD, gettext_lazy("只有执行局长可以查看此页面"))


def _visible_transfer(request, pk) -> Transfer:
    """The transfer with its detail, through the policy on its case (404 hidden)."""
    return queries.transfer_detail(request.user, pk)


def may_decide(user, transfer: Transfer) -> bool:
    if transfer.mode == Mode.BANKRUPTCY:
        return can(user, Action.APPROVE, transfer.case)
    return user.has_role(Role.SUPERVISOR) and user.court_id == transfer.deciding_court_id


def may_work_receiving(user, transfer: Transfer) -> bool:
    """The receiving court's bureau head, or a judge handling the received case."""
    if user.court_id != transfer.receiving_court_id or transfer.receiving_court_id is None:
        return False
    if user.has_role(Role.BUREAU_HEAD):
        return True
    return any(c is not None and can(user, Action.HANDLE, c) for c in (transfer.receiving_case, transfer.case))


def _abilities(user, transfer: Transfer) -> dict:
    decider = may_decide(user, transfer)
    receiving_head = (
        user.has_role(Role.BUREAU_HEAD) and transfer.receiving_court_id and user.court_id == transfer.receiving_court_id
    )
    running = transfer.state in RUNNING_STATES
    worker = running and may_work_receiving(user, transfer)
    approved = transfer.state == State.APPROVED
    bankruptcy = transfer.mode == Mode.BANKRUPTCY
    requested = bool(transfer.reconsideration_requested_at)
    next_step = _next_bankruptcy_step(transfer) if bankruptcy and transfer.state in PENDING_STATES else None
    return {
        "can_request_reconsideration": approved
        and not bankruptcy
        and not requested
        and transfer.reconsideration_due is not None
        and timezone.localdate() <= transfer.reconsideration_due
        and user.has_role(Role.BUREAU_HEAD)
        and user.court_id in {transfer.original_court_id, transfer.receiving_court_id},
        "can_answer_reconsideration": approved
        and requested
        and transfer.reconsideration_upheld is None
        and may_decide(user, transfer),
        "next_step": next_step,
        "can_record_step": next_step is not None and _may_record_step(user, transfer, next_step),
        "can_refuse": bool(receiving_head) and approved and bankruptcy,
        "can_review": decider and transfer.state == State.PROPOSED,
        "can_decide": decider and transfer.state in PENDING_STATES,
        "can_conclude": decider and running,
        "can_accept": bool(receiving_head) and transfer.state == State.APPROVED,
        "can_report": worker,
        "can_request_materials": worker and bool(transfer.materials_due),
        "can_supply": user.has_role(Role.BUREAU_HEAD) and user.court_id == transfer.original_court_id,
    }


def _next_bankruptcy_step(transfer: Transfer) -> str | None:
    """The first internal decision step of a 执转破 not yet recorded (judge → panel → president)."""
    done = {step.kind for step in transfer.bankruptcy_steps.all()}
    return next((kind for kind in BANKRUPTCY_STEP_ORDER if kind not in done), None)


def _may_record_step(user, transfer: Transfer, kind: str) -> bool:
    if kind == BankruptcyStepKind.PRESIDENT_SIGNATURE:
        return can(user, Action.APPROVE, transfer.case)
    return user.court_id == transfer.original_court_id and can(user, Action.HANDLE, transfer.case)


def _require_ability(user, transfer: Transfer, name: str) -> None:
    if not _abilities(user, transfer)[name]:
        raise PermissionDenied(_("您不能办理此交叉执行事项"))


# --------------------------------------------------------------------------------------------
# 可交叉案件 and the supervisor's lists
# --------------------------------------------------------------------------------------------

ELIGIBLE_SORTS = {
    "art237": _("237条日期"),
    "filed_on": _("立案日期"),
    "-linked": _("同一被执行人案件数"),
    "last_activity": _("最近办案"),
    "court": _("法院"),
}


@supervisor_required
def eligible_list(request):
    sort = request.GET.get("sort") or "art237"
    reason = request.GET.get("reason") or ""
    page = counted_page_of(request, queries.eligible_cases(request.user, sort=sort, reason=reason))
    rows = [{"case": case, "reasons": queries.reasons_of(case)} for case in page.object_list]
    context = {
        "page": page,
        "rows": rows,
        "sort": sort,
        "reason": reason,
        "reasons": [(code, str(label)) for code, label in queries.REASONS.items()],
        "sorts": [(code, str(label)) for code, label in ELIGIBLE_SORTS.items()],
        "today": timezone.localdate(),
    }
    return render(request, "transfers/eligible_list.html", context)


def _overdue(queryset, today):
    overdue_reminder = TransferReminder.objects.filter(transfer=OuterRef("pk"), overdue=True)
    return queryset.filter(
        Q(flagged_at__isnull=False)
        | Q(state=State.APPROVED, registration_due__lt=today)
        | Q(state=State.APPROVED, answer_due__lt=today)
        | Q(state__in=RUNNING_STATES, deadline_on__lt=today)
        | Q(Exists(overdue_reminder), state__in=(State.APPROVED, *RUNNING_STATES))
    )


LISTS = {
    "pending": (_("待审查"), _("没有待审查的交叉执行。")),
    "decided": (_("已决定"), _("没有已决定的交叉执行。")),
    "overdue": (_("逾期"), _("没有逾期的交叉执行。")),
    "incoming": (_("收案"), _("没有移送本院的交叉执行。")),
}


def _transfer_list(request, which: str, queryset):
    page = page_of(request, queryset)
    title, empty = LISTS[which]
    context = {"page": page, "transfers": list(page.object_list), "which": which, "title": title, "empty": empty}
    return render(request, "transfers/transfer_list.html", context)


@supervisor_required
def pending_list(request):
    queryset = queries.transfers_for(request.user, role="deciding").filter(state__in=PENDING_STATES)
    return _transfer_list(request, "pending", queryset.order_by("created_at", "pk"))


@supervisor_required
def decided_list(request):
    queryset = queries.transfers_for(request.user, role="deciding").filter(state__in=DECIDED_STATES)
    return _transfer_list(request, "decided", queryset.order_by("-decided_on", "-pk"))


@supervisor_required
def overdue_list(request):
    queryset = _overdue(queries.transfers_for(request.user, role="deciding"), timezone.localdate())
    return _transfer_list(request, "overdue", queryset)


@bureau_head_required
def incoming_list(request):
    """收案: transfers decided to the user's court, waiting for acceptance first."""
    queryset = queries.transfers_for(request.user, role="receiving").filter(state__in=(State.APPROVED, *RUNNING_STATES))
    return _transfer_list(request, "incoming", queryset.order_by("-state", "-pk"))


# --------------------------------------------------------------------------------------------
# 发起 / 报请交叉执行 (from the eligible list or the case tab)
# --------------------------------------------------------------------------------------------


def _triggers_for(user, case) -> list[str]:
    triggers = []
    if user.has_role(Role.SUPERVISOR) and user.court_id and user.court.is_superior_of(case.court):
        triggers += [Trigger.SUPERVISOR_INITIATIVE, Trigger.ART237_APPLICATION]
    if can(user, Action.APPROVE, case) or _may_refer_to_bankruptcy(user, case):
        triggers.append(Trigger.COURT_REQUEST)
    return triggers


def _entity_respondent(case) -> bool:
    return any(p.kind == PartyKind.ENTITY and p.uscc for p in case_queries.respondents(case))


def _may_refer_to_bankruptcy(user, case) -> bool:
    """执转破 is proposed by a judge handling the case or the bureau head, for an entity respondent."""
    return user.court_id == case.court_id and can(user, Action.HANDLE, case) and _entity_respondent(case)


def _modes_for(user, case) -> list[str]:
    modes = []
    if can(user, Action.APPROVE, case) or (
        user.has_role(Role.SUPERVISOR) and user.court_id and user.court.is_superior_of(case.court)
    ):
        modes = [m for m, _label in PAGE_MODES]
    if _may_refer_to_bankruptcy(user, case):
        modes.append(Mode.BANKRUPTCY)
    return modes


def _same_respondent_cases(user, case) -> list[EnforcementCase]:
    """Other open cases against the same respondent that the user may see (for 集中执行)."""
    identifiers = services.respondent_identifiers(case)
    if not identifiers:
        return []
    return list(
        EnforcementCase.objects.filter(pk__in=cases_for(user, Action.VIEW).values("pk"))
        .exclude(pk=case.pk)
        .exclude(status=CaseStatus.CLOSED)
        .filter(
            Q(case_parties__role="respondent")
            & (Q(case_parties__party__uscc__in=identifiers) | Q(case_parties__party__id_number__in=identifiers))
        )
        .select_related("court")
        .distinct()
        .order_by("court__path", "pk")
    )


def _create_form(user, case, triggers, data=None) -> TransferCreateForm:
    base = user.court if user.has_role(Role.SUPERVISOR) and Trigger.COURT_REQUEST not in triggers else None
    courts = Court.objects.exclude(pk=case.court_id)
    if base is not None:
        courts = courts.filter(path__startswith=base.path)
    else:
        parent = case.court.ancestors()[0] if case.court.ancestors() else case.court
        courts = courts.filter(path__startswith=parent.path)
    documents = CaseDocument.objects.filter(case=case).order_by("-pk") if can(user, Action.VIEW_FILE, case) else []
    modes = _modes_for(user, case)
    others = _same_respondent_cases(user, case) if Mode.CONCENTRATE in modes else []
    return TransferCreateForm(
        data, triggers=triggers, courts=courts.order_by("path"), documents=documents, modes=modes, others=others
    )


def _create_page(request, case, form, status=200):
    context = case_context(request, case, "transfers")
    context.update({"form": form})
    return render(request, "transfers/transfer_create.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def transfer_create(request, pk):
    case = case_queries.case_detail(request.user, pk)
    triggers = _triggers_for(request.user, case)
    if not triggers:
        raise PermissionDenied(_("只有上级法院的监督人员或本院执行局长可以启动交叉执行"))
    if request.method == "GET":
        return _create_page(request, case, _create_form(request.user, case, triggers))
    form = _create_form(request.user, case, triggers, request.POST)
    if form.is_valid():
        try:
            transfer = services.create_transfer(request.user, case=case.pk, **form.service_kwargs())
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(
                request,
                _("已提出交叉执行（%(mode)s）：%(number)s")
                % {"mode": transfer.get_mode_display(), "number": case.number},
            )
            return redirect("transfer_detail", pk=transfer.pk)
    return _create_page(request, case, form, status=400)


# --------------------------------------------------------------------------------------------
# 交叉执行审查 (one transfer)
# --------------------------------------------------------------------------------------------


def _court_choices(transfer: Transfer, candidates) -> list[tuple]:
    """The recommended courts first (with their score), then the other courts in jurisdiction."""
    originals = {link.case.court_id for link in transfer.links.all()}
    choices = [(c.court.pk, f"{c.court.name}（{c.score:g}）") for c in candidates]
    seen = {c.court.pk for c in candidates}
    deciding = transfer.deciding_court
    others = Court.objects.filter(path__startswith=deciding.path).exclude(pk__in=originals | seen).order_by("path")
    choices += [(court.pk, court.name) for court in others]
    return choices


def _case_history(user, case: EnforcementCase) -> dict:
    clues = list(clue_queries.clues_of(case))
    may_read_file = can(user, Action.VIEW_FILE, case)
    shown = presenters.clue_context(user, case, clues) if clues else {"may_read_file": may_read_file}
    return {
        "case": case,
        "clues": [{"clue": c, "masked": presenters.is_masked(c, shown["may_read_file"])} for c in clues],
        "measures": list(clue_queries.measures_of(case)),
        "mask": presenters.MASK,
    }


def _detail_page(request, transfer: Transfer, *, forms: dict | None = None, status=200):
    user = request.user
    abilities = _abilities(user, transfer)
    forms = forms or {}
    case = case_queries.case_detail(user, transfer.case_id)
    candidates = []
    if abilities["can_decide"] or (may_decide(user, transfer) and transfer.state in DECIDED_STATES):
        candidates = recommendation.recommend(transfer)
    if abilities["can_decide"]:
        forms.setdefault(
            "approve",
            ApproveForm(
                initial={"receiving_court": candidates[0].court.pk if candidates else ""},
                courts=_court_choices(transfer, candidates),
            ),
        )
        forms.setdefault("reject", ReasonForm())
    if abilities["can_accept"]:
        forms.setdefault("accept", AcceptForm(judges=_receiving_judges(transfer)))
    if abilities["can_report"]:
        forms.setdefault("report", ReportForm())
    if abilities["can_request_materials"]:
        forms.setdefault("materials", MaterialsForm())
    if abilities["can_conclude"]:
        forms.setdefault("conclude", ConcludeForm())
    if abilities["can_request_reconsideration"]:
        forms.setdefault("reconsider", ReasonForm())
    if abilities["can_answer_reconsideration"]:
        forms.setdefault("reconsider_answer", ReconsiderationAnswerForm())
    if abilities["can_record_step"]:
        forms.setdefault("step", BankruptcyStepForm(initial={"kind": abilities["next_step"]}))
    if abilities["can_refuse"]:
        forms.setdefault("refuse", ReasonForm())
    histories = [_case_history(user, case)]
    for link in transfer.links.all():
        if link.case_id != case.pk and can(user, Action.VIEW, link.case):
            histories.append(_case_history(user, link.case))
    context = {
        "transfer": transfer,
        "case": case,
        "applicants": case_queries.applicants(case),
        "respondents": case_queries.respondents(case),
        "histories": histories,
        "candidates": candidates,
        "steps": list(transfer.steps.all()),
        "bankruptcy_steps": list(transfer.bankruptcy_steps.all()) if transfer.mode == Mode.BANKRUPTCY else [],
        "next_step_label": BankruptcyStepKind(abilities["next_step"]).label if abilities["next_step"] else "",
        "handovers": list(transfer.handovers.all()),
        "materials": list(transfer.material_requests.all()),
        "reports": list(transfer.reports.all()),
        "report_due": services.report_due_on(transfer),
        "supply_form": SupplyForm(),
        "forms": forms,
        "state_badges": STATE_BADGES,
        **abilities,
    }
    return render(request, "transfers/transfer_detail.html", context, status=status)


def _receiving_judges(transfer: Transfer) -> list[User]:
    if transfer.receiving_court_id is None:
        return []
    return list(
        User.objects.filter(court_id=transfer.receiving_court_id, roles__code=Role.JUDGE, is_active=True)
        .distinct()
        .order_by("username")
    )


@login_required
def transfer_detail(request, pk):
    return _detail_page(request, _visible_transfer(request, pk))


def _action(request, pk, ability: str, form_name: str | None, form_class, call, success, **form_kwargs):
    """A POST on a transfer: 404 hidden, 403 forbidden, 400 with the messages next to the fields."""
    transfer = _visible_transfer(request, pk)
    _require_ability(request.user, transfer, ability)
    form = form_class(request.POST, **form_kwargs) if form_class else None
    if form is None or form.is_valid():
        try:
            result = call(transfer, form.cleaned_data if form else {})
        except ValidationError as exc:
            if form is None:
                for text in exc.messages:
                    messages.error(request, text)
                return redirect("transfer_detail", pk=transfer.pk)
            apply_service_errors(exc, form)
        else:
            messages.success(request, success(result))
            return redirect("transfer_detail", pk=transfer.pk)
    return _detail_page(request, _visible_transfer(request, pk), forms={form_name: form}, status=400)


@login_required
@require_POST
def transfer_review(request, pk):
    return _action(
        request,
        pk,
        "can_review",
        None,
        None,
        lambda t, data: services.review_transfer(request.user, t),
        lambda t: _("交叉执行已进入审查"),
    )


@login_required
@require_POST
def transfer_approve(request, pk):
    transfer = _visible_transfer(request, pk)
    _require_ability(request.user, transfer, "can_decide")
    courts = _court_choices(transfer, recommendation.recommend(transfer))

    def call(t, data):
        form_data = {k: v for k, v in data.items()}
        return services.approve_transfer(
            request.user,
            t,
            receiving_court=form_data.get("receiving_court") or None,
            deadline_days=form_data.get("deadline_days") or None,
            decision_number=form_data.get("decision_number") or "",
            note=form_data.get("note") or "",
        )

    return _action(
        request,
        pk,
        "can_decide",
        "approve",
        ApproveForm,
        call,
        lambda t: (
            _("已决定%(mode)s，接收法院：%(court)s（%(number)s）")
            % {"mode": t.get_mode_display(), "court": t.receiving_court.name, "number": t.decision_number}
        ),
        courts=courts,
    )


@login_required
@require_POST
def transfer_reject(request, pk):
    return _action(
        request,
        pk,
        "can_decide",
        "reject",
        ReasonForm,
        lambda t, data: services.reject_transfer(request.user, t, reason=data.get("reason") or ""),
        lambda t: _("已决定不予准许"),
    )


@login_required
@require_POST
def transfer_accept(request, pk):
    transfer = _visible_transfer(request, pk)
    _require_ability(request.user, transfer, "can_accept")

    def success(t):
        if t.receiving_case_id:
            return _("已接收，新案号 %(number)s") % {"number": t.receiving_case.number}
        return _("已接收交叉执行")

    return _action(
        request,
        pk,
        "can_accept",
        "accept",
        AcceptForm,
        lambda t, data: services.accept_transfer(
            request.user, t, judges=[int(j) for j in data.get("judges") or []], tasks=data.get("tasks") or ""
        ),
        success,
        judges=_receiving_judges(transfer),
    )


@login_required
@require_POST
def transfer_report(request, pk):
    return _action(
        request,
        pk,
        "can_report",
        "report",
        ReportForm,
        lambda t, data: services.report_progress(request.user, t, text=data.get("text") or ""),
        lambda r: _("已报告进展"),
    )


@login_required
@require_POST
def transfer_materials(request, pk):
    return _action(
        request,
        pk,
        "can_request_materials",
        "materials",
        MaterialsForm,
        lambda t, data: services.request_materials(request.user, t, description=data.get("description") or ""),
        lambda r: _("已要求原执行法院补充材料，期限 %(d)s") % {"d": r.due_on.isoformat()},
    )


@login_required
@require_POST
def transfer_conclude(request, pk):
    return _action(
        request,
        pk,
        "can_conclude",
        "conclude",
        ConcludeForm,
        lambda t, data: services.conclude_transfer(
            request.user, t, note=data.get("note") or "", returned=bool(data.get("returned"))
        ),
        lambda t: _("交叉执行已%(state)s") % {"state": t.get_state_display()},
    )


@login_required
@require_POST
def transfer_reconsider(request, pk):
    """复议申请: the original (or receiving) court's bureau head, within the deadline."""
    return _action(
        request,
        pk,
        "can_request_reconsideration",
        "reconsider",
        ReasonForm,
        lambda t, data: services.request_reconsideration(request.user, t, reason=data.get("reason") or ""),
        lambda t: _("已申请复议，待%(court)s答复") % {"court": t.deciding_court.name},
    )


@login_required
@require_POST
def transfer_reconsider_answer(request, pk):
    """复议答复: the deciding court's supervisor upholds or revokes the decision."""
    return _action(
        request,
        pk,
        "can_answer_reconsideration",
        "reconsider_answer",
        ReconsiderationAnswerForm,
        lambda t, data: services.answer_reconsideration(
            request.user, t, upheld=data.get("upheld") == "1", answer=data.get("answer") or ""
        ),
        lambda t: _("复议维持原决定") if t.reconsideration_upheld else _("复议撤销原决定"),
    )


@login_required
@require_POST
def transfer_bankruptcy_step(request, pk):
    """执转破 internal decision step (judge's opinion → panel → president's signature)."""
    return _action(
        request,
        pk,
        "can_record_step",
        "step",
        BankruptcyStepForm,
        lambda t, data: services.record_bankruptcy_step(
            request.user, t, kind=data.get("kind") or "", note=data.get("note") or ""
        ),
        lambda step: _("已记录：%(kind)s") % {"kind": step.get_kind_display()},
    )


@login_required
@require_POST
def transfer_refuse(request, pk):
    """执转破: the receiving court does not accept the bankruptcy review."""
    return _action(
        request,
        pk,
        "can_refuse",
        "refuse",
        ReasonForm,
        lambda t, data: services.refuse_transfer(request.user, t, reason=data.get("reason") or ""),
        lambda t: _("已不予受理，相关案件恢复执行"),
    )


@login_required
@require_POST
def materials_supply(request, pk, material_id):
    """补充材料: the original court's bureau head; 400 keeps the note and puts the messages (a bad
    file, a missing note) next to the request's form; nothing is stored then."""
    material = MaterialRequest.objects.filter(pk=material_id, transfer_id=pk).first()
    if material is None:
        raise Http404(_("补充材料请求不存在"))
    transfer = _visible_transfer(request, pk)
    _require_ability(request.user, transfer, "can_supply")
    form = SupplyForm(request.POST, request.FILES, material_id=material.pk)
    if form.is_valid():
        data = form.cleaned_data
        try:
            material = services.supply_materials(
                request.user, material, note=data.get("note") or "", files=data.get("files") or []
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            count = material.documents.count()
            if count:
                messages.success(request, _("已补充材料，附 %(n)d 个文件") % {"n": count})
            else:
                messages.success(request, _("已记录补充材料"))
            return redirect("transfer_detail", pk=transfer.pk)
    return _detail_page(request, transfer, forms={"supply": form}, status=400)


@login_required
@require_POST
def notification_acknowledge(request, pk):
    """确认通知: users of the notified court who may view the case; 404 for everybody else."""
    try:
        notification = services.acknowledge_notification(request.user, pk)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(request, _("已确认：%(number)s") % {"number": notification.case.number})
    return redirect("workbench")


# --------------------------------------------------------------------------------------------
# 交叉执行 tab of a case
# --------------------------------------------------------------------------------------------


def _tab_page(request, case, *, grant_form=None, excluded_form=None, status=200):
    user = request.user
    may_handle = can(user, Action.HANDLE, case)
    if may_handle and excluded_form is None:
        excluded_form = ExcludedPeriodForm()
    context = case_context(request, case, "transfers")
    transfers = list(
        queries.transfers_for(user).filter(Q(links__case=case) | Q(receiving_case=case)).distinct().order_by("-pk")
    )
    rows = []
    for transfer in transfers:
        links = list(transfer.links.all())
        rows.append(
            {
                "transfer": transfer,
                "links": links,
                "handovers": [h for h in transfer.handovers.all() if h.original_case_id == case.pk]
                or (list(transfer.handovers.all()) if transfer.receiving_case_id == case.pk else []),
            }
        )
    may_approve = can(user, Action.APPROVE, case)
    grants = []
    if may_approve:
        grants = [
            {"grant": g, "can_decide": g.state == GrantState.PENDING, "can_revoke": g.state == GrantState.APPROVED}
            for g in FileAccessGrant.objects.filter(case=case)
            .select_related("case", "requester__court", "decided_by")
            .order_by("-pk")
        ]
    triggers = _triggers_for(user, case) if case.is_open else []
    may_request_file = (
        (user.has_role(Role.JUDGE) or user.has_role(Role.BUREAU_HEAD))
        and user.court_id != case.court_id
        and not can(user, Action.VIEW_FILE, case)
        and not FileAccessGrant.objects.filter(
            case=case, requester=user, state__in=(GrantState.PENDING, GrantState.APPROVED)
        ).exists()
    )
    if may_request_file and grant_form is None:
        grant_form = FileAccessForm(initial={"case": case.number})
    context.update(
        {
            "rows": rows,
            "state_badges": STATE_BADGES,
            "can_request_court": Trigger.COURT_REQUEST in triggers
            and not any(
                t.state in (State.PROPOSED, State.UNDER_REVIEW, State.APPROVED, *RUNNING_STATES) for t in transfers
            ),
            "can_start": bool(triggers),
            "grants": grants,
            "grant_form": grant_form if may_request_file else None,
            "decision_form": GrantDecisionForm(),
            "excluded_periods": list(
                Art237ExcludedPeriod.objects.filter(case=case).select_related("created_by").order_by("started_on", "pk")
            ),
            "excluded_form": excluded_form if may_handle else None,
        }
    )
    return render(request, "transfers/case_transfers.html", context, status=status)


@login_required
def case_transfers(request, pk):
    return _tab_page(request, case_queries.case_detail(request.user, pk))


@login_required
@require_POST
def excluded_period_create(request, pk):
    """Record a 237条不计入期间 on the case (users who may handle it); 400 keeps what was typed."""
    case = case_queries.case_detail(request.user, pk)
    if not can(request.user, Action.HANDLE, case):
        raise PermissionDenied(_("只有承办人可以记录237条不计入期间"))
    form = ExcludedPeriodForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            period = services.record_excluded_period(
                request.user,
                case,
                kind=data.get("kind") or "",
                started_on=data.get("started_on"),
                ended_on=data.get("ended_on"),
                note=data.get("note") or "",
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            case.refresh_from_db()
            messages.success(
                request,
                _("已记录%(kind)s，237条日期为 %(date)s")
                % {"kind": period.get_kind_display(), "date": case.art237_eligible_on.isoformat()},
            )
            return redirect("case_transfers", pk=case.pk)
    return _tab_page(request, case_queries.case_detail(request.user, pk), excluded_form=form, status=400)


# --------------------------------------------------------------------------------------------
# 触发条件 (a high court's trigger thresholds)
# --------------------------------------------------------------------------------------------


def _trigger_page(request, court, form, status=200):
    context = {
        "form": form,
        "court": court,
        "config": TriggerConfig.objects.filter(high_court=court).select_related("updated_by").first(),
    }
    return render(request, "transfers/trigger_config.html", context, status=status)


@supervisor_required
@require_http_methods(["GET", "POST"])
def trigger_config(request):
    court = request.user.court
    if court is None or court.level != CourtLevel.HIGH:
        raise PermissionDenied(_("只有高级人民法院的监督人员可以设置本省的交叉执行触发条件"))
    if request.method == "GET":
        return _trigger_page(request, court, TriggerConfigForm(initial=services.trigger_values(court)))
    form = TriggerConfigForm(request.POST)
    if form.is_valid():
        try:
            services.update_trigger_config(request.user, court, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, _("已保存交叉执行触发条件"))
            return redirect("transfer_triggers")
    return _trigger_page(request, court, form, status=400)


# --------------------------------------------------------------------------------------------
# 调卷申请 (file-access grants)
# --------------------------------------------------------------------------------------------


def _grants_page(request, *, form=None, status=200):
    user = request.user
    page = page_of(request, queries.file_grants_for(user))
    approvable = set()
    grants = list(page.object_list)
    if user.has_role(Role.BUREAU_HEAD):
        from enforcement.permissions import cases_for

        ids = {g.case_id for g in grants}
        approvable = set(cases_for(user, Action.APPROVE).filter(pk__in=ids).values_list("pk", flat=True))
    rows = [
        {
            "grant": g,
            "can_decide": g.case_id in approvable and g.state == GrantState.PENDING,
            "can_revoke": g.state == GrantState.APPROVED and (g.case_id in approvable or g.requester_id == user.pk),
        }
        for g in grants
    ]
    context = {"page": page, "rows": rows, "form": form or FileAccessForm(), "decision_form": GrantDecisionForm()}
    return render(request, "transfers/file_access.html", context, status=status)


def _file_access_user(request):
    if not (request.user.has_role(Role.JUDGE) or request.user.has_role(Role.BUREAU_HEAD)):
        raise PermissionDenied(_("只有执行法官和执行局长可以申请或审批调卷"))


@case_worker_required
@require_http_methods(["GET", "POST"])
def file_access(request):
    _file_access_user(request)
    if request.method == "GET":
        return _grants_page(request)
    form = FileAccessForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            grant = services.request_file_access(
                request.user, case=data.get("case") or "", reason=data.get("reason") or "", days=data.get("days")
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(
                request, _("已提交调卷申请：%(number)s，待该院执行局长审批") % {"number": grant.case.number}
            )
            return redirect("file_access")
    if request.POST.get("from_case"):
        case = EnforcementCase.objects.filter(pk=request.POST.get("from_case")).first()
        if case is not None and can(request.user, Action.VIEW, case):
            return _tab_page(request, case_queries.case_detail(request.user, case.pk), grant_form=form, status=400)
    return _grants_page(request, form=form, status=400)


def _grant_action(request, grant_id, call, success):
    grant = FileAccessGrant.objects.select_related("case__court", "requester").filter(pk=grant_id).first()
    if grant is None:
        raise Http404(_("调卷申请不存在"))
    if grant.requester_id != request.user.pk:
        require(request.user, Action.VIEW, grant.case)
    form = GrantDecisionForm(request.POST)
    data = form.cleaned_data if form.is_valid() else {}
    try:
        grant = call(grant, data)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(request, success(grant))
    target = request.POST.get("next")
    if target == "case" and can(request.user, Action.VIEW, grant.case):
        return redirect("case_transfers", pk=grant.case_id)
    return redirect("file_access")


@login_required
@require_POST
def file_access_approve(request, grant_id):
    return _grant_action(
        request,
        grant_id,
        lambda g, data: services.approve_file_access(
            request.user, g, days=data.get("days") or None, note=data.get("note") or ""
        ),
        lambda g: _("已准许%(name)s查阅 %(number)s 的案卷") % {"name": g.requester, "number": g.case.number},
    )


@login_required
@require_POST
def file_access_refuse(request, grant_id):
    return _grant_action(
        request,
        grant_id,
        lambda g, data: services.refuse_file_access(request.user, g, note=data.get("note") or ""),
        lambda g: _("已不准许%(name)s查阅案卷") % {"name": g.requester},
    )


@login_required
@require_POST
def file_access_revoke(request, grant_id):
    return _grant_action(
        request,
        grant_id,
        lambda g, data: services.revoke_file_access(request.user, g, note=data.get("note") or ""),
        lambda g: _("已撤回阅卷授权"),
    )
