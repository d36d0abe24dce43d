"""Changes proposed for enforcement/ (owned by another engineer while this benchmark was written),
applied in the benchmark process and the bench database only, to measure their effect:

    .venv/bin/python -m bench.scale --cases 1000000 --reuse --proposed

Nothing here is used by the application. ``apply()`` replaces functions in the loaded modules and
creates the proposed indexes in the bench database; ``revert()`` restores both.

1. ``enforcement.permissions.cases_for``: one id subquery, the UNION ALL of the sources of access
   (the user's grants, the user's groups' grants, the own court of a bureau head, the subordinate
   courts of a supervisor, transfers received), instead of guardian's
   ``pk IN (user grants) OR pk IN (group grants)`` ORed with the court conditions. PostgreSQL
   cannot turn an OR of IN-subqueries into a join: it filters every candidate row with two hashed
   subplans and estimates that a third of all cases pass, so lists of clues, measures and notices
   "of my cases" walk the whole table in sort order (every pending clue, every failed notice of
   the country) and discard what is not the user's. With one IN (UNION ALL ...) it is a semi-join
   driven by the few ids of the user.
2. ``enforcement.queries.case_list`` search: ``pk IN (cases whose number matches UNION ALL cases
   of matching parties)``, parties matched by name through a trigram index and by identity number
   through the btree indexes (one BitmapOr), numbers through a trigram index. Today the EXISTS
   inside the OR becomes a hashed subplan over a sequential scan of every party, and an OR of the
   number condition with a subquery cannot use an index either (a first version of this proposal,
   ``number ILIKE ... OR pk IN (...)``, still scanned all cases: the union is needed).
3. an expression index on the party identifier (``id_number || uscc``) that
   ``transfers.queries.eligible_cases`` uses to find a respondent's other cases.
"""

from __future__ import annotations

import sys

from django.db.models import Q

INDEXES: list[tuple[str, str]] = [
    (
        "enforcement_party_name_upper_trgm",
        "CREATE INDEX IF NOT EXISTS enforcement_party_name_upper_trgm ON enforcement_party "
        "USING gin ((UPPER(name::text)) gin_trgm_ops)",
    ),
    (
        # transfers.queries.eligible_cases matches respondents across cases by this expression
        # (``_identifier()``); without an index every evaluation scans all parties
        "enforcement_party_identifier",
        "CREATE INDEX IF NOT EXISTS enforcement_party_identifier ON enforcement_party "
        "(((COALESCE(id_number, ''::character varying))::text || (COALESCE(uscc, ''::character varying))::text))",
    ),
    (
        "enforcement_case_number_upper_trgm",
        "CREATE INDEX IF NOT EXISTS enforcement_case_number_upper_trgm ON enforcement_enforcementcase "
        "USING gin ((UPPER(number::text)) gin_trgm_ops)",
    ),
]

_saved: list[tuple[object, str, object]] = []


def proposed_cases_for(user, action="view", queryset=None):
    """``enforcement.permissions.cases_for`` with the sources of access as one UNION ALL subquery."""
    from django.contrib.contenttypes.models import ContentType

    from enforcement import permissions as p
    from enforcement.models import CaseGroupObjectPermission, CaseUserObjectPermission, EnforcementCase, Role

    action = p.Action(action)
    queryset = EnforcementCase.objects.all() if queryset is None else queryset
    if p.sees_no_cases(user):
        return queryset.none()
    sources = []
    wanted = p._GRANTS_FOR[action]
    if wanted:
        content_type = ContentType.objects.get_for_model(EnforcementCase)  # cached after the first call
        for model, who in ((CaseUserObjectPermission, "user"), (CaseGroupObjectPermission, "group__user")):
            sources.append(
                model.objects.filter(
                    **{who: user}, permission__content_type=content_type, permission__codename__in=wanted
                ).values("content_object_id")
            )
    if user.has_role(Role.BUREAU_HEAD) and action in p._HEAD_ACTIONS:
        sources.append(EnforcementCase.objects.filter(court_id=user.court_id).values("pk"))
    if user.has_role(Role.SUPERVISOR) and action in p._SUPERVISOR_ACTIONS and user.court.path:
        sources.append(
            EnforcementCase.objects.filter(court__path__startswith=user.court.path)
            .exclude(court_id=user.court_id)
            .values("pk")
        )
    if user.has_role(Role.BUREAU_HEAD) and action in p._RECEIVING_HEAD_ACTIONS:
        sources.append(p._receiving_court_cases(user))
    if not sources:
        return queryset.none()
    first, *rest = (source.order_by() for source in sources)
    return queryset.filter(pk__in=first.union(*rest, all=True) if rest else first)


def proposed_case_list(user, *, q: str = "", status: str = "", court="", type_code: str = ""):
    """``enforcement.queries.case_list`` with the search as ``pk IN (matches by number UNION ALL
    cases of matching parties)``: both sides are found through indexes (trigram on the number and
    the party name, btree on the identity numbers) and the page joins the few ids found."""
    from enforcement import queries as eq
    from enforcement.models import CaseParty, EnforcementCase, Party
    from enforcement.permissions import Action

    queryset = eq.cases_for(user, Action.VIEW)
    q = (q or "").strip()
    if q:
        parties = Party.objects.filter(Q(name__icontains=q) | Q(id_number=q.upper()) | Q(uscc=q.upper())).values("pk")
        by_party = CaseParty.objects.filter(party__in=parties).values("case_id").order_by()
        by_number = EnforcementCase.objects.filter(number__icontains=q).values("pk").order_by()
        queryset = queryset.filter(pk__in=by_number.union(by_party, all=True))
    if status:
        queryset = queryset.filter(status=status)
    if court:
        queryset = queryset.filter(court_id=court)
    if type_code:
        queryset = queryset.filter(type_code=type_code)
    return eq._with_list_data(queryset).order_by("-filed_on", "-id")


def _replace(original, replacement) -> None:
    """Point every loaded project module's name for ``original`` at ``replacement``."""
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        if name.split(".")[0] not in ("enforcement", "clues", "platforms", "transfers"):
            continue
        for attr, value in list(vars(module).items()):
            if value is original:
                _saved.append((module, attr, original))
                setattr(module, attr, replacement)


def apply() -> list[str]:
    import importlib

    from django.db import connection

    for name in ("clues.presenters", "clues.queries", "platforms.views", "transfers.queries", "transfers.views"):
        importlib.import_module(name)
    from enforcement import permissions, queries

    _replace(permissions.cases_for, proposed_cases_for)
    _replace(queries.case_list, proposed_case_list)
    with connection.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for _name, sql in INDEXES:
            cur.execute(sql)
        cur.execute("ANALYZE enforcement_party")
        cur.execute("ANALYZE enforcement_enforcementcase")
    return ["cases_for: one UNION ALL subquery", "case_list: parties first", *(name for name, _ in INDEXES)]


def revert() -> None:
    from django.db import connection

    while _saved:
        module, attr, original = _saved.pop()
        setattr(module, attr, original)
    with connection.cursor() as cur:
        for name, _sql in INDEXES:
            cur.execute(f"DROP INDEX IF EXISTS {name}")
