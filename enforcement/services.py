"""Use cases that change courts, users, parties and cases.

Each service takes the acting user and plain values, checks the policy, validates, writes inside
one transaction together with its audit entry and timeline event, and raises:

* ``django.core.exceptions.ValidationError`` with a ``{field: [message]}`` dict for bad input
  (messages in Chinese, naming the field and the rule);
* ``Http404`` / ``PermissionDenied`` from the policy for hidden or forbidden cases;
* ``PermissionDenied`` for a role that may not use the service at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import CharField, Count, DateField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Concat, Least, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from . import audit, periods
from .models import (
    CaseDocument,
    CaseEvent,
    CaseNumberSequence,
    CaseParty,
    CasePartyRole,
    CaseStatus,
    CaseType,
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
from .permissions import HANDLE_PERM, Action, require
from .validators import normalize_id_number, normalize_uscc

MONEY_PLACES = Decimal("0.01")
MONEY_MAX = Decimal("99999999999999.99")


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def require_role(user, *codes: str) -> None:
    if not getattr(user, "is_authenticated", False) or not any(user.has_role(code) for code in codes):
        raise PermissionDenied(_("您的角色无权执行此操作"))


def require_system_admin(user) -> None:
    if not (getattr(user, "is_authenticated", False) and (user.is_superuser or user.has_role(Role.SYSTEM_ADMIN))):
        raise PermissionDenied(_("仅系统管理员可执行此操作"))


def parse_money(value, field: str, label: str, *, allow_zero: bool = False) -> Decimal:
    """A yuan amount with at most two decimal places, positive (or zero when allowed)."""
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: [_("%(label)s须为金额数字，如 1234.50") % {"label": label}]}) from None
    if not amount.is_finite():
        raise ValidationError({field: [_("%(label)s须为金额数字，如 1234.50") % {"label": label}]})
    if amount != amount.quantize(MONEY_PLACES):
        raise ValidationError({field: [_("%(label)s最多保留两位小数") % {"label": label}]})
    if amount < 0 or (amount == 0 and not allow_zero):
        rule = _("不能为负数") if allow_zero else _("须大于零")
        raise ValidationError({field: [_("%(label)s%(rule)s") % {"label": label, "rule": rule}]})
    if amount > MONEY_MAX:
        raise ValidationError({field: [_("%(label)s超出允许的最大金额") % {"label": label}]})
    return amount.quantize(MONEY_PLACES)


def size_text(size: int) -> str:
    """1048576 -> "1 MB", 1572864 -> "1.5 MB", 512000 -> "500 KB"."""
    if size >= 1024 * 1024:
        return f"{round(size / (1024 * 1024), 1):g} MB"
    return f"{round(size / 1024, 1):g} KB"


def add_event(case: EnforcementCase, actor, kind: str, message: str, **data) -> CaseEvent:
    """Write a line of the case's timeline and move the case's last activity to it."""
    event = CaseEvent(
        case=case,
        actor=actor if getattr(actor, "pk", None) else None,
        kind=kind,
        message=message,
        data=data,
        at=timezone.now(),
    )
    if connection.vendor == "postgresql":
        _insert_event(event)
    else:  # the embedded SQLite of `make run`
        event.save()
        EnforcementCase.objects.filter(pk=case.pk).filter(
            Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=event.at)
        ).update(last_activity_at=event.at)
    if case.last_activity_at is None or case.last_activity_at < event.at:
        case.last_activity_at = event.at  # a later save() of this object writes the same value
    return event


def _insert_event(event: CaseEvent) -> None:
    """The event's row and the case's last activity in one statement: every service writes events,
    and the ORM's insert and update cost 1.7 ms of CPU together, the statement a fifth of that."""
    fields = [CaseEvent._meta.get_field(name) for name in ("case", "at", "actor", "kind", "message", "data")]
    quote = connection.ops.quote_name
    last_activity = quote(EnforcementCase._meta.get_field("last_activity_at").column)
    at = CaseEvent._meta.get_field("at").get_db_prep_save(event.at, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH event AS (INSERT INTO {quote(CaseEvent._meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"
            f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id),"
            f" moved AS (UPDATE {quote(EnforcementCase._meta.db_table)} SET {last_activity} = %s"
            f" WHERE id = %s AND ({last_activity} IS NULL OR {last_activity} < %s))"
            " SELECT id FROM event",
            [*(f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields), at, event.case_id, at],
        )
        event.pk = cursor.fetchone()[0]
    event._state.adding, event._state.db = False, connection.alias


def last_activity_expression():
    """Per case (``OuterRef("pk")``): the time of its latest event, null when it has none."""
    return Subquery(CaseEvent.objects.filter(case=OuterRef("pk")).order_by("-at").values("at")[:1])


def rebuild_case_activity() -> int:
    """Set every case's last activity again from its timeline (after a bulk load); returns the
    number of cases."""
    return EnforcementCase.objects.update(last_activity_at=last_activity_expression())


# --------------------------------------------------------------------------------------------
# courts and users
# --------------------------------------------------------------------------------------------

_PARENT_LEVEL = {
    CourtLevel.SUPREME: None,
    CourtLevel.HIGH: CourtLevel.SUPREME,
    CourtLevel.INTERMEDIATE: CourtLevel.HIGH,
    CourtLevel.BASIC: CourtLevel.INTERMEDIATE,
}


@transaction.atomic
def create_court(actor, *, code: str, name: str, level: str, parent: Court | None, region: str = "") -> Court:
    """Register a court in the hierarchy (system admin). Courts are never re-parented."""
    require_system_admin(actor)
    code, name, region = (code or "").strip(), (name or "").strip(), (region or "").strip()
    errors = court_errors(code=code, name=name, level=level, parent=parent, region=region)
    if errors:
        raise ValidationError(errors)
    court = Court.objects.create(code=code, name=name, level=level, parent=parent, region=region)
    court.path = f"{parent.path if parent else '/'}{court.pk}/"
    court.save(update_fields=["path"])
    audit.record(actor, "court.create", court, payload={"code": code, "name": name, "level": level})
    return court


REGION_RE = re.compile(r"[0-9]{6}")


def court_errors(*, code: str, name: str, level: str, parent: Court | None, region: str) -> dict[str, list[str]]:
    """The rules of a new court, shared by the service and the Django admin form."""
    errors: dict[str, list[str]] = {}
    if not code:
        errors["code"] = [_("法院代字不能为空")]
    elif Court.objects.filter(code=code).exists():
        errors["code"] = [_("法院代字“%(code)s”已被使用") % {"code": code}]
    if not name:
        errors["name"] = [_("法院名称不能为空")]
    elif Court.objects.filter(name=name).exists():
        errors["name"] = [_("法院名称已存在")]
    if level not in CourtLevel.values:
        errors["level"] = [_("级别须为 supreme、high、intermediate 或 basic")]
    elif _PARENT_LEVEL[CourtLevel(level)] is None and parent is not None:
        errors["parent"] = [_("最高人民法院不能有上级法院")]
    elif _PARENT_LEVEL[CourtLevel(level)] is not None and (
        parent is None or parent.level != _PARENT_LEVEL[CourtLevel(level)]
    ):
        errors["parent"] = [_("上级法院的级别须为“%(level)s”") % {"level": _PARENT_LEVEL[CourtLevel(level)].label}]
    if level == CourtLevel.SUPREME and Court.objects.filter(level=CourtLevel.SUPREME).exists():
        errors["level"] = [_("最高人民法院只能有一个")]
    if parent is not None and not parent.path:
        errors["parent"] = [_("上级法院不在法院层级中")]
    if region and not REGION_RE.fullmatch(region):
        errors["region"] = [_("行政区划代码须为6位数字（GB/T 2260）")]
    return errors


@transaction.atomic
def create_user(
    actor,
    *,
    username: str,
    password: str,
    display_name: str,
    court: Court | None,
    roles: Iterable[str],
    is_staff: bool = False,
) -> User:
    """Create a user of a court with roles (system admin)."""
    require_system_admin(actor)
    roles = list(dict.fromkeys(roles or []))
    errors: dict[str, list[str]] = {}
    username = (username or "").strip()
    if not username:
        errors["username"] = [_("用户名不能为空")]
    elif User.objects.filter(username=username).exists():
        errors["username"] = [_("用户名“%(name)s”已被使用") % {"name": username}]
    unknown = [code for code in roles if code not in Role.CODES]
    if unknown:
        errors["roles"] = [_("未知角色：%(codes)s") % {"codes": "、".join(unknown)}]
    elif not roles:
        errors["roles"] = [_("至少选择一个角色")]
    elif court is None and set(roles) - {Role.SYSTEM_ADMIN}:
        errors["court"] = [_("办案人员须指定所属法院")]
    try:
        validate_password(password or "", User(username=username, first_name=display_name))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    user = User(username=username, display_name=display_name or username, court=court, is_staff=is_staff)
    user.set_password(password)
    user.save()
    user.roles.set(roles)
    audit.record(
        actor, "user.create", user, payload={"username": username, "court": court.pk if court else None, "roles": roles}
    )
    return user


# --------------------------------------------------------------------------------------------
# parties
# --------------------------------------------------------------------------------------------


@transaction.atomic
def create_party(actor, *, kind: str, name: str, id_number: str = "", uscc: str = "", address: str = "") -> Party:
    """Register a party, validating its identity number (身份证号 or 统一社会信用代码)."""
    require_role(actor, Role.JUDGE, Role.BUREAU_HEAD)
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("名称/姓名不能为空")]
    if kind not in PartyKind.values:
        errors["kind"] = [_("当事人类型须为 person（自然人）、entity（法人）或 organization（非法人组织）")]
    id_number, uscc = (id_number or "").strip(), (uscc or "").strip()
    if kind == PartyKind.PERSON:
        if uscc:
            errors["uscc"] = [_("自然人不填写统一社会信用代码")]
        if not id_number:
            errors["id_number"] = [_("自然人须填写身份证号")]
        else:
            try:
                id_number = normalize_id_number(id_number)
            except ValidationError as exc:
                errors["id_number"] = exc.messages
    elif kind == PartyKind.ENTITY:
        if id_number:
            errors["id_number"] = [_("法人不填写身份证号")]
        if not uscc:
            errors["uscc"] = [_("法人须填写统一社会信用代码")]
        else:
            try:
                uscc = normalize_uscc(uscc)
            except ValidationError as exc:
                errors["uscc"] = exc.messages
    elif kind == PartyKind.ORGANIZATION:
        if id_number:
            errors["id_number"] = [_("非法人组织不填写身份证号")]
        if uscc:
            try:
                uscc = normalize_uscc(uscc)
            except ValidationError as exc:
                errors["uscc"] = exc.messages
    if errors:
        raise ValidationError(errors)
    party = Party.objects.create(
        kind=kind, name=name, id_number=id_number, uscc=uscc, address=(address or "").strip(), created_by=actor
    )
    audit.record(actor, "party.create", party, payload={"kind": kind, "name": name})
    return party


# --------------------------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------------------------


def next_case_sequence(court: Court, type_code: str, year: int) -> int:
    """Bump and return the sequence for court + type + year in one atomic statement."""
    table = CaseNumberSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (court_id, type_code, year, last_value) VALUES (%s, %s, %s, 1) "
            f"ON CONFLICT (court_id, type_code, year) DO UPDATE SET last_value = {table}.last_value + 1 "
            "RETURNING last_value",
            [court.pk, type_code, year],
        )
        return cursor.fetchone()[0]


def _judges_of_court(court: Court, user_ids: Iterable) -> tuple[list[User], list[str]]:
    ids = []
    for value in user_ids or []:
        try:
            ids.append(int(getattr(value, "pk", value)))
        except (TypeError, ValueError):
            return [], [_("承办人须为用户编号")]
    judges = list(User.objects.filter(pk__in=ids, court=court, roles__code=Role.JUDGE, is_active=True).distinct())
    if len(judges) != len(set(ids)):
        return [], [_("承办人须为本院在职的执行法官")]
    return judges, []


def _parties(ids, field: str, label: str, errors: dict) -> list[Party]:
    ids = [getattr(v, "pk", v) for v in (ids or [])]
    if not ids:
        errors[field] = [_("至少需要一名%(label)s") % {"label": label}]
        return []
    try:
        parties = list(Party.objects.filter(pk__in=ids))
    except (TypeError, ValueError):
        parties = []
    if len(parties) != len(set(ids)):
        errors[field] = [_("%(label)s中有不存在的当事人") % {"label": label}]
    return parties


@transaction.atomic
def open_case(
    actor,
    *,
    court: Court | None = None,
    type_code: str = CaseType.ENFORCEMENT,
    applicants,
    respondents,
    basis_document_number: str,
    basis_issuing_court: str,
    amount_due,
    filed_on: dt.date | None = None,
    assigned_judges=None,
    origin_case: EnforcementCase | None = None,
) -> EnforcementCase:
    """File a new enforcement case (立案) in the actor's own court and assign its judges."""
    require_role(actor, Role.JUDGE, Role.BUREAU_HEAD)
    court = court or actor.court
    errors: dict[str, list[str]] = {}
    if court is None or court.pk != actor.court_id:
        errors["court"] = [_("只能在本院立案")]
    if type_code not in CaseType.values:
        errors["type_code"] = [_("类型代字无效")]
    try:
        amount = parse_money(amount_due, "amount_due", _("执行标的"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
        amount = None
    today = timezone.localdate()
    filed_on = filed_on or today
    if filed_on > today:
        errors["filed_on"] = [_("立案日期不能晚于今天")]
    if not (basis_document_number or "").strip():
        errors["basis_document_number"] = [_("执行依据文号不能为空")]
    if not (basis_issuing_court or "").strip():
        errors["basis_issuing_court"] = [_("执行依据作出机关不能为空")]
    applicant_parties = _parties(applicants, "applicants", _("申请执行人"), errors)
    respondent_parties = _parties(respondents, "respondents", _("被执行人"), errors)
    if {p.pk for p in applicant_parties} & {p.pk for p in respondent_parties}:
        errors["respondents"] = [_("同一当事人不能既是申请执行人又是被执行人")]
    judges: list[User] = []
    if court is not None and "court" not in errors:
        judges, judge_errors = _judges_of_court(court, assigned_judges)
        if judge_errors:
            errors["assigned_judges"] = judge_errors
        elif not judges and actor.has_role(Role.JUDGE) and not actor.has_role(Role.BUREAU_HEAD):
            # A judge filing a case handles it; a bureau head assigns it (分案) instead.
            judges = [actor]
    if errors:
        raise ValidationError(errors)

    sequence = next_case_sequence(court, type_code, filed_on.year)
    case = EnforcementCase.objects.create(
        court=court,
        type_code=type_code,
        year=filed_on.year,
        sequence=sequence,
        number=EnforcementCase.format_number(filed_on.year, court.code, type_code, sequence),
        basis_document_number=basis_document_number.strip(),
        basis_issuing_court=basis_issuing_court.strip(),
        amount_due=amount,
        filed_on=filed_on,
        art237_clock_from=filed_on,  # no clue yet: the general clock (see refresh_art237_clock)
        origin_case=origin_case,
        created_by=actor,
    )
    CaseParty.objects.bulk_create(
        [CaseParty(case=case, party=p, role=CasePartyRole.APPLICANT) for p in applicant_parties]
        + [CaseParty(case=case, party=p, role=CasePartyRole.RESPONDENT) for p in respondent_parties]
    )
    refresh_respondent_load(p.identifier for p in respondent_parties)
    for judge in judges:
        assign_perm(HANDLE_PERM, judge, case)
    add_event(case, actor, "filed", _("立案：%(number)s") % {"number": case.number})
    audit.record(
        actor,
        "case.open",
        case,
        case=case,
        payload={
            "number": case.number,
            "amount_due": str(amount),
            "applicants": [p.pk for p in applicant_parties],
            "respondents": [p.pk for p in respondent_parties],
            "assigned_judges": [j.pk for j in judges],
        },
    )
    return case


EDITABLE_CASE_FIELDS = ("basis_document_number", "basis_issuing_court", "amount_due")


@transaction.atomic
def update_case(actor, case: EnforcementCase, **changes) -> EnforcementCase:
    """Edit the basis and the amount due of an open case."""
    case = _lock(case)
    require(actor, Action.HANDLE, case)
    errors: dict[str, list[str]] = {}
    unknown = set(changes) - set(EDITABLE_CASE_FIELDS)
    if unknown:
        raise ValidationError({field: [_("该字段不可修改")] for field in sorted(unknown)})
    if not case.is_open:
        raise ValidationError({"status": [_("已结案的案件不能修改")]})
    before = {field: str(getattr(case, field)) for field in changes}
    for field in ("basis_document_number", "basis_issuing_court"):
        if field in changes:
            value = (changes[field] or "").strip()
            if not value:
                errors[field] = [
                    _("%(label)s不能为空") % {"label": EnforcementCase._meta.get_field(field).verbose_name}
                ]
            changes[field] = value
    if "amount_due" in changes:
        try:
            changes["amount_due"] = parse_money(changes["amount_due"], "amount_due", _("执行标的"))
            if changes["amount_due"] < case.amount_recovered:
                errors["amount_due"] = [_("执行标的不能低于已执行到位金额")]
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    for field, value in changes.items():
        setattr(case, field, value)
    case.save(update_fields=[*changes, "updated_at"])
    after = {field: str(getattr(case, field)) for field in changes}
    add_event(case, actor, "edited", _("修改案件信息"), before=before, after=after)
    audit.record(actor, "case.update", case, case=case, payload={"before": before, "after": after})
    return case


@transaction.atomic
def assign_judges(actor, case: EnforcementCase, judges) -> list[User]:
    """Set the judges handling a case (分案). Only the bureau head of the case's court."""
    case = _lock(case)
    require(actor, Action.ASSIGN, case)
    new, judge_errors = _judges_of_court(case.court, judges)
    if judge_errors:
        raise ValidationError({"assigned_judges": judge_errors})
    if not new:
        raise ValidationError({"assigned_judges": [_("至少指定一名承办人")]})
    current = set(assigned_judges(case))
    for judge in current - set(new):
        remove_perm(HANDLE_PERM, judge, case)
    for judge in set(new) - current:
        assign_perm(HANDLE_PERM, judge, case)
    names = "、".join(str(j) for j in new)
    add_event(case, actor, "assigned", _("指定承办人：%(names)s") % {"names": names}, judges=[j.pk for j in new])
    audit.record(actor, "case.assign", case, case=case, payload={"judges": sorted(j.pk for j in new)})
    return new


def assigned_judges(case: EnforcementCase) -> list[User]:
    """The users holding the handle grant on the case."""
    return list(
        User.objects.filter(
            caseuserobjectpermission__content_object=case,  # guardian's direct foreign key
            caseuserobjectpermission__permission__codename=HANDLE_PERM,
        )
        .distinct()
        .order_by("pk")
    )


# The transition table: (from, to) -> what the step is called. Anything else is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (CaseStatus.FILED, CaseStatus.IN_PROGRESS): "start",
    (CaseStatus.FILED, CaseStatus.CLOSED): "close",
    (CaseStatus.FILED, CaseStatus.SUSPENDED): "suspend",
    (CaseStatus.IN_PROGRESS, CaseStatus.SUSPENDED): "suspend",
    (CaseStatus.SUSPENDED, CaseStatus.IN_PROGRESS): "resume_from_suspension",
    (CaseStatus.IN_PROGRESS, CaseStatus.CLOSED): "close",
    (CaseStatus.SUSPENDED, CaseStatus.CLOSED): "close",
}
# Closing methods a case may be closed with straight after filing (no enforcement took place).
CLOSE_FROM_FILED = {ClosingMethod.REJECTED, ClosingMethod.NOT_ENFORCED, ClosingMethod.WITHDRAWN_BY_TRANSFER}
# 销案 is written only by the transfer service when a case is designated to another court.
SYSTEM_ONLY_CLOSINGS = {ClosingMethod.WITHDRAWN_BY_TRANSFER}


def lock_cases(case_ids) -> None:
    """Lock cases (FOR UPDATE) in the order of their ids (``case_ids``: ids or a subquery of them).
    A transaction that writes the rows of several cases takes them all first, in this one order, so
    two such transactions never each hold one and wait for the other."""
    list(
        EnforcementCase.objects.select_for_update(of=("self",))
        .filter(pk__in=case_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _lock(case: EnforcementCase) -> EnforcementCase:
    return EnforcementCase.objects.select_for_update().select_related("court").get(pk=case.pk)


# --------------------------------------------------------------------------------------------
# open cases per respondent identity (RespondentLoad)
# --------------------------------------------------------------------------------------------


def party_identity(prefix: str = ""):
    """A party's identity number as one SQL expression: 身份证号 or 统一社会信用代码 (a party has at
    most one of them; ``''`` for an organization without a code). ``prefix`` reaches the party
    through a relation (``"party__"``); the expression index of migration 0006 is on exactly this."""
    return Concat(f"{prefix}id_number", f"{prefix}uscc", output_field=CharField())


def respondent_identifiers(case: EnforcementCase) -> set[str]:
    """The identity numbers of the case's respondents (without empty ones)."""
    return {
        cp.party.identifier
        for cp in case.case_parties.select_related("party").filter(role=CasePartyRole.RESPONDENT)
        if cp.party.identifier
    }


def open_cases_per_identity(identities: list[str] | None = None) -> QuerySet:
    """Rows ``{identity, open_cases, open_courts}``: the open cases of each respondent identity
    and the courts they are in, counted from the cases (all identities, or only ``identities``)."""
    rows = CaseParty.objects.filter(role=CasePartyRole.RESPONDENT).exclude(case__status=CaseStatus.CLOSED)
    if identities is not None:
        rows = rows.filter(Q(party__id_number__in=identities) | Q(party__uscc__in=identities))
    return (
        rows.annotate(identity=party_identity("party__"))
        .exclude(identity="")
        .values("identity")
        .annotate(open_cases=Count("case_id", distinct=True), open_courts=Count("case__court_id", distinct=True))
        .order_by()
    )


def refresh_respondent_load(identities: Iterable[str]) -> None:
    """Count again, from the cases themselves, the open cases per court of each identity.

    Called inside the transaction of every change that files, closes or reopens a case. On
    PostgreSQL a transaction-scoped advisory lock per identity (taken in sorted order) makes two
    concurrent changes of one identity count one after the other, so the second sees the first's
    case; recounting instead of adding and subtracting keeps the table right whatever came before.
    """
    identities = sorted({i for i in identities if i})
    if not identities:
        return
    lock_trigger_thresholds(exclusive=False)  # the marks below read them
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for identity in identities:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["respondent_load:" + identity])
    rows = [
        RespondentLoad(identity=r["identity"], open_cases=r["open_cases"], open_courts=r["open_courts"])
        for r in open_cases_per_identity(identities)
    ]
    RespondentLoad.objects.filter(identity__in=identities).delete()
    RespondentLoad.objects.bulk_create(rows)
    from transfers.services import mark_same_respondent  # the trigger's thresholds are transfers'

    mark_same_respondent(identities=identities)


def lock_trigger_thresholds(*, exclusive: bool) -> None:
    """The transaction-scoped advisory lock between a change of a high court's trigger thresholds
    (exclusive) and the refreshes of respondent loads (shared), taken before either reads the
    thresholds or the loads: without it, a refresh could mark with the thresholds a concurrent
    change replaces, and the change mark with a load a concurrent refresh replaces."""
    if connection.vendor == "postgresql":
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(hashtext('transfer_trigger_thresholds'))")


def rebuild_respondent_load() -> int:
    """Count the whole table again from the cases (after a bulk load), and mark again the
    respondents over the trigger; returns the rows written."""
    from transfers.services import mark_same_respondent

    sql, params = open_cases_per_identity().query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        lock_trigger_thresholds(exclusive=True)
        RespondentLoad.objects.all().delete()
        cursor.execute(f"INSERT INTO {RespondentLoad._meta.db_table} (identity, open_cases, open_courts) {sql}", params)
        rows = cursor.rowcount
        mark_same_respondent()
        return rows


# --------------------------------------------------------------------------------------------
# transitions
# --------------------------------------------------------------------------------------------


def allowed_transitions(case: EnforcementCase) -> list[str]:
    return [to for (frm, to) in TRANSITIONS if frm == case.status]


@transaction.atomic
def transition_case(
    actor,
    case: EnforcementCase,
    to_status: str,
    *,
    closing_method: str = "",
    reason: str = "",
    _system=False,
    event_data: dict | None = None,
) -> EnforcementCase:
    """Move a case along the transition table, writing the timeline and the audit entry.

    ``_system=True`` is for services that decided with their own authority (a transfer closes the
    original case as 销案, 执转破 suspends other courts' cases): no handle right is checked.
    ``event_data`` goes with the timeline entry (a transfer names itself: ``transfer``, and the
    case it is about: ``transfer_case``, so the case page can link to it).
    """
    case = _lock(case)
    if not _system:
        require(actor, Action.HANDLE, case)
    frm = case.status
    if (frm, to_status) not in TRANSITIONS:
        raise ValidationError(
            {
                "status": [
                    _("不允许从“%(frm)s”变更为“%(to)s”")
                    % {"frm": CaseStatus(frm).label, "to": _label(CaseStatus, to_status)}
                ]
            }
        )
    if to_status == CaseStatus.CLOSED:
        if closing_method not in ClosingMethod.values:
            raise ValidationError({"closing_method": [_("结案须选择结案方式")]})
        if closing_method in SYSTEM_ONLY_CLOSINGS and not _system:
            raise ValidationError({"closing_method": [_("销案只能通过交叉执行的指定执行决定作出")]})
        if frm == CaseStatus.FILED and closing_method not in CLOSE_FROM_FILED:
            raise ValidationError({"closing_method": [_("未开始执行的案件只能以驳回申请、不予执行或销案结案")]})
        if closing_method == ClosingMethod.FULLY_ENFORCED and case.amount_outstanding > 0:
            raise ValidationError(
                {
                    "closing_method": [
                        _("尚有未履行金额 ¥%(amount)s，不能以执行完毕结案") % {"amount": case.amount_outstanding}
                    ]
                }
            )
        if closing_method in (ClosingMethod.CLOSED_FOR_NOW, ClosingMethod.TERMINATED) and not reason.strip():
            raise ValidationError({"reason": [_("终结本次执行程序或终结执行须写明理由")]})
        case.closing_method = closing_method
        case.closed_on = timezone.localdate()
    elif closing_method:
        raise ValidationError({"closing_method": [_("只有结案时才填写结案方式")]})
    case.status = to_status
    case.save(update_fields=["status", "closing_method", "closed_on", "updated_at"])
    if (frm == CaseStatus.CLOSED) != (to_status == CaseStatus.CLOSED):
        refresh_respondent_load(respondent_identifiers(case))
    message = _("状态：%(frm)s → %(to)s") % {"frm": CaseStatus(frm).label, "to": CaseStatus(to_status).label}
    if closing_method:
        message += f"（{ClosingMethod(closing_method).label}）"
    add_event(case, actor, TRANSITIONS[(frm, to_status)], message, **(event_data or {}), reason=reason)
    audit.record(
        actor,
        "case.transition",
        case,
        case=case,
        payload={"from": frm, "to": to_status, "closing_method": closing_method, "reason": reason},
    )
    return case


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


@transaction.atomic
def resume_case(actor, case: EnforcementCase, *, reason: str = "") -> EnforcementCase:
    """执恢: reopen enforcement of a case closed for now as a new 执恢 case linked to the old one."""
    case = _lock(case)
    require(actor, Action.HANDLE, case)
    if case.status != CaseStatus.CLOSED or case.closing_method != ClosingMethod.CLOSED_FOR_NOW:
        raise ValidationError({"status": [_("只有终结本次执行程序的案件可以恢复执行")]})
    if case.successor_case_id:
        raise ValidationError({"status": [_("该案件已恢复执行：%(number)s") % {"number": case.successor_case.number}]})
    parties = list(case.case_parties.all())
    judges = [j for j in assigned_judges(case) if j.court_id == case.court_id]
    new = open_case(
        actor,
        court=case.court,
        type_code=CaseType.RESUMED,
        applicants=[cp.party_id for cp in parties if cp.role == CasePartyRole.APPLICANT],
        respondents=[cp.party_id for cp in parties if cp.role == CasePartyRole.RESPONDENT],
        basis_document_number=case.basis_document_number,
        basis_issuing_court=case.basis_issuing_court,
        amount_due=case.amount_outstanding,
        assigned_judges=judges,
        origin_case=case,
    )
    case.successor_case = new
    case.save(update_fields=["successor_case", "updated_at"])
    add_event(case, actor, "resumed", _("恢复执行，新案号：%(number)s") % {"number": new.number}, reason=reason)
    audit.record(actor, "case.resume", case, case=case, payload={"successor": new.pk, "reason": reason})
    return new


# --------------------------------------------------------------------------------------------
# property found and not disposed of
# --------------------------------------------------------------------------------------------


def undisposed_since_expression():
    """Per case (``OuterRef("pk")``): the earliest day a clue still verified or under a measure was
    verified, or a measure still in force took effect; null when there is none."""
    from clues.models import ClueStatus, Measure, MeasureStatus, PropertyClue  # clues builds on enforcement

    clue = (
        PropertyClue.objects.filter(
            case=OuterRef("pk"),
            status__in=(ClueStatus.VERIFIED, ClueStatus.UNDER_MEASURE),
            verified_at__isnull=False,
        )
        .order_by("verified_at")
        .values(day=TruncDate("verified_at"))[:1]
    )
    measure = (
        Measure.objects.filter(case=OuterRef("pk"), status=MeasureStatus.ACTIVE, effective_on__isnull=False)
        .order_by("effective_on")
        .values("effective_on")[:1]
    )
    a, b = Subquery(clue, output_field=DateField()), Subquery(measure, output_field=DateField())
    return Least(Coalesce(a, b), Coalesce(b, a))  # LEAST of SQLite is null when either is


def refresh_undisposed(case: EnforcementCase) -> None:
    """Recompute ``undisposed_since`` of ``case``; its one writer.

    Call it inside the transaction of every service that verifies a clue, moves one out of
    verified or under a measure, or puts a measure into force or ends it.
    """
    EnforcementCase.objects.filter(pk=case.pk).update(undisposed_since=undisposed_since_expression())


def rebuild_undisposed() -> int:
    """``refresh_undisposed`` for every case (after a bulk load); returns the number of cases."""
    return EnforcementCase.objects.update(undisposed_since=undisposed_since_expression())


# --------------------------------------------------------------------------------------------
# the art. 237 clock
# --------------------------------------------------------------------------------------------


def refresh_art237_clock(case: EnforcementCase) -> EnforcementCase:
    """Recompute where the art. 237 six months of ``case`` run from; the one writer of
    ``art237_clock_from`` and ``art237_clock_clue``.

    Per property not yet enforced (a clue pending, verified or under a measure): six months from
    receiving the application when the respondent had it then, from the day it was found when found
    later. The case may be taken to the higher court once the earliest of these has run, so the
    clock starts at the earliest max(filed_on, received_on) over those clues; without any, at
    filing (the statute's general clock). When the start moves, the excluded days are counted again
    from the new start (only excluded periods after it extend it).

    Call it inside the transaction of every service that creates a clue or moves one into or out of
    those statuses. The case row is locked first, so two clue changes on one case are applied one
    after the other and the second sees the first. Returns ``case`` with the fields updated.
    """
    from clues.models import ClueStatus, PropertyClue  # clues builds on enforcement, not the reverse

    # clues of property not yet enforced to completion keep the clock running
    running = (ClueStatus.PENDING, ClueStatus.VERIFIED, ClueStatus.UNDER_MEASURE)
    current = (
        EnforcementCase.objects.select_for_update(of=("self",))
        .values("filed_on", "art237_clock_from", "art237_clock_clue_id")
        .get(pk=case.pk)
    )
    filed_on = current["filed_on"]
    first = (
        PropertyClue.objects.filter(case_id=case.pk, status__in=running)
        .order_by("received_on", "pk")
        .values_list("pk", "received_on")
        .first()
    )
    if first is not None and first[1] > filed_on:
        start, clue_id = first[1], first[0]
    else:
        start, clue_id = filed_on, None
    changes = {"art237_clock_from": start, "art237_clock_clue_id": clue_id}
    if (current["art237_clock_from"], current["art237_clock_clue_id"]) != (start, clue_id):
        if (current["art237_clock_from"] or filed_on) != start:
            # transfers.Art237ExcludedPeriod, through its reverse accessor
            intervals = case.art237_exclusions.values_list("started_on", "ended_on")
            changes["art237_excluded_days"] = periods.days_covered(start, intervals)
        EnforcementCase.objects.filter(pk=case.pk).update(**changes)
    for field, value in changes.items():
        setattr(case, field, value)  # a changed clue id drops a cached ``art237_clock_clue``
    return case


# --------------------------------------------------------------------------------------------
# documents and file reads
# --------------------------------------------------------------------------------------------


# At most this many files are added to the case file in one go (``add_documents``).
MAX_FILES_PER_UPLOAD = 10


def upload_errors(upload) -> list[str]:
    """What is wrong with a file for the case file (allowed type by extension, size, empty)."""
    if upload is None:
        return [_("请选择要上传的文件")]
    extension = PurePath(upload.name).suffix.lower().lstrip(".")
    if extension not in settings.CASE_DOCUMENT_ALLOWED_EXTENSIONS:
        return [_("文件类型不允许，仅限：%(types)s") % {"types": "、".join(settings.CASE_DOCUMENT_ALLOWED_EXTENSIONS)}]
    if upload.size > settings.CASE_DOCUMENT_MAX_BYTES:
        return [_("文件大小不能超过 %(size)s") % {"size": size_text(settings.CASE_DOCUMENT_MAX_BYTES)}]
    if upload.size == 0:
        return [_("文件为空")]
    return []


def _store_document(actor, case: EnforcementCase, *, doc_type: str, title: str, upload) -> CaseDocument:
    """Write a checked file to storage and the case file, with its SHA-256, event and audit entry."""
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    document = CaseDocument(
        case=case,
        doc_type=doc_type,
        title=title.strip(),
        original_name=PurePath(upload.name).name[:255],
        content_type=getattr(upload, "content_type", "") or "application/octet-stream",
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    document.file.save(f"{case.pk}-{digest.hexdigest()[:16]}{PurePath(upload.name).suffix.lower()}", upload, save=False)
    document.save()
    add_event(case, actor, "document", _("上传案卷材料：%(title)s") % {"title": document.title}, document=document.pk)
    audit.record(actor, "document.add", document, case=case, payload={"sha256": document.sha256, "size": document.size})
    return document


@transaction.atomic
def add_document(actor, case: EnforcementCase, *, doc_type: str, title: str, upload) -> CaseDocument:
    """Add a document to the case file, checking its type and size and fixing its SHA-256."""
    case = _lock(case)
    require(actor, Action.HANDLE, case)
    errors: dict[str, list[str]] = {}
    if doc_type not in DocumentType.values:
        errors["doc_type"] = [_("材料类型无效")]
    if not (title or "").strip():
        errors["title"] = [_("标题不能为空")]
    file_errors = upload_errors(upload)
    if file_errors:
        errors["file"] = file_errors
    if errors:
        raise ValidationError(errors)
    return _store_document(actor, case, doc_type=doc_type, title=title, upload=upload)


def documents_errors(uploads, *, field: str = "files") -> dict[str, list[str]]:
    """``upload_errors`` for several files at once, each message naming the file, under ``field``."""
    uploads = [upload for upload in uploads or () if upload is not None]
    if len(uploads) > MAX_FILES_PER_UPLOAD:
        return {field: [_("一次最多上传 %(n)d 个文件") % {"n": MAX_FILES_PER_UPLOAD}]}
    messages = [
        _("%(name)s：%(error)s") % {"name": PurePath(upload.name).name, "error": error}
        for upload in uploads
        for error in upload_errors(upload)
    ]
    return {field: messages} if messages else {}


@transaction.atomic
def add_documents(actor, case: EnforcementCase, *, doc_type: str, uploads, field: str = "files") -> list[CaseDocument]:
    """Add several files to the case file, each titled by its file name: all or none. Every file is
    checked before any is written; if writing one fails, the files already written are removed
    (the rows go with the transaction)."""
    case = _lock(case)
    require(actor, Action.HANDLE, case)
    if doc_type not in DocumentType.values:
        raise ValidationError({"doc_type": [_("材料类型无效")]})
    uploads = [upload for upload in uploads or () if upload is not None]
    errors = documents_errors(uploads, field=field)
    if errors:
        raise ValidationError(errors)
    stored: list[CaseDocument] = []
    try:
        for upload in uploads:
            title = (PurePath(upload.name).stem or PurePath(upload.name).name)[:200]
            stored.append(_store_document(actor, case, doc_type=doc_type, title=title, upload=upload))
    except BaseException:
        for document in stored:
            document.file.delete(save=False)
        raise
    return stored


def record_file_read(actor, case: EnforcementCase, what: str, obj=None) -> None:
    """Check view_file and audit the read when the reader is outside the handling court."""
    require(actor, Action.VIEW_FILE, case)
    if actor.court_id != case.court_id:
        with transaction.atomic():
            audit.record(actor, "case.file_read", obj or case, case=case, payload={"what": what})


@transaction.atomic
def register_case(actor, *, applicants: list[dict], respondents: list[dict], **case_fields) -> EnforcementCase:
    """File a case whose parties are entered with it: each party is either ``{"id": pk}`` of an
    existing party or the fields of ``create_party``. Errors of a party are reported under
    ``applicants.N.field`` / ``respondents.N.field``; nothing is written unless everything is valid.
    """
    errors: dict[str, list[str]] = {}
    ids: dict[str, list[int]] = {"applicants": [], "respondents": []}
    for group, entries in (("applicants", applicants), ("respondents", respondents)):
        for index, entry in enumerate(entries or []):
            if entry.get("id"):
                ids[group].append(entry["id"])
                continue
            try:
                with transaction.atomic():
                    party = create_party(
                        actor,
                        kind=entry.get("kind", ""),
                        name=entry.get("name", ""),
                        id_number=entry.get("id_number", ""),
                        uscc=entry.get("uscc", ""),
                        address=entry.get("address", ""),
                    )
                ids[group].append(party.pk)
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    errors[f"{group}.{index}.{field}"] = messages
    try:
        with transaction.atomic():
            case = open_case(actor, applicants=ids["applicants"], respondents=ids["respondents"], **case_fields)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            if not (field in ("applicants", "respondents") and any(k.startswith(field) for k in errors)):
                errors[field] = messages
        case = None
    if errors:
        raise ValidationError(errors)
    return case


@transaction.atomic
def record_recovery(actor, case: EnforcementCase, amount: Decimal, *, reason: str) -> EnforcementCase:
    """已执行到位: add money recovered to the case (called by the services that recover it)."""
    case = _lock(case)
    if getattr(actor, "pk", None):
        require(actor, Action.HANDLE, case)
    if amount <= 0:
        raise ValidationError({"amount": [_("执行到位金额须大于零")]})
    if case.amount_recovered + amount > case.amount_due:
        raise ValidationError({"amount": [_("执行到位金额不能超过执行标的")]})
    case.amount_recovered += amount
    case.save(update_fields=["amount_recovered", "updated_at"])
    add_event(case, actor, "recovered", _("执行到位 ¥%(amount)s（%(reason)s）") % {"amount": amount, "reason": reason})
    audit.record(actor, "case.recovery", case, case=case, payload={"amount": str(amount), "reason": reason})
    return case
