"""The HTML side of clues and measures: thin views that load the case through the policy and call
the clue services to change anything."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from enforcement import queries as case_queries
from enforcement.forms import apply_service_errors
from enforcement.models import Role
from enforcement.permissions import Action, get_case, require
from enforcement.views import case_context, case_worker_required, page_of
from platforms.models import Platform

from . import presenters, queries, services
from .forms import (
    ClueForm,
    InvalidateForm,
    MeasureForm,
    ProceedsForm,
    ReleaseForm,
    RenewForm,
    VisitRecordForm,
    VisitScheduleForm,
)
from .models import (
    ClueCategory,
    ClueKind,
    ClueSource,
    ClueStatus,
    LiveSeizureVisit,
    Measure,
    MeasureKind,
    MeasureStatus,
    PropertyClue,
)

# Clues on one page of the clue tab: every row carries its own forms, so the page stays bounded.
CLUE_PAGE_SIZE = 20

# Measures whose goods can be sold (变价款); a freeze ends by deduction instead.
SALE_KINDS = (MeasureKind.SEIZE, MeasureKind.DETAIN, MeasureKind.LIVE_SEIZURE)


def _handled_case(request, pk):
    """The case for an action: 404 when hidden, 403 when the user may only look."""
    return require(request.user, Action.HANDLE, case_queries.case_detail(request.user, pk))


def _auto_id(name: str, pk: int) -> str:
    return f"id_{name}_{pk}_%s"


# --------------------------------------------------------------------------------------------
# 财产线索 tab
# --------------------------------------------------------------------------------------------


def _label(choices, value) -> str:
    """The label of ``value`` in a choices enum, "" for none (a lookup by value: ``Enum.values``
    builds the list of values on each call)."""
    try:
        return choices(value).label
    except ValueError:
        return ""


def _other_court(row: dict) -> dict:
    """A row of ``other_courts_many`` with the measure kind and status in words."""
    return {
        **row,
        "measure_kind_label": _label(MeasureKind, row.get("measure_kind")),
        "measure_status_label": _label(MeasureStatus, row.get("measure_status")),
    }


def _clue_page_number(request, case, clue_id: int | None = None):
    """The page of the clue tab to show: the one holding ``clue_id`` (a refused action on that clue),
    else the ``page`` parameter, else the one holding the clue named by the ``clue`` parameter (links
    to one clue from other pages), else None for the first page."""
    if clue_id is None:
        if request.GET.get("page"):
            return None
        try:
            clue_id = int(request.GET.get("clue", ""))
        except ValueError:
            return None
    ids = list(queries.clues_by_category(case).values_list("pk", flat=True))
    return ids.index(clue_id) // CLUE_PAGE_SIZE + 1 if clue_id in ids else None


def _clues_page(request, case, *, form=None, bound=None, status=200):
    """The clue tab, one page of clues. ``bound`` is ``(clue_id, InvalidateForm)`` when an
    invalidation was refused; the page shown is then the one holding that clue."""
    context = case_context(request, case, "clues")
    page = page_of(
        request,
        queries.clues_by_category(case),
        CLUE_PAGE_SIZE,
        number=_clue_page_number(request, case, bound[0] if bound else None),
    )
    clues = list(page.object_list)
    shown = presenters.clue_context(request.user, case, clues, may_read_file=context["can_view_file"])
    may_read_file = shown["may_read_file"]
    by_category: dict[str, list[dict]] = {category: [] for category in ClueCategory.values}
    kinds, sources, states = (presenters.choice_labels(c.choices) for c in (ClueKind, ClueSource, ClueStatus))
    for clue in clues:
        invalidate = None
        if context["can_handle"] and clue.status in (ClueStatus.PENDING, ClueStatus.VERIFIED):
            if bound and bound[0] == clue.pk:
                invalidate = bound[1]
            else:
                invalidate = InvalidateForm(auto_id=_auto_id("invalid", clue.pk))
        others = presenters.other_courts_shown(shown["other_courts"].get(clue.asset_key, []))
        by_category[clue.category].append(
            {
                "clue": clue,
                "kind_label": kinds.get(clue.kind, clue.kind),
                "source_label": sources.get(clue.source, clue.source),
                "status_label": states.get(clue.status, clue.status),
                "masked": presenters.is_masked(clue, may_read_file),
                "others": [_other_court(row) for row in others["shown"]],
                "more_rows": others["more_rows"],
                "more_courts": others["more_courts"],
                "can_verify": context["can_handle"] and clue.status == ClueStatus.PENDING,
                "can_measure": context["can_handle"] and clue.status not in (ClueStatus.INVALID, ClueStatus.DISPOSED),
                "invalidate_form": invalidate,
            }
        )
    if context["can_handle"] and form is None:
        form = ClueForm(respondents=context["respondents"], platforms=Platform.objects.order_by("code"))
    context.update(
        {
            "groups": [(ClueCategory(c).label, rows) for c, rows in by_category.items() if rows],
            "page": page,
            "clue_count": page.paginator.count,
            "mask": presenters.MASK,
            "form": form,
            "today": timezone.localdate(),
        }
    )
    return render(request, "clues/case_clues.html", context, status=status)


@login_required
@require_GET
def clue_other_courts(request, pk, clue_id):
    """Every other court holding a clue or a measure on the asset of one clue, in the clue tab's
    order: the list behind the tab's 另有 N 家法院 line. For htmx the rows that replace the tab's
    cell, without JavaScript a page of its own. Seen by whoever may see the case; writes nothing."""
    case = get_case(request.user, pk)
    clue = get_object_or_404(PropertyClue.objects.select_related("platform"), pk=clue_id, case=case)
    rows = presenters.other_courts_in_order(services.other_courts(clue.asset_key, case.pk))
    context = {"case": case, "clue": clue, "label": services.clue_label(clue), "others": list(map(_other_court, rows))}
    return render(request, "clues/_other_courts.html" if request.htmx else "clues/clue_other_courts.html", context)


def _back_to_clues(request, case):
    """The clue tab again, on the page the action was taken from (its ``page`` parameter)."""
    target = reverse("case_clues", args=[case.pk])
    number = request.GET.get("page", "")
    return redirect(f"{target}?page={int(number)}" if number.isdigit() and int(number) > 1 else target)


@login_required
@require_http_methods(["GET", "POST"])
def case_clues(request, pk):
    if request.method == "GET":
        return _clues_page(request, case_queries.case_detail(request.user, pk))
    case = _handled_case(request, pk)
    form = ClueForm(
        request.POST, respondents=case_queries.respondents(case), platforms=Platform.objects.order_by("code")
    )
    if form.is_valid():
        try:
            clue = services.add_clue(request.user, case, **form.service_kwargs())
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(
                request,
                _("已登记财产线索：%(clue)s，核实期限 %(date)s")
                % {"clue": services.clue_label(clue), "date": clue.verify_by.isoformat()},
            )
            others = services.other_courts(clue.asset_key, case.pk)
            if others:
                courts = "、".join(sorted({row["court_name"] for row in others}))
                messages.warning(request, _("同一财产已有其他法院登记或控制：%(courts)s") % {"courts": courts})
            return redirect("case_clues", pk=case.pk)
    return _clues_page(request, case, form=form, status=400)


@login_required
@require_POST
def clue_verify(request, pk, clue_id):
    case = _handled_case(request, pk)
    clue = get_object_or_404(PropertyClue, pk=clue_id, case=case)
    try:
        services.verify_clue(request.user, clue)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("线索已核实：%(clue)s") % {"clue": services.clue_label(clue)})
    return _back_to_clues(request, case)


@login_required
@require_POST
def clue_invalidate(request, pk, clue_id):
    case = _handled_case(request, pk)
    clue = get_object_or_404(PropertyClue, pk=clue_id, case=case)
    form = InvalidateForm(request.POST, auto_id=_auto_id("invalid", clue.pk))
    if form.is_valid():
        try:
            services.invalidate_clue(request.user, clue, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, _("线索已标记为无效：%(clue)s") % {"clue": services.clue_label(clue)})
            return _back_to_clues(request, case)
    return _clues_page(request, case, bound=(clue.pk, form), status=400)


# --------------------------------------------------------------------------------------------
# 查控措施 tab
# --------------------------------------------------------------------------------------------


def _renewal_in_force(measure):
    renewals = [r for r in measure.renewals.all() if r.status == MeasureStatus.ACTIVE]
    return renewals[-1] if renewals else None


def _measure_forms(measure, renewal, today, bound) -> dict:
    """The action forms offered on one measure (a refused one comes back bound, with its errors)."""
    forms: dict = {}
    active = measure.status == MeasureStatus.ACTIVE
    if active and measure.kind != MeasureKind.DEDUCT and renewal is None and today <= measure.expires_on:
        forms["renew"] = RenewForm(auto_id=_auto_id("renew", measure.pk))
    if measure.status in (MeasureStatus.ACTIVE, MeasureStatus.WAITING):
        forms["release"] = ReleaseForm(auto_id=_auto_id("release", measure.pk))
    if active and measure.kind == MeasureKind.LIVE_SEIZURE:
        forms["visit"] = VisitScheduleForm(auto_id=_auto_id("visit", measure.pk))
    if active and measure.kind in SALE_KINDS:
        forms["proceeds"] = ProceedsForm(auto_id=_auto_id("proceeds", measure.pk))
    if bound and bound[1] == "measure" and bound[2] == measure.pk:
        forms[bound[0]] = bound[3]
    return forms


def _measures_page(request, case, *, form=None, bound=None, status=200):
    """The measure tab. ``bound`` is ``(action, "measure"|"visit", id, form)`` for a refused action."""
    context = case_context(request, case, "measures")
    today = timezone.localdate()
    measures = list(queries.measures_of(case).prefetch_related("visits__officer"))
    can_handle = context["can_handle"]
    rows = []
    for measure in measures:
        renewal = _renewal_in_force(measure)
        visits = []
        for visit in measure.visits.all():
            record = None
            if can_handle and visit.visited_on is None and measure.status == MeasureStatus.ACTIVE:
                if bound and bound[1] == "visit" and bound[2] == visit.pk:
                    record = bound[3]
                else:
                    record = VisitRecordForm(auto_id=_auto_id("record", visit.pk))
            visits.append(
                {"visit": visit, "form": record, "due": visit.visited_on is None and visit.scheduled_on <= today}
            )
        rows.append(
            {
                "measure": measure,
                "label": services.clue_label(measure.clue),
                "renewal": renewal,
                "live": measure.status == MeasureStatus.ACTIVE and renewal is None,
                "visits": visits,
                "forms": _measure_forms(measure, renewal, today, bound) if can_handle else {},
            }
        )
    frozen = services.frozen_total(case)
    limit = services.freeze_limit(case)
    excess = services.excess_frozen(case)
    if can_handle and form is None:
        form = MeasureForm(clues=list(queries.clues_of(case)), initial={"clue": request.GET.get("clue")})
    context.update(
        {
            "rows": rows,
            "form": form,
            "today": today,
            "figures": {"outstanding": case.amount_outstanding, "limit": limit, "frozen": frozen, "excess": excess},
            "excess_rows": [
                row for row in rows if excess > 0 and row["live"] and row["measure"].kind == MeasureKind.FREEZE
            ],
        }
    )
    return render(request, "clues/case_measures.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def case_measures(request, pk):
    if request.method == "GET":
        return _measures_page(request, case_queries.case_detail(request.user, pk))
    case = _handled_case(request, pk)
    form = MeasureForm(request.POST, clues=list(queries.clues_of(case)))
    if form.is_valid():
        try:
            measure = services.record_measure(request.user, case, **form.service_kwargs())
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            kind = measure.get_kind_display()
            if measure.status == MeasureStatus.WAITING:
                message = _("已登记%(kind)s，轮候第%(n)d位") % {"kind": kind, "n": measure.queue_position}
            elif measure.expires_on:
                message = _("已登记%(kind)s，到期日 %(date)s") % {"kind": kind, "date": measure.expires_on.isoformat()}
            else:
                message = _("已登记%(kind)s") % {"kind": kind}
            messages.success(request, message)
            if measure.amount is not None and form.cleaned_data["reduce_to_fit"] and _reduced(form, measure):
                messages.warning(request, _("超出部分已减至上限，实际冻结 ¥%(amount)s") % {"amount": measure.amount})
            return redirect("case_measures", pk=case.pk)
    return _measures_page(request, case, form=form, status=400)


def _reduced(form, measure) -> bool:
    try:
        return Decimal(form.cleaned_data["amount"].replace(",", "").strip()) != measure.amount
    except (InvalidOperation, AttributeError):
        return False


def _measure_action(request, pk, obj_id, action, form_class, call, success):
    """Load the measure (or visit) of the case, parse the form, call the service; on refusal show
    the tab again with the message next to the field of that row's form."""
    case = _handled_case(request, pk)
    if action == "record":
        target = get_object_or_404(LiveSeizureVisit, pk=obj_id, measure__case=case)
        kind = "visit"
    else:
        target = get_object_or_404(Measure, pk=obj_id, case=case)
        kind = "measure"
    form = form_class(request.POST, auto_id=_auto_id(action, target.pk))
    if form.is_valid():
        try:
            result = call(target, form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, success(result))
            return redirect("case_measures", pk=case.pk)
    return _measures_page(request, case, bound=(action, kind, target.pk, form), status=400)


@login_required
@require_POST
def measure_renew(request, pk, measure_id):
    return _measure_action(
        request,
        pk,
        measure_id,
        "renew",
        RenewForm,
        lambda measure, data: services.renew_measure(request.user, measure),
        lambda renewal: (
            _("已续行%(kind)s至 %(date)s")
            % {"kind": renewal.get_kind_display(), "date": renewal.expires_on.isoformat()}
        ),
    )


@login_required
@require_POST
def measure_release(request, pk, measure_id):
    def success(result):
        released, promoted = result
        message = _("已解除%(kind)s") % {"kind": released.get_kind_display()}
        if promoted is not None:
            message += _("；同一财产的轮候措施已生效")
        return message

    return _measure_action(
        request,
        pk,
        measure_id,
        "release",
        ReleaseForm,
        lambda measure, data: services.release_measure(request.user, measure, reason=data["reason"]),
        success,
    )


@login_required
@require_POST
def measure_visit(request, pk, measure_id):
    return _measure_action(
        request,
        pk,
        measure_id,
        "visit",
        VisitScheduleForm,
        lambda measure, data: services.schedule_visit(request.user, measure, scheduled_on=data["scheduled_on"]),
        lambda visit: _("已安排活查封回访：%(date)s") % {"date": visit.scheduled_on.isoformat()},
    )


@login_required
@require_POST
def visit_record(request, pk, visit_id):
    return _measure_action(
        request,
        pk,
        visit_id,
        "record",
        VisitRecordForm,
        lambda visit, data: services.record_visit(
            request.user,
            visit,
            visited_on=data["visited_on"],
            count=data.get("count"),
            condition=data.get("condition") or "",
            notes=data.get("notes") or "",
        ),
        lambda visit: _("已记录活查封回访：%(date)s") % {"date": visit.visited_on.isoformat()},
    )


@login_required
@require_POST
def measure_proceeds(request, pk, measure_id):
    return _measure_action(
        request,
        pk,
        measure_id,
        "proceeds",
        ProceedsForm,
        lambda measure, data: services.record_sale_proceeds(request.user, measure, amount=data.get("amount") or ""),
        lambda measure: _("已登记变价款，计入已执行到位"),
    )


# --------------------------------------------------------------------------------------------
# 财产线索 and 到期提醒 (navigation pages across cases)
# --------------------------------------------------------------------------------------------


@case_worker_required
def clue_list(request):
    """The clues the user must verify, overdue first; for a bureau head also the court's overdue ones."""
    user = request.user
    context = {
        "page": page_of(request, queries.clues_to_verify(user)),
        "court_overdue": list(queries.overdue_clues(user)[:200]) if user.has_role(Role.BUREAU_HEAD) else None,
        "mask": presenters.MASK,
    }
    return render(request, "clues/clue_list.html", context)


@case_worker_required
def reminder_list(request):
    """Measures expiring within 30 days and the reminders not yet dismissed."""
    user = request.user
    reminders = queries.reminders_for(user).select_related("measure__clue__platform")
    context = {
        "page": page_of(request, queries.expiring_measures(user)),
        "reminders": list(reminders[:200]),
    }
    return render(request, "clues/reminder_list.html", context)
