"""Use cases for platforms (system administrators)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import random
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet, Sum, prefetch_related_objects
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from clues import services as clue_services
from clues.models import Measure, PropertyClue
from clues.services import guard_freeze
from enforcement import audit, bulk
from enforcement.models import CaseParty, CasePartyRole, Court, EnforcementCase
from enforcement.permissions import Action, can, require
from enforcement.services import add_event, lock_cases, parse_money, require_system_admin

from . import crypto, signing, transport
from .models import (
    Capability,
    Connector,
    DeliveryAttempt,
    FreezeMode,
    Notice,
    NoticeKind,
    NoticeState,
    Platform,
    PlatformKind,
)

CODE_RE = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")
SWEEP_BATCH = 10  # notices per delivery task when the sweeper re-enqueues


@transaction.atomic
def create_platform(actor, *, code: str, name: str, kind: str, hq_court: Court | None = None, region: str = ""):
    """Register a platform (system admin)."""
    require_system_admin(actor)
    code, name = (code or "").strip(), (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not CODE_RE.match(code):
        errors["code"] = [_("平台代码须为2至32位小写字母、数字、下划线或连字符，以字母开头")]
    elif Platform.objects.filter(code=code).exists():
        errors["code"] = [_("平台代码“%(code)s”已被使用") % {"code": code}]
    if not name:
        errors["name"] = [_("平台名称不能为空")]
    if kind not in PlatformKind.values:
        errors["kind"] = [_("类型须为 ecommerce、payment、cross_border 或 other")]
    if region and not (region.isdigit() and len(region) == 6):
        errors["region"] = [_("行政区划代码须为6位数字（GB/T 2260）")]
    if errors:
        raise ValidationError(errors)
    platform = Platform.objects.create(code=code, name=name, kind=kind, hq_court=hq_court, region=region)
    audit.record(actor, "platform.create", platform, payload={"code": code, "name": name, "kind": kind})
    return platform


# --------------------------------------------------------------------------------------------
# connectors (system admins; never case content)
# --------------------------------------------------------------------------------------------


def _base_url_error(base_url: str) -> str:
    """The reason a connector may not point at ``base_url`` ('' when it may): SSRF guard, the same
    check ``transport`` repeats before every request."""
    if not re.match(r"^https?://[^\s/]+", base_url or ""):
        return _("接口地址须以 http:// 或 https:// 开头")
    problem = transport.destination_problem(base_url)
    messages = {
        "scheme": _("接口地址须以 http:// 或 https:// 开头"),
        "host": _("接口地址须包含有效的主机名"),
        "metadata": _("接口地址不得指向云平台元数据服务"),
        "link_local": _("接口地址不得指向链路本地地址（169.254.0.0/16、fe80::/10）"),
        "unspecified": _("接口地址不得指向未指定地址（0.0.0.0、::）"),
        "self": _("接口地址不得指向本系统服务器自身（除非已列入 CONNECTOR_ALLOWED_HOSTS）"),
    }
    return messages.get(problem, _("接口地址不允许")) if problem else ""


def _connector_errors(*, base_url, key_id, capabilities, timeout_s, max_attempts, secret, new: bool) -> dict:
    errors: dict[str, list[str]] = {}
    url_error = _base_url_error(base_url)
    if url_error:
        errors["base_url"] = [url_error]
    if not (key_id or "").strip():
        errors["key_id"] = [_("密钥编号不能为空")]
    if new and not secret:
        errors["secret"] = [_("新建连接器须填写密钥")]
    elif secret is not None and secret != "" and len(secret) < 16:
        errors["secret"] = [_("密钥至少16个字符")]
    unknown = [c for c in capabilities or [] if c not in Capability.values]
    if unknown:
        errors["capabilities"] = [_("未知的通知类型：%(codes)s") % {"codes": "、".join(map(str, unknown))}]
    if not (1 <= int(timeout_s) <= 120):
        errors["timeout_s"] = [_("超时须在1至120秒之间")]
    if not (1 <= int(max_attempts) <= 30):
        errors["max_attempts"] = [_("最多尝试次数须在1至30之间")]
    return errors


@transaction.atomic
def save_connector(
    actor,
    platform: Platform,
    *,
    base_url: str,
    key_id: str,
    capabilities: list[str],
    secret: str | None = None,
    enabled: bool = True,
    timeout_s: int = 10,
    max_attempts: int = 12,
) -> Connector:
    """Create or update the connector of a platform. A new secret replaces the old one at once;
    use ``rotate_secret`` to keep the old one valid for a grace period."""
    require_system_admin(actor)
    existing = Connector.objects.select_for_update().filter(platform=platform).first()
    errors = _connector_errors(
        base_url=base_url,
        key_id=key_id,
        capabilities=capabilities,
        timeout_s=timeout_s,
        max_attempts=max_attempts,
        secret=secret,
        new=existing is None,
    )
    if errors:
        raise ValidationError(errors)
    connector = existing or Connector(platform=platform)
    connector.base_url = base_url.rstrip("/")
    connector.key_id = key_id.strip()
    connector.capabilities = sorted(set(capabilities), key=Capability.values.index)
    connector.enabled = bool(enabled)
    connector.timeout_s = int(timeout_s)
    connector.max_attempts = int(max_attempts)
    if secret:
        connector.secret_encrypted = crypto.encrypt(secret)
    connector.save()
    audit.record(
        actor,
        "connector.save",
        connector,
        payload={
            "platform": platform.code,
            "base_url": connector.base_url,
            "key_id": connector.key_id,
            "capabilities": connector.capabilities,
            "enabled": connector.enabled,
            "secret_changed": bool(secret),
        },
    )
    return connector


@transaction.atomic
def rotate_secret(actor, connector: Connector, *, secret: str, key_id: str | None = None, grace_hours: int = 24):
    """New secret from now on; the previous one still verifies callbacks for ``grace_hours``."""
    require_system_admin(actor)
    if not secret or len(secret) < 16:
        raise ValidationError({"secret": [_("密钥至少16个字符")]})
    connector = Connector.objects.select_for_update().get(pk=connector.pk)
    connector.previous_secret_encrypted = connector.secret_encrypted
    connector.previous_valid_until = timezone.now() + dt.timedelta(hours=grace_hours)
    connector.secret_encrypted = crypto.encrypt(secret)
    if key_id:
        connector.key_id = key_id
    connector.save()
    audit.record(actor, "connector.rotate", connector, payload={"grace_hours": grace_hours, "key_id": connector.key_id})
    return connector


def connector_secrets(connector: Connector) -> list[str]:
    """Secrets that verify a platform's signature now: the current one, and the previous one
    during its grace period."""
    secrets = [crypto.decrypt(connector.secret_encrypted)]
    if (
        connector.previous_secret_encrypted
        and connector.previous_valid_until
        and (connector.previous_valid_until > timezone.now())
    ):
        secrets.append(crypto.decrypt(connector.previous_secret_encrypted))
    return secrets


def check_connector_health(actor, connector: Connector) -> Connector:
    """测试连接: ask the platform's health endpoint and store the outcome."""
    require_system_admin(actor)
    root = connector.base_url.rsplit("/", 1)[0] if connector.base_url.count("/") > 2 else connector.base_url
    ok, error = False, ""
    try:
        response = transport.get(f"{root}/_health", timeout_s=min(connector.timeout_s, 5))
        ok = response.status_code == 200
        error = "" if ok else f"HTTP {response.status_code}"
    except transport.DeliveryError as exc:
        error = exc.error_class
    except Exception as exc:  # noqa: BLE001 - any failure is the health answer
        error = type(exc).__name__
    Connector.objects.filter(pk=connector.pk).update(last_health_at=timezone.now(), last_health_ok=ok, last_error=error)
    connector.refresh_from_db()
    with transaction.atomic():
        audit.record(actor, "connector.test", connector, payload={"ok": ok, "error": error})
    return connector


# --------------------------------------------------------------------------------------------
# notices
# --------------------------------------------------------------------------------------------

PENDING_STATES = (NoticeState.AWAITING_APPROVAL, NoticeState.QUEUED, NoticeState.SENDING, NoticeState.ACKNOWLEDGED)
TERMINAL_STATES = (NoticeState.COMPLETED, NoticeState.REJECTED, NoticeState.FAILED, NoticeState.CANCELLED)


def pending_amount(case: EnforcementCase, kind: str) -> Decimal:
    """What notices of ``kind`` asked for and not yet answered may still freeze or deduct."""
    total = Notice.objects.filter(case=case, kind=kind, state__in=PENDING_STATES).aggregate(t=Sum("amount"))["t"]
    return total or Decimal("0.00")


def _enabled_connectors(kind: str, codes) -> tuple[list[Connector], dict]:
    connectors = list(Connector.objects.select_related("platform").filter(enabled=True).order_by("platform__code"))
    capable = [c for c in connectors if kind in c.capabilities]
    if codes == "all":
        if not capable:
            return [], {"platforms": [_("没有支持“%(kind)s”的已启用平台") % {"kind": NoticeKind(kind).label}]}
        return capable, {}
    codes = list(dict.fromkeys(codes or []))
    if not codes:
        return [], {"platforms": [_("请选择平台，或选择全部平台")]}
    by_code = {c.platform.code: c for c in capable}
    missing = [code for code in codes if code not in by_code]
    if missing:
        return [], {
            "platforms": [_("以下平台未接入或不支持该通知：%(codes)s") % {"codes": "、".join(map(str, missing))}]
        }
    return [by_code[code] for code in codes], {}


@transaction.atomic
def request_notices(
    actor,
    case: EnforcementCase,
    *,
    kind: str,
    platforms="all",
    respondent=None,
    clue=None,
    measure=None,
    account: str = "",
    amount=None,
    freeze_mode: str = FreezeMode.AMOUNT,
) -> list[Notice]:
    """Ask one or all connected platforms to query, freeze, unfreeze, renew or deduct.

    Checks the policy (handle), proportionality (a named respondent of this case with a valid
    identity number; no wildcard; query rate limits), the over-freeze guard, and whether the
    bureau head must approve first. Notices and audit entries are written in one transaction;
    delivery is enqueued after commit.
    """
    # of=self: lock the case only; a FOR UPDATE on the joined court row would block the foreign-key
    # checks of every concurrent insert that references it (deadlocks with workers and callbacks)
    case = EnforcementCase.objects.select_for_update(of=("self",)).select_related("court").get(pk=case.pk)
    require(actor, Action.HANDLE, case)
    errors: dict[str, list[str]] = {}
    if kind not in NoticeKind.values:
        raise ValidationError({"kind": [_("通知类型须为 query、freeze、unfreeze、renew 或 deduct")]})
    if not case.is_open:
        raise ValidationError({"case": [_("已结案的案件不能发送协助执行通知书")]})
    # the measure (unfreeze, renew) or clue names the respondent and the account
    measure_obj = None
    if kind in (NoticeKind.UNFREEZE, NoticeKind.RENEW):
        measure_obj = (
            Measure.objects.select_related("clue__platform", "clue__respondent")
            .filter(pk=getattr(measure, "pk", measure), case=case)
            .first()
            if str(getattr(measure, "pk", measure) or "").isdigit()
            else None
        )
        if measure_obj is None:
            raise ValidationError({"measure": [_("请选择本案的一项措施")]})
        if measure_obj.status != "active" or measure_obj.kind != "freeze":
            raise ValidationError({"measure": [_("只能对有效的冻结措施发出解冻或续行通知")]})
        if measure_obj.clue.platform_id is None:
            raise ValidationError({"measure": [_("该措施的财产不在平台上")]})
        clue = measure_obj.clue
        platforms = [measure_obj.clue.platform.code]
    clue_obj = None
    if clue not in (None, ""):
        clue_id = getattr(clue, "pk", clue)
        clue_obj = (
            PropertyClue.objects.select_related("platform", "respondent").filter(pk=clue_id, case=case).first()
            if str(clue_id).isdigit()
            else None
        )
        if clue_obj is None:
            raise ValidationError({"clue": [_("线索不属于本案")]})
        respondent = respondent or clue_obj.respondent_id
        account = account or clue_obj.account
        if platforms == "all" and clue_obj.platform_id and kind != NoticeKind.QUERY:
            platforms = [clue_obj.platform.code]
    party = None
    respondent_id = getattr(respondent, "pk", respondent)
    if respondent_id in (None, "", "*"):
        errors["respondent"] = [_("须指明本案的一名被执行人，不允许概括查询")]
    else:
        link = (
            CaseParty.objects.filter(case=case, role=CasePartyRole.RESPONDENT, party_id=respondent_id)
            .select_related("party")
            .first()
            if str(respondent_id).isdigit()
            else None
        )
        party = link.party if link else None
        if party is None:
            errors["respondent"] = [_("被执行人须为本案的被执行人")]
        elif not party.identifier:
            errors["respondent"] = [_("被执行人须有有效的身份证号或统一社会信用代码")]
    account = (account or "").strip()
    if kind in (NoticeKind.FREEZE, NoticeKind.DEDUCT, NoticeKind.UNFREEZE, NoticeKind.RENEW) and not account:
        errors["account"] = [_("冻结、扣划、解冻和续行须指明账户")]
    if account and any(ch in account for ch in "*%?"):
        errors["account"] = [_("账户不能使用通配符")]
    if freeze_mode not in FreezeMode.values:
        errors["freeze_mode"] = [_("冻结方式须为 amount（限额冻结）或 block_outflow（只进不出）")]
    value = None
    if kind in (NoticeKind.FREEZE, NoticeKind.DEDUCT):
        if amount in (None, ""):
            errors["amount"] = [_("冻结和扣划须填写金额")]
        else:
            try:
                value = parse_money(amount, "amount", _("金额"))
            except ValidationError as exc:
                errors.update(exc.message_dict)
    elif measure_obj is not None:
        value = measure_obj.amount
    connectors, platform_errors = _enabled_connectors(kind, platforms)
    errors.update(platform_errors)
    if errors:
        raise ValidationError(errors)
    if kind == NoticeKind.FREEZE:
        # the whole request (one notice per platform) must fit the guard, with pending freezes
        total = value * len(connectors)
        allowed = guard_freeze(case, total, pending=pending_amount(case, NoticeKind.FREEZE))
        assert allowed == total
    if kind == NoticeKind.DEDUCT:
        room = case.amount_outstanding - pending_amount(case, NoticeKind.DEDUCT)
        if value * len(connectors) > room:
            raise ValidationError(
                {"amount": [_("扣划金额超过未履行金额（扣除在途扣划后为 ¥%(room)s）") % {"room": max(room, 0)}]}
            )
    if kind == NoticeKind.QUERY:
        _check_query_rate(actor, case, connectors)
    needs_approval = kind in case.court.approval_kinds() and not can(actor, Action.APPROVE, case)
    now = timezone.now()
    batch = uuid.uuid4()
    first_number = Notice.objects.filter(case=case).count() + 1
    notices = Notice.objects.bulk_create(
        [
            Notice(
                case=case,
                platform=connector.platform,
                kind=kind,
                batch=batch,
                respondent=party,
                holder_name=party.name,
                holder_id=party.identifier,
                clue=clue_obj,
                measure=measure_obj,
                account=account,
                amount=value,
                freeze_mode=freeze_mode if kind == NoticeKind.FREEZE else "",
                document_number=f"{case.number.removesuffix('号')}之{first_number + i}号",
                requested_by=actor,
                approved_by=None if needs_approval else actor,
                approved_at=None if needs_approval else now,
                idempotency_key=f"ntc_{uuid.uuid4().hex}",
                state=NoticeState.AWAITING_APPROVAL if needs_approval else NoticeState.QUEUED,
                queued_at=None if needs_approval else now,
            )
            for i, connector in enumerate(connectors)
        ]
    )
    audit.record_many(
        actor,
        "notice.request",
        notices,
        case=case,
        payloads=[
            {
                "kind": kind,
                "platform": n.platform.code,
                "respondent": party.pk,
                "account": account,
                "amount": str(value) if value is not None else None,
                "key": n.idempotency_key,
                "state": n.state,
            }
            for n in notices
        ],
    )
    platforms_text = "、".join(n.platform.name for n in notices)
    add_event(
        case,
        actor,
        "notice",
        _("%(kind)s：%(platforms)s%(approval)s")
        % {
            "kind": NoticeKind(kind).label,
            "platforms": platforms_text,
            "approval": _("（待审批）") if needs_approval else "",
        },
        batch=str(batch),
    )
    _enqueue_after_commit([n.pk for n in notices if n.state == NoticeState.QUEUED])
    return notices


def _check_query_rate(actor, case, connectors) -> None:
    hour_ago = connection.ops.adapt_datetimefield_value(timezone.now() - dt.timedelta(hours=1))
    # one statement: this case's queries per platform and the actor's queries, in the last hour
    # (written out: the ORM spent a millisecond of CPU composing it, a tenth of the request)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT platform_id, SUM(CASE WHEN case_id = %s THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN requested_by_id = %s THEN 1 ELSE 0 END)"
            f" FROM {connection.ops.quote_name(Notice._meta.db_table)}"
            " WHERE kind = %s AND created_at >= %s AND (case_id = %s OR requested_by_id = %s) GROUP BY platform_id",
            [case.pk, actor.pk, NoticeKind.QUERY, hour_ago, case.pk, actor.pk],
        )
        counts = cursor.fetchall()
    per_platform = {platform_id: case_n for platform_id, case_n, _user_n in counts}
    crowded = [
        c.platform.name for c in connectors if per_platform.get(c.platform_id, 0) >= settings.QUERY_RATE_PER_CASE_HOUR
    ]
    if crowded:
        raise ValidationError(
            {
                "platforms": [
                    _("本案一小时内对以下平台的查询已达上限（%(n)d次）：%(names)s")
                    % {"n": settings.QUERY_RATE_PER_CASE_HOUR, "names": "、".join(crowded)}
                ]
            }
        )
    if sum(user_n for *_rest, user_n in counts) + len(connectors) > settings.QUERY_RATE_PER_USER_HOUR:
        raise ValidationError(
            {"platforms": [_("您一小时内的查询已达上限（%(n)d次）") % {"n": settings.QUERY_RATE_PER_USER_HOUR}]}
        )


def _enqueue_after_commit(notice_ids: list[int], countdown: float | None = None) -> None:
    """After COMMIT, one task delivers the request's notices together (``deliver_many``)."""
    if not notice_ids:
        return

    def send():
        from .tasks import deliver_notices

        if countdown is None:
            deliver_notices.delay(list(notice_ids))
        else:
            deliver_notices.apply_async((list(notice_ids),), countdown=countdown)

    # robust: the rows are committed (the outbox); if the broker is down the error is logged and the
    # sweeper enqueues them, instead of the caller seeing an error for a request that was stored
    transaction.on_commit(send, robust=True)


def _lock_cases_of(notices: QuerySet) -> None:
    """Lock the cases of ``notices`` (FOR UPDATE, in the order of their ids) before the notices
    themselves. Every path that locks notices and their cases (approval, cancellation, replay, a
    platform's callback, the worker's recording) takes the cases first: a callback locking its
    notice first while a worker holding the case waited for that notice deadlocked (make chaos)."""
    lock_cases(notices.values("case_id"))


def _lock_notice(notice) -> Notice:
    # Lock its case, then the notice; never the joined court and platform rows: a FOR UPDATE on them
    # blocks the foreign-key checks of concurrent inserts (new notices, clues) and deadlocks.
    pk = getattr(notice, "pk", notice)
    _lock_cases_of(Notice.objects.filter(pk=pk))
    return Notice.objects.select_for_update(of=("self",)).select_related("case__court", "platform").get(pk=pk)


@transaction.atomic
def approve_notice(actor, notice: Notice) -> Notice:
    """The bureau head of the case's court approves a freeze or deduction; it is then queued."""
    notice = _lock_notice(notice)
    require(actor, Action.APPROVE, notice.case)
    if notice.state != NoticeState.AWAITING_APPROVAL:
        raise ValidationError({"state": [_("只有待审批的通知可以审批")]})
    if notice.kind == NoticeKind.FREEZE:
        others = pending_amount(notice.case, NoticeKind.FREEZE) - notice.amount
        guard_freeze(notice.case, notice.amount, pending=others)
    now = timezone.now()
    notice.state, notice.approved_by, notice.approved_at, notice.queued_at = NoticeState.QUEUED, actor, now, now
    notice.save(update_fields=["state", "approved_by", "approved_at", "queued_at"])
    add_event(
        notice.case,
        actor,
        "notice_approved",
        _("批准%(kind)s（%(platform)s）") % {"kind": notice.get_kind_display(), "platform": notice.platform.name},
    )
    audit.record(actor, "notice.approve", notice, case=notice.case)
    _enqueue_after_commit([notice.pk])
    return notice


@transaction.atomic
def cancel_notice(actor, notice: Notice, *, reason: str) -> Notice:
    notice = _lock_notice(notice)
    require(actor, Action.HANDLE, notice.case)
    if notice.state not in (NoticeState.AWAITING_APPROVAL, NoticeState.QUEUED, NoticeState.FAILED):
        raise ValidationError({"state": [_("已发出的通知不能撤销")]})
    _end(notice, NoticeState.CANCELLED, reason=reason or _("承办人撤销"), actor=actor)
    return notice


@transaction.atomic
def cancel_pending_notices(case: EnforcementCase, *, reason: str, actor=None) -> list[Notice]:
    """Cancel every notice of ``case`` not yet sent (awaiting approval, queued, failed).

    The system path of ``cancel_notice`` for the service that took the case away from its judges
    (a transfer that moves the case); the caller has checked its own permission. Notices already
    sent are left to finish. Returns the cancelled notices.
    """
    pending = list(
        Notice.objects.select_for_update(of=("self", "case"))
        .select_related("case", "platform")
        .filter(case=case, state__in=(NoticeState.AWAITING_APPROVAL, NoticeState.QUEUED, NoticeState.FAILED))
        .order_by("pk")
    )
    for notice in pending:
        _end(notice, NoticeState.CANCELLED, reason=reason, actor=actor)
    return pending


@transaction.atomic
def replay_notice(actor, notice: Notice) -> Notice:
    """Send a failed notice again with the same idempotency key (the platform will not repeat it)."""
    notice = _lock_notice(notice)
    require(actor, Action.HANDLE, notice.case)
    if notice.state != NoticeState.FAILED:
        raise ValidationError({"state": [_("只有失败的通知可以重发")]})
    notice.state, notice.next_attempt_at, notice.queued_at, notice.ended_at, notice.enqueued_at = (
        NoticeState.QUEUED,
        None,
        timezone.now(),
        None,
        None,
    )
    notice.attempts = 0
    notice.save(update_fields=["state", "next_attempt_at", "queued_at", "ended_at", "enqueued_at", "attempts"])
    audit.record(actor, "notice.replay", notice, case=notice.case, payload={"key": notice.idempotency_key})
    _enqueue_after_commit([notice.pk])
    return notice


def _end(
    notice: Notice,
    state: str,
    *,
    reason: str = "",
    actor=None,
    result=None,
    extra_fields: tuple[str, ...] = (),
    audit_entries: list | None = None,
    audit_sink: list | None = None,
    ended: list | None = None,
) -> None:
    """Move ``notice`` to a final state with one UPDATE (plus ``extra_fields`` the caller already
    set on it) and audit it; ``audit_entries`` (``(action, obj, payload)`` on the notice's case
    chain, by the same actor, e.g. what its result ingested) are recorded first, in the same batch.
    With ``audit_sink`` (a list, system actor) the entries are appended to it for ``_flush_audit``;
    with ``ended`` (a list) the notice is appended to it for ``_write_ends`` instead of saved. The
    entry of a notice with a result carries the result's digest: the answer kept on the notice is
    tamper-evident."""
    notice.state = state
    notice.ended_at = timezone.now()
    fields = [*extra_fields, "state", "ended_at"]
    if state == NoticeState.CANCELLED:
        notice.cancel_reason = reason[:255]
        fields.append("cancel_reason")
    if state == NoticeState.FAILED:
        notice.last_error = reason[:500]
        fields.append("last_error")
    if result is not None:
        notice.result = result
        fields.append("result")
    if state in (NoticeState.COMPLETED, NoticeState.REJECTED):
        notice.completed_at = notice.ended_at
        fields.append("completed_at")
    if ended is not None:
        ended.append(notice)
    else:
        notice.save(update_fields=fields)
    payload = {"reason": reason} if result is None else {"reason": reason, "result_digest": audit.digest(result)}
    if audit_sink is not None:
        audit_sink.extend((notice.case, *entry) for entry in audit_entries or [])
        audit_sink.append((notice.case, f"notice.{state}", notice, payload))
        return
    if not audit_entries:
        audit.record(actor, f"notice.{state}", notice, case=notice.case, payload=payload)
        return
    entries = [*audit_entries, (f"notice.{state}", notice, payload)]
    audit.record_many(
        actor,
        "",
        [obj for _action, obj, _payload in entries],
        case=notice.case,
        payloads=[payload for _action, _obj, payload in entries],
        actions=[action for action, _obj, _payload in entries],
    )


_END_FIELDS = ("state", "ended_at", "completed_at", "acknowledged_at", "cancel_reason", "last_error", "result")


def _write_ends(notices: list[Notice]) -> None:
    """One UPDATE for the final states ``_end`` set on ``notices`` (rows the caller has locked)."""
    if not notices:
        return
    if connection.vendor != "postgresql":  # the embedded SQLite of `make run`
        Notice.objects.bulk_update(notices, _END_FIELDS)
        return
    fields = [Notice._meta.get_field(name) for name in _END_FIELDS]
    values, params = bulk.unnest([Notice._meta.pk, *fields], notices)
    columns = ", ".join(f"{connection.ops.quote_name(f.column)} = v.{f.column}" for f in fields)
    names = ", ".join(f.column for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(Notice._meta.db_table)} AS n SET {columns}"
            f" FROM {values} AS v(id, {names}) WHERE n.id = v.id",
            params,
        )


def _flush_audit(sink: list) -> None:
    """Record the system's audit entries collected in ``sink`` (``(case, action, obj, payload)``):
    one ``record_many`` per case chain, each chain's entries in the order they were collected. The
    chains in the order of their cases' ids: two workers writing to the same two chains take their
    heads in the same order."""
    by_case: dict[int, tuple[EnforcementCase, list]] = {}
    for case, action, obj, payload in sink:
        by_case.setdefault(case.pk, (case, []))[1].append((action, obj, payload))
    for _pk, (case, entries) in sorted(by_case.items()):
        audit.record_many(
            None,
            "",
            [obj for _action, obj, _payload in entries],
            case=case,
            payloads=[payload for *_rest, payload in entries],
            actions=[action for action, *_rest in entries],
        )


# --------------------------------------------------------------------------------------------
# delivery (worker)
# --------------------------------------------------------------------------------------------


def retry_delay(attempt: int, retry_after: float | None = None, rand=random.random) -> float:
    """Seconds before attempt ``attempt + 1``: base × 3^(attempt-1), capped, with 50–100 % jitter.
    With the defaults: ~2 s, 6 s, 18 s, 1 min, 3 min, 8 min, 24 min, 73 min, 3.6 h, then 4 h."""
    raw = min(settings.NOTICE_RETRY_CAP_S, settings.NOTICE_RETRY_BASE_S * 3 ** (attempt - 1))
    delay = raw * (0.5 + 0.5 * rand())
    return max(delay, retry_after or 0.0)


# seconds before a claim tries again the handed-over notices it found held by another transaction
HELD_RETRY_S = 2


def _claim(notice_ids: list[int]) -> list[Notice]:
    """Compare-and-set queued → sending; a notice is won by one worker only, whatever the broker
    delivered twice. Returns the won notices, loaded for sending.

    On PostgreSQL the claim then takes along notices waiting for their first send, oldest first, up
    to ``NOTICE_CLAIM_BATCH`` in all: their own tasks, still in the queue, will find nothing left to
    claim. On PostgreSQL both statements take only rows that nobody holds (``SKIP LOCKED``): a claim
    never waits, so it cannot close a cycle of waits with another claim. A notice of the task's own
    that another transaction holds is that transaction's to send, cancel or hand over; if the holder
    lets it go unchanged, the sweeper enqueues a fresh notice again, and one already handed over gets
    a task in ``HELD_RETRY_S``. SQLite has no row locks to skip."""
    now = timezone.now()
    ids = [int(pk) for pk in dict.fromkeys(notice_ids)]
    when = connection.ops.adapt_datetimefield_value(now)
    table = connection.ops.quote_name(Notice._meta.db_table)
    skip_locked = connection.features.has_select_for_update_skip_locked  # not SQLite (make run)
    claim = f"UPDATE {table} SET state = %s, sent_at = %s, attempts = attempts + 1"
    own = (
        f"id IN ({', '.join(['%s'] * len(ids))}) AND state = %s AND (next_attempt_at IS NULL OR next_attempt_at <= %s)"
    )
    params = [NoticeState.SENDING, when, *ids, NoticeState.QUEUED, when]
    held: list[int] = []
    with connection.cursor() as cursor:
        if skip_locked:
            # Rows another transaction holds are skipped, not waited for: under a backlog that is
            # almost always another worker's claim that took them along (it sends them), and a wait
            # for its commit idled this worker for ~5 ms a task (docs/PERFORMANCE.md). A holder that
            # lets a notice go unchanged (a rollback) leaves it queued: a fresh one the sweeper sends
            # 5 s after queuing; one already handed over (by the sweeper, or a retry's delayed task:
            # ``enqueued_at`` set) it would hand over again only after NOTICE_SENDING_TIMEOUT_S, so
            # the statement also names those (``FALSE``) and they get a task of their own, shortly.
            cursor.execute(
                f"WITH won AS ({claim} WHERE id IN (SELECT id FROM {table} WHERE {own}"
                " FOR NO KEY UPDATE SKIP LOCKED) RETURNING id)"
                f" SELECT id, TRUE FROM won UNION ALL SELECT id, FALSE FROM {table}"
                f" WHERE {own} AND enqueued_at IS NOT NULL AND id NOT IN (SELECT id FROM won)",
                [*params, *ids, NoticeState.QUEUED, when],
            )
            rows = cursor.fetchall()
            won = [pk for pk, claimed in rows if claimed]
            held = [pk for pk, claimed in rows if not claimed]
        else:
            cursor.execute(f"{claim} WHERE {own} RETURNING id", params)
            won = [row[0] for row in cursor.fetchall()]
        room = settings.NOTICE_CLAIM_BATCH - len(ids)
        if room > 0 and skip_locked:
            cursor.execute(
                f"{claim} WHERE id IN (SELECT id FROM {table} WHERE state = %s AND next_attempt_at IS NULL"
                " ORDER BY id LIMIT %s FOR NO KEY UPDATE SKIP LOCKED) RETURNING id",
                [NoticeState.SENDING, when, NoticeState.QUEUED, room],
            )
            won += [row[0] for row in cursor.fetchall()]
    if held:
        _enqueue_after_commit(held, countdown=HELD_RETRY_S)
    if not won:
        return []
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        # the seven tables below joined in the order written (from the claimed rows outwards, by
        # primary keys) instead of the planner searching every order: its planning took 2.7 ms of
        # PostgreSQL's CPU, more than the query itself; 1.0 ms so (until the end of the transaction)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL join_collapse_limit = 1")
    notices = list(
        Notice.objects.select_related("case__court", "platform__connector", "respondent", "requested_by")
        .filter(pk__in=won)
        .order_by("pk")
    )
    # one instance per requester, whose roles the policy reads: all requesters' roles in one query
    requesters: dict[int, object] = {}
    for notice in notices:
        notice.requested_by = requesters.setdefault(notice.requested_by_id, notice.requested_by)
    prefetch_related_objects(list(requesters.values()), "roles")
    return notices


@functools.lru_cache(maxsize=1024)
def _callback_url(base_url: str, code: str) -> str:
    """Where the platform ``code`` calls back: the same for every notice to it (reversed once; the
    first reversal in each of a worker's send threads built the URL resolver's tables again)."""
    return base_url.rstrip("/") + reverse("api-notice-callback", kwargs={"code": code})


def _payload(notice: Notice) -> dict:
    body = {
        "notice_id": notice.idempotency_key,
        "kind": notice.kind,
        "holder_id": notice.holder_id,
        "holder_name": notice.holder_name,
        "case_number": notice.case.number,
        "court": notice.case.court.name,
        "document_number": notice.document_number,
        "callback_url": _callback_url(settings.CALLBACK_BASE_URL, notice.platform.code),
    }
    if notice.account:
        body["account"] = notice.account
    if notice.amount is not None and notice.kind in (NoticeKind.FREEZE, NoticeKind.DEDUCT):
        body["amount"] = str(notice.amount)
    if notice.kind == NoticeKind.FREEZE:
        body["freeze_mode"] = notice.freeze_mode
    return body


def deliver(notice_id: int) -> str:
    """Deliver one notice (a retry or a sweep); see ``deliver_many``."""
    return deliver_many([notice_id])[notice_id]


def deliver_many(notice_ids: list[int]) -> dict[int, str]:
    """Deliver notices together (one request's notices, one per platform, and the waiting notices
    the claim takes along, see ``_claim``): claim them, re-check the policy, sign and send them in
    parallel, then record every attempt and answer in one transaction with one batch of audit
    entries per case. Safe to run twice or concurrently: the claim is a compare-and-set, and a
    notice someone else claimed is ``skipped``. The outcomes name the notices taken along too."""
    outcomes = dict.fromkeys(notice_ids, "skipped")
    sendable, checked, sink = [], {}, []
    with transaction.atomic():
        # in the order of their cases: a cancellation's event updates its case's row, and two
        # workers cancelling notices of the same cases must take those rows in one order
        for notice in sorted(_claim(notice_ids), key=lambda n: (n.case_id, n.pk)):
            reason = _still_allowed(notice, checked)
            if not reason:
                sendable.append(notice)
                continue
            _end(notice, NoticeState.CANCELLED, reason=reason, audit_sink=sink)
            add_event(notice.case, None, "notice_cancelled", _("通知已撤销：%(reason)s") % {"reason": reason})
            outcomes[notice.pk] = "cancelled"
        _flush_audit(sink)
    if sendable:
        outcomes.update(_record(_send(sendable)))
    return outcomes


def _send_one(notice: Notice):
    connector = notice.platform.connector
    started = timezone.now()
    try:
        answer = transport.post_signed(
            f"{connector.base_url}/notices",
            key_id=connector.key_id,
            secret=crypto.decrypt(connector.secret_encrypted),
            msg_id=notice.idempotency_key,
            payload=_payload(notice),
            timeout_s=connector.timeout_s,
        )
    except transport.DeliveryError as exc:
        return notice, started, exc
    return notice, started, answer


_senders: tuple[int, ThreadPoolExecutor] | None = None


def _send(notices: list[Notice]) -> list:
    """POST each notice; several at once in threads, so that a slow platform does not hold up the
    others of the same request. Returns ``(notice, started, Answer or DeliveryError)`` in order."""
    global _senders
    if len(notices) == 1:
        return [_send_one(notices[0])]
    if _senders is None or _senders[0] != os.getpid():  # threads do not survive a fork
        _senders = (os.getpid(), ThreadPoolExecutor(max_workers=settings.NOTICE_SEND_THREADS))
    return list(_senders[1].map(_send_one, notices))


def _still_allowed(notice: Notice, checked: dict) -> str:
    """Why a queued notice must not go out any more ('' when it may). ``checked`` keeps the policy
    answers of one batch (same requester, same case)."""
    if not notice.case.is_open:
        return _("案件已结案或已移送")
    key = (notice.requested_by_id, notice.case_id)
    if key not in checked:
        checked[key] = can(notice.requested_by, Action.HANDLE, notice.case)
    if not checked[key]:
        return _("申请人已不再承办本案")
    connector = getattr(notice.platform, "connector", None)
    if connector is None or not connector.enabled or notice.kind not in connector.capabilities:
        return _("平台连接器已停用")
    return ""


def _lock_sent(notices: list[Notice]) -> None:
    """Lock claimed notices and their cases (never the joined court and platform rows: a FOR UPDATE
    on them blocks the foreign-key checks of concurrent inserts, new notices and clues, and
    deadlocks), and read on them what a callback or the sweeper may have moved since the claim.
    The cases first, in the order of their ids (``_lock_cases_of``): two workers recording batches
    that share two cases (the sweeper's batches mix cases) would otherwise each hold one and wait
    for the other."""
    ids = [n.pk for n in notices]
    _lock_cases_of(Notice.objects.filter(pk__in=ids))
    table = connection.ops.quote_name(Notice._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""  # SQLite: none
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, state, attempts, acknowledged_at FROM {table}"
            f" WHERE id IN ({', '.join(['%s'] * len(ids))}) ORDER BY id{lock}",
            ids,
        )
        current = {pk: rest for pk, *rest in cursor.fetchall()}
    field = Notice._meta.get_field("acknowledged_at")
    for notice in notices:
        state, attempts, acknowledged_at = current[notice.pk]
        notice.state, notice.attempts = state, attempts
        notice.acknowledged_at = field.to_python(acknowledged_at)  # SQLite returns text


@transaction.atomic
def _record(sent: list) -> dict[int, str]:
    """Record what the platforms answered to claimed notices: the attempts in one insert, each
    notice's next state (the final ones in one update), what the answers ingested, and the audit
    entries per case."""
    _lock_sent([notice for notice, _started, _answer in sent])
    attempts, outcomes, sink, answered = [], {}, [], []
    for notice, started, answer in sent:
        if isinstance(answer, transport.DeliveryError):
            attempts.append(_attempt(notice, started, answer, "retry" if answer.retryable else "failed"))
            outcomes[notice.pk] = _failed(notice, notice.platform.connector, answer)
            continue
        status = answer.body.get("status")
        accepted = answer.http_status == 202 or status == "accepted"
        attempts.append(_attempt(notice, started, answer, "acknowledged" if accepted else "done"))
        if notice.state != NoticeState.SENDING:
            outcomes[notice.pk] = "stale"  # a callback or the sweeper moved it on meanwhile
        elif accepted:
            notice.state, notice.acknowledged_at = NoticeState.ACKNOWLEDGED, timezone.now()
            notice.save(update_fields=["state", "acknowledged_at"])
            sink.append((notice.case, "notice.acknowledged", notice, {}))
            outcomes[notice.pk] = "acknowledged"
        else:
            notice.acknowledged_at = notice.acknowledged_at or timezone.now()
            answered.append((notice, status, answer.body.get("result") or {}))
    ended: list[Notice] = []
    outcomes.update(_conclude_many(answered, audit_sink=sink, ended=ended))
    _write_ends(ended)
    DeliveryAttempt.objects.bulk_create(attempts)
    _flush_audit(sink)
    return outcomes


def _attempt(notice: Notice, started, answer, outcome: str) -> DeliveryAttempt:
    error = isinstance(answer, transport.DeliveryError)
    return DeliveryAttempt(
        notice=notice,
        number=notice.attempts,
        started_at=started,
        duration_ms=answer.duration_ms,
        http_status=answer.http_status,
        error_class=answer.error_class if error else "",
        outcome=outcome,
        response_excerpt=answer.excerpt[:500],
    )


def _failed(notice: Notice, connector: Connector, exc: transport.DeliveryError) -> str:
    """A send failed: retry later (soon: a Celery countdown; later: the sweeper) or give up."""
    if notice.state != NoticeState.SENDING:
        return "stale"  # a callback or the sweeper moved it on meanwhile
    if not exc.retryable or notice.attempts >= connector.max_attempts:
        reason = (
            exc.error_class
            if not exc.retryable
            else _("重试%(n)d次后仍失败：%(err)s") % {"n": notice.attempts, "err": exc.error_class}
        )
        _end(notice, NoticeState.FAILED, reason=f"{reason} {exc.excerpt[:200]}".strip())
        add_event(
            notice.case,
            None,
            "notice_failed",
            _("%(kind)s（%(platform)s）发送失败")
            % {"kind": notice.get_kind_display(), "platform": notice.platform.name},
        )
        return "failed"
    delay = retry_delay(notice.attempts, exc.retry_after)
    soon = delay <= settings.NOTICE_COUNTDOWN_LIMIT_S
    notice.state = NoticeState.QUEUED
    notice.next_attempt_at = timezone.now() + dt.timedelta(seconds=delay)
    # a retry soon has its delayed task (below): the sweeper leaves it alone unless that task is lost
    notice.enqueued_at = notice.next_attempt_at if soon else None
    notice.last_error = exc.error_class
    notice.save(update_fields=["state", "next_attempt_at", "enqueued_at", "last_error"])
    if soon:
        notice_id = notice.pk

        def later():
            from .tasks import deliver_notice

            deliver_notice.apply_async((notice_id,), countdown=delay)

        transaction.on_commit(later)
    return "retry"


def _conclude_many(
    answers: list[tuple[Notice, str, dict]], *, audit_sink: list, ended: list | None = None
) -> dict[int, str]:
    """The platforms' final answers (``(notice, status, result)``): record each and ingest its result,
    inside the caller's transaction; the accounts that the query answers about one respondent list
    are recorded together. ``acknowledged_at``, set by the caller, is written with the final state
    (by ``_write_ends`` when ``ended`` is given, see ``_end``)."""
    outcomes: dict[int, str] = {}
    found: dict[tuple[int, int], list[tuple[Notice, dict]]] = {}
    for notice, status, result in answers:
        if status == "completed" and notice.kind == NoticeKind.QUERY:
            found.setdefault((notice.case_id, notice.respondent_id), []).append((notice, result))
        else:
            outcomes[notice.pk] = _conclude(notice, status, result, audit_sink=audit_sink, ended=ended)
    for group in found.values():
        case, respondent, entries = group[0][0].case, group[0][0].respondent, []
        errors = clue_services.record_query_answers(
            case,
            respondent=respondent,
            answers=[(notice.platform, result.get("accounts", [])) for notice, result in group],
            audit_entries=entries,
        )
        audit_sink.extend((case, *entry) for entry in entries)
        for (notice, result), error in zip(group, errors, strict=True):
            if error is not None:
                result = {**result, "ingest_error": error.messages}
            _end(
                notice,
                NoticeState.COMPLETED,
                result=result,
                extra_fields=("acknowledged_at",),
                audit_sink=audit_sink,
                ended=ended,
            )
            outcomes[notice.pk] = "completed"
    return outcomes


def _conclude(notice: Notice, status: str, result: dict, *, audit_sink: list, ended: list | None = None) -> str:
    """One platform's final answer: record it and ingest its result (a query's: ``_conclude_many``)."""
    if status == "completed":
        entries: list = []
        try:
            ingest_result(notice, result, audit_entries=entries)
        except ValidationError as exc:
            result = {**result, "ingest_error": exc.messages}
        _end(
            notice,
            NoticeState.COMPLETED,
            result=result,
            extra_fields=("acknowledged_at",),
            audit_entries=entries,
            audit_sink=audit_sink,
            ended=ended,
        )
        return "completed"
    _end(
        notice,
        NoticeState.REJECTED,
        result=result,
        reason=str(result.get("reason", ""))[:255],
        extra_fields=("acknowledged_at",),
        audit_sink=audit_sink,
        ended=ended,
    )
    add_event(
        notice.case,
        None,
        "notice_rejected",
        _("%(platform)s拒绝了%(kind)s") % {"platform": notice.platform.name, "kind": notice.get_kind_display()},
    )
    return "rejected"


def ingest_result(notice: Notice, result: dict, *, audit_entries: list | None = None) -> None:
    """Turn a platform's answer to a freeze, unfreeze, renewal or deduction into measures and money
    recovered (system actor); query answers are recorded by ``_conclude_many``."""
    case, platform, party = notice.case, notice.platform, notice.respondent
    account = str(result.get("account") or notice.account)
    if notice.kind == NoticeKind.FREEZE:
        frozen = Decimal(str(result.get("amount_frozen", "0")))
        if frozen > 0:
            clue = notice.clue or clue_services.record_finding(
                case,
                respondent=party,
                platform=platform,
                account=account,
                asset_kind="platform_balance",
                balance=frozen,
            )
            measure = clue_services.record_measure(
                None, case, clue=clue, kind="freeze", amount=frozen, enforce_guard=False
            )
            Notice.objects.filter(pk=notice.pk).update(measure=measure)
    elif notice.kind == NoticeKind.UNFREEZE and notice.measure_id:
        clue_services.release_measure(None, notice.measure, reason=_("平台已解冻"))
    elif notice.kind == NoticeKind.RENEW and notice.measure_id:
        clue_services.renew_measure(None, notice.measure)
    elif notice.kind == NoticeKind.DEDUCT:
        deducted = Decimal(str(result.get("amount_deducted", "0")))
        if deducted > 0:
            clue = notice.clue or clue_services.record_finding(
                case,
                respondent=party,
                platform=platform,
                account=account,
                asset_kind="platform_balance",
                balance=deducted,
            )
            clue_services.record_measure(None, case, clue=clue, kind="deduct", amount=deducted)


@transaction.atomic
def receive_callback(platform_code: str, headers, body: bytes) -> str:
    """A signed asynchronous answer from a platform. Replays are ignored."""
    connector = Connector.objects.select_related("platform").filter(platform__code=platform_code).first()
    if connector is None:
        raise signing.SignatureError("unknown_platform", "unknown platform")
    signing.verify(
        {connector.key_id: connector_secrets(connector)}, headers, body, tolerance_s=settings.SIGNATURE_TOLERANCE_S
    )
    try:
        data = json.loads(body)
        key = str(data["notice_id"])
        status = str(data["status"])
    except (ValueError, KeyError, TypeError):
        raise ValidationError({"body": [_("回调内容格式错误")]}) from None
    found = Notice.objects.filter(idempotency_key=key, platform=connector.platform)
    _lock_cases_of(found)  # as _lock_notice: the case, then the notice; not court, platform
    notice = found.select_for_update(of=("self",)).select_related("case__court", "platform").first()
    if notice is None:
        raise ValidationError({"notice_id": [_("通知不存在")]})
    if notice.state in TERMINAL_STATES:
        return "replayed"
    # queued again after an acknowledgement: the sweeper is asking again for an overdue callback
    overdue = notice.state == NoticeState.QUEUED and notice.acknowledged_at is not None
    if notice.state not in (NoticeState.SENDING, NoticeState.ACKNOWLEDGED) and not overdue:
        return "ignored"
    if status not in ("completed", "rejected"):
        raise ValidationError({"status": [_("状态须为 completed 或 rejected")]})
    notice.acknowledged_at = notice.acknowledged_at or timezone.now()
    sink: list = []
    outcome = _conclude_many([(notice, status, data.get("result") or {})], audit_sink=sink)[notice.pk]
    _flush_audit(sink)
    return outcome


def _chase_callbacks(now) -> None:
    """Accepted notices whose callback has not come within ``NOTICE_CALLBACK_TIMEOUT_S``: queued to
    be sent again with the same key (the platform answers from its record and calls back again),
    or failed once the connector's attempts are used up."""
    overdue = list(
        Notice.objects.select_for_update(of=("self", "case"), skip_locked=True)
        .select_related("case", "platform__connector")
        .filter(
            state=NoticeState.ACKNOWLEDGED,
            acknowledged_at__lt=now - dt.timedelta(seconds=settings.NOTICE_CALLBACK_TIMEOUT_S),
        )
        .order_by("pk")[:1000]
    )
    again = []
    for notice in overdue:
        connector = getattr(notice.platform, "connector", None)
        if connector is not None and notice.attempts < connector.max_attempts:
            again.append(notice.pk)
            continue
        _end(notice, NoticeState.FAILED, reason=_("平台受理后未回复处理结果（%(n)d次）") % {"n": notice.attempts})
        add_event(
            notice.case,
            None,
            "notice_failed",
            _("%(kind)s（%(platform)s）平台未回复结果")
            % {"kind": notice.get_kind_display(), "platform": notice.platform.name},
        )
    Notice.objects.filter(pk__in=again).update(
        state=NoticeState.QUEUED, next_attempt_at=None, enqueued_at=None, last_error="callback_overdue"
    )


def sweep(now=None) -> int:
    """Re-enqueue notices left behind: queued and due (a lost task or a long back-off), stuck in
    sending past the timeout (a killed worker), or accepted by a platform whose callback is overdue
    (``_chase_callbacks``). The platform's idempotency makes a repeat safe.

    A notice the sweeper handed over is handed over again only when its task has not claimed it
    within the sending timeout (lost with a broker restart): under a backlog the workers would
    otherwise receive every waiting notice again at every sweep, just when they are busiest."""
    from .tasks import deliver_notices

    now = now or timezone.now()
    stuck_before = now - dt.timedelta(seconds=settings.NOTICE_SENDING_TIMEOUT_S)
    with transaction.atomic():
        Notice.objects.filter(state=NoticeState.SENDING, sent_at__lt=stuck_before).update(
            state=NoticeState.QUEUED, next_attempt_at=None, enqueued_at=None, last_error="requeued_after_timeout"
        )
        _chase_callbacks(now)
    grace = now - dt.timedelta(seconds=5)  # leave fresh rows to their on_commit enqueue
    due = list(
        Notice.objects.filter(state=NoticeState.QUEUED)
        .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, queued_at__lt=grace))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stuck_before))
        .values_list("pk", flat=True)[:1000]
    )
    Notice.objects.filter(pk__in=due).update(enqueued_at=now)
    for i in range(0, len(due), SWEEP_BATCH):
        deliver_notices.delay(due[i : i + SWEEP_BATCH])
    return len(due)
