"""Cross-enforcement transfers (交叉执行): the transfer and its state machine, the art. 237 excluded
periods, configurable triggers per high court, the handover record, material requests, progress
reports, reminders, referral-to-bankruptcy steps, notifications to other courts and file-access
grants.

Models hold data and constraints. Every state change lives in ``services.py``; who may do what
lives in ``enforcement.permissions``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# --------------------------------------------------------------------------------------------
# art. 237 clock
# --------------------------------------------------------------------------------------------


class ExcludedKind(models.TextChoices):
    PUBLIC_NOTICE = "public_notice", _("公告期间")
    APPRAISAL = "appraisal", _("鉴定评估期间")
    JURISDICTION_DISPUTE = "jurisdiction_dispute", _("管辖争议期间")
    COORDINATION = "coordination", _("法院间协调期间")
    DEFERRAL = "deferral", _("暂缓执行期间")
    SUSPENSION = "suspension", _("中止执行期间")


class Art237ExcludedPeriod(models.Model):
    """An interval (both days inclusive) that does not count towards the art. 237 six months."""

    case = models.ForeignKey("enforcement.EnforcementCase", on_delete=models.PROTECT, related_name="art237_exclusions")
    kind = models.CharField(_("类型"), max_length=24, choices=ExcludedKind.choices)
    started_on = models.DateField(_("起始日"))
    ended_on = models.DateField(_("截止日"))
    note = models.CharField(_("说明"), max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("237条不计入期间")
        verbose_name_plural = _("237条不计入期间")
        ordering = ["started_on", "id"]
        constraints = [
            models.CheckConstraint(name="excluded_period_ordered", condition=Q(ended_on__gte=models.F("started_on")))
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_on}–{self.ended_on}"


class TriggerConfig(models.Model):
    """Thresholds of the cross-enforcement triggers of one high court (editable by its supervisors).

    A high court without a row uses the defaults from settings (DOMAIN.md).
    """

    high_court = models.OneToOneField(
        "enforcement.Court", verbose_name=_("高级人民法院"), on_delete=models.PROTECT, related_name="transfer_triggers"
    )
    same_respondent_min_cases = models.PositiveSmallIntegerField(_("同一被执行人未结案件数（件）"))
    same_respondent_min_courts = models.PositiveSmallIntegerField(_("涉及法院数（个）"))
    undisposed_months = models.PositiveSmallIntegerField(_("财产未处置（月）"))
    stalled_days = models.PositiveSmallIntegerField(_("无进展（日）"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("交叉执行触发条件")
        verbose_name_plural = _("交叉执行触发条件")
        constraints = [
            models.CheckConstraint(
                name="trigger_thresholds_positive",
                condition=Q(same_respondent_min_cases__gte=2)
                & Q(same_respondent_min_courts__gte=1)
                & Q(undisposed_months__gte=1)
                & Q(stalled_days__gte=1),
            )
        ]

    def __str__(self) -> str:
        return str(self.high_court)


class SameRespondentMarking(models.Model):
    """The default same-respondent thresholds (settings) that the respondents' marks
    (``CaseParty.over_trigger``) of the courts without their own thresholds were last made with:
    one row. ``services.follow_trigger_defaults`` marks again when the settings have changed."""

    min_cases = models.PositiveSmallIntegerField()
    min_courts = models.PositiveSmallIntegerField()
    marked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.min_cases} / {self.min_courts}"


# --------------------------------------------------------------------------------------------
# transfers
# --------------------------------------------------------------------------------------------


class Mode(models.TextChoices):
    SUPERVISE = "supervise", _("督促执行")
    DESIGNATE = "designate", _("指令执行")
    ELEVATE = "elevate", _("提级执行")
    CONCENTRATE = "concentrate", _("集中执行")
    COOPERATE = "cooperate", _("协同执行")
    BANKRUPTCY = "bankruptcy", _("执转破")


# Modes that move the case to the receiving court (销案 and a new 执 case).
MOVING_MODES = frozenset({Mode.DESIGNATE, Mode.ELEVATE, Mode.CONCENTRATE})


class Trigger(models.TextChoices):
    ART237_APPLICATION = "art237_application", _("申请执行人依237条申请")
    SUPERVISOR_INITIATIVE = "supervisor_initiative", _("上级法院依职权")
    COURT_REQUEST = "court_request", _("执行法院报请")


class State(models.TextChoices):
    PROPOSED = "proposed", _("已提出")
    UNDER_REVIEW = "under_review", _("审查中")
    APPROVED = "approved", _("已决定")
    REJECTED = "rejected", _("不予准许")
    ACCEPTED = "accepted", _("已接收")
    IN_PROGRESS = "in_progress", _("执行中")
    CONCLUDED = "concluded", _("已办结")
    RETURNED = "returned", _("已退回")


# States in which a receiving court is involved (its bureau head reads the case, see the policy).
RECEIVING_STATES = (State.APPROVED, State.ACCEPTED, State.IN_PROGRESS)
# States of a transfer that is still running (one per case at a time).
ACTIVE_STATES = (State.PROPOSED, State.UNDER_REVIEW, *RECEIVING_STATES)


class Transfer(models.Model):
    """One cross-enforcement transfer of a case (or, for 集中执行, several cases of one respondent)."""

    case = models.ForeignKey(
        "enforcement.EnforcementCase", verbose_name=_("案件"), on_delete=models.PROTECT, related_name="transfers"
    )
    cases = models.ManyToManyField(
        "enforcement.EnforcementCase",
        through="TransferCase",
        through_fields=("transfer", "case"),
        related_name="+",
        verbose_name=_("全部案件"),
    )
    mode = models.CharField(_("方式"), max_length=16, choices=Mode.choices)
    trigger = models.CharField(_("启动方式"), max_length=24, choices=Trigger.choices)
    reason = models.TextField(_("理由"))
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.PROPOSED, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    original_court = models.ForeignKey(
        "enforcement.Court", verbose_name=_("原执行法院"), on_delete=models.PROTECT, related_name="+"
    )
    deciding_court = models.ForeignKey(
        "enforcement.Court", verbose_name=_("决定法院"), on_delete=models.PROTECT, related_name="+"
    )
    proposed_court = models.ForeignKey(
        "enforcement.Court",
        verbose_name=_("建议接收法院"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    receiving_court = models.ForeignKey(
        "enforcement.Court",
        verbose_name=_("接收法院"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    receiving_case = models.ForeignKey(
        "enforcement.EnforcementCase",
        verbose_name=_("接收案件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    application_document = models.ForeignKey(
        "enforcement.CaseDocument", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    consent_document = models.ForeignKey(
        "enforcement.CaseDocument", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_number = models.CharField(_("决定文书编号"), max_length=100, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_on = models.DateField(_("决定日期"), null=True, blank=True)
    decision_note = models.TextField(_("决定意见"), blank=True)
    deadline_days = models.PositiveSmallIntegerField(_("期限（日）"), null=True, blank=True)
    deadline_on = models.DateField(_("期限届满日"), null=True, blank=True)
    reconsideration_due = models.DateField(_("复议申请期限"), null=True, blank=True)
    registration_due = models.DateField(_("立案期限"), null=True, blank=True)
    answer_due = models.DateField(_("答复期限"), null=True, blank=True)
    materials_due = models.DateField(_("补充材料期限"), null=True, blank=True)
    amount_recovered_at_decision = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    tasks = models.TextField(_("协同事项"), blank=True)
    # 协同执行: the helping court's judges granted handle on the case (their grants end on conclusion).
    helper_ids = models.JSONField(default=list, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_on = models.DateField(_("接收日期"), null=True, blank=True)
    flagged_at = models.DateTimeField(_("逾期标记时间"), null=True, blank=True)
    flag_reason = models.CharField(_("逾期标记"), max_length=255, blank=True)
    reconsideration_requested_at = models.DateTimeField(null=True, blank=True)
    reconsideration_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reconsideration_reason = models.TextField(_("复议理由"), blank=True)
    reconsideration_upheld = models.BooleanField(_("复议结果：维持"), null=True, blank=True)
    reconsideration_answer = models.TextField(_("复议意见"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("交叉执行")
        verbose_name_plural = _("交叉执行")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["receiving_court", "state"]), models.Index(fields=["deciding_court", "state"])]
        constraints = [
            models.CheckConstraint(
                name="transfer_decision_fields",
                condition=Q(state__in=["proposed", "under_review"]) | Q(decided_on__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} {self.case_id} ({self.get_state_display()})"

    @property
    def moves_case(self) -> bool:
        return self.mode in MOVING_MODES


class TransferCase(models.Model):
    """A case of a transfer (one, or several for 集中执行) and the new case it became."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="links")
    case = models.ForeignKey("enforcement.EnforcementCase", on_delete=models.PROTECT, related_name="transfer_links")
    successor = models.ForeignKey(
        "enforcement.EnforcementCase", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # 执转破: the case was suspended by this transfer (so a refusal resumes exactly these).
    suspended_by_transfer = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["transfer", "case"], name="transfer_case_unique")]

    def __str__(self) -> str:
        return f"{self.transfer_id}:{self.case_id}"


class TransferStep(models.Model):
    """One applied transition of a transfer (its own timeline)."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="steps")
    from_state = models.CharField(max_length=16, choices=State.choices)
    to_state = models.CharField(max_length=16, choices=State.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.transfer_id}: {self.from_state} → {self.to_state}"


class BankruptcyStepKind(models.TextChoices):
    JUDGE_OPINION = "judge_opinion", _("承办法官意见")
    PANEL = "panel", _("合议庭评议")
    PRESIDENT_SIGNATURE = "president_signature", _("院长签发")


BANKRUPTCY_STEP_ORDER = (
    BankruptcyStepKind.JUDGE_OPINION,
    BankruptcyStepKind.PANEL,
    BankruptcyStepKind.PRESIDENT_SIGNATURE,
)


class BankruptcyStep(models.Model):
    """An internal decision step of a referral to bankruptcy review (执转破)."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="bankruptcy_steps")
    kind = models.CharField(_("环节"), max_length=24, choices=BankruptcyStepKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("意见"))
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["transfer", "kind"], name="bankruptcy_step_unique")]

    def __str__(self) -> str:
        return self.get_kind_display()


class HandoverRecord(models.Model):
    """What was handed over for one case: counts, the manifest of ids and key fields, its SHA-256."""

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="handovers")
    original_case = models.ForeignKey("enforcement.EnforcementCase", on_delete=models.PROTECT, related_name="+")
    successor_case = models.ForeignKey(
        "enforcement.EnforcementCase", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    counts = models.JSONField(default=dict)
    manifest = models.JSONField(default=dict)
    sha256 = models.CharField(max_length=64)
    measures_count_as_receiving = models.BooleanField(_("原措施视为接收法院的措施"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.transfer_id}/{self.original_case_id} {self.sha256[:12]}"


class MaterialRequest(models.Model):
    """Missing materials the receiving court asks for; the original court supplies them."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="material_requests")
    description = models.TextField(_("所缺材料"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    due_on = models.DateField(_("补充期限"))
    supplied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    supplied_at = models.DateTimeField(null=True, blank=True)
    supply_note = models.TextField(_("补充说明"), blank=True)
    # The files supplied, stored in the original case's file (案卷材料) through the document service.
    documents = models.ManyToManyField(
        "enforcement.CaseDocument", verbose_name=_("补充的材料"), blank=True, related_name="+"
    )

    class Meta:
        ordering = ["requested_at", "id"]

    def __str__(self) -> str:
        return self.description[:40]


class ProgressReport(models.Model):
    """A progress report of the receiving court to the deciding court."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="reports")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("进展情况"))
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return self.text[:40]


class ReminderKind(models.TextChoices):
    REGISTRATION = "registration", _("接收立案期限")
    MATERIALS = "materials", _("补充材料期限")
    ANSWER = "answer", _("破产审查答复期限")
    REPORT = "report", _("进展报告逾期")
    SUPERVISION = "supervision", _("督促执行期限届满")


class TransferReminder(models.Model):
    """A reminder of a transfer deadline; unique per kind and due day, so the beat task is idempotent."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    due_on = models.DateField()
    overdue = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "kind", "due_on", "overdue"], name="transfer_reminder_unique")
        ]

    def __str__(self) -> str:
        return f"{self.transfer_id} {self.kind} {self.due_on}"


class MeasureReleaseMark(models.Model):
    """执转破 accepted: a measure of the respondent's cases marked for release."""

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="release_marks")
    measure = models.ForeignKey("clues.Measure", on_delete=models.PROTECT, related_name="+")
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["transfer", "measure"], name="release_mark_unique")]

    def __str__(self) -> str:
        return f"{self.transfer_id}:{self.measure_id}"


# --------------------------------------------------------------------------------------------
# notifications to other courts
# --------------------------------------------------------------------------------------------


class NotificationKind(models.TextChoices):
    BANKRUPTCY_REFERRAL = "bankruptcy_referral", _("移送破产审查")
    BANKRUPTCY_REFUSED = "bankruptcy_refused", _("破产申请不予受理")


class CourtNotification(models.Model):
    """A notice to a court about one of its cases from a transfer decided elsewhere (执转破: every
    other court holding a case against the respondent). Shown on the workbench of the court's
    bureau heads and of the case's judges until one of them acknowledges it."""

    court = models.ForeignKey("enforcement.Court", verbose_name=_("法院"), on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        "enforcement.EnforcementCase",
        verbose_name=_("案件"),
        on_delete=models.PROTECT,
        related_name="court_notifications",
    )
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="notifications")
    kind = models.CharField(_("类型"), max_length=24, choices=NotificationKind.choices)
    text = models.CharField(_("内容"), max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("法院通知")
        verbose_name_plural = _("法院通知")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["court", "acknowledged_at"])]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "case", "kind"], name="court_notification_unique"),
            models.CheckConstraint(
                name="court_notification_acknowledged_by",
                condition=Q(acknowledged_at__isnull=True, acknowledged_by__isnull=True)
                | Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.court_id}/{self.case_id}: {self.get_kind_display()}"


# --------------------------------------------------------------------------------------------
# file-access grants
# --------------------------------------------------------------------------------------------


class GrantState(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已准许")
    REFUSED = "refused", _("不予准许")
    REVOKED = "revoked", _("已撤回")
    EXPIRED = "expired", _("已到期")


class FileAccessGrant(models.Model):
    """A judge of another court asks to read a case file; read-only, time-limited, revocable."""

    case = models.ForeignKey("enforcement.EnforcementCase", on_delete=models.PROTECT, related_name="file_grants")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("查阅理由"))
    days = models.PositiveSmallIntegerField(_("期限（日）"))
    state = models.CharField(max_length=16, choices=GrantState.choices, default=GrantState.PENDING, db_index=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The requester already held view_case_file from elsewhere: ending this grant leaves it alone.
    had_before = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("阅卷授权")
        verbose_name_plural = _("阅卷授权")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="file_grant_approved_expires", condition=~Q(state="approved") | Q(expires_at__isnull=False)
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.requester_id} ({self.state})"
