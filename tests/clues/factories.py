"""Factories and builders for platforms, clues and measures.

Clues and measures are made through the services so that ``asset_key``, ``verify_by`` and
``expires_on`` are computed exactly as in production.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import factory
from django.db.models import Model
from rest_framework.test import APIClient

from clues import services
from clues.models import LiveSeizureVisit, Measure, MeasureReminder, PropertyClue
from enforcement.models import (
    AuditEntry,
    CaseEvent,
    CasePartyRole,
    EnforcementCase,
    Party,
    Role,
)
from platforms.models import Platform, PlatformKind
from tests.factories import EnforcementCaseFactory, PartyFactory, UserFactory

HAS_CJK = re.compile(r"[\u4e00-\u9fff]")


class PlatformFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Platform
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"plat{n}")
    name = factory.Sequence(lambda n: f"测试平台{n}")
    kind = PlatformKind.ECOMMERCE


def respondent_of(case: EnforcementCase) -> Party:
    return case.case_parties.filter(role=CasePartyRole.RESPONDENT).select_related("party").first().party


def twin_of(party: Party, name: str) -> Party:
    """The same natural person registered again as a separate Party row (another court's case)."""
    return PartyFactory(name=name, id_number=party.id_number)


def case_in(court, *, respondent: Party | None = None, amount_due="100000.00", applicant: Party | None = None):
    """A case of ``court`` with its own judge; returns (case, judge)."""
    judge = UserFactory(court=court, roles=[Role.JUDGE])
    kwargs = {}
    if respondent is not None:
        kwargs["parties__respondents"] = [respondent]
    if applicant is not None:
        kwargs["parties__applicants"] = [applicant]
    case = EnforcementCaseFactory(court=court, judges=[judge], amount_due=Decimal(amount_due), **kwargs)
    return case, judge


def add_clue(actor, case, *, platform=None, account="acct-001", category="funds", kind="platform_balance", **kw):
    kw.setdefault("respondent", respondent_of(case).pk)
    kw.setdefault("source", "applicant")
    if platform is None and "registry" not in kw:
        kw["registry"] = "测试登记机构"
    return services.add_clue(actor, case, category=category, kind=kind, platform=platform, account=account, **kw)


def add_measure(actor, case, clue, *, kind="freeze", amount="1000.00", **kw) -> Measure:
    if kind not in ("freeze", "deduct") and amount == "1000.00":
        amount = None
    return services.record_measure(actor, case, clue=clue, kind=kind, amount=amount, **kw)


def counts() -> dict[str, int]:
    """Row counts that a refused call must leave untouched."""
    models: list[type[Model]] = [
        PropertyClue,
        Measure,
        MeasureReminder,
        LiveSeizureVisit,
        AuditEntry,
        CaseEvent,
        Platform,
    ]
    return {model.__name__: model.objects.count() for model in models}


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def messages_of(body) -> list[str]:
    if isinstance(body, str):
        return [body]
    if isinstance(body, list):
        return [m for item in body for m in messages_of(item)]
    if isinstance(body, dict):
        return [m for value in body.values() for m in messages_of(value)]
    return []


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)
