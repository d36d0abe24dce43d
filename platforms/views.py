"""The HTML side of notices and connectors: thin views that load the case through the policy and
call the platform services to change anything. System administrators see connectors, never cases."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clues import queries as clue_queries
from clues import services as clue_services
from clues.models import PropertyClue
from clues.presenters import choice_labels
from enforcement import queries as case_queries
from enforcement.forms import apply_service_errors
from enforcement.models import Role
from enforcement.permissions import Action, can, cases_for, require
from enforcement.services import record_file_read
from enforcement.views import case_context, case_worker_required, page_of, system_admin_required

from . import pdf, services
from .forms import CancelForm, ConnectorForm, FreezeFoundForm, NoticeForm, PlatformForm, QueryAllForm, RotateForm
from .models import Connector, DeliveryAttempt, FreezeMode, Notice, NoticeKind, NoticeState, Platform

TERMINAL = frozenset(services.TERMINAL_STATES)
CANCELLABLE = frozenset({NoticeState.AWAITING_APPROVAL, NoticeState.QUEUED, NoticeState.FAILED})
ATTENTION = (NoticeState.FAILED, NoticeState.AWAITING_APPROVAL)
LIST_ROWS = 200
# Requests (batches) on one page of the 协助通知 tab; a one-click query is one request of many rows.
NOTICE_BATCHES_PER_PAGE = 10


# --------------------------------------------------------------------------------------------
# read paths (a fixed number of queries whatever the rows)
# --------------------------------------------------------------------------------------------


def _with_rows(queryset: QuerySet) -> QuerySet:
    """Notices with the platform and the users their rows name (``_rows`` reads the delivery
    attempts, one query for the whole list)."""
    return queryset.select_related("platform", "requested_by", "approved_by")


def notices_of(case) -> QuerySet:
    """The notices of one case, newest first. The case is not joined again on every notice:
    ``_rows`` gives each the case already loaded."""
    return _with_rows(Notice.objects.filter(case=case)).order_by("-created_at", "-id")


def notices_for(user, action: Action = Action.HANDLE) -> QuerySet:
    """Notices of the cases ``user`` may perform ``action`` on, newest first."""
    queryset = _with_rows(Notice.objects.filter(case__in=cases_for(user, action))).select_related("case__court")
    return queryset.order_by("-created_at", "-id")


def enabled_connectors() -> list[Connector]:
    return list(Connector.objects.select_related("platform").filter(enabled=True).order_by("platform__code"))


def freeze_figures(case) -> dict:
    """未履行金额, the limit, what is frozen or on its way, and the room left for new freezes."""
    # 已冻结 comes with a case loaded for its pages (case_detail annotates it, the same sum)
    frozen = getattr(case, "amount_frozen", None)
    limit, frozen, pending = (
        clue_services.freeze_limit(case),
        clue_services.frozen_total(case) if frozen is None else frozen,
        services.pending_amount(case, NoticeKind.FREEZE),
    )
    return {
        "outstanding": case.amount_outstanding,
        "limit": limit,
        "frozen": frozen,
        "pending": pending,
        "room": max(limit - frozen - pending, Decimal("0.00")),
    }


def _attempts_of(notices: list[Notice]) -> dict[int, list[DeliveryAttempt]]:
    """The delivery attempts of ``notices`` in order, by notice id: one query (a prefetch builds a
    queryset for every notice, which cost more than the query itself)."""
    attempts: dict[int, list[DeliveryAttempt]] = {notice.pk: [] for notice in notices}
    if attempts:
        for attempt in DeliveryAttempt.objects.filter(notice_id__in=list(attempts)).order_by("notice_id", "number"):
            attempts[attempt.notice_id].append(attempt)
    return attempts


def _row(notice: Notice, attempts: list, labels: dict, *, may_handle: bool, may_approve: bool) -> dict:
    return {
        "notice": notice,
        "attempts": attempts,
        # as date:"Y-m-d H:i" writes it; the date filter cost as much as the rest of the cell
        "requested_at": localtime(notice.created_at).strftime("%Y-%m-%d %H:%M"),
        "kind_label": labels["kind"].get(notice.kind, notice.kind),
        "state_label": labels["state"].get(notice.state, notice.state),
        "freeze_mode_label": labels["freeze_mode"].get(notice.freeze_mode, notice.freeze_mode),
        "can_approve": may_approve and notice.state == NoticeState.AWAITING_APPROVAL,
        "can_replay": may_handle and notice.state == NoticeState.FAILED,
        "can_cancel": may_handle and notice.state in CANCELLABLE,
    }


def _rows(user, notices, case=None, *, may_handle: bool | None = None) -> list[dict]:
    """Rows with their attempts, labels and the actions the user may take. For one case the policy
    is asked once (``may_handle`` when the page knows it already: may handle and the case is open)
    and every notice gets that case; for a list across cases the policy answers in SQL (two
    queries, whatever the number of cases)."""
    notices = list(notices)
    attempts = _attempts_of(notices)
    labels = {
        "kind": choice_labels(NoticeKind.choices),
        "state": choice_labels(NoticeState.choices),
        "freeze_mode": choice_labels(FreezeMode.choices),
    }
    if case is not None:
        if may_handle is None:
            may_handle = can(user, Action.HANDLE, case) and case.is_open
        may_approve = can(user, Action.APPROVE, case)
        for notice in notices:
            notice.case = case
        return [_row(n, attempts[n.pk], labels, may_handle=may_handle, may_approve=may_approve) for n in notices]
    case_ids = {notice.case_id for notice in notices}
    handle = set(cases_for(user, Action.HANDLE).filter(pk__in=case_ids).values_list("pk", flat=True))
    approve = set(cases_for(user, Action.APPROVE).filter(pk__in=case_ids).values_list("pk", flat=True))
    return [
        _row(
            n,
            attempts[n.pk],
            labels,
            may_handle=n.case_id in handle and n.case.is_open,
            may_approve=n.case_id in approve,
        )
        for n in notices
    ]


def _cancel_reason() -> str:
    """The reason field of the 撤销 form under every cancellable row, drawn once for the page: it
    is the same on each row, and a form field costs more to draw than the rest of its row."""
    return render_to_string("includes/field.html", {"field": CancelForm()["reason"], "wrapper": "mb-1"})


def batches_of(case) -> QuerySet:
    """The ids of the case's requests (batches), newest first: by their newest notice, the order
    ``_batches`` gives the groups."""
    return (
        Notice.objects.filter(case=case)
        .values("batch")
        .annotate(newest=Max("created_at"), last=Max("id"))
        .order_by("-newest", "-last")
        .values_list("batch", flat=True)
    )


def _batches(rows: list[dict]) -> list[dict]:
    """Rows grouped by request (batch), newest request first (as ``batches_of`` orders them)."""
    groups: dict = {}
    for row in rows:
        notice = row["notice"]
        group = groups.setdefault(
            notice.batch, {"batch": notice.batch, "first": notice, "kind_label": row["kind_label"], "rows": []}
        )
        group["rows"].append(row)
    for group in groups.values():
        group["rows"].sort(key=lambda row: row["notice"].platform.code)
    return sorted(
        groups.values(),
        key=lambda group: (
            max(row["notice"].created_at for row in group["rows"]),
            max(row["notice"].pk for row in group["rows"]),
        ),
        reverse=True,
    )


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _handled_case(request, pk):
    """The case for an action: 404 when hidden, 403 when the user may only look."""
    return require(request.user, Action.HANDLE, case_queries.case_detail(request.user, pk))


def _notice_form(case, respondents, data=None, initial=None) -> NoticeForm:
    """The notice form with the case's clues on a platform and its active freezes on one."""
    return NoticeForm(
        data,
        initial=initial,
        connectors=enabled_connectors(),
        respondents=respondents,
        clues=list(clue_queries.clues_of(case).filter(platform__isnull=False)),
        measures=list(clue_queries.platform_freezes(case)),
    )


# --------------------------------------------------------------------------------------------
# 协助通知 tab
# --------------------------------------------------------------------------------------------


def _notice_page_number(request, case):
    """Without a ``page`` parameter, the page holding the request of the notice named by the
    ``notice`` parameter (links to one notice from other pages); else None."""
    if request.GET.get("page"):
        return None
    try:
        notice_id = int(request.GET.get("notice", ""))
    except ValueError:
        return None
    batch = Notice.objects.filter(case=case, pk=notice_id).values_list("batch", flat=True).first()
    if batch is None:
        return None
    return list(batches_of(case)).index(batch) // NOTICE_BATCHES_PER_PAGE + 1


def _notices_page(request, case, *, form=None, status=200):
    """The notice tab, one page of requests: a request (batch) is never split across pages, and
    only the notices of the page's requests are loaded."""
    context = case_context(request, case, "notices")
    page = page_of(request, batches_of(case), NOTICE_BATCHES_PER_PAGE, number=_notice_page_number(request, case))
    notices = notices_of(case).filter(batch__in=page.object_list)
    rows = _rows(request.user, notices, case, may_handle=context["can_handle"])
    if context["can_handle"] and form is None:
        preset = {key: request.GET[key] for key in ("kind", "clue", "measure") if request.GET.get(key)}
        form = _notice_form(case, context["respondents"], initial=preset)
    context.update(
        {
            "batches": _batches(rows),
            "page": page,
            "notice_count": Notice.objects.filter(case=case).count(),
            "form": form,
            "query_form": QueryAllForm(respondents=context["respondents"]) if context["can_handle"] else None,
            "figures": freeze_figures(case) if context["can_handle"] else None,
            "cancel_reason": _cancel_reason(),
        }
    )
    return render(request, "platforms/case_notices.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def case_notices(request, pk):
    if request.method == "GET":
        return _notices_page(request, case_queries.case_detail(request.user, pk))
    case = _handled_case(request, pk)
    form = _notice_form(case, case_queries.respondents(case), request.POST)
    if form.is_valid():
        try:
            notices = services.request_notices(request.user, case, **form.service_kwargs())
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            _announce(request, notices)
            return redirect("case_notices", pk=case.pk)
    return _notices_page(request, case, form=form, status=400)


def _announce(request, notices: list[Notice]) -> None:
    first = notices[0]
    names = "、".join(n.platform.name for n in notices)
    if first.state == NoticeState.AWAITING_APPROVAL:
        message = _("已提交%(kind)s（%(platforms)s），待执行局长审批") % {
            "kind": first.get_kind_display(),
            "platforms": names,
        }
    else:
        message = _("已发出%(kind)s：%(platforms)s") % {"kind": first.get_kind_display(), "platforms": names}
    messages.success(request, message)


# --------------------------------------------------------------------------------------------
# 一键查询 and its live progress
# --------------------------------------------------------------------------------------------


def _query_page(request, case, form, status=200):
    context = case_context(request, case, "notices")
    context.update({"form": form, "connectors": enabled_connectors()})
    return render(request, "platforms/query_all.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def query_all(request, pk):
    case = _handled_case(request, pk)
    if request.method == "GET":
        return _query_page(request, case, QueryAllForm(respondents=case_queries.respondents(case)))
    form = QueryAllForm(request.POST, respondents=case_queries.respondents(case))
    if form.is_valid():
        try:
            notices = services.request_notices(
                request.user, case, kind=NoticeKind.QUERY, platforms="all", respondent=form.cleaned_data["respondent"]
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            return redirect("notice_batch", pk=case.pk, batch=notices[0].batch)
    return _query_page(request, case, form, status=400)


def _found_rows(case, notices: list[Notice]) -> list[dict]:
    """The accounts found by the completed queries of a batch, with the clue each became."""
    rows = []
    for notice in notices:
        if notice.kind != NoticeKind.QUERY or notice.state != NoticeState.COMPLETED:
            continue
        accounts = (notice.result or {}).get("accounts") or []
        for index, found in enumerate(a for a in accounts if isinstance(a, dict)):
            rows.append(
                {
                    "key": f"{notice.pk}-{index}",
                    "notice": notice,
                    "platform": notice.platform,
                    "account": str(found.get("account", "")),
                    "asset_kind": str(found.get("asset_kind", "")),
                    "balance": found.get("balance"),
                    "available": found.get("available", found.get("balance")),
                }
            )
    if rows:
        clues = PropertyClue.objects.filter(
            case=case,
            platform_id__in={row["platform"].pk for row in rows},
            account__in={row["account"] for row in rows},
        )
        by_asset = {(clue.platform_id, clue.account): clue for clue in clues}
        for row in rows:
            row["clue"] = by_asset.get((row["platform"].pk, row["account"]))
    return rows


def _batch_context(request, case, batch, *, freeze_form=None) -> dict:
    notices = list(notices_of(case).filter(batch=batch).order_by("platform__code"))
    if not notices:
        raise Http404(_("通知不存在"))
    may_handle = can(request.user, Action.HANDLE, case) and case.is_open
    done = all(notice.state in TERMINAL for notice in notices)
    found = _found_rows(case, notices)
    if may_handle and done and found and freeze_form is None:
        freeze_form = FreezeFoundForm(rows=found)
    return {
        "case": case,
        "batch": batch,
        "notices": notices,
        "rows": _rows(request.user, notices, case),
        "found": found,
        "done": done,
        "can_handle": may_handle,
        "figures": freeze_figures(case) if may_handle else None,
        "freeze_form": freeze_form if may_handle and done else None,
        "first": notices[0],
    }


@login_required
def notice_batch(request, pk, batch):
    """The live progress page of one request (one-click query): one row per platform."""
    case = case_queries.case_detail(request.user, pk)
    context = case_context(request, case, "notices")
    context.update(_batch_context(request, case, batch))
    return render(request, "platforms/batch.html", context)


@login_required
def notice_batch_rows(request, pk, batch):
    """The fragment htmx polls every second until every notice of the batch has ended."""
    case = case_queries.case_detail(request.user, pk)
    return render(request, "platforms/_batch_progress.html", _batch_context(request, case, batch))


class _Refused(Exception):
    """Raised inside the transaction to roll back every freeze of a refused request."""


@login_required
@require_POST
def notice_batch_freeze(request, pk, batch):
    """Freeze accounts found by a query: one notice per ticked account, all or none."""
    case = _handled_case(request, pk)
    notices = list(notices_of(case).filter(batch=batch).order_by("platform__code"))
    if not notices:
        raise Http404(_("通知不存在"))
    form = FreezeFoundForm(request.POST, rows=_found_rows(case, notices))
    if form.is_valid():
        sent: list[Notice] = []
        try:
            with transaction.atomic():
                for row, amount in form.picked():
                    try:
                        sent += services.request_notices(
                            request.user,
                            case,
                            kind=NoticeKind.FREEZE,
                            platforms=[row["platform"].code],
                            respondent=row["notice"].respondent_id,
                            clue=row["clue"].pk if row["clue"] else None,
                            account=row["account"],
                            amount=amount or None,
                            freeze_mode=form.cleaned_data["freeze_mode"],
                        )
                    except ValidationError as exc:
                        _freeze_errors(form, row, exc)
                        raise _Refused from exc
        except _Refused:
            pass
        else:
            _announce(request, sent)
            return redirect("case_notices", pk=case.pk)
    context = case_context(request, case, "notices")
    context.update(_batch_context(request, case, batch, freeze_form=form))
    return render(request, "platforms/batch.html", context, status=400)


def _freeze_errors(form: FreezeFoundForm, row: dict, exc: ValidationError) -> None:
    """The service's messages next to that account's amount (or above the form, naming the account)."""
    field = f"amount_{row['key']}"
    for key, texts in exc.message_dict.items():
        if key in ("amount", "freeze_mode"):
            form.add_error(field if key == "amount" else key, texts)
        else:
            form.add_error(None, [f"{row['platform'].name} {row['account']}：{text}" for text in texts])


# --------------------------------------------------------------------------------------------
# acting on one notice
# --------------------------------------------------------------------------------------------


def _visible_notice(request, notice_id) -> Notice:
    """A notice through its case: 404 when unknown or the case is hidden."""
    notice = Notice.objects.select_related("case__court", "platform").filter(pk=notice_id).first()
    if notice is None:
        raise Http404(_("通知不存在"))
    require(request.user, Action.VIEW, notice.case)
    return notice


def _notice_action(request, notice_id, call, success):
    notice = _visible_notice(request, notice_id)
    try:
        result = call(notice)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, success(result))
    return redirect(_safe_next(request, reverse("case_notices", args=[notice.case_id])))


def _label(notice: Notice) -> str:
    return f"{notice.get_kind_display()}（{notice.platform.name}）"


@login_required
@require_POST
def notice_approve(request, notice_id):
    return _notice_action(
        request,
        notice_id,
        lambda notice: services.approve_notice(request.user, notice),
        lambda notice: _("已批准%(notice)s，已排队发送") % {"notice": _label(notice)},
    )


@login_required
@require_POST
def notice_replay(request, notice_id):
    return _notice_action(
        request,
        notice_id,
        lambda notice: services.replay_notice(request.user, notice),
        lambda notice: _("已重新发送%(notice)s") % {"notice": _label(notice)},
    )


@login_required
@require_POST
def notice_cancel(request, notice_id):
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _notice_action(
        request,
        notice_id,
        lambda notice: services.cancel_notice(request.user, notice, reason=reason),
        lambda notice: _("已撤销%(notice)s") % {"notice": _label(notice)},
    )


@login_required
def notice_pdf(request, notice_id):
    """The printable 协助执行通知书. It carries the respondent's identity number, so it is part of the
    case file: VIEW_FILE is needed (404 when the case is hidden) and reads from outside the handling
    court are audited."""
    notice = _visible_notice(request, notice_id)
    notice = Notice.objects.select_related("case__court", "platform", "respondent").get(pk=notice.pk)
    record_file_read(request.user, notice.case, "notice_pdf", notice)
    response = HttpResponse(pdf.render_notice(notice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="notice-{notice.pk}.pdf"'
    return response


# --------------------------------------------------------------------------------------------
# 协助通知 and 待审批 (navigation pages across cases)
# --------------------------------------------------------------------------------------------


@case_worker_required
def notice_list(request):
    """The user's cases' notices: failed or awaiting approval first, then every notice, newest first."""
    user = request.user
    mine = notices_for(user, Action.HANDLE)
    attention = list(mine.filter(state__in=ATTENTION)[:LIST_ROWS])
    page = page_of(request, mine)
    context = {
        "attention": _rows(user, attention),
        "page": page,
        "recent": _rows(user, page.object_list),
        "cancel_reason": _cancel_reason(),
    }
    return render(request, "platforms/notice_list.html", context)


@case_worker_required
def approval_list(request):
    """待审批: freezes and deductions of the own court waiting for the bureau head."""
    user = request.user
    if not user.has_role(Role.BUREAU_HEAD):
        raise PermissionDenied(_("仅执行局长可以审批"))
    waiting = notices_for(user, Action.APPROVE).filter(state=NoticeState.AWAITING_APPROVAL)
    page = page_of(request, waiting.order_by("created_at", "id"))
    context = {"page": page, "rows": _rows(user, page.object_list), "cancel_reason": _cancel_reason()}
    return render(request, "platforms/approval_list.html", context)


# --------------------------------------------------------------------------------------------
# 平台与连接器 (system administrators)
# --------------------------------------------------------------------------------------------


def _platforms_page(request, *, form=None, status=200):
    platforms = Platform.objects.select_related("connector", "hq_court").order_by("code")
    context = {"platforms": list(platforms), "form": form or PlatformForm()}
    return render(request, "platforms/admin_platforms.html", context, status=status)


@system_admin_required
@require_http_methods(["GET", "POST"])
def admin_platforms(request):
    if request.method == "GET":
        return _platforms_page(request)
    form = PlatformForm(request.POST)
    if form.is_valid():
        try:
            platform = services.create_platform(request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, _("已添加平台：%(name)s") % {"name": platform.name})
            return redirect(reverse("admin_platforms") + f"#platform-{platform.code}")
    return _platforms_page(request, form=form, status=400)


def _connector_page(request, platform, connector, form, rotate_form, status=200):
    context = {"platform": platform, "connector": connector, "form": form, "rotate_form": rotate_form}
    return render(request, "platforms/admin_connector.html", context, status=status)


def _connector_initial(connector: Connector) -> dict:
    return {
        "base_url": connector.base_url,
        "key_id": connector.key_id,
        "capabilities": list(connector.capabilities),
        "enabled": connector.enabled,
        "timeout_s": connector.timeout_s,
        "max_attempts": connector.max_attempts,
    }


@system_admin_required
@require_http_methods(["GET", "POST"])
def admin_connector(request, code):
    """Add or edit the connector of a platform. The secret is write-only: blank keeps it."""
    platform = get_object_or_404(Platform, code=code)
    connector = Connector.objects.filter(platform=platform).first()
    editing = connector is not None
    if request.method == "GET":
        initial = _connector_initial(connector) if editing else {}
        form = ConnectorForm(initial=initial, editing=editing)
        return _connector_page(request, platform, connector, form, RotateForm() if editing else None)
    form = ConnectorForm(request.POST, editing=editing)
    if form.is_valid():
        try:
            services.save_connector(request.user, platform, **form.service_kwargs())
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, _("已保存%(name)s的连接器") % {"name": platform.name})
            return redirect(reverse("admin_platforms") + f"#platform-{platform.code}")
    return _connector_page(request, platform, connector, form, RotateForm() if editing else None, status=400)


@system_admin_required
@require_POST
def admin_connector_rotate(request, code):
    platform = get_object_or_404(Platform, code=code)
    connector = get_object_or_404(Connector, platform=platform)
    form = RotateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.rotate_secret(
                request.user,
                connector,
                secret=data.get("secret") or "",
                key_id=data.get("key_id") or None,
                grace_hours=data["grace_hours"],
            )
        except ValidationError as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(
                request,
                _("已更换%(name)s的密钥，旧密钥在%(hours)d小时内仍然有效")
                % {"name": platform.name, "hours": data["grace_hours"]},
            )
            return redirect(reverse("admin_platforms") + f"#platform-{platform.code}")
    form_edit = ConnectorForm(initial=_connector_initial(connector), editing=True)
    return _connector_page(request, platform, connector, form_edit, form, status=400)


@system_admin_required
@require_POST
def admin_connector_test(request, code):
    platform = get_object_or_404(Platform, code=code)
    connector = get_object_or_404(Connector, platform=platform)
    connector = services.check_connector_health(request.user, connector)
    if connector.last_health_ok:
        messages.success(request, _("%(name)s连接正常") % {"name": platform.name})
    else:
        messages.error(
            request, _("%(name)s连接失败：%(error)s") % {"name": platform.name, "error": connector.last_error}
        )
    return redirect(reverse("admin_platforms") + f"#platform-{platform.code}")
