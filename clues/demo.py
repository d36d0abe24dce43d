"""Demo platforms, clues and measures on top of the enforcement demo data (idempotent).

Modelled on the seeds: the community group-buying platform 鲜享家 with funds on several payment
platforms (seed 001), and the 40 pigs live-seized in Kedong (seed 002).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from enforcement.models import CaseParty, CasePartyRole, Court, EnforcementCase, User
from platforms.models import Platform

from . import services
from .models import PropertyClue

# (code, name, kind, headquarters basic court code, region)
PLATFORMS = [
    ("taobao", "淘宝/天猫", "ecommerce", "浙0110", "330110"),
    ("alipay", "支付宝", "payment", "浙0110", "330110"),
    ("jd", "京东", "ecommerce", "京0115", "110115"),
    ("pinduoduo", "拼多多", "ecommerce", "沪0105", "310105"),
    ("douyin", "抖音电商", "ecommerce", "京0108", "110108"),
    ("tenpay", "微信支付（财付通）", "payment", "粤0305", "440305"),
    ("aliexpress", "全球速卖通", "cross_border", "浙0110", "330110"),
]


def _respondent(case: EnforcementCase):
    return CaseParty.objects.filter(case=case, role=CasePartyRole.RESPONDENT).select_related("party").first().party


@transaction.atomic
def load() -> dict[str, int]:
    created = {"platforms": 0, "clues": 0}
    admin = User.objects.get(username="admin")
    from platforms.services import create_platform

    for code, name, kind, court_code, region in PLATFORMS:
        if not Platform.objects.filter(code=code).exists():
            create_platform(
                admin, code=code, name=name, kind=kind, hq_court=Court.objects.get(code=court_code), region=region
            )
            created["platforms"] += 1
    if PropertyClue.objects.exists():
        return created
    judge = User.objects.get(username="judge_yuhu")
    kedong = User.objects.get(username="judge_kedong")
    yuhu_cases = list(EnforcementCase.objects.filter(court__code="湘0302", status="in_progress").order_by("filed_on"))
    kedong_case = EnforcementCase.objects.filter(court__code="黑0230").first()
    today = timezone.localdate()
    if yuhu_cases:
        big = yuhu_cases[0]
        head = User.objects.get(username="head_yuhu")
        respondent = _respondent(big)
        for i, (platform, kind) in enumerate(
            [("alipay", "payment_account"), ("tenpay", "payment_account"), ("taobao", "platform_balance")]
        ):
            clue = services.add_clue(
                head,
                big,
                respondent=respondent,
                category="funds",
                kind=kind,
                platform=platform,
                account=f"xxj-{platform}-00{i + 1}",
                estimated_value="450000.00",
                source="investigation",
                urgent=True,
                received_on=today - dt.timedelta(days=20 - i),
            )
            services.verify_clue(head, clue)
            services.record_measure(
                head, big, clue=clue, kind="freeze", amount="420000.00", effective_on=today - dt.timedelta(days=18)
            )
            created["clues"] += 1
        if len(yuhu_cases) > 1:
            # The consumer's case finds the same Alipay account already frozen: it waits in line.
            small = yuhu_cases[1]
            clue = services.add_clue(
                judge,
                small,
                respondent=_respondent(small),
                category="funds",
                kind="payment_account",
                platform="alipay",
                account="xxj-alipay-001",
                source="applicant",
                received_on=today - dt.timedelta(days=9),
            )
            services.record_measure(judge, small, clue=clue, kind="freeze", amount="8650.00")
            created["clues"] += 1
    if kedong_case:
        clue = services.add_clue(
            kedong,
            kedong_case,
            respondent=_respondent(kedong_case),
            category="traditional",
            kind="livestock",
            registry="克东县宝泉镇养殖场",
            account="生猪40头",
            estimated_value="96000.00",
            source="investigation",
            received_on=today - dt.timedelta(days=100),
        )
        services.verify_clue(kedong, clue)
        measure = services.record_measure(
            kedong, kedong_case, clue=clue, kind="live_seizure", effective_on=today - dt.timedelta(days=95)
        )
        services.schedule_visit(kedong, measure, scheduled_on=today + dt.timedelta(days=2))
        created["clues"] += 1
    return created
