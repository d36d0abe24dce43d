"""Use cases for property clues and measures.

Rules kept here, once each:

* a clue's verification deadline: received + 7 days, 3 when urgent (period rules, moved past
  holidays because it is owed by the court);
* a measure's expiry: the statutory maximum for its asset kind (``MeasurePeriodRule``), counted
  from the effective day inclusive, never moved past holidays;
* the waiting queue: a freeze or seizure on an asset already under another case's active measure
  waits; when that one ends, the earliest waiting measure takes effect that day;
* the over-freeze guard: active freezes of a case may not exceed the outstanding amount plus a
  configurable margin (``OVER_FREEZE_MARGIN_RATE``).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from enforcement import audit
from enforcement.models import CaseDocument, CaseParty, CasePartyRole, EnforcementCase, Party
from enforcement.periods import Period, period_end
from enforcement.permissions import Action, require
from enforcement.services import (
    add_event,
    lock_cases,
    parse_money,
    record_recovery,
    refresh_art237_clock,
    refresh_undisposed,
)
from platforms.models import Platform

from .models import (
    AssetKind,
    ClueCategory,
    ClueKind,
    ClueSource,
    ClueStatus,
    LiveSeizureVisit,
    Measure,
    MeasureKind,
    MeasurePeriodRule,
    MeasureReminder,
    MeasureStatus,
    PropertyClue,
)
from .queries import active_freezes, not_renewed

K = ClueKind
CATEGORY_KINDS: dict[str, tuple[str, ...]] = {
    ClueCategory.FUNDS: (
        K.PLATFORM_BALANCE,
        K.PAYMENT_ACCOUNT,
        K.PLATFORM_DEPOSIT,
        K.RECEIVABLES,
        K.PRESALE_PAYMENTS,
        K.BANK_DEPOSIT,
    ),
    ClueCategory.RIGHTS: (
        K.STORE_OPERATING_RIGHT,
        K.TRAFFIC_RIGHTS,
        K.REPUTATION,
        K.BRAND_AUTHORIZATION,
        K.DOMAIN_OR_ACCOUNT,
        K.PATENT,
        K.TRADEMARK,
    ),
    ClueCategory.DATA: (K.OPERATING_DATA, K.USER_DATA, K.TRANSACTION_RECORDS),
    ClueCategory.TRADITIONAL: (K.REAL_ESTATE, K.VEHICLE, K.EQUITY, K.SECURITIES, K.MOVABLES, K.LIVESTOCK),
}

# Which statutory period a clue's asset follows when a measure does not say.
DEFAULT_ASSET_KIND: dict[str, str] = {
    K.PLATFORM_BALANCE: AssetKind.PLATFORM_BALANCE,
    K.PAYMENT_ACCOUNT: AssetKind.PAYMENT_ACCOUNT,
    K.PLATFORM_DEPOSIT: AssetKind.PLATFORM_BALANCE,
    K.PRESALE_PAYMENTS: AssetKind.PLATFORM_BALANCE,
    K.BANK_DEPOSIT: AssetKind.BANK_DEPOSIT,
    K.RECEIVABLES: AssetKind.OTHER_PROPERTY_RIGHT,
    K.STORE_OPERATING_RIGHT: AssetKind.OTHER_PROPERTY_RIGHT,
    K.TRAFFIC_RIGHTS: AssetKind.OTHER_PROPERTY_RIGHT,
    K.REPUTATION: AssetKind.OTHER_PROPERTY_RIGHT,
    K.BRAND_AUTHORIZATION: AssetKind.OTHER_PROPERTY_RIGHT,
    K.DOMAIN_OR_ACCOUNT: AssetKind.OTHER_PROPERTY_RIGHT,
    K.PATENT: AssetKind.PATENT,
    K.TRADEMARK: AssetKind.TRADEMARK,
    K.OPERATING_DATA: AssetKind.OTHER_PROPERTY_RIGHT,
    K.USER_DATA: AssetKind.OTHER_PROPERTY_RIGHT,
    K.TRANSACTION_RECORDS: AssetKind.OTHER_PROPERTY_RIGHT,
    K.REAL_ESTATE: AssetKind.REAL_ESTATE,
    K.VEHICLE: AssetKind.MOVABLE,
    K.EQUITY: AssetKind.OTHER_PROPERTY_RIGHT,
    K.SECURITIES: AssetKind.OTHER_PROPERTY_RIGHT,
    K.MOVABLES: AssetKind.MOVABLE,
    K.LIVESTOCK: AssetKind.MOVABLE,
}

# Clues of these categories must name the platform or the institution that holds the asset.
CATEGORIES_NEEDING_HOLDER = (ClueCategory.FUNDS, ClueCategory.DATA)

# Measures that hold an asset and therefore queue behind one another.
HOLDING_KINDS = (MeasureKind.FREEZE, MeasureKind.SEIZE, MeasureKind.DETAIN, MeasureKind.LIVE_SEIZURE)
# Measures that need an amount.
AMOUNT_KINDS = (MeasureKind.FREEZE, MeasureKind.DEDUCT)
OPEN_STATUSES = (MeasureStatus.ACTIVE, MeasureStatus.WAITING)

_SPACES = re.compile(r"\s+")


# --------------------------------------------------------------------------------------------
# asset identity
# --------------------------------------------------------------------------------------------


def normalize_account(account: str) -> str:
    return _SPACES.sub("", account or "").casefold()


def make_asset_key(respondent: Party, platform: Platform | None, registry: str, account: str) -> str:
    """Respondent identity + holder + account: the same asset gets the same key in every court."""
    owner = respondent.identifier or f"party:{respondent.pk}"
    holder = f"p:{platform.code}" if platform else f"r:{normalize_account(registry)}"
    return f"{owner}|{holder}|{normalize_account(account)}"


def _lock_asset(asset_key: str) -> None:
    """Serialize queue decisions on one asset (PostgreSQL advisory lock; SQLite writes are serial)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [asset_key])


def other_courts_many(asset_keys, exclude_case_id: int) -> dict[str, list[dict]]:
    """For each asset key, every other case holding a clue or a measure on that asset: court, case
    number, measure kind and status, date and queue position. One indexed query for all keys; no
    case content beyond the case number."""
    result: dict[str, list[dict]] = {key: [] for key in asset_keys}
    if not result:
        return result
    rows = (
        PropertyClue.objects.filter(asset_key__in=list(result))
        .exclude(case_id=exclude_case_id)
        .order_by("case__court__code", "case__number", "measures__id")
        .values(
            "asset_key",
            "case__court__code",
            "case__court__name",
            "case__number",
            "created_at",
            "measures__kind",
            "measures__status",
            "measures__effective_on",
            "measures__queue_position",
        )
    )
    tz = timezone.get_current_timezone()  # once: looking it up per row cost 10 µs a row
    for row in rows:
        result[row["asset_key"]].append(
            {
                "court": row["case__court__code"],
                "court_name": row["case__court__name"],
                "case_number": row["case__number"],
                "measure_kind": row["measures__kind"],
                "measure_status": row["measures__status"],
                "date": row["measures__effective_on"] or row["created_at"].astimezone(tz).date(),
                "queue_position": row["measures__queue_position"],
            }
        )
    return result


def other_courts(asset_key: str, exclude_case_id: int) -> list[dict]:
    return other_courts_many([asset_key], exclude_case_id)[asset_key]


# --------------------------------------------------------------------------------------------
# clues
# --------------------------------------------------------------------------------------------


def clue_label(clue: PropertyClue) -> str:
    """How a clue is named in the timeline: kind and platform, never the account (the timeline is
    read by everyone who may view the case; data-category accounts are personal information)."""
    holder = clue.platform.name if clue.platform_id else ""
    # the enum's label, not get_kind_display(): that one translates every choice on each call;
    # looked up by value, not tested against ClueKind.values, which builds the list on each call
    try:
        kind = ClueKind(clue.kind).label
    except ValueError:
        kind = clue.kind
    return f"{kind}{'（' + holder + '）' if holder else ''}"


def _case_documents(case: EnforcementCase, refs) -> list[CaseDocument] | None:
    """The case-file documents named by ``refs`` (objects or ids), or None if any is not in it."""
    ids = {getattr(ref, "pk", ref) for ref in refs}
    documents = list(CaseDocument.objects.filter(case=case, pk__in=ids))
    return documents if len(documents) == len(ids) else None


def verify_by_for(received_on: dt.date, urgent: bool) -> dt.date:
    """Applicant clues are verified within 7 days, 3 when urgent (property-investigation art. 2)."""
    return period_end(received_on, Period(days=3 if urgent else 7))


def _respondent_of(case: EnforcementCase, respondent) -> Party | None:
    respondent_id = getattr(respondent, "pk", respondent)
    link = (
        CaseParty.objects.filter(case=case, role=CasePartyRole.RESPONDENT, party_id=respondent_id)
        .select_related("party")
        .first()
        if str(respondent_id or "").isdigit()
        else None
    )
    return link.party if link else None


@transaction.atomic
def add_clue(
    actor,
    case: EnforcementCase,
    *,
    respondent,
    category: str,
    kind: str,
    account: str,
    source: str,
    platform: Platform | str | None = None,
    registry: str = "",
    estimated_value=None,
    urgent: bool = False,
    received_on: dt.date | None = None,
    notes: str = "",
    evidence=(),
) -> PropertyClue:
    """Record a property clue on a respondent of the case."""
    case = EnforcementCase.objects.select_for_update().select_related("court").get(pk=case.pk)
    require(actor, Action.HANDLE, case)
    errors: dict[str, list[str]] = {}
    party = _respondent_of(case, respondent)
    if party is None:
        errors["respondent"] = [_("被执行人须为本案的被执行人")]
    if category not in CATEGORY_KINDS:
        errors["category"] = [_("类别须为 funds、rights、data 或 traditional")]
    elif kind not in CATEGORY_KINDS[category]:
        errors["kind"] = [
            _("财产种类“%(kind)s”不属于类别“%(category)s”") % {"kind": kind, "category": ClueCategory(category).label}
        ]
    if source not in ClueSource.values:
        errors["source"] = [_("来源须为 applicant、platform_query、investigation 或 transferred")]
    if isinstance(platform, str) and platform:
        platform_obj = Platform.objects.filter(code=platform).first()
        if platform_obj is None:
            errors["platform"] = [_("平台“%(code)s”不存在") % {"code": platform}]
        platform = platform_obj
    platform = platform or None
    registry = (registry or "").strip()
    if "platform" not in errors and platform is None and not registry and category in CATEGORIES_NEEDING_HOLDER:
        errors["platform"] = [_("资金类和数据类线索须指明平台或开户/登记机构")]
    if len(registry) > 100:
        errors["registry"] = [_("登记/开户机构不能超过100个字符")]
    account = (account or "").strip()
    if not account:
        errors["account"] = [_("账户或登记号不能为空")]
    elif len(account) > 128:
        errors["account"] = [_("账户或登记号不能超过128个字符")]
    value = None
    if estimated_value not in (None, ""):
        try:
            value = parse_money(estimated_value, "estimated_value", _("估计价值"), allow_zero=True)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    today = timezone.localdate()
    received_on = received_on or today
    if received_on > today:
        errors["received_on"] = [_("收到日期不能晚于今天")]
    documents = _case_documents(case, evidence)
    if documents is None:
        errors["evidence"] = [_("证据材料须为本案案卷中的材料")]
    if errors:
        raise ValidationError(errors)
    clue = PropertyClue.objects.create(
        case=case,
        respondent=party,
        category=category,
        kind=kind,
        platform=platform,
        registry=registry,
        account=account,
        estimated_value=value,
        source=source,
        urgent=bool(urgent),
        received_on=received_on,
        verify_by=verify_by_for(received_on, bool(urgent)),
        notes=notes or "",
        asset_key=make_asset_key(party, platform, registry, account),
        created_by=actor,
    )
    clue.evidence.set(documents)
    refresh_art237_clock(case)
    add_event(case, actor, "clue", _("登记财产线索：%(kind)s") % {"kind": clue.get_kind_display()}, clue=clue.pk)
    audit.record(
        actor,
        "clue.add",
        clue,
        case=case,
        payload={"kind": kind, "asset_key": clue.asset_key, "source": source, "urgent": bool(urgent)},
    )
    return clue


def authorize(actor, case: EnforcementCase) -> None:
    """Users need HANDLE on the case. ``actor=None`` is the system recording what a platform did
    in answer to a notice that was authorized when it was sent: reality is recorded regardless."""
    if actor is not None:
        require(actor, Action.HANDLE, case)


FINDING_KIND = {
    AssetKind.PLATFORM_BALANCE: ClueKind.PLATFORM_BALANCE,
    AssetKind.PAYMENT_ACCOUNT: ClueKind.PAYMENT_ACCOUNT,
    AssetKind.BANK_DEPOSIT: ClueKind.BANK_DEPOSIT,
}


@transaction.atomic
def record_finding(
    case: EnforcementCase, *, respondent: Party, platform: Platform, account: str, asset_kind: str, balance
) -> PropertyClue:
    """A platform answered a query: the account becomes a clue of the case (source 平台查询), or the
    existing clue on the same asset gets the reported balance."""
    key = make_asset_key(respondent, platform, "", account)
    value = parse_money(balance, "balance", _("余额"), allow_zero=True)
    clue = PropertyClue.objects.select_for_update().filter(case=case, asset_key=key).first()
    if clue is not None:
        if clue.estimated_value != value:  # the same balance reported again changes nothing
            PropertyClue.objects.filter(pk=clue.pk).update(estimated_value=value)
            clue.estimated_value = value
            audit.record(None, "clue.balance", clue, case=case, payload={"balance": str(value)})
        return clue
    kind = FINDING_KIND.get(asset_kind, ClueKind.PLATFORM_BALANCE)
    clue = PropertyClue.objects.create(
        case=case,
        respondent=respondent,
        category=ClueCategory.FUNDS,
        kind=kind,
        platform=platform,
        account=account,
        estimated_value=value,
        source=ClueSource.PLATFORM_QUERY,
        received_on=timezone.localdate(),
        verify_by=verify_by_for(timezone.localdate(), False),
        status=ClueStatus.VERIFIED,  # reported by the holder itself
        verified_at=timezone.now(),
        asset_key=key,
    )
    refresh_art237_clock(case)
    refresh_undisposed(case)
    add_event(case, None, "clue", _("平台查询发现财产：%(clue)s") % {"clue": clue_label(clue)}, clue=clue.pk)
    audit.record(None, "clue.found", clue, case=case, payload={"asset_key": key, "balance": str(value)})
    return clue


def record_query_answers(
    case: EnforcementCase,
    *,
    respondent: Party,
    answers: list[tuple[Platform, list[dict]]],
    audit_entries: list | None = None,
) -> list[ValidationError | None]:
    """Platforms answered queries on one respondent (one request to every platform), each listing
    accounts: ``record_finding`` for all of them at once (one lookup of existing clues, one insert
    of the new ones, one balance update, one timeline event summarizing the findings and one batch
    of audit entries, one per clue found or whose balance changed).

    ``answers`` are ``(platform, rows)``, rows dicts with ``account``, ``asset_kind`` and
    ``balance``, taken in order. Returns, per answer, the ``ValidationError`` of its first invalid
    balance (its rows before that one are recorded, as with one ``record_finding`` per row) or
    None. When ``audit_entries`` is a list, the audit entries are appended to it as ``(action,
    clue, payload)`` for the caller to record (with its own, on the same chain, in the same
    transaction) instead of being recorded here."""
    parsed, errors = [], []
    for platform, rows in answers:
        rows_parsed, error = _parse_findings(respondent, platform, rows)
        parsed += rows_parsed
        errors.append(error)
    if parsed:
        with transaction.atomic():
            _record_parsed_findings(case, respondent, parsed, audit_entries)
    return errors


def _parse_findings(respondent, platform, rows) -> tuple[list[tuple], ValidationError | None]:
    """The rows of one answer as ``(asset_key, account, asset_kind, balance, platform)``, up to the
    first invalid balance, and that balance's error."""
    parsed, label = [], _("余额")
    for row in rows:
        try:
            value = parse_money(row.get("balance", "0"), "balance", label, allow_zero=True)
        except ValidationError as exc:
            return parsed, exc
        account = str(row.get("account", ""))
        key = make_asset_key(respondent, platform, "", account)
        parsed.append((key, account, str(row.get("asset_kind", "")), value, platform))
    return parsed, None


def _record_parsed_findings(case, respondent, parsed, audit_entries) -> None:
    keys = list(dict.fromkeys(key for key, *_rest in parsed))
    # what a repeated answer needs of the clues it names: their balances (the rest stays unread)
    known = PropertyClue.objects.select_for_update().filter(case=case, asset_key__in=keys).order_by("pk")
    existing = {clue.asset_key: clue for clue in known.only("id", "asset_key", "estimated_value")}
    today, now = timezone.localdate(), timezone.now()
    verify_by = verify_by_for(today, False)
    entries: list[tuple[str, PropertyClue, dict]] = []
    new: dict[str, PropertyClue] = {}
    updated: dict[str, PropertyClue] = {}
    for key, account, asset_kind, value, platform in parsed:
        clue = existing.get(key) or new.get(key)
        if clue is not None:
            if clue.estimated_value != value:  # the same balance reported again changes nothing
                clue.estimated_value = value
                if key in existing:
                    updated[key] = clue
                entries.append(("clue.balance", clue, {"balance": str(value)}))
        else:
            clue = new[key] = PropertyClue(
                case=case,
                respondent=respondent,
                category=ClueCategory.FUNDS,
                kind=FINDING_KIND.get(asset_kind, ClueKind.PLATFORM_BALANCE),
                platform=platform,
                account=account,
                estimated_value=value,
                source=ClueSource.PLATFORM_QUERY,
                received_on=today,
                verify_by=verify_by,
                status=ClueStatus.VERIFIED,  # reported by the holder itself
                verified_at=now,
                asset_key=key,
            )
            entries.append(("clue.found", clue, {"asset_key": key, "balance": str(value)}))
    if new:
        # a clue found and then reported again in the same answer is inserted with its last balance
        PropertyClue.objects.bulk_create(list(new.values()))
        refresh_art237_clock(case)
        refresh_undisposed(case)
    if updated:
        PropertyClue.objects.bulk_update(list(updated.values()), ["estimated_value"])
    if new:
        found = list(new.values())
        if len(found) == 1:
            add_event(
                case, None, "clue", _("平台查询发现财产：%(clue)s") % {"clue": clue_label(found[0])}, clue=found[0].pk
            )
        else:
            labels = "、".join(dict.fromkeys(clue_label(clue) for clue in found))
            add_event(
                case,
                None,
                "clue",
                _("平台查询发现%(n)d项财产：%(clues)s") % {"n": len(found), "clues": labels},
                clues=[clue.pk for clue in found],
            )
    if audit_entries is not None:
        audit_entries.extend(entries)
    else:
        audit.record_many(
            None,
            "",
            [clue for _action, clue, _payload in entries],
            case=case,
            payloads=[payload for *_rest, payload in entries],
            actions=[action for action, *_rest in entries],
        )


def _lock_clue(clue: PropertyClue) -> PropertyClue:
    """Lock the clue's case, then the clue: the order of ``add_clue`` and ``record_measure``, so a
    status change and the art. 237 clock it moves never wait on each other in a cycle."""
    list(EnforcementCase.objects.select_for_update(of=("self",)).filter(pk=clue.case_id).values_list("pk"))
    return PropertyClue.objects.select_for_update(of=("self",)).select_related("case__court").get(pk=clue.pk)


@transaction.atomic
def verify_clue(actor, clue: PropertyClue) -> PropertyClue:
    clue = _lock_clue(clue)
    authorize(actor, clue.case)
    if clue.status != ClueStatus.PENDING:
        raise ValidationError({"status": [_("只有待核实的线索可以核实")]})
    clue.status = ClueStatus.VERIFIED
    clue.verified_at = timezone.now()
    clue.save(update_fields=["status", "verified_at"])
    refresh_art237_clock(clue.case)
    refresh_undisposed(clue.case)
    add_event(clue.case, actor, "clue_verified", _("线索已核实：%(clue)s") % {"clue": clue_label(clue)}, clue=clue.pk)
    audit.record(actor, "clue.verify", clue, case=clue.case)
    return clue


@transaction.atomic
def invalidate_clue(actor, clue: PropertyClue, *, reason: str) -> PropertyClue:
    clue = _lock_clue(clue)
    authorize(actor, clue.case)
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("须写明线索无效的原因")]})
    if clue.status not in (ClueStatus.PENDING, ClueStatus.VERIFIED):
        raise ValidationError({"status": [_("已采取措施或已处置的线索不能标记为无效")]})
    clue.status = ClueStatus.INVALID
    clue.invalid_reason = reason.strip()
    clue.save(update_fields=["status", "invalid_reason"])
    refresh_art237_clock(clue.case)  # invalid: no longer property to enforce
    refresh_undisposed(clue.case)
    add_event(clue.case, actor, "clue_invalid", _("线索无效：%(reason)s") % {"reason": clue.invalid_reason})
    audit.record(actor, "clue.invalidate", clue, case=clue.case, payload={"reason": clue.invalid_reason})
    return clue


# --------------------------------------------------------------------------------------------
# measures: periods, guard, queue
# --------------------------------------------------------------------------------------------


def period_months(asset_kind: str) -> int:
    rule = MeasurePeriodRule.objects.filter(asset_kind=asset_kind).first()
    if rule is None:
        raise ValidationError({"asset_kind": [_("财产类型“%(kind)s”未配置控制期限") % {"kind": asset_kind}]})
    return rule.months


def measure_expiry(asset_kind: str, effective_on: dt.date) -> dt.date:
    """The exact last day of a measure effective on ``effective_on`` (that day counts as the first).

    Never moved past holidays: the court states this date and must renew before it.
    """
    return period_end(
        effective_on - dt.timedelta(days=1), Period(months=period_months(asset_kind)), shift_holiday=False
    )


def frozen_total(case: EnforcementCase) -> Decimal:
    """已冻结: the amount of the case's active freezes (a renewal replaces, it does not add)."""
    total = active_freezes().filter(case=case).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0.00")


def freeze_limit(case: EnforcementCase) -> Decimal:
    """Outstanding amount plus the margin for interest and costs."""
    outstanding = case.amount_outstanding
    return (outstanding + outstanding * settings.OVER_FREEZE_MARGIN_RATE).quantize(Decimal("0.01"))


def excess_frozen(case: EnforcementCase) -> Decimal:
    """Frozen beyond the limit (e.g. after a deduction recovered money): to be listed for release."""
    return max(frozen_total(case) - freeze_limit(case), Decimal("0.00"))


def guard_freeze(
    case: EnforcementCase, amount: Decimal, reduce_to_fit: bool = False, pending=Decimal("0.00")
) -> Decimal:
    """The over-freeze guard: the amount allowed (possibly reduced), or a refusal with the figures.
    ``pending`` is what freeze notices already sent or waiting may still freeze."""
    frozen, limit = frozen_total(case) + pending, freeze_limit(case)
    room = limit - frozen
    if amount <= room:
        return amount
    if reduce_to_fit and room > 0:
        return room
    raise ValidationError(
        {
            "amount": [
                _(
                    "超标的冻结：未履行金额 ¥%(outstanding)s，允许冻结上限 ¥%(limit)s，已冻结 ¥%(frozen)s，"
                    "本次最多可冻结 ¥%(room)s，申请 ¥%(amount)s"
                )
                % {
                    "outstanding": case.amount_outstanding,
                    "limit": limit,
                    "frozen": frozen,
                    "room": max(room, Decimal("0.00")),
                    "amount": amount,
                }
            ]
        }
    )


def _next_position(asset_key: str) -> int:
    last = (
        Measure.objects.filter(asset_key=asset_key, status=MeasureStatus.WAITING)
        .order_by("-queue_position")
        .values_list("queue_position", flat=True)
        .first()
    )
    return (last or 0) + 1


def _blocking(asset_key: str, case_id: int):
    return Measure.objects.filter(asset_key=asset_key, kind__in=HOLDING_KINDS, status=MeasureStatus.ACTIVE).exclude(
        case_id=case_id
    )


@transaction.atomic
def record_measure(
    actor,
    case: EnforcementCase,
    *,
    clue,
    kind: str,
    asset_kind: str | None = None,
    amount=None,
    effective_on: dt.date | None = None,
    reduce_to_fit: bool = False,
    enforce_guard: bool = True,
) -> Measure:
    """Record a measure taken on a clue of the case (manual entry or an ingested platform result).

    ``enforce_guard=False`` records a freeze a platform already made (its notice passed the guard).
    """
    case = EnforcementCase.objects.select_for_update().select_related("court").get(pk=case.pk)
    authorize(actor, case)
    errors: dict[str, list[str]] = {}
    clue_id = getattr(clue, "pk", clue)
    clue_obj = PropertyClue.objects.filter(pk=clue_id, case=case).first() if str(clue_id).isdigit() else None
    if clue_obj is None:
        raise ValidationError({"clue": [_("线索不属于本案")]})
    if clue_obj.status in (ClueStatus.INVALID, ClueStatus.DISPOSED):
        errors["clue"] = [_("线索已无效或已处置，不能采取措施")]
    if not case.is_open:
        errors["case"] = [_("已结案的案件不能采取措施")]
    if kind not in MeasureKind.values:
        errors["kind"] = [_("措施须为 freeze、seize、detain、live_seizure 或 deduct")]
    asset_kind = asset_kind or DEFAULT_ASSET_KIND.get(clue_obj.kind)
    if asset_kind not in AssetKind.values:
        errors["asset_kind"] = [_("财产类型无效")]
    value = None
    if amount not in (None, ""):
        try:
            value = parse_money(amount, "amount", _("金额"))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    elif kind in AMOUNT_KINDS:
        errors["amount"] = [_("冻结和扣划须填写金额")]
    today = timezone.localdate()
    effective_on = effective_on or today
    if effective_on > today:
        errors["effective_on"] = [_("生效日不能晚于今天")]
    if errors:
        raise ValidationError(errors)
    if kind == MeasureKind.FREEZE and enforce_guard:
        value = guard_freeze(case, value, reduce_to_fit)
    if kind == MeasureKind.DEDUCT and value > case.amount_outstanding:
        raise ValidationError(
            {
                "amount": [
                    _("扣划金额 ¥%(amount)s 超过未履行金额 ¥%(out)s")
                    % {"amount": value, "out": case.amount_outstanding}
                ]
            }
        )

    _lock_asset(clue_obj.asset_key)
    measure = Measure(
        case=case,
        clue=clue_obj,
        kind=kind,
        asset_kind=asset_kind,
        amount=value,
        asset_key=clue_obj.asset_key,
        requested_on=today,
        created_by=actor,
    )
    if kind == MeasureKind.DEDUCT:
        measure.status = MeasureStatus.COMPLETED
        measure.effective_on = effective_on
    elif _blocking(clue_obj.asset_key, case.pk).exists():
        measure.status = MeasureStatus.WAITING
        measure.queue_position = _next_position(clue_obj.asset_key)
    else:
        measure.status = MeasureStatus.ACTIVE
        measure.effective_on = effective_on
        measure.expires_on = measure_expiry(asset_kind, effective_on)
    measure.save()
    clue_obj.status = ClueStatus.DISPOSED if kind == MeasureKind.DEDUCT else ClueStatus.UNDER_MEASURE
    clue_obj.save(update_fields=["status"])
    refresh_undisposed(case)
    if kind == MeasureKind.DEDUCT:
        refresh_art237_clock(case)  # disposed: no longer property to enforce (under a measure still is)
        record_recovery(actor, case, value, reason=_("扣划 %(clue)s") % {"clue": clue_label(clue_obj)})
    message = _("%(kind)s %(clue)s") % {"kind": measure.get_kind_display(), "clue": clue_label(clue_obj)}
    if measure.status == MeasureStatus.WAITING:
        message += _("（轮候第%(n)d位）") % {"n": measure.queue_position}
    add_event(case, actor, "measure", message, measure=measure.pk)
    audit.record(
        actor,
        "measure.record",
        measure,
        case=case,
        payload={
            "kind": kind,
            "amount": str(value) if value is not None else None,
            "status": measure.status,
            "asset_key": measure.asset_key,
            "expires_on": measure.expires_on,
            "queue_position": measure.queue_position,
        },
    )
    return measure


def _renewal_in_force(measure: Measure) -> bool:
    return Measure.objects.filter(renewed_from=measure, status=MeasureStatus.ACTIVE).exists()


def _first_waiting_cases(asset_keys) -> set[int]:
    """The cases of the first waiting measure on each of ``asset_keys``: those a release or an expiry
    may put into force (read without a lock, to order the case locks; ``_promote_next`` decides)."""
    first: dict[str, int] = {}
    for key, case_id in (
        Measure.objects.filter(asset_key__in=set(asset_keys), status=MeasureStatus.WAITING)
        .order_by("asset_key", "queue_position", "id")
        .values_list("asset_key", "case_id")
    ):
        first.setdefault(key, case_id)
    return set(first.values())


def _lock_measure(measure: Measure, *, may_promote: bool = False) -> Measure:
    """Lock the measure's case (and, when the change may put a waiting measure on the asset into
    force, that measure's case, in the order of their ids: both rows are written), then the
    measure."""
    promoted = _first_waiting_cases([measure.asset_key]) if may_promote else set()
    lock_cases({measure.case_id, *promoted})
    return Measure.objects.select_for_update(of=("self",)).select_related("case__court", "clue").get(pk=measure.pk)


@transaction.atomic
def renew_measure(actor, measure: Measure, *, effective_on: dt.date | None = None) -> Measure:
    """续行: a new measure linked to the old one, effective the day after the old expiry."""
    measure = _lock_measure(measure)
    case = measure.case
    authorize(actor, case)
    if measure.status != MeasureStatus.ACTIVE or measure.kind == MeasureKind.DEDUCT:
        raise ValidationError({"measure": [_("只有有效的冻结、查封、扣押措施可以续行")]})
    if _renewal_in_force(measure):
        raise ValidationError({"measure": [_("该措施已续行")]})
    today = timezone.localdate()
    if today > measure.expires_on:
        raise ValidationError({"measure": [_("措施已于 %(date)s 到期，不能续行") % {"date": measure.expires_on}]})
    start = measure.expires_on + dt.timedelta(days=1)
    if effective_on is not None and effective_on != start:
        raise ValidationError({"effective_on": [_("续行措施自原措施到期日次日（%(date)s）起生效") % {"date": start}]})
    renewal = Measure.objects.create(
        case=case,
        clue=measure.clue,
        kind=measure.kind,
        asset_kind=measure.asset_kind,
        amount=measure.amount,
        asset_key=measure.asset_key,
        status=MeasureStatus.ACTIVE,
        effective_on=start,
        expires_on=measure_expiry(measure.asset_kind, start),
        renewed_from=measure,
        requested_on=today,
        created_by=actor,
    )
    refresh_undisposed(case)
    add_event(
        case,
        actor,
        "measure_renewed",
        _("续行%(kind)s至 %(date)s") % {"kind": measure.get_kind_display(), "date": renewal.expires_on},
        measure=renewal.pk,
    )
    audit.record(
        actor,
        "measure.renew",
        renewal,
        case=case,
        payload={"renewed_from": measure.pk, "effective_on": start, "expires_on": renewal.expires_on},
    )
    return renewal


@transaction.atomic
def release_measure(actor, measure: Measure, *, reason: str = "") -> tuple[Measure, Measure | None]:
    """解除 an active or waiting measure; returns it and the waiting measure it promoted, if any."""
    measure = _lock_measure(measure, may_promote=True)
    authorize(actor, measure.case)
    if measure.status not in OPEN_STATUSES:
        raise ValidationError({"measure": [_("只有有效或轮候中的措施可以解除")]})
    _lock_asset(measure.asset_key)
    was = measure.status
    today = timezone.localdate()
    measure.status = MeasureStatus.RELEASED
    measure.released_on = today
    measure.release_reason = (reason or "").strip()
    position = measure.queue_position
    measure.queue_position = None
    measure.save(update_fields=["status", "released_on", "release_reason", "queue_position"])
    # A renewal not yet in force goes with the measure it continues.
    Measure.objects.filter(renewed_from=measure, status=MeasureStatus.ACTIVE).update(
        status=MeasureStatus.RELEASED, released_on=today, release_reason=measure.release_reason
    )
    promoted = None
    if was == MeasureStatus.WAITING:
        Measure.objects.filter(
            asset_key=measure.asset_key, status=MeasureStatus.WAITING, queue_position__gt=position
        ).update(queue_position=F("queue_position") - 1)
    else:
        promoted = _promote_next(measure.asset_key, today, actor)
    if not measure.clue.measures.filter(status__in=OPEN_STATUSES).exists():
        # under a measure → verified: still property to enforce, the art. 237 clock does not move
        PropertyClue.objects.filter(pk=measure.clue_id, status=ClueStatus.UNDER_MEASURE).update(
            status=ClueStatus.VERIFIED
        )
    refresh_undisposed(measure.case)
    add_event(measure.case, actor, "measure_released", _("解除%(kind)s") % {"kind": measure.get_kind_display()})
    audit.record(
        actor,
        "measure.release",
        measure,
        case=measure.case,
        payload={"reason": measure.release_reason, "promoted": promoted.pk if promoted else None},
    )
    return measure, promoted


def _promote_next(asset_key: str, today: dt.date, actor=None) -> Measure | None:
    """The earliest waiting measure on the asset takes effect today, when nothing holds it."""
    if Measure.objects.filter(asset_key=asset_key, kind__in=HOLDING_KINDS, status=MeasureStatus.ACTIVE).exists():
        return None
    nxt = (
        Measure.objects.select_for_update()
        .filter(asset_key=asset_key, status=MeasureStatus.WAITING)
        .order_by("queue_position", "id")
        .first()
    )
    if nxt is None:
        return None
    nxt.status = MeasureStatus.ACTIVE
    nxt.queue_position = None
    nxt.effective_on = today
    nxt.expires_on = measure_expiry(nxt.asset_kind, today)
    nxt.save(update_fields=["status", "queue_position", "effective_on", "expires_on"])
    Measure.objects.filter(asset_key=asset_key, status=MeasureStatus.WAITING).update(
        queue_position=F("queue_position") - 1
    )
    refresh_undisposed(nxt.case)
    add_event(
        nxt.case,
        None,
        "measure_promoted",
        _("轮候%(kind)s已生效，到期日 %(date)s") % {"kind": nxt.get_kind_display(), "date": nxt.expires_on},
        measure=nxt.pk,
    )
    audit.record(
        actor, "measure.promote", nxt, case=nxt.case, payload={"effective_on": today, "expires_on": nxt.expires_on}
    )
    return nxt


@transaction.atomic
def expire_measures(today: dt.date | None = None) -> int:
    """Active measures past their last day end (expired, or completed when renewed) and the queue
    moves on. Run daily by beat; running it twice changes nothing more."""
    today = today or timezone.localdate()
    due = Measure.objects.filter(status=MeasureStatus.ACTIVE, expires_on__lt=today)
    # the cases whose rows the expiry writes (the measures' and those a promotion may reach) first,
    # in the order of their ids, then the measures
    seen = list(due.values_list("case_id", "asset_key"))
    lock_cases({case_id for case_id, _key in seen} | _first_waiting_cases(key for _case, key in seen))
    ended = list(due.select_for_update(of=("self",)).select_related("case").order_by("id"))
    for measure in ended:
        renewed = _renewal_in_force(measure)
        measure.status = MeasureStatus.COMPLETED if renewed else MeasureStatus.EXPIRED
        measure.save(update_fields=["status"])
        refresh_undisposed(measure.case)
        if not renewed:
            add_event(
                measure.case,
                None,
                "measure_expired",
                _("%(kind)s已于 %(date)s 到期失效") % {"kind": measure.get_kind_display(), "date": measure.expires_on},
            )
        audit.record(None, "measure.expire", measure, case=measure.case, payload={"status": measure.status})
        _promote_next(measure.asset_key, today)
    return len(ended)


def reminder_days() -> tuple[int, ...]:
    return tuple(sorted(settings.MEASURE_REMINDER_DAYS, reverse=True))


@transaction.atomic
def remind_expiring(today: dt.date | None = None) -> int:
    """Create the 30/15/7-day reminders due today (idempotent: one per measure, threshold, date)."""
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=max(reminder_days()))
    due = not_renewed(
        Measure.objects.filter(status=MeasureStatus.ACTIVE, expires_on__gte=today, expires_on__lte=horizon)
    ).values_list("pk", "expires_on")
    reminders = [
        MeasureReminder(measure_id=pk, days_before=days, expires_on=expires)
        for pk, expires in due
        for days in reminder_days()
        if (expires - today).days <= days
    ]
    before = MeasureReminder.objects.count()
    MeasureReminder.objects.bulk_create(reminders, ignore_conflicts=True)
    return MeasureReminder.objects.count() - before


# --------------------------------------------------------------------------------------------
# live seizure
# --------------------------------------------------------------------------------------------


@transaction.atomic
def schedule_visit(actor, measure: Measure, *, scheduled_on: dt.date, officer=None) -> LiveSeizureVisit:
    measure = _lock_measure(measure)
    authorize(actor, measure.case)
    if measure.kind != MeasureKind.LIVE_SEIZURE or measure.status != MeasureStatus.ACTIVE:
        raise ValidationError({"measure": [_("只有有效的活查封可以安排回访")]})
    if scheduled_on < timezone.localdate():
        raise ValidationError({"scheduled_on": [_("计划回访日期不能早于今天")]})
    visit = LiveSeizureVisit.objects.create(measure=measure, scheduled_on=scheduled_on, officer=officer or actor)
    add_event(measure.case, actor, "visit_scheduled", _("安排活查封回访：%(date)s") % {"date": scheduled_on})
    audit.record(actor, "visit.schedule", visit, case=measure.case, payload={"scheduled_on": scheduled_on})
    return visit


@transaction.atomic
def record_visit(
    actor, visit: LiveSeizureVisit, *, visited_on: dt.date, count=None, condition: str = "", notes: str = "", photos=()
) -> LiveSeizureVisit:
    visit = LiveSeizureVisit.objects.select_for_update().select_related("measure__case").get(pk=visit.pk)
    case = visit.measure.case
    require(actor, Action.HANDLE, case)
    errors: dict[str, list[str]] = {}
    if visit.visited_on is not None:
        errors["visit"] = [_("该回访已记录")]
    if visited_on > timezone.localdate():
        errors["visited_on"] = [_("回访日期不能晚于今天")]
    if count is not None and (not str(count).isdigit()):
        errors["count"] = [_("数量须为非负整数")]
    documents = _case_documents(case, photos)
    if documents is None:
        errors["photos"] = [_("照片须为本案案卷中的材料")]
    if errors:
        raise ValidationError(errors)
    visit.visited_on = visited_on
    visit.count = int(count) if count is not None else None
    visit.condition = condition or ""
    visit.notes = notes or ""
    visit.officer = visit.officer or actor
    visit.save()
    visit.photos.set(documents)
    add_event(case, actor, "visit", _("活查封回访：%(condition)s") % {"condition": visit.condition or "-"})
    audit.record(actor, "visit.record", visit, case=case, payload={"count": visit.count, "condition": condition})
    return visit


def visits_due(today: dt.date | None = None):
    """Scheduled live-seizure visits not yet made whose date has come."""
    today = today or timezone.localdate()
    return LiveSeizureVisit.objects.filter(visited_on__isnull=True, scheduled_on__lte=today)


@transaction.atomic
def record_sale_proceeds(actor, measure: Measure, *, amount) -> Measure:
    """Goods under live seizure were sold: the proceeds are recovered and the seizure is done."""
    measure = _lock_measure(measure, may_promote=True)
    authorize(actor, measure.case)
    if measure.kind not in HOLDING_KINDS or measure.kind == MeasureKind.FREEZE:
        raise ValidationError({"measure": [_("只有查封、扣押或活查封的财产可以登记变价款")]})
    if measure.status != MeasureStatus.ACTIVE:
        raise ValidationError({"measure": [_("只有有效的措施可以登记变价款")]})
    value = parse_money(amount, "amount", _("变价款"))
    if value > measure.case.amount_outstanding:
        raise ValidationError({"amount": [_("变价款超过未履行金额，超出部分应退还被执行人")]})
    measure.status = MeasureStatus.COMPLETED
    measure.save(update_fields=["status"])
    # The goods are sold: a renewal of the seizure has nothing left to hold.
    Measure.objects.filter(renewed_from=measure, status=MeasureStatus.ACTIVE).update(status=MeasureStatus.COMPLETED)
    PropertyClue.objects.filter(pk=measure.clue_id).update(status=ClueStatus.DISPOSED)
    record_recovery(actor, measure.case, value, reason=_("变价款"))
    refresh_art237_clock(measure.case)
    refresh_undisposed(measure.case)
    audit.record(actor, "measure.proceeds", measure, case=measure.case, payload={"amount": str(value)})
    _promote_next(measure.asset_key, timezone.localdate(), actor)
    return measure
