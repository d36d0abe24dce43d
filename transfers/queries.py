"""Read paths of transfers, filtered by the permission policy in SQL.

``eligible_cases`` answers the supervisor's list of cases eligible for cross-enforcement: every
reason is an annotation computed by the database, so the list costs the same queries for 5 cases
as for 500. The reasons are weighed from what the services keep on the case and its respondents
(last activity, undisposed property, the same-respondent mark), so a page of it
(``enforcement.queries.rows_and_total``) finds its ids and total from one index.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    DateField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from clues.services import clue_label
from enforcement import periods
from enforcement.models import (
    CaseParty,
    CasePartyRole,
    CaseStatus,
    Court,
    CourtLevel,
    EnforcementCase,
    RespondentLoad,
    Role,
)
from enforcement.permissions import Action, cases_for, sees_no_cases
from enforcement.queries import Art237Undelayed, last_working_day
from enforcement.services import party_identity

from .models import (
    ACTIVE_STATES,
    CourtNotification,
    FileAccessGrant,
    GrantState,
    Mode,
    ProgressReport,
    Transfer,
    TransferCase,
    TransferStep,
    TriggerConfig,
)

# --------------------------------------------------------------------------------------------
# the art. 237 day in SQL
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# eligibility
# --------------------------------------------------------------------------------------------

REASONS = {
    "art237": _("237条"),
    "same_respondent": _("同一被执行人多案"),
    "undisposed": _("财产长期未处置"),
    "stalled": _("长期无进展"),
}
SORTS = {
    "art237": ("art237_raw", "pk"),
    "-art237": ("-art237_raw", "-pk"),
    "filed_on": ("filed_on", "pk"),
    "-filed_on": ("-filed_on", "-pk"),
    "last_activity": ("last_activity", "pk"),
    "-linked": ("-linked_cases", "pk"),
    "court": ("court__path", "pk"),
}


def _high_courts_for(court: Court) -> list[Court]:
    """The high courts whose thresholds apply to the cases below ``court``."""
    if court.level == CourtLevel.SUPREME:
        return list(Court.objects.filter(level=CourtLevel.HIGH).order_by("path"))
    chain = [court, *court.ancestors()]
    return [c for c in chain if c.level == CourtLevel.HIGH][:1]


@dataclass
class Thresholds:
    high_courts: list
    values: dict  # high court id -> {name: value}
    defaults: dict

    def expression(self, name: str, convert=lambda v: v, field=None):
        """A per-case value of threshold ``name``: the case's high court's, or the default."""
        distinct = {self.values[h.pk][name] for h in self.high_courts}
        if len(distinct) <= 1:
            value = next(iter(distinct)) if distinct else self.defaults[name]
            return Value(convert(value), output_field=field)
        whens = [
            When(court__path__startswith=h.path, then=Value(convert(self.values[h.pk][name]), output_field=field))
            for h in self.high_courts
        ]
        return Case(*whens, default=Value(convert(self.defaults[name]), output_field=field), output_field=field)


def thresholds_for(court: Court) -> Thresholds:
    from .services import trigger_values

    highs = _high_courts_for(court)
    configs = {c.high_court_id: c for c in TriggerConfig.objects.filter(high_court__in=highs)}
    defaults = trigger_values(None)
    return Thresholds(
        high_courts=highs,
        values={h.pk: trigger_values(h, configs.get(h.pk)) if h.pk in configs else defaults for h in highs},
        defaults=defaults,
    )


def eligible_cases(user, *, sort: str = "art237", reason: str = "", today: dt.date | None = None) -> QuerySet:
    """Open cases of the supervisor's subordinate courts eligible under art. 237 or a trigger.

    Each row carries booleans ``r_art237``, ``r_same_respondent``, ``r_undisposed``, ``r_stalled``
    and the figures for the reasons (``linked_cases``, ``last_activity``, ``active_transfer``).
    """
    if sees_no_cases(user) or not user.has_role(Role.SUPERVISOR):
        return EnforcementCase.objects.none()
    today = today or timezone.localdate()
    now = timezone.now()
    limits = thresholds_for(user.court)
    art237_limit = last_working_day(today)

    def months_before(months: int) -> dt.date:
        return periods.add_months(today, -months)

    def days_before(days: int) -> dt.datetime:
        return now - dt.timedelta(days=days)

    # the open cases of each of the case's respondents, from the table the case services keep
    own_idents = (
        CaseParty.objects.filter(case=OuterRef(OuterRef("pk")), role=CasePartyRole.RESPONDENT)
        .annotate(ident=party_identity("party__"))
        .exclude(ident="")
        .values("ident")
    )
    linked = (
        RespondentLoad.objects.filter(identity__in=own_idents, open_courts__gte=OuterRef("t_min_courts"))
        .order_by("-open_cases")
        .values("open_cases")[:1]
    )
    # the filter's form of ``r_same_respondent`` (``linked`` reaches the threshold): one of the case's
    # respondents reaches both thresholds of the case's high court, as the case services keep it
    # marked (``CaseParty.over_trigger``), one probe of a small index per candidate; ``linked``, the
    # figure the page's rows show, also aggregates and sorts. (As a column of the rows, the mark's
    # EXISTS was planned as a hash of every mark in the country.)
    over_threshold = Exists(
        CaseParty.objects.filter(case=OuterRef("pk"), role=CasePartyRole.RESPONDENT, over_trigger=True)
    )
    active_transfer = TransferCase.objects.filter(case=OuterRef("pk"), transfer__state__in=ACTIVE_STATES).values(
        "transfer_id"
    )[:1]

    queryset = (
        # the supervisor's subordinate courts' open cases: exactly what the policy lets a supervisor
        # view below the own court (enforcement.permissions, asserted in tests), named directly so
        # PostgreSQL scans them by court and status instead of looking up every visible id
        EnforcementCase.objects.filter(
            court__in=Court.objects.filter(path__startswith=user.court.path).exclude(pk=user.court_id),
        )
        .exclude(status=CaseStatus.CLOSED)
        .annotate(
            t_min_cases=limits.expression("same_respondent_min_cases", field=IntegerField()),
            t_min_courts=limits.expression("same_respondent_min_courts", field=IntegerField()),
            t_undisposed_before=limits.expression("undisposed_months", months_before, DateField()),
            t_stalled_before=limits.expression("stalled_days", days_before, DateTimeField()),
        )
        .annotate(
            art237_raw=Art237Undelayed(settings.ART237_MONTHS),
            linked_cases=Coalesce(Subquery(linked, output_field=IntegerField()), 0),
            last_activity=Coalesce(F("last_activity_at"), F("created_at")),
            active_transfer=Subquery(active_transfer, output_field=IntegerField()),
        )
        .annotate(
            r_art237=ExpressionWrapper(Q(art237_raw__lte=art237_limit), output_field=BooleanField()),
            r_same_respondent=ExpressionWrapper(Q(linked_cases__gte=F("t_min_cases")), output_field=BooleanField()),
            r_undisposed=ExpressionWrapper(
                Q(undisposed_since__lte=F("t_undisposed_before")), output_field=BooleanField()
            ),
            r_stalled=ExpressionWrapper(Q(last_activity__lt=F("t_stalled_before")), output_field=BooleanField()),
        )
        # cheapest reasons first: PostgreSQL stops at the first that holds
        .filter(Q(r_art237=True) | Q(r_stalled=True) | Q(r_undisposed=True) | over_threshold)
    )
    if reason == "same_respondent":
        queryset = queryset.filter(over_threshold)
    elif reason in REASONS:
        queryset = queryset.filter(**{f"r_{reason}": True})
    # the clue that restarted the art. 237 clock is fetched for the page's rows only: joined, it
    # was carried through the count and sort of every eligible case
    queryset = queryset.select_related("court").prefetch_related(
        "art237_clock_clue__platform",
        Prefetch("case_parties", queryset=CaseParty.objects.select_related("party").order_by("id")),
    )
    return queryset.order_by(*SORTS.get(sort, SORTS["art237"]))


def art237_basis(case: EnforcementCase) -> str:
    """What the art. 237 clock of ``case`` runs from, in plain Chinese: filing, or the property
    found later (named as on the timeline: kind and platform, never the account)."""
    if case.art237_clock_later:
        clue = case.art237_clock_clue
        what = clue_label(clue) if clue is not None else _("执行中发现的财产")
        return _("执行中发现财产“%(what)s”之日（%(date)s）") % {
            "what": what,
            "date": case.art237_clock_start.isoformat(),
        }
    return _("立案之日（%(date)s）") % {"date": case.art237_clock_start.isoformat()}


def art237_text(case: EnforcementCase) -> str:
    """The art. 237 reason of an eligible case: where the six months run from, the excluded days
    and the day the applicant may apply."""
    extra = _("（已扣除不计入期间 %(d)d 日）") % {"d": case.art237_excluded_days} if case.art237_excluded_days else ""
    return _("自%(basis)s起满%(m)d个月%(extra)s尚未执行完毕，自 %(date)s 起申请执行人可向上一级法院申请") % {
        "basis": art237_basis(case),
        "m": settings.ART237_MONTHS,
        "extra": extra,
        "date": case.art237_eligible_on.isoformat(),
    }


def reasons_of(case: EnforcementCase) -> list[dict]:
    """The reasons of an eligible case, in plain Chinese (from its annotations)."""
    out = []
    if case.r_art237:
        out.append({"code": "art237", "label": str(REASONS["art237"]), "text": art237_text(case)})
    if case.r_same_respondent:
        out.append(
            {
                "code": "same_respondent",
                "label": str(REASONS["same_respondent"]),
                "text": _("同一被执行人在多个法院共有 %(n)d 件未结案件（标准：%(t)d 件）")
                % {"n": case.linked_cases, "t": case.t_min_cases},
            }
        )
    if case.r_undisposed:
        out.append(
            {
                "code": "undisposed",
                "label": str(REASONS["undisposed"]),
                "text": _("已核实的财产线索或有效的控制措施在 %(d)s 前即已存在，至今未处置")
                % {"d": case.t_undisposed_before.isoformat()},
            }
        )
    if case.r_stalled:
        out.append(
            {
                "code": "stalled",
                "label": str(REASONS["stalled"]),
                "text": _("最近一次办案记录为 %(d)s，此后长期无进展")
                % {"d": timezone.localdate(case.last_activity).isoformat()},
            }
        )
    return out


# --------------------------------------------------------------------------------------------
# transfers and grants
# --------------------------------------------------------------------------------------------


def _with_detail(queryset: QuerySet) -> QuerySet:
    return queryset.select_related(
        "case__court",
        "original_court",
        "deciding_court",
        "receiving_court",
        "proposed_court",
        "receiving_case",
    ).prefetch_related(
        Prefetch("links", queryset=TransferCase.objects.select_related("case", "successor").order_by("pk")),
        Prefetch("steps", queryset=TransferStep.objects.select_related("actor").order_by("at", "pk")),
        Prefetch("reports", queryset=ProgressReport.objects.order_by("-at", "-pk")),
        "bankruptcy_steps",
        "handovers",
        "material_requests",
    )


def transfers_for(user, *, state: str = "", role: str = "") -> QuerySet:
    """Transfers of cases the user may view (the policy in SQL). ``role``: deciding / receiving."""
    if sees_no_cases(user):
        return Transfer.objects.none()
    visible = cases_for(user, Action.VIEW).values("pk")
    queryset = Transfer.objects.filter(case__in=visible)
    if state:
        queryset = queryset.filter(state=state)
    if role == "deciding":
        queryset = queryset.filter(deciding_court_id=user.court_id)
    elif role == "receiving":
        queryset = queryset.filter(receiving_court_id=user.court_id)
    return _with_detail(queryset).order_by("-created_at", "-pk")


def transfer_detail(user, transfer_id) -> Transfer:
    """One transfer through the policy on its case (404 when the case is hidden), with the files
    supplied for its material requests, ``may_read_file`` (may the user open them: view_file on the
    case) and, for 执转破, the courts notified (``court_notifications``)."""
    from django.http import Http404

    from enforcement.permissions import can, require

    queryset = _with_detail(Transfer.objects.all()).prefetch_related("material_requests__documents")
    try:
        transfer = queryset.get(pk=int(transfer_id))
    except (Transfer.DoesNotExist, TypeError, ValueError):
        raise Http404(_("交叉执行不存在")) from None
    require(user, Action.VIEW, transfer.case)
    transfer.may_read_file = can(user, Action.VIEW_FILE, transfer.case)
    transfer.court_notifications = (
        list(
            CourtNotification.objects.filter(transfer=transfer)
            .select_related("court", "case", "acknowledged_by")
            .order_by("court__path", "case_id")
        )
        if transfer.mode == Mode.BANKRUPTCY
        else []
    )
    return transfer


def notifications_for(user) -> QuerySet:
    """Unacknowledged notifications the user's workbench shows: all of the user's court for its
    bureau heads, those on cases the user handles for judges. One query."""
    if sees_no_cases(user):
        return CourtNotification.objects.none()
    queryset = CourtNotification.objects.filter(court_id=user.court_id, acknowledged_at__isnull=True)
    if not user.has_role(Role.BUREAU_HEAD):
        queryset = queryset.filter(case__in=cases_for(user, Action.HANDLE).values("pk"))
    return queryset.select_related("case", "transfer__original_court").order_by("-created_at", "-pk")


def file_grants_for(user) -> QuerySet:
    """The user's own requests, and the requests for cases the user may approve (bureau head)."""
    if sees_no_cases(user):
        return FileAccessGrant.objects.none()
    approvable = cases_for(user, Action.APPROVE).values("pk")
    return (
        FileAccessGrant.objects.filter(Q(requester=user) | Q(case__in=approvable))
        .select_related("case__court", "requester__court", "decided_by")
        .order_by("-requested_at", "-pk")
    )


def pending_grants_count(user) -> int:
    return file_grants_for(user).filter(state=GrantState.PENDING).count()
