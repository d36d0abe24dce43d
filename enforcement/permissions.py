"""The permission policy: the one place that says who may do what with a case.

``can(user, action, case)`` answers for one case; ``cases_for(user, action)`` filters a queryset in
SQL for lists. Every page, API view, task and command asks here; nobody re-implements it.

Sources of access:

* explicit per-case grants held by django-guardian's direct foreign-key tables (assigned judges
  hold ``handle_case``; later a receiving court or a file-access grant hold ``view_enforcementcase``
  or ``view_case_file``). Model-wide grants are never consulted (``accept_global_perms=False``);
* the bureau head (执行局长) of the case's court: everything, including approve and assign;
* a supervisor (监督) at any superior court: view and read the file (reads are audited);
* the bureau head of the receiving court of a cross-enforcement transfer that is decided and not
  yet ended (``transfers.models.RECEIVING_STATES``): view and read the file of the transferred
  cases, so the court can accept, assign and cooperate (after acceptance it holds grants);
* system administrators and superusers: nothing. They run the system, not the cases.
"""

from __future__ import annotations

import functools
import logging
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from . import prepared
from .models import CaseGroupObjectPermission, CaseUserObjectPermission, EnforcementCase, Role

logger = logging.getLogger("enforcement.access")


class Action(StrEnum):
    VIEW = "view"  # know the case exists, see its header, parties and timeline
    VIEW_FILE = "view_file"  # read the case file: documents, sensitive clues
    HANDLE = "handle"  # act on the case: edit, clues, measures, notices, transitions
    APPROVE = "approve"  # approve freezes, deductions and closures (bureau head)
    ASSIGN = "assign"  # assign judges (bureau head)


HANDLE_PERM = "handle_case"
VIEW_FILE_PERM = "view_case_file"
VIEW_PERM = "view_enforcementcase"

# Which explicit grants give which action.
_GRANTS_FOR = {
    Action.VIEW: (VIEW_PERM, VIEW_FILE_PERM, HANDLE_PERM),
    Action.VIEW_FILE: (VIEW_FILE_PERM, HANDLE_PERM),
    Action.HANDLE: (HANDLE_PERM,),
    Action.APPROVE: (),
    Action.ASSIGN: (),
}
# Which actions hierarchy roles give.
_HEAD_ACTIONS = frozenset(Action)
_SUPERVISOR_ACTIONS = frozenset({Action.VIEW, Action.VIEW_FILE})


def sees_no_cases(user) -> bool:
    """Anonymous, inactive, courtless users, system admins and superusers see no case content."""
    return (
        not getattr(user, "is_authenticated", False)
        or not user.is_active
        or user.is_superuser
        or user.has_role(Role.SYSTEM_ADMIN)
        or user.court_id is None
    )


@functools.cache
def _granted_sql() -> str:
    """The user's and the user's groups' grants on one case, as codenames: one written-out statement
    (params: user, case, user, case), prepared once per session (``prepared``). The ORM's union of the
    two querysets cost a millisecond of CPU to compose at every check, and PostgreSQL half a
    millisecond to plan it (docs/PERFORMANCE.md); a notice request and its delivery each check."""
    from django.contrib.auth.models import Permission

    from .models import User

    def table(model) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    def column(model, name: str) -> str:
        return connection.ops.quote_name(model._meta.get_field(name).column)

    direct, group, memberships = CaseUserObjectPermission, CaseGroupObjectPermission, User.groups.through
    return (
        f"SELECT p.codename FROM {table(direct)} d JOIN {table(Permission)} p"
        f" ON p.id = d.{column(direct, 'permission')}"
        f" WHERE d.{column(direct, 'user')} = %s AND d.{column(direct, 'content_object')} = %s"
        f" UNION SELECT p.codename FROM {table(group)} g JOIN {table(Permission)} p"
        f" ON p.id = g.{column(group, 'permission')}"
        f" JOIN {table(memberships)} m ON m.{column(memberships, 'group')} = g.{column(group, 'group')}"
        f" WHERE m.{column(memberships, 'user')} = %s AND g.{column(group, 'content_object')} = %s"
    )


def _granted_codenames(user, case: EnforcementCase) -> set[str]:
    with connection.cursor() as cursor:
        prepared.execute(cursor, "case_grants", _granted_sql(), [user.pk, case.pk, user.pk, case.pk])
        return {codename for (codename,) in cursor.fetchall()}


def _is_supervisor_above(user, case: EnforcementCase) -> bool:
    if not user.has_role(Role.SUPERVISOR) or user.court_id == case.court_id or not user.court.path:
        return False
    return case.court.path.startswith(user.court.path)


_RECEIVING_HEAD_ACTIONS = frozenset({Action.VIEW, Action.VIEW_FILE})


def _receiving_court_cases(user) -> QuerySet:
    """Ids of cases in transfers to the user's court that are decided and still running (SQL)."""
    from transfers.models import RECEIVING_STATES, TransferCase

    return TransferCase.objects.filter(
        transfer__receiving_court_id=user.court_id, transfer__state__in=RECEIVING_STATES
    ).values("case_id")


def can(user, action: Action | str, case: EnforcementCase) -> bool:
    """May ``user`` perform ``action`` on ``case``?"""
    return _can(user, Action(action), case, {})


def _can(user, action: Action, case: EnforcementCase, memo: dict) -> bool:
    """``can``; ``memo`` keeps the user's explicit grants on the case between the questions of one
    check (``require`` asks VIEW and then the action)."""
    if sees_no_cases(user):
        return False
    if user.court_id == case.court_id and user.has_role(Role.BUREAU_HEAD) and action in _HEAD_ACTIONS:
        return True
    if action in _SUPERVISOR_ACTIONS and _is_supervisor_above(user, case):
        return True
    wanted = _GRANTS_FOR[action]
    if wanted:
        if "granted" not in memo:
            memo["granted"] = _granted_codenames(user, case)
        if memo["granted"] & set(wanted):
            return True
    return (
        action in _RECEIVING_HEAD_ACTIONS
        and user.has_role(Role.BUREAU_HEAD)
        and _receiving_court_cases(user).filter(case_id=case.pk).exists()
    )


def _sources(user, action: Action) -> list[tuple[QuerySet, Q]]:
    """The sources of ``user``'s access for ``action``, each twice: as a query of case ids and as
    the same condition on cases. The user's and the user's groups' grants, a bureau head's own
    court, a supervisor's subordinate courts, the transfers a head's court receives."""
    if sees_no_cases(user):
        return []
    sources: list[tuple[QuerySet, Q]] = []
    wanted = _GRANTS_FOR[action]
    if wanted:
        for grants in (
            CaseUserObjectPermission.objects.filter(user=user, permission__codename__in=wanted),
            CaseGroupObjectPermission.objects.filter(group__user=user, permission__codename__in=wanted),
        ):
            ids = grants.values("content_object_id")
            sources.append((ids, Q(pk__in=ids)))
    if user.has_role(Role.BUREAU_HEAD) and action in _HEAD_ACTIONS:
        court = Q(court_id=user.court_id)
        sources.append((EnforcementCase.objects.filter(court).values("pk"), court))
    if user.has_role(Role.SUPERVISOR) and action in _SUPERVISOR_ACTIONS and user.court.path:
        below = Q(court__path__startswith=user.court.path) & ~Q(court_id=user.court_id)
        sources.append((EnforcementCase.objects.filter(below).values("pk"), below))
    if user.has_role(Role.BUREAU_HEAD) and action in _RECEIVING_HEAD_ACTIONS:
        ids = _receiving_court_cases(user)
        sources.append((ids, Q(pk__in=ids)))
    return sources


def cases_for(user, action: Action | str = Action.VIEW, queryset: QuerySet | None = None) -> QuerySet:
    """The cases ``user`` may perform ``action`` on, filtered in SQL.

    The sources of access (``_sources``) are one ``pk IN (… UNION ALL …)``: PostgreSQL joins that
    from the few ids of the user, where an OR of IN-subqueries was a filter on every case of the
    country (docs/PERFORMANCE.md, scale)."""
    queryset = EnforcementCase.objects.all() if queryset is None else queryset
    sources = [ids.order_by() for ids, _condition in _sources(user, Action(action))]
    if not sources:
        return queryset.none()
    first, *rest = sources
    return queryset.filter(pk__in=first.union(*rest, all=True) if rest else first)


def case_scopes(user, action: Action | str = Action.VIEW) -> list[Q]:
    """The sources of access as conditions on cases (their OR is ``cases_for``): a list can take the
    first rows of each in its own order through the source's own index (``queries.CaseListing``)."""
    return [condition for _ids, condition in _sources(user, Action(action))]


def require(user, action: Action | str, case: EnforcementCase) -> EnforcementCase:
    """Return ``case`` when allowed; 404 when the user may not know it exists, else 403. Logged."""
    action = Action(action)
    memo: dict = {}
    if not _can(user, Action.VIEW, case, memo):
        logger.warning("denied (hidden) user=%s action=%s case=%s", getattr(user, "pk", None), action, case.pk)
        raise Http404(_("案件不存在"))
    if action != Action.VIEW and not _can(user, action, case, memo):
        logger.warning("denied (forbidden) user=%s action=%s case=%s", user.pk, action, case.pk)
        raise PermissionDenied(_("无权对该案件执行此操作"))
    return case


def get_case(user, case_id, action: Action | str = Action.VIEW, *, queryset: QuerySet | None = None):
    """Load a case by id through the policy (404 for unknown or hidden ids, 403 for forbidden)."""
    queryset = EnforcementCase.objects.select_related("court") if queryset is None else queryset
    try:
        case = queryset.get(pk=case_id)
    except (EnforcementCase.DoesNotExist, ValueError, TypeError):
        logger.warning("denied (unknown) user=%s case=%s", getattr(user, "pk", None), case_id)
        raise Http404(_("案件不存在")) from None
    return require(user, action, case)


def is_handling_court(user, case: EnforcementCase) -> bool:
    """Is the user a member of the court that handles the case (reads by others are audited)?"""
    return user.court_id == case.court_id
