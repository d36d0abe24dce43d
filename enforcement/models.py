"""Courts, users, parties, enforcement cases, their documents and timeline, and the audit trail.

Models hold data, constraints and small invariants. State changes live in ``services.py``;
who may do what lives in ``permissions.py``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from . import periods

# --------------------------------------------------------------------------------------------
# Courts and users
# --------------------------------------------------------------------------------------------


class CourtLevel(models.TextChoices):
    SUPREME = "supreme", _("最高人民法院")
    HIGH = "high", _("高级人民法院")
    INTERMEDIATE = "intermediate", _("中级人民法院")
    BASIC = "basic", _("基层人民法院")


class Court(models.Model):
    """A people's court. ``code`` is the 法院代字 used in case numbers (苏, 苏10, 苏1002)."""

    code = models.CharField(_("法院代字"), max_length=16, unique=True)
    name = models.CharField(_("名称"), max_length=100, unique=True)
    level = models.CharField(_("级别"), max_length=16, choices=CourtLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级法院"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    region = models.CharField(_("行政区划代码"), max_length=6, blank=True, help_text=_("GB/T 2260"))
    # Materialized path of ids from the root ("/1/5/23/"): subordinates are one indexed prefix match.
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    # Notice kinds this court's bureau head must approve before they go out; empty = the default
    # of the settings (NOTICE_APPROVAL_KINDS: freeze and deduct).
    notice_approval_kinds = models.JSONField(_("须局长审批的通知"), default=list, blank=True)

    class Meta:
        verbose_name = _("法院")
        verbose_name_plural = _("法院")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def approval_kinds(self) -> list[str]:
        """The notice kinds that need the bureau head's approval in this court."""
        return list(self.notice_approval_kinds) or list(settings.NOTICE_APPROVAL_KINDS)

    def ancestor_ids(self) -> list[int]:
        """Ids of the superior courts, nearest first."""
        ids = [int(part) for part in self.path.strip("/").split("/") if part]
        return list(reversed(ids[:-1]))

    def ancestors(self) -> models.QuerySet[Court]:
        return Court.objects.filter(pk__in=self.ancestor_ids()).order_by("-path")

    def subordinates(self) -> models.QuerySet[Court]:
        """All courts below this one (not itself)."""
        return Court.objects.filter(path__startswith=self.path).exclude(pk=self.pk)

    def is_superior_of(self, other: Court) -> bool:
        return other.pk != self.pk and other.path.startswith(self.path)

    def common_superior(self, other: Court) -> Court | None:
        """The nearest court that is a superior of both (never one of the two themselves)."""
        mine = self.ancestor_ids()
        theirs = set(other.ancestor_ids())
        for court_id in mine:
            if court_id in theirs:
                return Court.objects.get(pk=court_id)
        return None


class Role(models.Model):
    """A role a user holds. The four codes are created by a data migration."""

    JUDGE = "judge"
    BUREAU_HEAD = "bureau_head"
    SUPERVISOR = "supervisor"
    SYSTEM_ADMIN = "system_admin"
    CODES = (JUDGE, BUREAU_HEAD, SUPERVISOR, SYSTEM_ADMIN)

    code = models.CharField(max_length=32, primary_key=True)
    name = models.CharField(_("名称"), max_length=32)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")

    def __str__(self) -> str:
        return str(_(self.name))


class User(AbstractUser):
    """A person using the system, attached to one court and holding one or more roles."""

    court = models.ForeignKey(
        Court, verbose_name=_("所属法院"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    display_name = models.CharField(_("姓名"), max_length=64, blank=True)
    roles = models.ManyToManyField(Role, verbose_name=_("角色"), blank=True, related_name="users")

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def role_codes(self) -> frozenset[str]:
        """Role codes, cached per instance (prefetch ``roles`` to avoid a query)."""
        cached = getattr(self, "_role_codes", None)
        if cached is None:
            cached = frozenset(role.code for role in self.roles.all()) if self.pk else frozenset()
            self._role_codes = cached
        return cached

    def has_role(self, code: str) -> bool:
        return code in self.role_codes


# --------------------------------------------------------------------------------------------
# Parties
# --------------------------------------------------------------------------------------------


class PartyKind(models.TextChoices):
    PERSON = "person", _("自然人")
    ENTITY = "entity", _("法人")
    ORGANIZATION = "organization", _("非法人组织")


class Party(models.Model):
    """A party to a case: a natural person (身份证号) or an entity (统一社会信用代码)."""

    kind = models.CharField(_("类型"), max_length=16, choices=PartyKind.choices)
    name = models.CharField(_("名称/姓名"), max_length=200, db_index=True)
    id_number = models.CharField(_("身份证号"), max_length=18, blank=True, db_index=True)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True, db_index=True)
    address = models.CharField(_("住所地"), max_length=255, blank=True)
    region = models.CharField(_("住所地行政区划"), max_length=6, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("当事人")
        verbose_name_plural = _("当事人")
        constraints = [
            models.CheckConstraint(
                name="party_identifier_matches_kind",
                condition=(Q(kind="person", uscc="") & ~Q(id_number=""))
                | (Q(kind="entity", id_number="") & ~Q(uscc=""))
                | Q(kind="organization", id_number=""),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def identifier(self) -> str:
        return self.id_number or self.uscc


# --------------------------------------------------------------------------------------------
# Enforcement cases
# --------------------------------------------------------------------------------------------


class CaseType(models.TextChoices):
    ENFORCEMENT = "执", _("首次执行")
    RESUMED = "执恢", _("恢复执行")
    PRESERVATION = "执保", _("财产保全执行")
    OBJECTION = "执异", _("执行异议")
    RECONSIDERATION = "执复", _("执行复议")
    SUPERVISION = "执监", _("执行监督")
    COORDINATION = "执协", _("执行协调")
    OTHER = "执他", _("其他执行")
    BANKRUPTCY_REVIEW = "破申", _("破产审查")


class CaseStatus(models.TextChoices):
    FILED = "filed", _("已立案")
    IN_PROGRESS = "in_progress", _("执行中")
    SUSPENDED = "suspended", _("中止执行")
    CLOSED = "closed", _("已结案")


class ClosingMethod(models.TextChoices):
    FULLY_ENFORCED = "fully_enforced", _("执行完毕")
    CLOSED_FOR_NOW = "closed_for_now", _("终结本次执行程序")
    TERMINATED = "terminated", _("终结执行")
    WITHDRAWN_BY_TRANSFER = "withdrawn_by_transfer", _("销案")
    REJECTED = "rejected", _("驳回申请")
    NOT_ENFORCED = "not_enforced", _("不予执行")


class EnforcementCase(models.Model):
    """An enforcement case (执行案件) of one court, identified by its case number (案号)."""

    court = models.ForeignKey(Court, verbose_name=_("执行法院"), on_delete=models.PROTECT, related_name="cases")
    type_code = models.CharField(_("类型代字"), max_length=4, choices=CaseType.choices, default=CaseType.ENFORCEMENT)
    year = models.PositiveSmallIntegerField(_("年度"))
    sequence = models.PositiveIntegerField(_("序号"))
    number = models.CharField(_("案号"), max_length=64, unique=True)
    status = models.CharField(_("状态"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.FILED)
    closing_method = models.CharField(_("结案方式"), max_length=32, choices=ClosingMethod.choices, blank=True)
    closed_on = models.DateField(_("结案日期"), null=True, blank=True)
    basis_document_number = models.CharField(_("执行依据文号"), max_length=100)
    basis_issuing_court = models.CharField(_("执行依据作出机关"), max_length=100)
    amount_due = models.DecimalField(_("执行标的"), max_digits=16, decimal_places=2)
    amount_recovered = models.DecimalField(_("已执行到位"), max_digits=16, decimal_places=2, default=Decimal("0.00"))
    filed_on = models.DateField(_("立案日期"))
    # Days of the art. 237 clock that do not count (public notice, appraisal, jurisdiction dispute,
    # coordination, deferral, suspension): the union of the intervals recorded in
    # ``transfers.Art237ExcludedPeriod`` after the clock start, kept here by
    # ``transfers.services.record_excluded_period`` (and by ``services.refresh_art237_clock`` when
    # the clock start moves) so that lists compute ``art237_eligible_on`` without another query.
    art237_excluded_days = models.PositiveIntegerField(_("237条不计入期间（日）"), default=0)
    # The day the art. 237 clock runs from (enforcement-procedure interpretation arts. 10-11: six
    # months from receiving the application for property the respondent had then, from the day it
    # was found for property found later, counted per property not yet enforced): the earliest
    # max(filed_on, received_on) over the clues still pending, verified or under a measure, or
    # filed_on when there is none. ``art237_clock_clue`` is the clue found after filing that sets
    # it (null when the clock runs from filing). Both are written by one function,
    # ``services.refresh_art237_clock``; a row written outside the services (null) reads as filed_on.
    art237_clock_from = models.DateField(_("237条期间起算日"), null=True, blank=True)
    art237_clock_clue = models.ForeignKey(
        "clues.PropertyClue",
        verbose_name=_("237条期间起算财产"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    origin_case = models.ForeignKey(
        "self", verbose_name=_("原案件"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    successor_case = models.ForeignKey(
        "self", verbose_name=_("后续案件"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # the time of the case's latest timeline event, kept by ``services.add_event`` (the only writer
    # of events): the supervisor's "no progress" trigger reads it instead of probing the timeline
    last_activity_at = models.DateTimeField(null=True, blank=True, editable=False)
    # since when the case has had property found and not yet disposed of (the earliest day a clue
    # still verified or under a measure was verified, or a measure in force took effect); kept by
    # ``services.refresh_undisposed``, read by the "property long undisposed" trigger
    undisposed_since = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("执行案件")
        verbose_name_plural = _("执行案件")
        ordering = ["-filed_on", "-id"]
        permissions = [
            ("handle_case", _("办理案件")),
            ("view_case_file", _("查阅案卷")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["court", "type_code", "year", "sequence"], name="case_sequence_unique"),
            models.CheckConstraint(name="case_amount_due_positive", condition=Q(amount_due__gt=0)),
            models.CheckConstraint(name="case_amount_recovered_nonnegative", condition=Q(amount_recovered__gte=0)),
            models.CheckConstraint(
                name="case_closing_method_iff_closed",
                condition=(Q(status="closed") & ~Q(closing_method="")) | (~Q(status="closed") & Q(closing_method="")),
            ),
        ]
        indexes = [
            models.Index(fields=["court", "status"]),
            models.Index(fields=["status", "filed_on"]),
            # a court's cases in list order (newest filing first): the bureau head's case list
            models.Index(fields=["court", "-filed_on", "-id"], name="case_court_filed_idx"),
            # the open cases of a court (a third of all): the supervisor's eligible list scans only
            # these, and weighs the reasons kept on the case (and sorts) from the index alone
            models.Index(
                fields=["court"],
                include=[
                    "id",
                    "filed_on",
                    "art237_clock_from",
                    "art237_excluded_days",
                    "created_at",
                    "last_activity_at",
                    "undisposed_since",
                ],
                condition=~Q(status="closed"),
                name="case_open_court_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @staticmethod
    def format_number(year: int, court_code: str, type_code: str, sequence: int) -> str:
        """The case number in the official format: （2025）苏1002执1234号."""
        return f"（{year}）{court_code}{type_code}{sequence}号"

    @property
    def amount_outstanding(self) -> Decimal:
        """未履行金额: amount due less amount recovered, never below zero."""
        return max(self.amount_due - self.amount_recovered, Decimal("0.00"))

    @property
    def art237_clock_start(self) -> dt.date:
        """The day the art. 237 six months run from (see ``art237_clock_from``)."""
        return self.art237_clock_from or self.filed_on

    @property
    def art237_clock_later(self) -> bool:
        """Does the clock run from a property found after filing (rather than from filing)?"""
        return self.art237_clock_start > self.filed_on

    @property
    def art237_eligible_on(self):
        """The day from which the applicant may apply to the higher court (CPL art. 237).

        Six months (``ART237_MONTHS``) after the clock start (``art237_clock_start``), extended by
        the excluded days, moved off a rest day. ``queries.Art237Undelayed`` computes the same day
        in SQL.
        """
        end = periods.period_end(
            self.art237_clock_start, periods.Period(months=settings.ART237_MONTHS), shift_holiday=False
        ) + dt.timedelta(days=self.art237_excluded_days or 0)
        return periods.next_working_day(end)

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.CLOSED


class CasePartyRole(models.TextChoices):
    APPLICANT = "applicant", _("申请执行人")
    RESPONDENT = "respondent", _("被执行人")


class CaseParty(models.Model):
    """A party's place in a case: applicant (申请执行人) or respondent (被执行人)."""

    case = models.ForeignKey(EnforcementCase, on_delete=models.CASCADE, related_name="case_parties")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="case_roles")
    role = models.CharField(max_length=16, choices=CasePartyRole.choices)
    # a respondent whose open cases reach the "same respondent in several courts" trigger of the
    # case's high court. Derived, kept by ``services.refresh_respondent_load`` (whenever the
    # respondent's load changes) and by a high court's trigger configuration
    # (``transfers.services.mark_same_respondent``); the eligible list reads it instead of probing
    # every candidate case's respondents and their loads
    over_trigger = models.BooleanField(default=False, db_default=False, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "party", "role"], name="case_party_role_unique")]
        indexes = [models.Index(fields=["case"], condition=Q(over_trigger=True), name="case_party_over_trigger_idx")]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.party_id}"


class RespondentLoad(models.Model):
    """Open (not closed) cases of a respondent identity (身份证号 or 统一社会信用代码) and the number
    of courts they are in.

    Derived data, kept by the case services (``services.refresh_respondent_load``) whenever a case
    is filed or opens or closes: the supervisor's "same respondent in several courts" trigger reads
    one row per identity instead of counting the identity's cases over the whole country.
    """

    identity = models.CharField(max_length=18, unique=True)
    open_cases = models.PositiveIntegerField()
    open_courts = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.identity}: {self.open_cases} in {self.open_courts} courts"


class CaseNumberSequence(models.Model):
    """The last sequence number used per court, type code and year (bumped atomically)."""

    court = models.ForeignKey(Court, on_delete=models.PROTECT, related_name="+")
    type_code = models.CharField(max_length=4)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["court", "type_code", "year"], name="case_number_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.court_id}/{self.type_code}/{self.year}: {self.last_value}"


class CaseEvent(models.Model):
    """One line of a case's timeline (办案日志), written by the service that made the change."""

    # indexed by ``event_case_at_idx``: a case's timeline, newest first
    case = models.ForeignKey(EnforcementCase, on_delete=models.CASCADE, related_name="events", db_index=False)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=48)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["case", "at"], name="event_case_at_idx")]

    def __str__(self) -> str:
        return self.message


class DocumentType(models.TextChoices):
    APPLICATION = "application", _("执行申请书")
    BASIS = "basis", _("执行依据")
    RULING = "ruling", _("裁定书")
    NOTICE = "notice", _("通知书")
    EVIDENCE = "evidence", _("证据材料")
    RECORD = "record", _("笔录")
    OTHER = "other", _("其他")


class CaseDocument(models.Model):
    """A document in the case file (案卷材料), with its SHA-256 fixed at upload."""

    case = models.ForeignKey(EnforcementCase, on_delete=models.PROTECT, related_name="documents")
    doc_type = models.CharField(_("材料类型"), max_length=16, choices=DocumentType.choices)
    title = models.CharField(_("标题"), max_length=200)
    file = models.FileField(upload_to="cases/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.title


class CaseUserObjectPermission(UserObjectPermissionBase):
    """Explicit per-case grants to users (django-guardian direct foreign key)."""

    content_object = models.ForeignKey(EnforcementCase, on_delete=models.CASCADE, related_name="user_grants")


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    """Explicit per-case grants to groups (django-guardian direct foreign key)."""

    content_object = models.ForeignKey(EnforcementCase, on_delete=models.CASCADE, related_name="group_grants")


# --------------------------------------------------------------------------------------------
# Audit trail
# --------------------------------------------------------------------------------------------

SYSTEM_CHAIN = "system"


class AuditEntry(models.Model):
    """An append-only, hash-chained audit record.

    Entries are chained per case (``case:<id>``) and for everything else on the ``system`` chain,
    so writers on different cases never wait for one another. The database refuses UPDATE and
    DELETE on this table (see the migration that installs the triggers).
    """

    chain = models.CharField(max_length=40)
    seq = models.PositiveBigIntegerField()
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    case = models.ForeignKey(EnforcementCase, null=True, on_delete=models.PROTECT, related_name="+")
    payload = models.JSONField(default=dict)
    payload_digest = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique")]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action}"


class AuditChainHead(models.Model):
    """The latest sequence number and hash of each chain; locked by a writer while it appends."""

    chain = models.CharField(max_length=40, primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default="")

    def __str__(self) -> str:
        return f"{self.chain}@{self.seq}"


class AuditCheckpoint(models.Model):
    """A signed snapshot of every chain head, so a truncated or rewritten chain is detected."""

    created_at = models.DateTimeField(auto_now_add=True)
    heads = models.JSONField()
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"checkpoint {self.pk}"
