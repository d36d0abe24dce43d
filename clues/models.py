"""Property clues (财产线索) and the measures taken on them (查封、扣押、冻结、扣划、活查封).

``asset_key`` is the normalized identity of an asset (respondent's identity number + holder +
account), indexed so that every court holding a clue or a measure on the same asset is found with
one indexed query.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ClueCategory(models.TextChoices):
    FUNDS = "funds", _("资金类")
    RIGHTS = "rights", _("权益类")
    DATA = "data", _("数据类")
    TRADITIONAL = "traditional", _("传统财产")


class ClueKind(models.TextChoices):
    PLATFORM_BALANCE = "platform_balance", _("平台账户余额")
    PAYMENT_ACCOUNT = "payment_account", _("第三方支付账户")
    PLATFORM_DEPOSIT = "platform_deposit", _("平台保证金")
    RECEIVABLES = "receivables", _("应收账款")
    PRESALE_PAYMENTS = "presale_payments", _("预售款")
    BANK_DEPOSIT = "bank_deposit", _("银行存款")
    STORE_OPERATING_RIGHT = "store_operating_right", _("店铺经营权")
    TRAFFIC_RIGHTS = "traffic_rights", _("流量权益")
    REPUTATION = "reputation", _("店铺信誉等级")
    BRAND_AUTHORIZATION = "brand_authorization", _("品牌授权")
    DOMAIN_OR_ACCOUNT = "domain_or_account", _("域名及账号")
    PATENT = "patent", _("专利权")
    TRADEMARK = "trademark", _("商标权")
    OPERATING_DATA = "operating_data", _("经营数据")
    USER_DATA = "user_data", _("用户数据")
    TRANSACTION_RECORDS = "transaction_records", _("交易记录")
    REAL_ESTATE = "real_estate", _("不动产")
    VEHICLE = "vehicle", _("车辆")
    EQUITY = "equity", _("股权")
    SECURITIES = "securities", _("有价证券")
    MOVABLES = "movables", _("动产")
    LIVESTOCK = "livestock", _("牲畜")


class AssetKind(models.TextChoices):
    """The asset kinds that pick a measure's statutory maximum period."""

    BANK_DEPOSIT = "bank_deposit", _("银行存款")
    PLATFORM_BALANCE = "platform_balance", _("平台及支付账户资金")
    PAYMENT_ACCOUNT = "payment_account", _("第三方支付账户资金")
    MOVABLE = "movable", _("动产")
    REAL_ESTATE = "real_estate", _("不动产")
    OTHER_PROPERTY_RIGHT = "other_property_right", _("其他财产权")
    PATENT = "patent", _("专利权")
    TRADEMARK = "trademark", _("商标权")


class ClueSource(models.TextChoices):
    APPLICANT = "applicant", _("申请执行人提供")
    PLATFORM_QUERY = "platform_query", _("平台查询")
    INVESTIGATION = "investigation", _("法院调查")
    TRANSFERRED = "transferred", _("移交")


class ClueStatus(models.TextChoices):
    PENDING = "pending", _("待核实")
    VERIFIED = "verified", _("已核实")
    UNDER_MEASURE = "under_measure", _("已控制")
    DISPOSED = "disposed", _("已处置")
    INVALID = "invalid", _("无效")


class PropertyClue(models.Model):
    """A lead to property of a respondent of a case."""

    case = models.ForeignKey("enforcement.EnforcementCase", on_delete=models.PROTECT, related_name="clues")
    respondent = models.ForeignKey(
        "enforcement.Party", verbose_name=_("被执行人"), on_delete=models.PROTECT, related_name="clues"
    )
    category = models.CharField(_("类别"), max_length=16, choices=ClueCategory.choices)
    kind = models.CharField(_("财产种类"), max_length=32, choices=ClueKind.choices)
    platform = models.ForeignKey(
        "platforms.Platform", verbose_name=_("平台"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    registry = models.CharField(_("登记/开户机构"), max_length=100, blank=True)
    account = models.CharField(_("账户或登记号"), max_length=128)
    estimated_value = models.DecimalField(_("估计价值"), max_digits=16, decimal_places=2, null=True, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=ClueSource.choices)
    urgent = models.BooleanField(_("紧急"), default=False)
    received_on = models.DateField(_("收到日期"))
    verify_by = models.DateField(_("核实期限"))
    status = models.CharField(_("状态"), max_length=16, choices=ClueStatus.choices, default=ClueStatus.PENDING)
    invalid_reason = models.CharField(_("无效原因"), max_length=255, blank=True)
    notes = models.TextField(_("说明"), blank=True)
    asset_key = models.CharField(max_length=255, db_index=True)
    evidence = models.ManyToManyField("enforcement.CaseDocument", verbose_name=_("证据材料"), blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("财产线索")
        verbose_name_plural = _("财产线索")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "verify_by"]),
            # The workbench's pending clues (queries.first_clues_to_verify): a court's first rows walk
            # the first index in the panel's order, a judge's granted cases are probed in the second.
            models.Index(
                fields=["verify_by", "id"],
                include=["case"],
                condition=Q(status=ClueStatus.PENDING),
                name="clue_pending_idx",
            ),
            models.Index(
                fields=["case", "verify_by", "id"], condition=Q(status=ClueStatus.PENDING), name="clue_pending_case_idx"
            ),
            # A case's verified, undisposed clues and when they were verified, from the index alone:
            # the day its property has been undisposed since (enforcement.services.refresh_undisposed).
            models.Index(
                fields=["case", "verified_at"],
                condition=Q(status__in=(ClueStatus.VERIFIED, ClueStatus.UNDER_MEASURE), verified_at__isnull=False),
                name="clue_verified_case_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="clue_estimated_value_nonnegative",
                condition=Q(estimated_value__isnull=True) | Q(estimated_value__gte=0),
            ),
            models.CheckConstraint(
                name="clue_invalid_has_reason", condition=~Q(status="invalid") | ~Q(invalid_reason="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.account}"

    @property
    def is_sensitive(self) -> bool:
        """Data-category clues hold personal information: only the case file's readers see them."""
        return self.category == ClueCategory.DATA


class MeasureKind(models.TextChoices):
    FREEZE = "freeze", _("冻结")
    SEIZE = "seize", _("查封")
    DETAIN = "detain", _("扣押")
    LIVE_SEIZURE = "live_seizure", _("活查封")
    DEDUCT = "deduct", _("扣划")


class MeasureStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    WAITING = "waiting", _("轮候")
    EXPIRED = "expired", _("已到期")
    RELEASED = "released", _("已解除")
    COMPLETED = "completed", _("已完成")


class MeasurePeriodRule(models.Model):
    """The statutory maximum of a measure per asset kind (CPL interpretation art. 485), in months.

    Seeded by a data migration with the defaults of DOMAIN.md and editable by operators.
    """

    asset_kind = models.CharField(_("财产类型"), max_length=32, choices=AssetKind.choices, primary_key=True)
    months = models.PositiveSmallIntegerField(_("最长期限（月）"))

    class Meta:
        verbose_name = _("控制措施期限")
        verbose_name_plural = _("控制措施期限")

    def __str__(self) -> str:
        return f"{self.get_asset_kind_display()}: {self.months}"


class Measure(models.Model):
    """A measure taken on a clue's asset: freeze, seizure, detention, live seizure or deduction."""

    case = models.ForeignKey("enforcement.EnforcementCase", on_delete=models.PROTECT, related_name="measures")
    clue = models.ForeignKey(PropertyClue, on_delete=models.PROTECT, related_name="measures")
    kind = models.CharField(_("措施"), max_length=16, choices=MeasureKind.choices)
    asset_kind = models.CharField(_("财产类型"), max_length=32, choices=AssetKind.choices)
    amount = models.DecimalField(_("金额"), max_digits=16, decimal_places=2, null=True, blank=True)
    effective_on = models.DateField(_("生效日"), null=True, blank=True)
    expires_on = models.DateField(_("到期日"), null=True, blank=True, db_index=True)
    status = models.CharField(_("状态"), max_length=16, choices=MeasureStatus.choices)
    queue_position = models.PositiveIntegerField(_("轮候顺序"), null=True, blank=True)
    asset_key = models.CharField(max_length=255, db_index=True)
    # A renewal that was released before taking effect leaves the original free to be renewed
    # again, hence a foreign key: "renewed" always means "has a renewal still in force".
    renewed_from = models.ForeignKey(
        "self", verbose_name=_("续行自"), null=True, blank=True, on_delete=models.PROTECT, related_name="renewals"
    )
    released_on = models.DateField(_("解除日期"), null=True, blank=True)
    release_reason = models.CharField(_("解除原因"), max_length=255, blank=True)
    requested_on = models.DateField(_("申请日期"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("查控措施")
        verbose_name_plural = _("查控措施")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["asset_key", "status"]),
            models.Index(fields=["status", "expires_on"]),
            # The workbench's expiring measures (queries.first_expiring_measures), as for the clues;
            # the second also gives a case's active freezes (the frozen amount of list rows).
            models.Index(
                fields=["expires_on", "id"],
                include=["case"],
                condition=Q(status=MeasureStatus.ACTIVE),
                name="measure_active_idx",
            ),
            models.Index(
                fields=["case", "expires_on", "id"],
                condition=Q(status=MeasureStatus.ACTIVE),
                name="measure_active_case_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(name="measure_amount_positive", condition=Q(amount__isnull=True) | Q(amount__gt=0)),
            models.CheckConstraint(
                name="measure_waiting_has_position",
                condition=~Q(status="waiting") | Q(queue_position__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.asset_key}"


class MeasureReminder(models.Model):
    """A reminder that a measure expires in 30, 15 or 7 days; unique per threshold (idempotent)."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="reminders")
    days_before = models.PositiveSmallIntegerField()
    expires_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["expires_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "days_before", "expires_on"], name="measure_reminder_unique")
        ]

    def __str__(self) -> str:
        return f"{self.measure_id} -{self.days_before}d"


class LiveSeizureVisit(models.Model):
    """A scheduled or completed follow-up visit to goods left with the respondent (活查封)."""

    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="visits")
    scheduled_on = models.DateField(_("计划回访日期"))
    visited_on = models.DateField(_("回访日期"), null=True, blank=True)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("回访人员"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    count = models.PositiveIntegerField(_("数量"), null=True, blank=True)
    condition = models.CharField(_("状况"), max_length=255, blank=True)
    notes = models.TextField(_("记录"), blank=True)
    photos = models.ManyToManyField("enforcement.CaseDocument", verbose_name=_("照片"), blank=True)

    class Meta:
        ordering = ["scheduled_on", "id"]

    def __str__(self) -> str:
        return f"{self.measure_id} @ {self.scheduled_on}"
