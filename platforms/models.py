"""Platforms that hold debtors' property (e-commerce, payment, cross-border).

Connectors, notices and delivery attempts are added with the notice pipeline; clues refer to a
platform from the start so a holder is never free text.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PlatformKind(models.TextChoices):
    ECOMMERCE = "ecommerce", _("电商平台")
    PAYMENT = "payment", _("支付机构")
    CROSS_BORDER = "cross_border", _("跨境电商平台")
    OTHER = "other", _("其他")


class Platform(models.Model):
    """A platform or payment institution that can be asked to assist enforcement."""

    code = models.SlugField(_("平台代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=PlatformKind.choices)
    hq_court = models.ForeignKey(
        "enforcement.Court",
        verbose_name=_("住所地基层法院"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.CharField(_("住所地行政区划"), max_length=6, blank=True)

    class Meta:
        verbose_name = _("平台")
        verbose_name_plural = _("平台")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Capability(models.TextChoices):
    QUERY = "query", _("协助查询")
    FREEZE = "freeze", _("协助冻结")
    UNFREEZE = "unfreeze", _("协助解冻")
    RENEW = "renew", _("协助续行冻结")
    DEDUCT = "deduct", _("协助扣划")


class Connector(models.Model):
    """How the court reaches a platform: endpoint, signing key and what it can do.

    Secrets are stored encrypted (``platforms.crypto``) and never shown again after entry. On
    rotation the previous secret stays valid for callbacks until ``previous_valid_until``.
    """

    platform = models.OneToOneField(Platform, on_delete=models.PROTECT, related_name="connector")
    base_url = models.URLField(_("接口地址"), max_length=255)
    key_id = models.CharField(_("密钥编号"), max_length=64)
    secret_encrypted = models.TextField()
    previous_secret_encrypted = models.TextField(blank=True)
    previous_valid_until = models.DateTimeField(null=True, blank=True)
    capabilities = models.JSONField(_("支持的通知"), default=list)
    enabled = models.BooleanField(_("启用"), default=True)
    timeout_s = models.PositiveSmallIntegerField(_("超时（秒）"), default=10)
    max_attempts = models.PositiveSmallIntegerField(_("最多尝试次数"), default=10)
    last_health_at = models.DateTimeField(null=True, blank=True)
    last_health_ok = models.BooleanField(null=True)
    last_error = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("连接器")
        verbose_name_plural = _("连接器")

    def __str__(self) -> str:
        return f"{self.platform.code} → {self.base_url}"


class NoticeKind(models.TextChoices):
    QUERY = "query", _("协助查询")
    FREEZE = "freeze", _("协助冻结")
    UNFREEZE = "unfreeze", _("协助解冻")
    RENEW = "renew", _("协助续行冻结")
    DEDUCT = "deduct", _("协助扣划")


class NoticeState(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", _("待审批")
    QUEUED = "queued", _("排队")
    SENDING = "sending", _("已发送")
    ACKNOWLEDGED = "acknowledged", _("已受理")
    COMPLETED = "completed", _("已回复")
    REJECTED = "rejected", _("已拒绝")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已撤销")


# Notices that need a person: the workbench's panel (failed, or waiting for the bureau head).
NOTICE_ATTENTION_STATES = (NoticeState.FAILED, NoticeState.AWAITING_APPROVAL)


class FreezeMode(models.TextChoices):
    AMOUNT = "amount", _("限额冻结")
    BLOCK_OUTFLOW = "block_outflow", _("只进不出")


class Notice(models.Model):
    """An electronic assistance notice (协助执行通知书) to one platform: the outbox row.

    A notice that is queued is eventually delivered or ends in a visible terminal state; the
    sweeper re-enqueues any left behind.
    """

    # Every index is written again at each change of state (an indexed column: no HOT update), three
    # or four times in a notice's life, so none is kept twice: a case's notices are found through
    # (case, kind), states through (state, next_attempt_at), and the idempotency key is a constraint
    # (a unique field would add a second, LIKE-pattern index on PostgreSQL).
    case = models.ForeignKey(
        "enforcement.EnforcementCase", on_delete=models.PROTECT, related_name="notices", db_index=False
    )
    platform = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(_("通知类型"), max_length=16, choices=NoticeKind.choices)
    batch = models.UUIDField(db_index=True)
    respondent = models.ForeignKey("enforcement.Party", on_delete=models.PROTECT, related_name="+")
    holder_name = models.CharField(max_length=200)
    holder_id = models.CharField(max_length=18)
    clue = models.ForeignKey("clues.PropertyClue", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    measure = models.ForeignKey("clues.Measure", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    account = models.CharField(max_length=128, blank=True)
    amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    freeze_mode = models.CharField(max_length=16, choices=FreezeMode.choices, blank=True)
    document_number = models.CharField(_("文书编号"), max_length=100)
    # indexed with created_at below (the hourly query limit per user reads the recent ones)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=64)
    state = models.CharField(_("状态"), max_length=20, choices=NoticeState.choices)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    result = models.JSONField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    # when the sweeper last handed the notice to the broker (or, for a retry soon, when its delayed
    # task is due): the sweeper hands it over again only once that task can be presumed lost
    enqueued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("协助执行通知书")
        verbose_name_plural = _("协助执行通知书")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["case", "kind"]),
            models.Index(fields=["requested_by", "created_at"], name="notice_requester_created_idx"),
            # The workbench's panel of failed and awaiting notices (clues.presenters.first_notices_attention),
            # a small part of all notices: a court's first rows walk the first index in the panel's
            # order, a judge's granted cases are probed in the second (docs/PERFORMANCE.md).
            models.Index(
                fields=["created_at", "id"],
                include=["case"],
                condition=Q(state__in=NOTICE_ATTENTION_STATES),
                name="notice_attention_idx",
            ),
            models.Index(
                fields=["case", "created_at", "id"],
                condition=Q(state__in=NOTICE_ATTENTION_STATES),
                name="notice_attention_case_idx",
            ),
            # Notices waiting for their first send, oldest first: what a worker takes along with
            # its own task's notices (platforms.services._claim); a few rows of millions.
            models.Index(
                fields=["id"], condition=Q(state="queued", next_attempt_at__isnull=True), name="notice_waiting_idx"
            ),
        ]
        constraints = [models.UniqueConstraint(fields=["idempotency_key"], name="notice_idempotency_key_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.platform_id} {self.idempotency_key}"


class DeliveryAttempt(models.Model):
    """One try at delivering a notice: what was sent when, and what came back."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="delivery_attempts")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_class = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16)  # done, acknowledged, retry, failed
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["notice", "number"]
        constraints = [models.UniqueConstraint(fields=["notice", "number"], name="delivery_attempt_unique")]

    def __str__(self) -> str:
        return f"{self.notice_id}#{self.number} {self.outcome}"
