"""Clue-guided court recommendation (seed 000 §5.2): rank the courts a transfer could go to.

Candidates: the basic courts within the deciding court's jurisdiction (提级执行: the deciding court
itself; 执转破: the intermediate courts of the original court's province), the original courts
excluded. Each factor gives a candidate a share between 0 and 1; the score is the weighted sum on a
0–100 scale, with weights from settings (``TRANSFER_WEIGHT_*``):

* property: the share of the value of clues and measures held on platforms whose headquarters court
  (``Platform.hq_court``) is the candidate — where the respondent's main virtual property is;
* data: the share of data clues (经营数据, 用户数据, 交易记录) whose controller platform sits there;
* clue region: the share of clues whose platform region is the candidate's region;
* domicile: the respondents' (2/3) and applicants' (1/3) domiciles (``Party.region``);
* caseload: open cases per judge, the lightest candidate 1, the heaviest 0.

A constant number of queries, whatever the number of clues or candidates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, DecimalField, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from clues.models import ClueCategory, ClueStatus, MeasureStatus, PropertyClue
from enforcement.models import CaseParty, CasePartyRole, CaseStatus, Court, CourtLevel, EnforcementCase, Role, User

from .models import Mode, Transfer

ZERO = Decimal("0.00")


@dataclass
class Candidate:
    court: Court
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    factors: dict[str, float] = field(default_factory=dict)


def weights() -> dict[str, int]:
    return {
        "property": settings.TRANSFER_WEIGHT_PROPERTY,
        "data": settings.TRANSFER_WEIGHT_DATA,
        "clue_region": settings.TRANSFER_WEIGHT_CLUE_REGION,
        "domicile": settings.TRANSFER_WEIGHT_DOMICILE,
        "caseload": settings.TRANSFER_WEIGHT_CASELOAD,
    }


def candidate_courts(transfer: Transfer, original_ids: set[int]) -> list[Court]:
    deciding = transfer.deciding_court
    if transfer.mode == Mode.ELEVATE:
        return [deciding]
    if transfer.mode == Mode.BANKRUPTCY:
        high = next((c for c in transfer.original_court.ancestors() if c.level == CourtLevel.HIGH), None)
        base = Court.objects.filter(level=CourtLevel.INTERMEDIATE)
        base = base.filter(path__startswith=high.path) if high else base
        return list(base.order_by("path"))
    return list(
        Court.objects.filter(path__startswith=deciding.path, level=CourtLevel.BASIC)
        .exclude(pk__in=original_ids)
        .order_by("path")
    )


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def recommend(transfer: Transfer) -> list[Candidate]:
    """Candidates, best first, each with its score and reasons in plain Chinese."""
    case_ids = [link.case_id for link in transfer.links.all()]
    original_ids = set(EnforcementCase.objects.filter(pk__in=case_ids).values_list("court_id", flat=True))
    candidates = [Candidate(court) for court in candidate_courts(transfer, original_ids)]
    if not candidates:
        return []
    by_id = {c.court.pk: c for c in candidates}

    def in_region(region: str) -> list[Candidate]:
        """Candidates whose area holds ``region`` (a basic court: the same code; higher: the prefix)."""
        if not region:
            return []
        out = []
        for c in candidates:
            own = c.court.region
            if not own:
                continue
            if c.court.level == CourtLevel.BASIC and own == region:
                out.append(c)
            elif c.court.level == CourtLevel.INTERMEDIATE and own[:4] == region[:4]:
                out.append(c)
            elif c.court.level == CourtLevel.HIGH and own[:2] == region[:2]:
                out.append(c)
        return out

    w = weights()
    total_weight = sum(w.values()) or 1

    # clues and the measures on them (one query): value = max(estimated value, amount under measure)
    clues = list(
        PropertyClue.objects.filter(case_id__in=case_ids)
        .exclude(status=ClueStatus.INVALID)
        .annotate(
            measured=Coalesce(
                Sum(
                    "measures__amount",
                    filter=Q(measures__status__in=(MeasureStatus.ACTIVE, MeasureStatus.COMPLETED)),
                ),
                ZERO,
                output_field=DecimalField(max_digits=16, decimal_places=2),
            )
        )
        .values(
            "pk",
            "category",
            "estimated_value",
            "measured",
            "platform__name",
            "platform__hq_court_id",
            "platform__region",
        )
    )
    total_value = ZERO
    value_at: dict[int, Decimal] = defaultdict(lambda: ZERO)
    names_at: dict[int, list[str]] = defaultdict(list)
    data_at: dict[int, int] = defaultdict(int)
    data_total = 0
    region_count: dict[str, int] = defaultdict(int)
    for clue in clues:
        value = max(clue["estimated_value"] or ZERO, clue["measured"] or ZERO)
        total_value += value
        hq = clue["platform__hq_court_id"]
        if hq:
            value_at[hq] += value
            if clue["platform__name"] not in names_at[hq]:
                names_at[hq].append(clue["platform__name"])
        if clue["category"] == ClueCategory.DATA:
            data_total += 1
            if hq:
                data_at[hq] += 1
        if clue["platform__region"]:
            region_count[clue["platform__region"]] += 1

    for court_id, value in value_at.items():
        c = by_id.get(court_id)
        if c is None or not total_value:
            continue
        c.factors["property"] = float(value / total_value)
        c.reasons.append(
            _("%(platforms)s上的线索合计 ¥%(value)s（占全部线索价值的%(pct)d%%），平台所在地为%(court)s")
            % {
                "platforms": "、".join(names_at[court_id]),
                "value": _money(value),
                "pct": round(100 * value / total_value),
                "court": c.court.name,
            }
        )
    for court_id, count in data_at.items():
        c = by_id.get(court_id)
        if c is None:
            continue
        c.factors["data"] = count / data_total
        c.reasons.append(_("%(n)d条数据类线索的数据控制者位于%(court)s辖区") % {"n": count, "court": c.court.name})
    clue_total = len(clues)
    for region, count in region_count.items():
        for c in in_region(region):
            c.factors["clue_region"] = count / clue_total
            c.reasons.append(
                _("%(n)d条线索（占%(pct)d%%）集中在本院辖区") % {"n": count, "pct": round(100 * count / clue_total)}
            )

    # parties' domiciles (one query)
    parties = list(
        CaseParty.objects.filter(case_id__in=case_ids).values("role", "party__region", "party__name").distinct()
    )
    shares = {CasePartyRole.RESPONDENT: 2 / 3, CasePartyRole.APPLICANT: 1 / 3}
    for role in (CasePartyRole.RESPONDENT, CasePartyRole.APPLICANT):
        people = [p for p in parties if p["role"] == role]
        for p in people:
            for c in in_region(p["party__region"] or ""):
                c.factors["domicile"] = c.factors.get("domicile", 0.0) + shares[role] / len(people)
                label = _("被执行人") if role == CasePartyRole.RESPONDENT else _("申请执行人")
                c.reasons.append(_("%(role)s%(name)s住所地在本院辖区") % {"role": label, "name": p["party__name"]})

    # caseload per judge (two queries)
    court_ids = list(by_id)
    open_cases = dict(
        EnforcementCase.objects.filter(court_id__in=court_ids)
        .exclude(status=CaseStatus.CLOSED)
        .values("court_id")
        .annotate(n=Count("pk"))
        .values_list("court_id", "n")
    )
    judges = dict(
        User.objects.filter(court_id__in=court_ids, roles__code=Role.JUDGE, is_active=True)
        .values("court_id")
        .annotate(n=Count("pk", distinct=True))
        .values_list("court_id", "n")
    )
    loads = {}
    for court_id in court_ids:
        n_judges = judges.get(court_id, 0)
        loads[court_id] = open_cases.get(court_id, 0) / n_judges if n_judges else None
    known = [v for v in loads.values() if v is not None]
    heaviest, lightest = (max(known), min(known)) if known else (0, 0)
    for court_id, load in loads.items():
        c = by_id[court_id]
        if load is None:
            c.factors["caseload"] = 0.0
            c.reasons.append(_("本院暂无在职执行法官"))
            continue
        c.factors["caseload"] = 1.0 if heaviest == lightest else (heaviest - load) / (heaviest - lightest)
        c.reasons.append(
            _("在办案件人均 %(load).1f 件（%(cases)d 件，%(judges)d 名执行法官）")
            % {"load": load, "cases": open_cases.get(court_id, 0), "judges": judges.get(court_id, 0)}
        )

    for c in candidates:
        c.score = round(100 * sum(w[name] * value for name, value in c.factors.items()) / total_weight, 1)
    candidates.sort(key=lambda c: (-c.score, loads.get(c.court.pk) or 0, c.court.path))
    return candidates
