"""Read paths for pages and the API, filtered by the permission policy in SQL.

Each function returns a queryset with everything a list needs prefetched, so a list issues the
same number of queries for 5 cases as for 100.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    DateField,
    DecimalField,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Window,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import periods
from .models import CaseParty, CasePartyRole, CaseStatus, CaseUserObjectPermission, EnforcementCase, Party, User
from .permissions import HANDLE_PERM, Action, can, case_scopes


def _frozen_amount():
    """已冻结 of each case as a subquery (the sum of its active freezes), so lists stay one query."""
    from clues.queries import active_freezes

    total = (
        active_freezes()
        .filter(case=OuterRef("pk"))
        .order_by()
        .values("case")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=DecimalField(max_digits=16, decimal_places=2)), Decimal("0.00"))


def _with_list_data(queryset: QuerySet) -> QuerySet:
    return (
        queryset.select_related("court")
        .annotate(amount_frozen=_frozen_amount())
        .prefetch_related(
            # as plain lists (``to_attr``): prefetched into the related managers, Django builds a
            # filtered queryset per case and relation to hold them, ~0.1 ms each, 10 ms a page of
            # fifty; read through ``case_parties`` and ``case_grants``
            Prefetch(
                "case_parties",
                queryset=CaseParty.objects.select_related("party").order_by("id"),
                to_attr=PREFETCHED_PARTIES,
            ),
            # the grants with their users and permissions in one query, not three
            Prefetch(
                "user_grants",
                queryset=CaseUserObjectPermission.objects.select_related("user", "permission"),
                to_attr=PREFETCHED_GRANTS,
            ),
        )
    )


PREFETCHED_PARTIES, PREFETCHED_GRANTS = "prefetched_parties", "prefetched_grants"


def case_parties(case: EnforcementCase) -> list[CaseParty]:
    """The case's parties (``CaseParty`` with ``party``) in the order they were linked."""
    return _listed(case, PREFETCHED_PARTIES, "case_parties")


def case_grants(case: EnforcementCase) -> list[CaseUserObjectPermission]:
    """The case's per-user guardian grants (with ``user`` and ``permission``)."""
    return _listed(case, PREFETCHED_GRANTS, "user_grants")


def _listed(case: EnforcementCase, to_attr: str, relation: str) -> list:
    """The list the case queries prefetched into ``to_attr``, or else the related manager's
    (prefetched or not)."""
    prefetched = case.__dict__.get(to_attr)
    return prefetched if prefetched is not None else list(getattr(case, relation).all())


class CaseListing:
    """The cases a user may see, filtered and ordered, for a paginator (Django's and DRF's use
    ``count()`` and slicing).

    A bureau head sees the own court's 15,000 cases plus a few granted or received ones. Joining
    all visible ids to sort them took 80–110 ms per page at a million cases, and counting them
    40 ms (docs/PERFORMANCE.md). Instead, each source of access (``permissions.case_scopes``) gives
    its own first rows in the list's order, through its own index (a court's cases: ``(court,
    -filed_on, -id)``), and the page is cut from their union; the count adds the sources' counts,
    each without the cases an earlier source already gave."""

    ordered = True

    def __init__(
        self,
        user,
        filtered: QuerySet,
        order: tuple[str, ...],
        action: Action = Action.VIEW,
        *,
        rows: Callable[[QuerySet], QuerySet] | None = None,
    ):
        self.scopes = case_scopes(user, action)
        self.filtered = filtered.order_by()
        self.order = order
        # what a row carries: the case list's court, parties and judges unless the list says less
        self.rows = rows or _with_list_data

    def count(self) -> int:
        if not self.scopes:
            return 0
        parts, params, seen = [], [], None
        for scope in self.scopes:
            part = self.filtered.filter(scope)
            if seen is not None:
                part = part.exclude(seen)
            seen = scope if seen is None else seen | scope
            sql, part_params = part.values("pk").query.sql_with_params()
            parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS part)")
            params.extend(part_params)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {' + '.join(parts)}", params)
            return cursor.fetchone()[0]

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[EnforcementCase]:
        if not isinstance(index, slice) or index.step is not None:
            raise TypeError("CaseListing supports slices only")
        start, stop = index.start or 0, index.stop
        if not self.scopes or (stop is not None and stop <= start):
            return []
        firsts = [self.filtered.filter(scope).order_by(*self.order).values("pk") for scope in self.scopes]
        if stop is not None:
            firsts = [first[:stop] for first in firsts]
        ids = union_of_firsts(EnforcementCase, firsts)
        rows = self.rows(EnforcementCase.objects.filter(pk__in=ids)).order_by(*self.order)
        return list(rows[start:stop])


def union_of_firsts(model, firsts: list[QuerySet]) -> QuerySet:
    """The ``pk`` values of ``firsts`` (ordered and sliced ``values("pk")`` querysets of ``model``)
    as one ``UNION ALL`` for a ``pk__in``. SQLite (``make run``) refuses ORDER BY and LIMIT in
    the members of a compound statement: there each member becomes ``pk IN (its first rows)``."""
    if not connection.features.supports_slicing_ordering_in_compound:
        firsts = [model.objects.filter(pk__in=first).order_by().values("pk") for first in firsts]
    return firsts[0].union(*firsts[1:], all=True) if len(firsts) > 1 else firsts[0]


# （2025）苏1002执1234号: a whole case number as EnforcementCase.format_number writes it
WHOLE_CASE_NUMBER = re.compile(r"（\d{4}）[^（）号]+\d+号")
IDENTITY_NUMBER = re.compile(r"[0-9A-Z]{15,18}")  # 身份证号 (15 or 18 characters) or 统一社会信用代码 (18)


def rows_and_total(queryset: QuerySet, offset: int, limit: int) -> tuple[list, int]:
    """Rows ``offset … offset + limit`` of ``queryset`` and the total number of its rows, for lists
    whose filter is the expensive part (the eligible list weighs several reasons for every
    candidate), which a separate count would compute twice.

    The page's ids and the total come from one narrow query (``COUNT(*) OVER ()``; the filter's
    columns alone, which an index can answer without the table), then the page's rows with all
    their columns and annotations by id; a row that left the list between the two (a case closed
    meanwhile) is left out of the page. A page past the end costs a count."""
    page = list(queryset.values("pk").annotate(total_rows=Window(Count("pk")))[offset : offset + limit])
    if not page:
        return [], queryset.count()
    rows = queryset.in_bulk([row["pk"] for row in page])
    return [rows[row["pk"]] for row in page if row["pk"] in rows], page[0]["total_rows"]


def case_filters(*, q: str = "", status: str = "", court: str | int = "", type_code: str = "") -> QuerySet:
    """Cases searched by number, party name or identity number, and filtered (no visibility)."""
    queryset = EnforcementCase.objects.all()
    q = (q or "").strip()
    if q:
        # pk IN (number matches UNION ALL cases of matching parties): both sides through indexes
        # (trigram on number and name, btree on the identity numbers; migration 0006), where an OR
        # with a subquery scanned every case and every party
        parties = Party.objects.filter(Q(name__icontains=q) | Q(id_number=q.upper()) | Q(uscc=q.upper()))
        by_party = CaseParty.objects.filter(party__in=parties.values("pk")).values("case_id").order_by()
        # a whole case number is never part of another one, and an identity number is never part
        # of a case number (no run of more than a sequence's digits in one): the unique index
        # answers both exactly, where the trigram index would scan its digit trigrams
        exact = WHOLE_CASE_NUMBER.fullmatch(q) or IDENTITY_NUMBER.fullmatch(q.upper())
        number = Q(number=q) if exact else Q(number__icontains=q)
        by_number = EnforcementCase.objects.filter(number).values("pk").order_by()
        queryset = queryset.filter(pk__in=by_number.union(by_party, all=True))
    if status:
        queryset = queryset.filter(status=status)
    if court:
        queryset = queryset.filter(court_id=court)
    if type_code:
        queryset = queryset.filter(type_code=type_code)
    return queryset


def case_list(
    user,
    *,
    q: str = "",
    status: str = "",
    court: str | int = "",
    type_code: str = "",
    art237: str = "",
    open_only: bool = False,
    order: tuple[str, ...] = ("-filed_on", "-id"),
    today: dt.date | None = None,
) -> CaseListing:
    """Cases the user may view, searched and filtered (``art237``: ``eligible`` or ``not_yet``;
    ``open_only``: not closed), in ``order``, ready for a paginator."""
    queryset = case_filters(q=q, status=status, court=court, type_code=type_code)
    if art237 in ("eligible", "not_yet"):
        queryset = art237_filter(queryset, today, eligible=art237 == "eligible")
    if open_only:
        queryset = queryset.exclude(status=CaseStatus.CLOSED)
    return CaseListing(user, queryset, order)


# What a row of the workbench list shows: number, amounts, filing and art. 237 days, status.
WORKBENCH_CASE_FIELDS = (
    "number",
    "status",
    "amount_due",
    "amount_recovered",
    "filed_on",
    "art237_clock_from",
    "art237_excluded_days",
)


def my_open_cases(user) -> CaseListing:
    """The workbench list: open cases the user handles, oldest filing first, with the fields its
    rows show and the frozen amount, ready for a paginator. Unlike ``_with_list_data`` no court and
    no judges: the rows show neither (``respondent_names`` gives their respondents).

    A ``CaseListing`` (each source of access on its own): a bureau head handles the whole court,
    and joining its 15,000 visible ids to page and count them took ~100 ms each at a million cases
    (docs/PERFORMANCE.md); the court's part now walks ``case_court_filed_idx`` and counts from
    ``case_open_court_idx``."""
    return CaseListing(
        user,
        EnforcementCase.objects.exclude(status=CaseStatus.CLOSED),
        ("filed_on", "id"),
        Action.HANDLE,
        rows=_workbench_case_rows,
    )


def _workbench_case_rows(queryset: QuerySet) -> QuerySet:
    return queryset.only(*WORKBENCH_CASE_FIELDS).annotate(amount_frozen=_frozen_amount())


def first_rows_by_source(
    user,
    queryset: QuerySet,
    order: tuple[str, ...],
    limit: int,
    action: Action = Action.HANDLE,
    *,
    case_field: str = "case",
) -> QuerySet:
    """The rows of ``queryset`` on cases ``user`` may ``action``, in ``order``: a queryset whose
    first ``limit`` rows are those of ``queryset.filter(<case_field>__in=cases_for(user, action))``
    in that order. ``order`` must end with a unique field; rows past ``limit`` are incomplete, so
    slice it to at most ``limit`` (the workbench panels).

    ``case_id IN (all visible ids)`` made PostgreSQL aggregate the 15,000 ids of a bureau head's
    court (its estimate of a UNION: 200 rows) and probe the panel's table once per case: 130–550 ms
    per panel at a million cases. Here each source of access (``permissions.case_scopes``) gives
    its own first ``limit`` ids, planned with its own estimate: a court's walks a partial index in
    the panel's order until it has them, a judge's few granted cases are probed one by one. Only
    the merged ids (at most ``limit`` per source) are joined to what the rows show."""
    scopes = case_scopes(user, action)
    if not scopes:
        return queryset.none()
    firsts = [queryset.filter(through(scope, case_field)).order_by(*order).values("pk")[:limit] for scope in scopes]
    return queryset.filter(pk__in=union_of_firsts(queryset.model, firsts)).order_by(*order)


def through(condition: Q, case_field: str) -> Q:
    """``condition`` on cases as a condition on rows whose case is ``case_field``: a granted
    case's ``pk__in`` becomes ``case_id IN (grants)`` with no case join, a court's ``court_id``
    joins the case (PostgreSQL walks the panel's index and probes the case's court)."""
    children = [
        through(child, case_field) if isinstance(child, Q) else (f"{case_field}__{child[0]}", child[1])
        for child in condition.children
    ]
    return Q(*children, _connector=condition.connector, _negated=condition.negated)


def respondent_names(case_ids) -> dict[int, list[str]]:
    """The respondents' names of each case, in the order the parties were added (one query, no
    model instances: the workbench list shows only the names)."""
    names: dict[int, list[str]] = {}
    rows = (
        CaseParty.objects.filter(case_id__in=case_ids, role=CasePartyRole.RESPONDENT)
        .order_by("id")
        .values_list("case_id", "party__name")
    )
    for case_id, name in rows:
        names.setdefault(case_id, []).append(name)
    return names


def case_detail(user, case_id) -> EnforcementCase:
    """One case with parties, judges, the property its art. 237 clock runs from and, when
    suspended, why (``suspension``), through the policy (404 when hidden). Not its timeline: a
    case of some years has thousands of entries, and only the log tab shows them, a page at a
    time (``case_events``)."""
    from .permissions import get_case

    queryset = _with_list_data(EnforcementCase.objects.select_related("art237_clock_clue__platform"))
    case = get_case(user, case_id, Action.VIEW, queryset=queryset)
    case.suspension = suspension_of(user, case)
    return case


def case_events(case: EnforcementCase) -> QuerySet:
    """The case's timeline, newest first, with who wrote each entry (for a paginator)."""
    return case.events.select_related("actor").order_by("-at", "-id")


def suspension_of(user, case: EnforcementCase) -> dict | None:
    """Why a suspended case is suspended: the reason of the latest suspension on its timeline and
    the transfer that suspended it (执转破), ``transfer_id`` only when the user may see that transfer
    (view on the case it is about). None unless suspended."""
    if case.status != CaseStatus.SUSPENDED:
        return None
    event = case.events.filter(kind="suspend").order_by("-at", "-id").first()
    if event is None:
        return None
    data = event.data or {}
    transfer_id, about = data.get("transfer"), data.get("transfer_case")
    visible = False
    if transfer_id and about:
        if about == case.pk:
            visible = True
        else:
            other = EnforcementCase.objects.select_related("court").filter(pk=about).first()
            visible = other is not None and can(user, Action.VIEW, other)
    return {"reason": data.get("reason") or "", "at": event.at, "transfer_id": transfer_id if visible else None}


def parties_of(case: EnforcementCase, role: str) -> list:
    """Applicants or respondents from the prefetched ``case_parties``."""
    return [cp.party for cp in case_parties(case) if cp.role == role]


def applicants(case: EnforcementCase) -> list:
    return parties_of(case, CasePartyRole.APPLICANT)


def respondents(case: EnforcementCase) -> list:
    return parties_of(case, CasePartyRole.RESPONDENT)


def judges(case: EnforcementCase) -> list[User]:
    """Assigned judges from the prefetched guardian grants."""
    seen: dict[int, User] = {}
    for grant in case_grants(case):
        if grant.permission.codename == HANDLE_PERM:
            seen.setdefault(grant.user_id, grant.user)
    return [seen[k] for k in sorted(seen)]


def art237_state(case: EnforcementCase, today: dt.date | None = None) -> str:
    """'past', 'near' (within the warning window) or 'later' for highlighting the art. 237 date."""
    return art237_state_of(case.art237_eligible_on, today)


def art237_state_of(eligible: dt.date, today: dt.date | None = None) -> str:
    """``art237_state`` of a case whose art. 237 day (``art237_eligible_on``) is ``eligible``."""
    today = today or timezone.localdate()
    if eligible <= today:
        return "past"
    if (eligible - today).days <= settings.ART237_WARNING_DAYS:
        return "near"
    return "later"


class Art237Undelayed(Func):
    """The clock start (``art237_clock_from``, or ``filed_on`` when null, as the model's
    ``art237_clock_start``) + ART237_MONTHS months (month ends clamped, as ``periods.add_months``)
    + the excluded days: the art. 237 day before the holiday rule, computed by the database."""

    output_field = DateField()

    def __init__(self, months: int):
        super().__init__(
            Coalesce(F("art237_clock_from"), F("filed_on"), output_field=DateField()), F("art237_excluded_days")
        )
        self.months = int(months)

    def as_sql(self, compiler, connection, **extra_context):  # PostgreSQL: months first, then days
        start, start_params = compiler.compile(self.source_expressions[0])
        days, days_params = compiler.compile(self.source_expressions[1])
        return (
            f"(({start} + make_interval(months => {self.months})) + ({days}) * interval '1 day')::date",
            [*start_params, *days_params],
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        start, start_params = compiler.compile(self.source_expressions[0])
        days, days_params = compiler.compile(self.source_expressions[1])
        m = self.months
        clamped = f"min(date({start}, '+{m} months'), date({start}, 'start of month', '+{m + 1} months', '-1 day'))"
        return f"date({clamped}, '+' || ({days}) || ' days')", [*start_params, *start_params, *days_params]


def last_working_day(today: dt.date) -> dt.date:
    """The latest working day on or before ``today``: a raw art. 237 day on or before it is, after
    the holiday rule, on or before today (and no later raw day is)."""
    while not periods.is_working_day(today):
        today -= dt.timedelta(days=1)
    return today


def art237_filter(queryset: QuerySet, today: dt.date | None = None, *, eligible: bool = True) -> QuerySet:
    """Cases whose art. 237 day (excluded periods and the holiday rule included) has come — or, with
    ``eligible=False``, has not — computed in SQL."""
    limit = last_working_day(today or timezone.localdate())
    queryset = queryset.annotate(art237_raw=Art237Undelayed(settings.ART237_MONTHS))
    if eligible:
        return queryset.filter(art237_raw__lte=limit).exclude(status=CaseStatus.CLOSED)
    return queryset.filter(art237_raw__gt=limit)
