"""Use cases of cross-enforcement (交叉执行): every state change of a transfer, the art. 237 clock,
trigger configuration, handover, file-access grants and referral to bankruptcy review (执转破).

Each service takes the acting user and plain values, checks the policy (``enforcement.permissions``;
404 for a hidden case, 403 for a forbidden action), validates with Chinese messages keyed by field,
and writes inside one transaction together with its audit entry and timeline events.

Rules kept here, once each:

* the deciding court is a superior of every original court (and of the receiving court); for
  courts under different superiors, their nearest common superior. 执转破 is decided inside the
  original court;
* the transition table ``TRANSITIONS`` and the one function that applies it (``_apply``);
* deadlines go through ``enforcement.periods`` (holiday rule): reconsideration 5 days, registration
  7 days, missing materials 30 days, 执转破 answer 30 days, the order's own time limit;
* designate, elevate and concentrate move the case on acceptance, in one transaction: pending
  notices cancelled, handover record, 销案 of the original, a new 执 case for the outstanding amount
  in the receiving court, both linked, grants moved (the original court keeps read-only access).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from clues.models import Measure, MeasureStatus, PropertyClue
from enforcement import audit, periods
from enforcement.models import (
    CaseDocument,
    CaseEvent,
    CaseParty,
    CasePartyRole,
    CaseStatus,
    CaseType,
    CaseUserObjectPermission,
    ClosingMethod,
    Court,
    CourtLevel,
    DocumentType,
    EnforcementCase,
    Party,
    PartyKind,
    RespondentLoad,
    Role,
    User,
)
from enforcement.periods import Period, period_end
from enforcement.permissions import HANDLE_PERM, VIEW_FILE_PERM, Action, can, get_case, require, sees_no_cases
from enforcement.services import (
    add_documents,
    add_event,
    assigned_judges,
    documents_errors,
    lock_trigger_thresholds,
    next_case_sequence,
    open_case,
    party_identity,
    require_role,
    respondent_identifiers,
    transition_case,
)
from platforms.models import Notice
from platforms.services import cancel_pending_notices

from .models import (
    ACTIVE_STATES,
    BANKRUPTCY_STEP_ORDER,
    MOVING_MODES,
    Art237ExcludedPeriod,
    BankruptcyStep,
    BankruptcyStepKind,
    CourtNotification,
    ExcludedKind,
    FileAccessGrant,
    GrantState,
    HandoverRecord,
    MaterialRequest,
    MeasureReleaseMark,
    Mode,
    NotificationKind,
    ProgressReport,
    ReminderKind,
    SameRespondentMarking,
    State,
    Transfer,
    TransferCase,
    TransferReminder,
    TransferStep,
    Trigger,
    TriggerConfig,
)

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _note(case: EnforcementCase, actor, kind: str, message, **data):
    """A timeline entry (the column holds 500 characters)."""
    return add_event(case, actor, kind, str(message)[:500], **data)


def _days(n: int) -> Period:
    return Period(days=n)


def _int(value, field: str, label: str, *, low: int = 1, high: int = 3650) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({field: [_("%(label)s须为整数") % {"label": label}]}) from None
    if not low <= number <= high:
        raise ValidationError(
            {field: [_("%(label)s须在 %(low)d 至 %(high)d 之间") % {"label": label, "low": low, "high": high}]}
        )
    return number


def _pk(value):
    value = getattr(value, "pk", value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _court(value, field: str) -> Court:
    pk = _pk(value)
    court = Court.objects.filter(pk=pk).first() if pk else None
    if court is None:
        raise ValidationError({field: [_("法院不存在")]})
    return court


def deciding_court_for(courts: Iterable[Court], receiving: Court | None = None) -> Court | None:
    """The nearest court that is a superior of every court in ``courts`` and holds ``receiving``
    within its jurisdiction (or is it). Two courts under different superiors: their common superior."""
    courts = list(courts)
    for ancestor in courts[0].ancestors():
        if not all(ancestor.is_superior_of(c) for c in courts):
            continue
        if receiving is None or receiving.pk == ancestor.pk or ancestor.is_superior_of(receiving):
            return ancestor
    return None


def bankruptcy_court_for(case: EnforcementCase) -> Court | None:
    """The intermediate court of the respondent's domicile (Party.region → the intermediate court
    whose region has the same city prefix); else the original court's intermediate superior."""
    regions = [
        cp.party.region
        for cp in case.case_parties.select_related("party").filter(role=CasePartyRole.RESPONDENT)
        if cp.party.kind == PartyKind.ENTITY and cp.party.region
    ]
    for region in regions:
        court = (
            Court.objects.filter(level=CourtLevel.INTERMEDIATE, region__startswith=region[:4]).order_by("path").first()
        )
        if court is not None:
            return court
    for court in [case.court, *case.court.ancestors()]:
        if court.level == CourtLevel.INTERMEDIATE:
            return court
    return None


def _entity_respondent(case: EnforcementCase):
    for cp in case.case_parties.select_related("party").filter(role=CasePartyRole.RESPONDENT):
        if cp.party.kind == PartyKind.ENTITY and cp.party.uscc:
            return cp.party
    return None


def _lock(transfer) -> Transfer:
    return (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("case__court", "original_court", "deciding_court", "receiving_court")
        .get(pk=_pk(transfer))
    )


def _lock_case(case) -> EnforcementCase:
    return EnforcementCase.objects.select_for_update(of=("self",)).select_related("court").get(pk=_pk(case))


def _linked_cases(transfer: Transfer) -> list[EnforcementCase]:
    return [link.case for link in transfer.links.select_related("case__court").order_by("pk")]


def _has_direct(user, case, codename: str) -> bool:
    return CaseUserObjectPermission.objects.filter(
        user=user, content_object_id=case.pk, permission__codename=codename
    ).exists()


def _system_transition(actor, case: EnforcementCase, to_status: str, **kwargs) -> EnforcementCase:
    """Move a case on behalf of a transfer: the decision is the authority, not a handle right."""
    return transition_case(actor, case, to_status, _system=True, **kwargs)


# --------------------------------------------------------------------------------------------
# the art. 237 clock
# --------------------------------------------------------------------------------------------


def excluded_days(case: EnforcementCase, intervals: Iterable[tuple[dt.date, dt.date]]) -> int:
    """Days covered by the union of the intervals, counted from the day after the clock start
    (filing, or the day a property found later was found: ``art237_clock_start``)."""
    return periods.days_covered(case.art237_clock_start, intervals)


@transaction.atomic
def record_excluded_period(
    actor, case: EnforcementCase, *, kind: str, started_on: dt.date, ended_on: dt.date, note: str = ""
) -> Art237ExcludedPeriod:
    """Record an interval that does not count towards art. 237 (public notice, appraisal, ...)."""
    case = _lock_case(case)
    require(actor, Action.HANDLE, case)
    errors: dict[str, list[str]] = {}
    if kind not in ExcludedKind.values:
        errors["kind"] = [_("不计入期间的类型须为 %(kinds)s 之一") % {"kinds": "、".join(ExcludedKind.values)}]
    if not isinstance(started_on, dt.date):
        errors["started_on"] = [_("请填写起始日")]
    if not isinstance(ended_on, dt.date):
        errors["ended_on"] = [_("请填写截止日")]
    if not errors:
        if ended_on < started_on:
            errors["ended_on"] = [_("截止日不能早于起始日")]
        elif ended_on > timezone.localdate():
            errors["ended_on"] = [_("只能记录已经结束的期间，截止日不能晚于今天")]
        if started_on <= case.filed_on:
            errors["started_on"] = [_("起始日须在立案日之后")]
    if errors:
        raise ValidationError(errors)
    period = Art237ExcludedPeriod.objects.create(
        case=case,
        kind=kind,
        started_on=started_on,
        ended_on=ended_on,
        note=(note or "").strip()[:255],
        created_by=actor,
    )
    before = case.art237_excluded_days
    intervals = Art237ExcludedPeriod.objects.filter(case=case).values_list("started_on", "ended_on")
    case.art237_excluded_days = excluded_days(case, intervals)
    case.save(update_fields=["art237_excluded_days", "updated_at"])
    _note(
        case,
        actor,
        "art237_excluded",
        _("记录237条不计入期间：%(kind)s %(start)s 至 %(end)s，237条日期为 %(date)s")
        % {
            "kind": ExcludedKind(kind).label,
            "start": started_on,
            "end": ended_on,
            "date": case.art237_eligible_on,
        },
    )
    audit.record(
        actor,
        "case.art237_excluded",
        period,
        case=case,
        payload={
            "kind": kind,
            "from": started_on,
            "to": ended_on,
            "excluded_days": [before, case.art237_excluded_days],
        },
    )
    return period


# --------------------------------------------------------------------------------------------
# trigger configuration (per high court, data)
# --------------------------------------------------------------------------------------------

TRIGGER_FIELDS = {
    "same_respondent_min_cases": ("TRANSFER_TRIGGER_SAME_RESPONDENT_CASES", _("同一被执行人未结案件数"), 2),
    "same_respondent_min_courts": ("TRANSFER_TRIGGER_SAME_RESPONDENT_COURTS", _("涉及法院数"), 1),
    "undisposed_months": ("TRANSFER_TRIGGER_UNDISPOSED_MONTHS", _("财产未处置月数"), 1),
    "stalled_days": ("TRANSFER_TRIGGER_STALLED_DAYS", _("无进展日数"), 1),
}


def high_court_of(court: Court) -> Court | None:
    for candidate in [court, *court.ancestors()]:
        if candidate.level == CourtLevel.HIGH:
            return candidate
    return None


def trigger_values(high_court: Court | None, config: TriggerConfig | None = None) -> dict[str, int]:
    """The thresholds of a high court: its row, else the defaults of settings."""
    if config is None and high_court is not None:
        config = TriggerConfig.objects.filter(high_court=high_court).first()
    return {
        name: getattr(config, name) if config is not None else getattr(settings, setting)
        for name, (setting, _label, _low) in TRIGGER_FIELDS.items()
    }


@transaction.atomic
def update_trigger_config(actor, high_court: Court, **values) -> TriggerConfig:
    """A supervisor of a high court sets that court's trigger thresholds."""
    require_role(actor, Role.SUPERVISOR)
    if high_court.level != CourtLevel.HIGH or actor.court_id != high_court.pk:
        raise PermissionDenied(_("只有高级人民法院的监督人员可以设置本省的交叉执行触发条件"))
    unknown = set(values) - set(TRIGGER_FIELDS)
    if unknown:
        raise ValidationError({field: [_("该字段不可修改或不存在")] for field in sorted(unknown)})
    lock_trigger_thresholds(exclusive=True)  # no load refresh marks meanwhile
    current = trigger_values(high_court)
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        _setting, label, low = TRIGGER_FIELDS[name]
        try:
            current[name] = _int(value, name, label, low=low, high=3650)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    config, _created = TriggerConfig.objects.update_or_create(
        high_court=high_court, defaults={**current, "updated_by": actor}
    )
    mark_same_respondent(high_court=high_court)
    audit.record(actor, "transfer.triggers", config, payload=current)
    return config


def _same_respondent_scopes() -> list[tuple[tuple[int, int], Q]]:
    """``((min open cases, min courts), the case parties they apply to)`` for each pair of
    same-respondent thresholds in force: the high courts' own, and the defaults for the rest."""

    default = _same_respondent_pair(trigger_values(None))
    own: dict[tuple[int, int], Q] = {}
    for config in TriggerConfig.objects.select_related("high_court"):
        values = _same_respondent_pair(trigger_values(config.high_court, config))
        if values != default:
            own[values] = own.get(values, Q()) | Q(case__court__path__startswith=config.high_court.path)
    configured = Q()
    for scope in own.values():
        configured |= scope
    return [(default, ~configured if own else Q()), *own.items()]


def mark_same_respondent(*, identities: Iterable[str] | None = None, high_court: Court | None = None) -> None:
    """Mark again (``CaseParty.over_trigger``) the respondents whose open cases reach the
    same-respondent trigger of their case's high court (one respondent over both thresholds):
    those of ``identities``, whose load has just changed; those of the cases below ``high_court``,
    whose thresholds have; or, with neither, all. Only the marks that change are written.

    ``refresh_respondent_load`` calls it for the identities it has just counted, under their
    advisory locks: the rows it writes belong to those identities only, so two refreshes never
    wait for each other's rows.
    """
    rows = CaseParty.objects.all()  # the respondents among them: same_respondent_mismatches
    if identities is not None:
        identities = sorted({i for i in identities if i})
        if not identities:
            return
        rows = rows.filter(Q(party__id_number__in=identities) | Q(party__uscc__in=identities))
    if high_court is not None:
        rows = rows.filter(case__court__path__startswith=high_court.path)
    for wrong, value in same_respondent_mismatches(rows):
        wrong.update(over_trigger=value)
    if identities is None and high_court is None:
        cases, courts = _same_respondent_pair(trigger_values(None))
        SameRespondentMarking.objects.update_or_create(pk=1, defaults={"min_cases": cases, "min_courts": courts})


def _same_respondent_pair(values: dict) -> tuple[int, int]:
    return values["same_respondent_min_cases"], values["same_respondent_min_courts"]


@transaction.atomic
def follow_trigger_defaults() -> bool:
    """Mark the respondents again when the default same-respondent thresholds of the settings are
    not those the marks were made with (a deployment changed them); returns whether it did. Run at
    start-up and hourly by beat; a no-op otherwise."""
    lock_trigger_thresholds(exclusive=True)
    marking = SameRespondentMarking.objects.filter(pk=1).first()
    if marking is not None and (marking.min_cases, marking.min_courts) == _same_respondent_pair(trigger_values(None)):
        return False
    mark_same_respondent()
    return True


def same_respondent_mismatches(rows: QuerySet) -> list[tuple[QuerySet, bool]]:
    """``(respondent rows of ``rows`` whose mark is wrong, the right mark)``, per pair of thresholds
    in force: the one rule of the marks, for ``mark_same_respondent`` and for checks."""
    found = []
    for (min_cases, min_courts), scope in _same_respondent_scopes():
        loads = RespondentLoad.objects.filter(
            identity=OuterRef("identity"), open_cases__gte=min_cases, open_courts__gte=min_courts
        )
        reached = Exists(
            Party.objects.filter(pk=OuterRef("party_id")).annotate(identity=party_identity()).filter(Exists(loads))
        )
        scoped = rows.filter(scope, role=CasePartyRole.RESPONDENT)
        found += [
            (scoped.filter(reached, over_trigger=False), True),
            (scoped.filter(~reached, over_trigger=True), False),
        ]
    return found


# --------------------------------------------------------------------------------------------
# the transfer state machine
# --------------------------------------------------------------------------------------------

# (from, to) -> the step's name. Anything else is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (State.PROPOSED, State.UNDER_REVIEW): "review",
    (State.UNDER_REVIEW, State.APPROVED): "approve",
    (State.UNDER_REVIEW, State.REJECTED): "reject",
    (State.APPROVED, State.REJECTED): "revoke",  # the decision revoked on reconsideration
    (State.APPROVED, State.ACCEPTED): "accept",
    (State.APPROVED, State.RETURNED): "refuse",  # 执转破: the bankruptcy court does not accept
    (State.ACCEPTED, State.IN_PROGRESS): "start",
    (State.ACCEPTED, State.RETURNED): "return",
    (State.IN_PROGRESS, State.CONCLUDED): "conclude",
    (State.IN_PROGRESS, State.RETURNED): "return",
}

STEP_MESSAGES = {
    "create": _("提出交叉执行（%(mode)s）"),
    "review": _("交叉执行进入审查（%(mode)s）"),
    "approve": _("交叉执行已决定（%(mode)s）"),
    "reject": _("交叉执行不予准许（%(mode)s）"),
    "revoke": _("交叉执行决定经复议撤销（%(mode)s）"),
    "accept": _("交叉执行已接收（%(mode)s）"),
    "refuse": _("接收法院不予受理（%(mode)s）"),
    "start": _("交叉执行开始办理（%(mode)s）"),
    "return": _("交叉执行退回（%(mode)s）"),
    "conclude": _("交叉执行办结（%(mode)s）"),
}


def allowed_transitions(transfer: Transfer) -> list[str]:
    return [to for (frm, to) in TRANSITIONS if frm == transfer.state]


def _apply(transfer: Transfer, to_state: str, actor, *, note: str = "", **payload) -> Transfer:
    """Apply one transition: the table, the transfer's own step, the timeline of every case of the
    transfer and the audit entry. Fields the caller set on ``transfer`` are saved with it."""
    frm = transfer.state
    name = TRANSITIONS.get((frm, to_state))
    if name is None:
        raise ValidationError(
            {
                "state": [
                    _("交叉执行不能从“%(frm)s”变更为“%(to)s”")
                    % {"frm": State(frm).label, "to": State(to_state).label if to_state in State.values else to_state}
                ]
            }
        )
    transfer.state = to_state
    transfer.save()
    TransferStep.objects.create(
        transfer=transfer,
        from_state=frm,
        to_state=to_state,
        actor=actor if getattr(actor, "pk", None) else None,
        note=note,
    )
    message = STEP_MESSAGES[name] % {"mode": Mode(transfer.mode).label}
    if note:
        message = f"{message}：{note}"[:500]
    for case in _linked_cases(transfer):
        _note(case, actor, f"transfer_{name}", message, transfer=transfer.pk)
    audit.record(
        actor,
        f"transfer.{name}",
        transfer,
        case=transfer.case,
        payload={"from": frm, "to": to_state, "note": note, **payload},
    )
    return transfer


def _require_decider(actor, transfer: Transfer) -> None:
    """The deciding court's supervisor (执转破: the original court's bureau head). 404 if hidden."""
    require(actor, Action.VIEW, transfer.case)
    if transfer.mode == Mode.BANKRUPTCY:
        if not can(actor, Action.APPROVE, transfer.case):
            raise PermissionDenied(_("执转破由执行法院的执行局长决定"))
        return
    if not (actor.has_role(Role.SUPERVISOR) and actor.court_id == transfer.deciding_court_id):
        raise PermissionDenied(_("只有决定法院的监督人员可以审查交叉执行"))


def _require_receiving_head(actor, transfer: Transfer) -> None:
    require(actor, Action.VIEW, transfer.case)
    if not (actor.has_role(Role.BUREAU_HEAD) and actor.court_id == transfer.receiving_court_id):
        raise PermissionDenied(_("只有接收法院的执行局长可以办理接收"))


def _require_lower_court_head(actor, transfer: Transfer) -> None:
    require(actor, Action.VIEW, transfer.case)
    courts = {transfer.original_court_id, transfer.receiving_court_id}
    if not (actor.has_role(Role.BUREAU_HEAD) and actor.court_id in courts):
        raise PermissionDenied(_("只有原执行法院或接收法院的执行局长可以申请复议"))


def _active_transfer_of(case_ids) -> Transfer | None:
    link = (
        TransferCase.objects.filter(case_id__in=case_ids, transfer__state__in=ACTIVE_STATES)
        .select_related("transfer")
        .first()
    )
    return link.transfer if link else None


@transaction.atomic
def create_transfer(
    actor,
    *,
    case,
    mode: str,
    trigger: str,
    reason: str,
    cases=(),
    receiving_court=None,
    application_document=None,
    consent_document=None,
) -> Transfer:
    """Propose a cross-enforcement transfer.

    * ``court_request``: the bureau head of the original court asks its superior (执转破: a judge
      handling the case or the bureau head, decided inside the court);
    * ``supervisor_initiative`` / ``art237_application``: a supervisor of a superior court, whose
      court decides; the transfer goes straight to review.
    """
    require_role(actor, Role.JUDGE, Role.BUREAU_HEAD, Role.SUPERVISOR)
    case_pk = _pk(case)
    if case_pk is None:
        raise ValidationError({"case": [_("请选择案件")]})
    case = get_case(actor, case_pk, Action.VIEW)
    errors: dict[str, list[str]] = {}
    if mode not in Mode.values:
        raise ValidationError({"mode": [_("方式须为 %(v)s 之一") % {"v": "、".join(Mode.values)}]})
    if trigger not in Trigger.values:
        raise ValidationError({"trigger": [_("启动方式须为 %(v)s 之一") % {"v": "、".join(Trigger.values)}]})

    # who may start it (403 before any validation of the content)
    if mode == Mode.BANKRUPTCY:
        if not can(actor, Action.HANDLE, case):
            raise PermissionDenied(_("执转破由承办法官或执行局长提出"))
    elif trigger == Trigger.COURT_REQUEST:
        if not can(actor, Action.APPROVE, case):
            raise PermissionDenied(_("报请交叉执行须由执行法院的执行局长提出"))
    else:
        if not actor.has_role(Role.SUPERVISOR) or not actor.court.is_superior_of(case.court):
            raise PermissionDenied(_("依职权或依237条启动交叉执行须由上级法院的监督人员提出"))

    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("请写明理由")]
    if not case.is_open:
        errors["case"] = [_("已结案的案件不能交叉执行")]
    # the cases: one, or several of the same respondent for 集中执行
    all_cases = [case]
    extra_ids = [_pk(c) for c in (cases or []) if _pk(c) != case.pk]
    if extra_ids and mode != Mode.CONCENTRATE:
        errors["cases"] = [_("只有集中执行可以包含多个案件")]
    elif mode == Mode.CONCENTRATE:
        if None in extra_ids:
            errors["cases"] = [_("案件编号无效")]
        else:
            others = list(EnforcementCase.objects.select_related("court").filter(pk__in=extra_ids).order_by("pk"))
            if len(others) != len(set(extra_ids)) or not all(can(actor, Action.VIEW, c) for c in others):
                errors["cases"] = [_("案件不存在或无权查看")]
            elif any(not c.is_open for c in others):
                errors["cases"] = [_("已结案的案件不能集中执行")]
            else:
                mine = respondent_identifiers(case)
                if not mine or any(not (respondent_identifiers(c) & mine) for c in others):
                    errors["cases"] = [_("集中执行的案件须为同一被执行人（身份证号或统一社会信用代码相同）")]
                all_cases += others
            if len(all_cases) < 2 and "cases" not in errors:
                errors["cases"] = [_("集中执行须包含同一被执行人的两件以上案件")]
    if _active_transfer_of([c.pk for c in all_cases]) is not None:
        errors["case"] = [_("该案件已有进行中的交叉执行")]

    proposed = None
    if receiving_court not in (None, ""):
        try:
            proposed = _court(receiving_court, "receiving_court")
        except ValidationError as exc:
            errors.update(exc.message_dict)
    application = consent = None
    if application_document not in (None, ""):
        application = CaseDocument.objects.filter(pk=_pk(application_document), case=case).first()
        if application is None:
            errors["application_document"] = [_("申请书须为本案案卷中的材料")]

    today = timezone.localdate()
    deciding = None
    if mode == Mode.BANKRUPTCY:
        if trigger != Trigger.COURT_REQUEST:
            errors["trigger"] = [_("执转破由执行法院报请（court_request）")]
        if _entity_respondent(case) is None:
            errors["mode"] = [_("执转破仅适用于被执行人为企业法人的案件")]
        if consent_document in (None, ""):
            errors["consent_document"] = [_("执转破须上传被执行人或一名申请执行人的书面同意")]
        else:
            consent = CaseDocument.objects.filter(pk=_pk(consent_document), case=case).first()
            if consent is None:
                errors["consent_document"] = [_("书面同意须为本案案卷中的材料")]
        deciding = case.court
    else:
        if trigger == Trigger.ART237_APPLICATION and case.art237_eligible_on > today:
            errors["trigger"] = [
                _("尚未满237条期限，%(date)s 起方可申请") % {"date": case.art237_eligible_on.isoformat()}
            ]
        courts = list({c.court_id: c.court for c in all_cases}.values())
        if trigger == Trigger.COURT_REQUEST:
            deciding = deciding_court_for(courts, proposed)
            if deciding is None:
                errors["receiving_court"] = [_("找不到对这些法院都有管辖权的上级法院")]
        else:
            deciding = actor.court
            outside = [c for c in courts if not deciding.is_superior_of(c)]
            if outside:
                errors["cases"] = [
                    _("%(courts)s不在本院辖区内，应由共同上级法院决定") % {"courts": "、".join(c.name for c in outside)}
                ]
            if proposed is not None and not (proposed.pk == deciding.pk or deciding.is_superior_of(proposed)):
                common = deciding_court_for(courts, proposed)
                errors["receiving_court"] = [
                    _("%(court)s不在本院辖区内，跨辖区的交叉执行应由共同上级法院（%(common)s）决定")
                    % {"court": proposed.name, "common": common.name if common else "—"}
                ]
    if errors:
        raise ValidationError(errors)

    transfer = Transfer.objects.create(
        case=case,
        mode=mode,
        trigger=trigger,
        reason=reason,
        requested_by=actor,
        original_court=case.court,
        deciding_court=deciding,
        proposed_court=deciding if mode == Mode.ELEVATE else proposed,
        application_document=application,
        consent_document=consent,
    )
    TransferCase.objects.bulk_create([TransferCase(transfer=transfer, case=c) for c in all_cases])
    message = STEP_MESSAGES["create"] % {"mode": Mode(mode).label}
    for c in all_cases:
        _note(c, actor, "transfer_create", f"{message}：{reason}"[:500], transfer=transfer.pk)
    audit.record(
        actor,
        "transfer.create",
        transfer,
        case=case,
        payload={
            "mode": mode,
            "trigger": trigger,
            "reason": reason,
            "cases": [c.pk for c in all_cases],
            "deciding_court": deciding.pk,
            "proposed_court": proposed.pk if proposed else None,
        },
    )
    if trigger != Trigger.COURT_REQUEST and mode != Mode.BANKRUPTCY:
        _apply(transfer, State.UNDER_REVIEW, actor)
    return transfer


@transaction.atomic
def review_transfer(actor, transfer) -> Transfer:
    """The deciding court takes a proposed transfer under review."""
    transfer = _lock(transfer)
    _require_decider(actor, transfer)
    return _apply(transfer, State.UNDER_REVIEW, actor)


def _decision_number(transfer: Transfer, today: dt.date) -> str:
    type_code = CaseType.OTHER if transfer.mode == Mode.BANKRUPTCY else CaseType.SUPERVISION
    sequence = next_case_sequence(transfer.deciding_court, type_code, today.year)
    return EnforcementCase.format_number(today.year, transfer.deciding_court.code, type_code, sequence)


def _receiving_court_for(transfer: Transfer, receiving_court, errors: dict) -> Court | None:
    mode, deciding, original = transfer.mode, transfer.deciding_court, transfer.original_court
    if mode == Mode.SUPERVISE:
        if receiving_court not in (None, "") and _pk(receiving_court) != original.pk:
            errors["receiving_court"] = [_("督促执行的执行法院仍为原执行法院")]
        return original
    if mode == Mode.ELEVATE:
        if receiving_court not in (None, "") and _pk(receiving_court) != deciding.pk:
            errors["receiving_court"] = [_("提级执行由决定法院（%(court)s）执行") % {"court": deciding.name}]
        return deciding
    if receiving_court in (None, ""):
        default = bankruptcy_court_for(transfer.case) if mode == Mode.BANKRUPTCY else transfer.proposed_court
        if default is None:
            errors["receiving_court"] = [_("请选择接收法院")]
        return default
    try:
        court = _court(receiving_court, "receiving_court")
    except ValidationError as exc:
        errors.update(exc.message_dict)
        return None
    if mode == Mode.BANKRUPTCY:
        if court.level != CourtLevel.INTERMEDIATE:
            errors["receiving_court"] = [_("执转破原则上由被执行人住所地的中级人民法院审查")]
        return court
    original_ids = set(transfer.links.values_list("case__court_id", flat=True))
    if court.pk in original_ids and (mode != Mode.CONCENTRATE or court.pk == original.pk):
        errors["receiving_court"] = [_("接收法院不能是原执行法院")]
    elif not deciding.is_superior_of(court):
        common = deciding_court_for([original], court)
        errors["receiving_court"] = [
            _("%(court)s不在决定法院（%(deciding)s）辖区内；跨辖区的交叉执行应由共同上级法院（%(common)s）决定")
            % {"court": court.name, "deciding": deciding.name, "common": common.name if common else "—"}
        ]
    return court


@transaction.atomic
def approve_transfer(
    actor, transfer, *, receiving_court=None, deadline_days=None, decision_number: str = "", note: str = ""
) -> Transfer:
    """The deciding court decides: the receiving court, the time limit and the decision number.

    执转破: after the three internal steps; every open case against the respondent (same USCC)
    is suspended and the handover lists are fixed.
    """
    transfer = _lock(transfer)
    _require_decider(actor, transfer)
    if transfer.state not in (State.PROPOSED, State.UNDER_REVIEW):
        raise ValidationError({"state": [_("只有待审查的交叉执行可以决定")]})
    errors: dict[str, list[str]] = {}
    receiving = _receiving_court_for(transfer, receiving_court, errors)
    days = None
    if deadline_days not in (None, ""):
        try:
            days = _int(deadline_days, "deadline_days", _("期限"), high=365)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    elif transfer.mode == Mode.SUPERVISE:
        days = settings.TRANSFER_SUPERVISE_DEADLINE_DAYS
    cases = _linked_cases(transfer)
    if any(not c.is_open for c in cases):
        errors["case"] = [_("案件已结案，不能再交叉执行")]
    elif transfer.mode in MOVING_MODES and any(c.amount_outstanding <= 0 for c in cases):
        errors["case"] = [_("案件已无未履行金额，无需移送")]
    if transfer.mode == Mode.BANKRUPTCY:
        done = set(transfer.bankruptcy_steps.values_list("kind", flat=True))
        missing = [str(BankruptcyStepKind(k).label) for k in BANKRUPTCY_STEP_ORDER if k not in done]
        if missing:
            errors["steps"] = [_("执转破尚缺内部决定环节：%(steps)s") % {"steps": "、".join(missing)}]
    if errors:
        raise ValidationError(errors)
    if transfer.state == State.PROPOSED:
        _apply(transfer, State.UNDER_REVIEW, actor)
    today = timezone.localdate()
    transfer.receiving_court = receiving
    transfer.decided_by = actor
    transfer.decided_on = today
    transfer.decision_note = (note or "").strip()
    transfer.decision_number = (decision_number or "").strip()[:100] or _decision_number(transfer, today)
    transfer.deadline_days = days
    transfer.deadline_on = period_end(today, _days(days)) if days else None
    transfer.reconsideration_due = period_end(today, _days(settings.TRANSFER_RECONSIDERATION_DAYS))
    if transfer.mode in MOVING_MODES or transfer.mode == Mode.COOPERATE:
        transfer.registration_due = period_end(today, _days(settings.TRANSFER_REGISTRATION_DAYS))
    if transfer.mode == Mode.BANKRUPTCY:
        transfer.answer_due = period_end(today, _days(settings.TRANSFER_BANKRUPTCY_ANSWER_DAYS))
    transfer.amount_recovered_at_decision = sum((c.amount_recovered for c in cases), Decimal("0.00"))
    if transfer.mode == Mode.BANKRUPTCY:
        _refer_to_bankruptcy(actor, transfer)
    _apply(
        transfer,
        State.APPROVED,
        actor,
        note=_("%(number)s，接收法院：%(court)s") % {"number": transfer.decision_number, "court": receiving.name},
        receiving_court=receiving.pk,
        deadline_days=days,
        decision_number=transfer.decision_number,
    )
    return transfer


@transaction.atomic
def reject_transfer(actor, transfer, *, reason: str) -> Transfer:
    """The deciding court does not allow the transfer."""
    transfer = _lock(transfer)
    _require_decider(actor, transfer)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请写明不予准许的理由")]})
    if transfer.state not in (State.PROPOSED, State.UNDER_REVIEW):
        raise ValidationError({"state": [_("只有待审查的交叉执行可以不予准许")]})
    if transfer.state == State.PROPOSED:
        _apply(transfer, State.UNDER_REVIEW, actor)
    transfer.decided_by, transfer.decided_on, transfer.decision_note = actor, timezone.localdate(), reason
    return _apply(transfer, State.REJECTED, actor, note=reason)


# --------------------------------------------------------------------------------------------
# reconsideration (a lower court, within 5 days of the decision)
# --------------------------------------------------------------------------------------------


@transaction.atomic
def request_reconsideration(actor, transfer, *, reason: str) -> Transfer:
    transfer = _lock(transfer)
    _require_lower_court_head(actor, transfer)
    reason = (reason or "").strip()
    if transfer.state != State.APPROVED or transfer.mode == Mode.BANKRUPTCY:
        raise ValidationError({"state": [_("只能对上级法院已作出、尚未执行的交叉执行决定申请复议")]})
    if transfer.reconsideration_requested_at:
        raise ValidationError({"state": [_("已申请过复议")]})
    if timezone.localdate() > transfer.reconsideration_due:
        raise ValidationError(
            {"state": [_("复议申请期限已于 %(date)s 届满") % {"date": transfer.reconsideration_due.isoformat()}]}
        )
    if not reason:
        raise ValidationError({"reason": [_("请写明申请复议的理由")]})
    transfer.reconsideration_requested_at = timezone.now()
    transfer.reconsideration_requested_by = actor
    transfer.reconsideration_reason = reason
    transfer.save()
    for case in _linked_cases(transfer):
        _note(case, actor, "transfer_reconsideration", _("申请复议交叉执行决定：%(r)s") % {"r": reason})
    audit.record(actor, "transfer.reconsideration", transfer, case=transfer.case, payload={"reason": reason})
    return transfer


@transaction.atomic
def answer_reconsideration(actor, transfer, *, upheld: bool, answer: str) -> Transfer:
    """The deciding court upholds its decision or revokes it (the transfer ends as rejected)."""
    transfer = _lock(transfer)
    _require_decider(actor, transfer)
    answer = (answer or "").strip()
    if not transfer.reconsideration_requested_at or transfer.reconsideration_upheld is not None:
        raise ValidationError({"state": [_("没有待答复的复议申请")]})
    if not answer:
        raise ValidationError({"answer": [_("请写明复议意见")]})
    transfer.reconsideration_upheld = bool(upheld)
    transfer.reconsideration_answer = answer
    if upheld:
        transfer.save()
        for case in _linked_cases(transfer):
            _note(case, actor, "transfer_reconsideration", _("复议维持交叉执行决定：%(a)s") % {"a": answer})
        audit.record(actor, "transfer.reconsideration_answer", transfer, case=transfer.case, payload={"upheld": True})
        return transfer
    return _apply(transfer, State.REJECTED, actor, note=answer, upheld=False)


# --------------------------------------------------------------------------------------------
# acceptance and handover
# --------------------------------------------------------------------------------------------


def _canonical(data) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _manifest(case: EnforcementCase) -> dict:
    """Ids and key fields of everything handed over: clues, measures, notices, documents, events."""
    return {
        "case": {
            "id": case.pk,
            "number": case.number,
            "amount_due": case.amount_due,
            "amount_recovered": case.amount_recovered,
        },
        "clues": list(
            PropertyClue.objects.filter(case=case)
            .order_by("pk")
            .values("pk", "kind", "status", "estimated_value", "asset_key", "platform__code")
        ),
        "measures": list(
            Measure.objects.filter(case=case)
            .order_by("pk")
            .values("pk", "kind", "status", "amount", "effective_on", "expires_on", "asset_key", "queue_position")
        ),
        "notices": list(
            Notice.objects.filter(case=case).order_by("pk").values("pk", "kind", "state", "idempotency_key")
        ),
        "documents": list(CaseDocument.objects.filter(case=case).order_by("pk").values("pk", "doc_type", "sha256")),
        "events": list(CaseEvent.objects.filter(case=case).order_by("pk").values("pk", "kind", "at")),
    }


def _handover(transfer: Transfer, case: EnforcementCase, actor, **extra_counts) -> HandoverRecord:
    manifest = json.loads(_canonical(_manifest(case)))
    counts = {key: len(manifest[key]) for key in ("clues", "measures", "notices", "documents", "events")}
    counts.update(extra_counts)
    return HandoverRecord.objects.create(
        transfer=transfer,
        original_case=case,
        counts=counts,
        manifest=manifest,
        sha256=hashlib.sha256(_canonical(manifest).encode("utf-8")).hexdigest(),
        measures_count_as_receiving=transfer.mode in MOVING_MODES,
        created_by=actor if getattr(actor, "pk", None) else None,
    )


def _judges_of(court: Court, ids, field: str = "judges") -> list[User]:
    pks = [_pk(v) for v in (ids or [])]
    if None in pks:
        raise ValidationError({field: [_("承办人须为用户编号")]})
    judges = list(User.objects.filter(pk__in=pks, court=court, roles__code=Role.JUDGE, is_active=True).distinct())
    if len(judges) != len(set(pks)):
        raise ValidationError({field: [_("承办人须为接收法院在职的执行法官")]})
    return judges


def _move_case(actor, transfer: Transfer, link: TransferCase, judges: list[User]) -> EnforcementCase:
    """销案 of the original and a new 执 case in the receiving court, with the grants moved."""
    original = _lock_case(link.case)
    receiving = transfer.receiving_court
    reason = _("%(mode)s至%(court)s（%(number)s）") % {
        "mode": Mode(transfer.mode).label,
        "court": receiving.name,
        "number": transfer.decision_number,
    }
    cancelled = cancel_pending_notices(original, reason=_("案件已交叉执行：%(r)s") % {"r": reason}, actor=actor)
    handover = _handover(transfer, original, actor, notices_cancelled=len(cancelled))
    parties = list(original.case_parties.all())
    original_judges = assigned_judges(original)
    new = open_case(
        actor,
        court=receiving,
        type_code=CaseType.ENFORCEMENT,
        applicants=[cp.party_id for cp in parties if cp.role == CasePartyRole.APPLICANT],
        respondents=[cp.party_id for cp in parties if cp.role == CasePartyRole.RESPONDENT],
        basis_document_number=original.basis_document_number,
        basis_issuing_court=original.basis_issuing_court,
        amount_due=original.amount_outstanding,
        assigned_judges=judges,
        origin_case=original,
    )
    _system_transition(
        actor, original, CaseStatus.CLOSED, closing_method=ClosingMethod.WITHDRAWN_BY_TRANSFER, reason=reason
    )
    original.refresh_from_db()
    original.successor_case = new
    original.save(update_fields=["successor_case", "updated_at"])
    # the original court keeps read-only access; the receiving court reads the whole original file
    for judge in original_judges:
        remove_perm(HANDLE_PERM, judge, original)
        assign_perm(VIEW_FILE_PERM, judge, original)
    for user in {actor, *judges}:
        assign_perm(VIEW_FILE_PERM, user, original)
    link.successor = new
    link.save(update_fields=["successor"])
    handover.successor_case = new
    handover.save(update_fields=["successor_case"])
    _note(
        original,
        actor,
        "transferred_out",
        _("销案：%(reason)s，新案号 %(number)s；原线索、控制措施视为接收法院的措施")
        % {"reason": reason, "number": new.number},
        successor=new.pk,
        handover=handover.pk,
    )
    _note(
        new,
        actor,
        "transferred_in",
        _("由%(court)s移送（%(mode)s，%(decision)s），原案号 %(number)s，执行标的为未履行金额 ¥%(amount)s")
        % {
            "court": original.court.name,
            "mode": Mode(transfer.mode).label,
            "decision": transfer.decision_number,
            "number": original.number,
            "amount": new.amount_due,
        },
        origin=original.pk,
        handover=handover.pk,
    )
    audit.record(
        actor,
        "transfer.handover",
        handover,
        case=original,
        payload={
            "transfer": transfer.pk,
            "successor": new.pk,
            "sha256": handover.sha256,
            "counts": handover.counts,
            "notices_cancelled": [n.pk for n in cancelled],
            "judges_to_view": [j.pk for j in original_judges],
            "receiving_grants": sorted(u.pk for u in {actor, *judges}),
        },
    )
    return new


@transaction.atomic
def accept_transfer(actor, transfer, *, judges=(), tasks: str = "") -> Transfer:
    """The receiving court's bureau head accepts (registers) the transfer.

    designate / elevate / concentrate: each case moves (``_move_case``); cooperate: the named
    judges of the helping court get handle rights on the case for the named tasks; supervise: the
    original court receives the order; 执转破: the bankruptcy court accepts, measures are marked
    for release.
    """
    transfer = _lock(transfer)
    _require_receiving_head(actor, transfer)
    if transfer.state != State.APPROVED:
        raise ValidationError({"state": [_("只有已决定、待接收的交叉执行可以接收")]})
    if transfer.reconsideration_requested_at and transfer.reconsideration_upheld is None:
        raise ValidationError({"state": [_("复议申请尚未答复，暂不能接收")]})
    chosen = _judges_of(transfer.receiving_court, judges)
    tasks = (tasks or "").strip()
    if transfer.mode == Mode.COOPERATE:
        errors = {}
        if not chosen:
            errors["judges"] = [_("请指定协同办理的法官")]
        if not tasks:
            errors["tasks"] = [_("请写明协同办理的事项")]
        if errors:
            raise ValidationError(errors)
    today = timezone.localdate()
    if transfer.mode in MOVING_MODES:
        for link in transfer.links.select_related("case__court").order_by("pk"):
            if link.case.court_id == transfer.receiving_court_id:
                continue  # 集中执行: a case already in the receiving court stays as it is
            if not link.case.is_open:
                raise ValidationError({"case": [_("案件 %(n)s 已结案，不能移送") % {"n": link.case.number}]})
            new = _move_case(actor, transfer, link, chosen)
            if link.case_id == transfer.case_id:
                transfer.receiving_case = new
        transfer.materials_due = period_end(today, _days(settings.TRANSFER_MATERIALS_DAYS))
    elif transfer.mode == Mode.COOPERATE:
        case = transfer.case
        _handover(transfer, case, actor)
        for judge in chosen:
            assign_perm(HANDLE_PERM, judge, case)
        transfer.tasks = tasks
        transfer.helper_ids = sorted(j.pk for j in chosen)
        _note(
            case,
            actor,
            "cooperation",
            _("协同执行：%(court)s的%(names)s协同办理：%(tasks)s")
            % {"court": transfer.receiving_court.name, "names": "、".join(str(j) for j in chosen), "tasks": tasks},
            judges=[j.pk for j in chosen],
        )
    elif transfer.mode == Mode.BANKRUPTCY:
        measures = list(
            Measure.objects.filter(
                case__in=[link.case_id for link in transfer.links.all()],
                status__in=(MeasureStatus.ACTIVE, MeasureStatus.WAITING),
            ).order_by("pk")
        )
        MeasureReleaseMark.objects.bulk_create(
            [MeasureReleaseMark(transfer=transfer, measure=m) for m in measures], ignore_conflicts=True
        )
        for case in _linked_cases(transfer):
            count = sum(1 for m in measures if m.case_id == case.pk)
            _note(
                case,
                actor,
                "bankruptcy_accepted",
                _("%(court)s已受理破产申请，本案 %(n)d 项控制措施待解除")
                % {"court": transfer.receiving_court.name, "n": count},
            )
    transfer.accepted_by, transfer.accepted_on = actor, today
    return _apply(
        transfer,
        State.ACCEPTED,
        actor,
        receiving_case=transfer.receiving_case_id,
        judges=[j.pk for j in chosen],
        tasks=tasks,
    )


@transaction.atomic
def refuse_transfer(actor, transfer, *, reason: str) -> Transfer:
    """执转破: the bankruptcy court does not accept; the suspended cases resume enforcement, and the
    other courts that were told of the referral are told of the refusal."""
    transfer = _lock(transfer)
    _require_receiving_head(actor, transfer)
    reason = (reason or "").strip()
    if transfer.mode != Mode.BANKRUPTCY:
        raise ValidationError({"state": [_("指定、提级、集中和协同执行的接收法院不能拒收，可在5日内申请复议")]})
    if transfer.state != State.APPROVED:
        raise ValidationError({"state": [_("只有待答复的执转破可以不予受理")]})
    if not reason:
        raise ValidationError({"reason": [_("请写明不予受理的理由")]})
    resumed = []
    for link in transfer.links.filter(suspended_by_transfer=True).select_related("case__court"):
        case = _lock_case(link.case)
        if case.status == CaseStatus.SUSPENDED:
            _system_transition(actor, case, CaseStatus.IN_PROGRESS, reason=_("破产申请不予受理，恢复执行"))
            resumed.append(case.pk)
        if case.court_id != transfer.original_court_id:
            _notify(
                actor,
                transfer,
                case,
                NotificationKind.BANKRUPTCY_REFUSED,
                _("%(court)s对被执行人的破产申请不予受理（%(n)s），本案恢复执行")
                % {"court": transfer.receiving_court.name, "n": transfer.decision_number},
            )
    return _apply(transfer, State.RETURNED, actor, note=reason, resumed=resumed)


@transaction.atomic
def conclude_transfer(actor, transfer, *, note: str = "", returned: bool = False) -> Transfer:
    """The deciding court ends its supervision: concluded, or returned. Cooperation grants end."""
    transfer = _lock(transfer)
    _require_decider(actor, transfer)
    if transfer.state not in (State.ACCEPTED, State.IN_PROGRESS):
        raise ValidationError({"state": [_("只有已接收的交叉执行可以办结或退回")]})
    if transfer.mode == Mode.COOPERATE:
        for user in User.objects.filter(pk__in=transfer.helper_ids or []):
            remove_perm(HANDLE_PERM, user, transfer.case)
    if returned:
        return _apply(transfer, State.RETURNED, actor, note=(note or "").strip())
    if transfer.state == State.ACCEPTED:
        _apply(transfer, State.IN_PROGRESS, actor)
    return _apply(transfer, State.CONCLUDED, actor, note=(note or "").strip())


def _require_receiving_worker(actor, transfer: Transfer) -> None:
    """The receiving court's bureau head, or a judge handling the received (or cooperated) case."""
    require(actor, Action.VIEW, transfer.case)
    if actor.court_id != transfer.receiving_court_id:
        raise PermissionDenied(_("只有接收法院可以办理此事项"))
    if actor.has_role(Role.BUREAU_HEAD):
        return
    for case in (transfer.receiving_case, transfer.case):
        if case is not None and can(actor, Action.HANDLE, case):
            return
    raise PermissionDenied(_("只有接收法院的执行局长或承办法官可以办理此事项"))


@transaction.atomic
def report_progress(actor, transfer, *, text: str) -> ProgressReport:
    """The receiving court reports progress to the deciding court (the first report starts it)."""
    transfer = _lock(transfer)
    _require_receiving_worker(actor, transfer)
    text = (text or "").strip()
    if transfer.state not in (State.ACCEPTED, State.IN_PROGRESS):
        raise ValidationError({"state": [_("只有已接收的交叉执行可以报告进展")]})
    if not text:
        raise ValidationError({"text": [_("请填写进展情况")]})
    report = ProgressReport.objects.create(transfer=transfer, author=actor, text=text)
    if transfer.state == State.ACCEPTED:
        _apply(transfer, State.IN_PROGRESS, actor, note=text[:200])
    else:
        _note(
            transfer.receiving_case or transfer.case, actor, "transfer_report", _("进展报告：%(t)s") % {"t": text[:400]}
        )
    audit.record(actor, "transfer.report", report, case=transfer.case, payload={"text": text})
    return report


@transaction.atomic
def request_materials(actor, transfer, *, description: str) -> MaterialRequest:
    """The receiving court asks the original court for missing materials (within 30 days)."""
    transfer = _lock(transfer)
    _require_receiving_worker(actor, transfer)
    description = (description or "").strip()
    if transfer.state not in (State.ACCEPTED, State.IN_PROGRESS) or not transfer.materials_due:
        raise ValidationError({"state": [_("只有已接收的移送案件可以要求补充材料")]})
    if timezone.localdate() > transfer.materials_due:
        raise ValidationError({"state": [_("补充材料期限已于 %(d)s 届满") % {"d": transfer.materials_due.isoformat()}]})
    if not description:
        raise ValidationError({"description": [_("请写明所缺材料")]})
    request = MaterialRequest.objects.create(
        transfer=transfer, description=description, requested_by=actor, due_on=transfer.materials_due
    )
    _note(transfer.case, actor, "materials_requested", _("接收法院要求补充材料：%(d)s") % {"d": description[:400]})
    audit.record(actor, "transfer.materials_request", request, case=transfer.case, payload={"description": description})
    return request


@transaction.atomic
def supply_materials(actor, request, *, note: str, files=()) -> MaterialRequest:
    """The original court's bureau head supplies the missing materials: a note and, optionally,
    files. The files go into the original case's file (案卷材料, through the document service: the
    same type and size rules, SHA-256, audit) linked to the request, where the receiving court reads
    them (each read audited as any read of the file from outside the handling court). All or none:
    a bad file refuses the whole supply."""
    request = (
        MaterialRequest.objects.select_for_update(of=("self",)).select_related("transfer__case").get(pk=_pk(request))
    )
    transfer = request.transfer
    require(actor, Action.VIEW, transfer.case)
    if not (actor.has_role(Role.BUREAU_HEAD) and actor.court_id == transfer.original_court_id):
        raise PermissionDenied(_("只有原执行法院的执行局长可以补充材料"))
    note = (note or "").strip()
    files = [f for f in files or () if f is not None]
    if request.supplied_at:
        raise ValidationError({"state": [_("该材料已补充")]})
    errors: dict[str, list[str]] = {}
    if not note:
        errors["note"] = [_("请说明补充的材料")]
    errors.update(documents_errors(files, field="files"))
    if errors:
        raise ValidationError(errors)
    documents = add_documents(actor, transfer.case, doc_type=DocumentType.OTHER, uploads=files) if files else []
    request.supplied_at, request.supplied_by, request.supply_note = timezone.now(), actor, note
    request.save(update_fields=["supplied_at", "supplied_by", "supply_note"])
    request.documents.set(documents)
    message = _("已补充材料：%(n)s") % {"n": note[:400]}
    if documents:
        message = _("已补充材料：%(n)s（附 %(k)d 个文件）") % {"n": note[:380], "k": len(documents)}
    _note(transfer.case, actor, "materials_supplied", message, documents=[d.pk for d in documents])
    audit.record(
        actor,
        "transfer.materials_supply",
        request,
        case=transfer.case,
        payload={"note": note, "documents": [{"id": d.pk, "sha256": d.sha256} for d in documents]},
    )
    return request


# --------------------------------------------------------------------------------------------
# 执转破 (referral to bankruptcy review)
# --------------------------------------------------------------------------------------------


@transaction.atomic
def record_bankruptcy_step(actor, transfer, *, kind: str, note: str) -> BankruptcyStep:
    """Record an internal decision step in order: judge's opinion, panel, president's signature."""
    transfer = _lock(transfer)
    require(actor, Action.VIEW, transfer.case)
    if transfer.mode != Mode.BANKRUPTCY:
        raise ValidationError({"kind": [_("只有执转破需要记录内部决定环节")]})
    if kind not in BankruptcyStepKind.values:
        raise ValidationError({"kind": [_("环节须为 %(v)s 之一") % {"v": "、".join(BankruptcyStepKind.values)}]})
    allowed = (
        can(actor, Action.APPROVE, transfer.case)
        if kind == BankruptcyStepKind.PRESIDENT_SIGNATURE
        else (can(actor, Action.HANDLE, transfer.case) and actor.court_id == transfer.original_court_id)
    )
    if not allowed:
        raise PermissionDenied(
            _("院长签发由执行法院的执行局长（院长）记录")
            if kind == BankruptcyStepKind.PRESIDENT_SIGNATURE
            else _("承办法官意见和合议庭评议由执行法院的承办人记录")
        )
    note = (note or "").strip()
    if transfer.state not in (State.PROPOSED, State.UNDER_REVIEW):
        raise ValidationError({"state": [_("执转破已作出决定，不能再记录环节")]})
    done = set(transfer.bankruptcy_steps.values_list("kind", flat=True))
    if kind in done:
        raise ValidationError({"kind": [_("该环节已记录")]})
    position = BANKRUPTCY_STEP_ORDER.index(BankruptcyStepKind(kind))
    missing = [str(BankruptcyStepKind(k).label) for k in BANKRUPTCY_STEP_ORDER[:position] if k not in done]
    if missing:
        raise ValidationError({"kind": [_("请先完成：%(s)s") % {"s": "、".join(missing)}]})
    if not note:
        raise ValidationError({"note": [_("请填写意见")]})
    step = BankruptcyStep.objects.create(transfer=transfer, kind=kind, actor=actor, note=note)
    if transfer.state == State.PROPOSED:
        _apply(transfer, State.UNDER_REVIEW, actor, note=BankruptcyStepKind(kind).label)
    _note(transfer.case, actor, "bankruptcy_step", f"{BankruptcyStepKind(kind).label}：{note}"[:500])
    audit.record(actor, "transfer.bankruptcy_step", step, case=transfer.case, payload={"kind": kind, "note": note})
    return step


def _refer_to_bankruptcy(actor, transfer: Transfer) -> None:
    """On the decision: every open case against the respondent (same USCC) is suspended and
    joins the transfer; the handover lists (property, measures, distributed money, debts) are fixed;
    every other court holding such a case gets a notification per case (``CourtNotification``)."""
    respondent = _entity_respondent(transfer.case)
    cases = list(
        EnforcementCase.objects.select_related("court")
        .filter(
            case_parties__role=CasePartyRole.RESPONDENT,
            case_parties__party__uscc=respondent.uscc,
        )
        .exclude(status=CaseStatus.CLOSED)
        .distinct()
        .order_by("pk")
    )
    linked = set(transfer.links.values_list("case_id", flat=True))
    for case in cases:
        suspended = False
        if case.status in (CaseStatus.FILED, CaseStatus.IN_PROGRESS):
            _system_transition(
                actor,
                case,
                CaseStatus.SUSPENDED,
                reason=_("%(court)s已将被执行人%(name)s移送破产审查（%(n)s）")
                % {"court": transfer.original_court.name, "name": respondent.name, "n": transfer.decision_number},
                event_data={"transfer": transfer.pk, "transfer_case": transfer.case_id},
            )
            suspended = True
        if case.pk in linked:
            TransferCase.objects.filter(transfer=transfer, case=case).update(suspended_by_transfer=suspended)
        else:
            TransferCase.objects.create(transfer=transfer, case=case, suspended_by_transfer=suspended)
        if case.court_id != transfer.original_court_id:
            text = _("%(court)s已将被执行人%(name)s移送破产审查（%(n)s），本案中止执行") % {
                "court": transfer.original_court.name,
                "name": respondent.name,
                "n": transfer.decision_number,
            }
            _note(case, actor, "bankruptcy_notice", text, transfer=transfer.pk)
            _notify(actor, transfer, case, NotificationKind.BANKRUPTCY_REFERRAL, text)
        _handover(
            transfer,
            case,
            actor,
            distributed=str(case.amount_recovered),
            debt=str(case.amount_outstanding),
            suspended=suspended,
        )


# --------------------------------------------------------------------------------------------
# notifications to other courts
# --------------------------------------------------------------------------------------------


def _notify(actor, transfer: Transfer, case: EnforcementCase, kind: str, text: str) -> CourtNotification:
    """A notification to the court of ``case`` (in the caller's transaction), audited on the case."""
    notification = CourtNotification.objects.create(
        court_id=case.court_id, case=case, transfer=transfer, kind=kind, text=str(text)[:500]
    )
    audit.record(
        actor,
        "transfer.court_notified",
        notification,
        case=case,
        payload={"transfer": transfer.pk, "court": case.court_id, "kind": kind, "text": notification.text},
    )
    return notification


def may_acknowledge(user, notification: CourtNotification) -> bool:
    """Users of the notified court who may view the case (its bureau heads and judges)."""
    return user.court_id == notification.court_id and can(user, Action.VIEW, notification.case)


@transaction.atomic
def acknowledge_notification(actor, notification) -> CourtNotification:
    """A user of the notified court confirms having read the notification (once). 404 for anybody
    else: another court's users may not know the notification exists."""
    notification = (
        CourtNotification.objects.select_for_update(of=("self",))
        .select_related("case__court", "acknowledged_by")
        .filter(pk=_pk(notification))
        .first()
    )
    if notification is None or sees_no_cases(actor) or not may_acknowledge(actor, notification):
        raise Http404(_("通知不存在"))
    if notification.acknowledged_at:
        raise ValidationError(
            {
                "state": [
                    _("该通知已于 %(at)s 由%(name)s确认")
                    % {
                        "at": timezone.localtime(notification.acknowledged_at).strftime("%Y-%m-%d %H:%M"),
                        "name": notification.acknowledged_by,
                    }
                ]
            }
        )
    notification.acknowledged_at, notification.acknowledged_by = timezone.now(), actor
    notification.save(update_fields=["acknowledged_at", "acknowledged_by"])
    _note(
        notification.case,
        actor,
        "notification_acknowledged",
        _("已确认通知：%(kind)s") % {"kind": notification.get_kind_display()},
        notification=notification.pk,
        transfer=notification.transfer_id,
    )
    audit.record(
        actor,
        "transfer.notification_ack",
        notification,
        case=notification.case,
        payload={"transfer": notification.transfer_id, "kind": notification.kind},
    )
    return notification


# --------------------------------------------------------------------------------------------
# file-access grants
# --------------------------------------------------------------------------------------------


def _lock_grant(grant) -> FileAccessGrant:
    return (
        FileAccessGrant.objects.select_for_update(of=("self",))
        .select_related("case__court", "requester")
        .get(pk=_pk(grant))
    )


@transaction.atomic
def request_file_access(actor, *, case, reason: str, days=None) -> FileAccessGrant:
    """A judge of another court asks to read a case's file (the case is named by id or number)."""
    require_role(actor, Role.JUDGE, Role.BUREAU_HEAD)
    errors: dict[str, list[str]] = {}
    target = case if isinstance(case, EnforcementCase) else None
    if target is None and case not in (None, ""):
        key = str(case).strip()
        lookup = Q(pk=int(key)) if key.isdigit() else Q(number=key)
        target = EnforcementCase.objects.select_related("court").filter(lookup).first()
    if target is None:
        raise ValidationError({"case": [_("未找到该案件，请核对案号")]})
    if actor.court_id == target.court_id:
        errors["case"] = [_("本院案件由执行局长分案，无需申请阅卷")]
    elif can(actor, Action.VIEW_FILE, target):
        errors["case"] = [_("您已可以查阅该案卷")]
    elif FileAccessGrant.objects.filter(
        case=target, requester=actor, state__in=(GrantState.PENDING, GrantState.APPROVED)
    ).exists():
        errors["case"] = [_("已有待审批或有效的阅卷申请")]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("请写明查阅理由")]
    try:
        days = (
            settings.FILE_ACCESS_DEFAULT_DAYS
            if days in (None, "")
            else _int(days, "days", _("期限"), high=settings.FILE_ACCESS_MAX_DAYS)
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    grant = FileAccessGrant.objects.create(case=target, requester=actor, reason=reason, days=days)
    _note(
        target,
        actor,
        "file_access_requested",
        _("%(court)s %(name)s申请查阅案卷（%(days)d日）：%(reason)s")
        % {"court": actor.court.name, "name": actor, "days": days, "reason": reason},
    )
    audit.record(actor, "file_access.request", grant, case=target, payload={"reason": reason, "days": days})
    return grant


@transaction.atomic
def approve_file_access(actor, grant, *, days=None, note: str = "") -> FileAccessGrant:
    """The owning court's bureau head grants read-only access until ``expires_at``."""
    grant = _lock_grant(grant)
    require(actor, Action.APPROVE, grant.case)
    if grant.state != GrantState.PENDING:
        raise ValidationError({"state": [_("只有待审批的阅卷申请可以审批")]})
    if days not in (None, ""):
        grant.days = _int(days, "days", _("期限"), high=settings.FILE_ACCESS_MAX_DAYS)
    now = timezone.now()
    grant.had_before = _has_direct(grant.requester, grant.case, VIEW_FILE_PERM)
    if not grant.had_before:
        assign_perm(VIEW_FILE_PERM, grant.requester, grant.case)
    grant.state, grant.decided_by, grant.decided_at = GrantState.APPROVED, actor, now
    grant.expires_at = now + dt.timedelta(days=grant.days)
    grant.decision_note = (note or "").strip()[:255]
    grant.save()
    _note(
        grant.case,
        actor,
        "file_access_granted",
        _("准许%(name)s查阅案卷至 %(until)s")
        % {"name": grant.requester, "until": timezone.localtime(grant.expires_at).strftime("%Y-%m-%d %H:%M")},
    )
    audit.record(
        actor,
        "file_access.approve",
        grant,
        case=grant.case,
        payload={"requester": grant.requester_id, "expires_at": grant.expires_at, "days": grant.days},
    )
    return grant


@transaction.atomic
def refuse_file_access(actor, grant, *, note: str = "") -> FileAccessGrant:
    grant = _lock_grant(grant)
    require(actor, Action.APPROVE, grant.case)
    if grant.state != GrantState.PENDING:
        raise ValidationError({"state": [_("只有待审批的阅卷申请可以不予准许")]})
    grant.state, grant.decided_by, grant.decided_at = GrantState.REFUSED, actor, timezone.now()
    grant.decision_note = (note or "").strip()[:255]
    grant.save()
    _note(grant.case, actor, "file_access_refused", _("不准许%(name)s查阅案卷") % {"name": grant.requester})
    audit.record(actor, "file_access.refuse", grant, case=grant.case, payload={"note": grant.decision_note})
    return grant


def _end_grant(grant: FileAccessGrant, state: str, actor, note: str = "") -> None:
    if not grant.had_before:
        remove_perm(VIEW_FILE_PERM, grant.requester, grant.case)
    grant.state, grant.ended_at = state, timezone.now()
    grant.save(update_fields=["state", "ended_at"])
    label = GrantState(state).label
    _note(
        grant.case, actor, f"file_access_{state}", _("阅卷授权%(s)s：%(name)s") % {"s": label, "name": grant.requester}
    )
    audit.record(actor, f"file_access.{state}", grant, case=grant.case, payload={"note": note})


@transaction.atomic
def revoke_file_access(actor, grant, *, note: str = "") -> FileAccessGrant:
    """The owning court's bureau head (or the requester) ends a grant early."""
    grant = _lock_grant(grant)
    if actor.pk != grant.requester_id:
        require(actor, Action.APPROVE, grant.case)
    if grant.state != GrantState.APPROVED:
        raise ValidationError({"state": [_("只有有效的阅卷授权可以撤回")]})
    _end_grant(grant, GrantState.REVOKED, actor, (note or "").strip())
    return grant


@transaction.atomic
def expire_file_access(now=None) -> int:
    """Grants past their time end by themselves (beat task); running twice changes nothing more."""
    now = now or timezone.now()
    ids = list(
        FileAccessGrant.objects.filter(state=GrantState.APPROVED, expires_at__lte=now).values_list("pk", flat=True)
    )
    for pk in ids:
        grant = _lock_grant(pk)
        if grant.state == GrantState.APPROVED:
            _end_grant(grant, GrantState.EXPIRED, None)
    return len(ids)


# --------------------------------------------------------------------------------------------
# deadlines (beat tasks)
# --------------------------------------------------------------------------------------------


@transaction.atomic
def flag_overdue_orders(today: dt.date | None = None) -> int:
    """A supervision order whose time limit passed without progress (still open, nothing more
    recovered) is flagged for elevation or designation. Idempotent."""
    today = today or timezone.localdate()
    flagged = 0
    candidates = Transfer.objects.select_related("case").filter(
        mode=Mode.SUPERVISE,
        state__in=(State.APPROVED, State.ACCEPTED, State.IN_PROGRESS),
        deadline_on__lt=today,
        flagged_at__isnull=True,
    )
    for transfer in candidates:
        case = transfer.case
        if case.is_open and case.amount_recovered <= (transfer.amount_recovered_at_decision or Decimal("0")):
            transfer = _lock(transfer)
            transfer.flagged_at = timezone.now()
            transfer.flag_reason = _("督促执行期限（%(d)s）届满仍无进展，应提级执行或指定执行") % {
                "d": transfer.deadline_on.isoformat()
            }
            transfer.save(update_fields=["flagged_at", "flag_reason", "updated_at"])
            TransferReminder.objects.get_or_create(
                transfer=transfer, kind=ReminderKind.SUPERVISION, due_on=transfer.deadline_on, overdue=True
            )
            _note(case, None, "transfer_overdue", transfer.flag_reason, transfer=transfer.pk)
            audit.record(None, "transfer.flag_overdue", transfer, case=case, payload={"deadline": transfer.deadline_on})
            flagged += 1
    return flagged


def _remind(transfer_id: int, kind: str, due: dt.date, today: dt.date) -> bool:
    if (due - today).days > settings.TRANSFER_REMINDER_DAYS_BEFORE:
        return False
    _obj, created = TransferReminder.objects.get_or_create(
        transfer_id=transfer_id, kind=kind, due_on=due, overdue=today > due
    )
    return created


@transaction.atomic
def remind_transfer_deadlines(today: dt.date | None = None) -> int:
    """Reminders for registration, 执转破 answers, missing materials and progress reports, near
    (within ``TRANSFER_REMINDER_DAYS_BEFORE``) and once overdue. Idempotent."""
    today = today or timezone.localdate()
    created = 0
    for pk, due in Transfer.objects.filter(state=State.APPROVED, registration_due__isnull=False).values_list(
        "pk", "registration_due"
    ):
        created += _remind(pk, ReminderKind.REGISTRATION, due, today)
    for pk, due in Transfer.objects.filter(state=State.APPROVED, answer_due__isnull=False).values_list(
        "pk", "answer_due"
    ):
        created += _remind(pk, ReminderKind.ANSWER, due, today)
    for pk, due in MaterialRequest.objects.filter(
        supplied_at__isnull=True, transfer__state__in=(State.ACCEPTED, State.IN_PROGRESS)
    ).values_list("transfer_id", "due_on"):
        created += _remind(pk, ReminderKind.MATERIALS, due, today)
    running = Transfer.objects.filter(
        state__in=(State.ACCEPTED, State.IN_PROGRESS), accepted_on__isnull=False
    ).annotate(last_report=Max("reports__at"))
    for transfer in running.values("pk", "accepted_on", "last_report"):
        last = timezone.localdate(transfer["last_report"]) if transfer["last_report"] else transfer["accepted_on"]
        due = last + dt.timedelta(days=settings.TRANSFER_REPORT_INTERVAL_DAYS)
        if due < today:
            created += _remind(transfer["pk"], ReminderKind.REPORT, due, today)
    return created


def report_due_on(transfer: Transfer) -> dt.date | None:
    """When the next progress report is due (None when the transfer is not running)."""
    if transfer.state not in (State.ACCEPTED, State.IN_PROGRESS) or not transfer.accepted_on:
        return None
    reports = [r.at for r in transfer.reports.all()]
    last = timezone.localdate(max(reports)) if reports else transfer.accepted_on
    return last + dt.timedelta(days=settings.TRANSFER_REPORT_INTERVAL_DAYS)
