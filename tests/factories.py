"""factory_boy factories for every model of the enforcement app."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import factory
from django.utils import timezone
from guardian.shortcuts import assign_perm
from stdnum.cn import ric, uscc

from enforcement.models import (
    CaseEvent,
    CaseParty,
    CasePartyRole,
    Court,
    CourtLevel,
    EnforcementCase,
    Party,
    PartyKind,
    Role,
    User,
)
from enforcement.permissions import HANDLE_PERM
from enforcement.services import next_case_sequence, refresh_respondent_load

PASSWORD = "test-pass-2025"


def valid_id_number(n: int) -> str:
    body = f"430302198{5 + n % 5}0101{n % 1000:03d}"[:17]  # the 430302 code exists from 1985 on
    return body + ric.calc_check_digit(body + "0")


def valid_uscc(n: int) -> str:
    body = f"9143030{n % 10000000000:010d}"
    return body + uscc.calc_check_digit(body)


class CourtFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Court
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"测{n}")
    name = factory.Sequence(lambda n: f"测试第{n}人民法院")
    level = CourtLevel.BASIC
    parent = None
    region = ""

    @factory.post_generation
    def set_path(obj, create, extracted, **kwargs):
        obj.path = f"{obj.parent.path if obj.parent else '/'}{obj.pk}/"
        if create:
            obj.save(update_fields=["path"])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    court = factory.SubFactory(CourtFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(obj, create, extracted, **kwargs):
        obj.save()
        obj.roles.set(extracted if extracted is not None else [Role.JUDGE])
        obj.__dict__.pop("_role_codes", None)


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Party

    kind = PartyKind.PERSON
    name = factory.Sequence(lambda n: f"当事人{n}")
    id_number = factory.Sequence(valid_id_number)
    uscc = ""

    class Params:
        entity = factory.Trait(kind=PartyKind.ENTITY, id_number="", uscc=factory.Sequence(valid_uscc))


class EnforcementCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EnforcementCase
        skip_postgeneration_save = True

    court = factory.SubFactory(CourtFactory)
    type_code = "执"
    filed_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=30))
    year = factory.LazyAttribute(lambda o: o.filed_on.year)
    sequence = factory.LazyAttribute(lambda o: next_case_sequence(o.court, o.type_code, o.year))
    number = factory.LazyAttribute(
        lambda o: EnforcementCase.format_number(o.year, o.court.code, o.type_code, o.sequence)
    )
    basis_document_number = factory.Sequence(lambda n: f"（2025）测民初{n}号")
    basis_issuing_court = "测试人民法院"
    amount_due = Decimal("100000.00")

    @factory.post_generation
    def parties(obj, create, extracted, **kwargs):
        if not create:
            return
        applicants = kwargs.get("applicants") or [PartyFactory()]
        respondents = kwargs.get("respondents") or [PartyFactory()]
        CaseParty.objects.bulk_create(
            [CaseParty(case=obj, party=p, role=CasePartyRole.APPLICANT) for p in applicants]
            + [CaseParty(case=obj, party=p, role=CasePartyRole.RESPONDENT) for p in respondents]
        )
        # the services keep RespondentLoad when they file a case; the factory files around them
        refresh_respondent_load(p.identifier for p in respondents)

    @factory.post_generation
    def judges(obj, create, extracted, **kwargs):
        for judge in extracted or []:
            assign_perm(HANDLE_PERM, judge, obj)


class CaseEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseEvent

    case = factory.SubFactory(EnforcementCaseFactory)
    kind = "note"
    message = "记录"


def make_courts() -> SimpleNamespace:
    """The test courts: 湖南 (湘潭 with 雨湖 and 岳塘) and 福建 (宁德 with 蕉城) under the supreme court."""
    supreme = CourtFactory(code="最高法", name="最高人民法院", level=CourtLevel.SUPREME)
    high = CourtFactory(code="湘", name="湖南省高级人民法院", level=CourtLevel.HIGH, parent=supreme, region="430000")
    mid = CourtFactory(code="湘03", name="湖南省湘潭市中级人民法院", level=CourtLevel.INTERMEDIATE, parent=high)
    yuhu = CourtFactory(code="湘0302", name="湘潭市雨湖区人民法院", level=CourtLevel.BASIC, parent=mid)
    yuetang = CourtFactory(code="湘0304", name="湘潭市岳塘区人民法院", level=CourtLevel.BASIC, parent=mid)
    fj = CourtFactory(code="闽", name="福建省高级人民法院", level=CourtLevel.HIGH, parent=supreme)
    ningde = CourtFactory(code="闽09", name="福建省宁德市中级人民法院", level=CourtLevel.INTERMEDIATE, parent=fj)
    jiaocheng = CourtFactory(code="闽0902", name="宁德市蕉城区人民法院", level=CourtLevel.BASIC, parent=ningde)
    return SimpleNamespace(
        supreme=supreme, high=high, mid=mid, yuhu=yuhu, yuetang=yuetang, fj=fj, ningde=ningde, jiaocheng=jiaocheng
    )


def make_cast(courts) -> SimpleNamespace:
    """Users by their relation to ``cast.case`` (a case of 雨湖 court handled by ``assigned``): the
    ``cast`` fixture of tests/conftest.py, also used by rows built once for a class of tests
    (tests/support/shared_rows.py)."""
    assigned = UserFactory(username="assigned", court=courts.yuhu, roles=[Role.JUDGE])
    colleague = UserFactory(username="colleague", court=courts.yuhu, roles=[Role.JUDGE])
    head = UserFactory(username="head", court=courts.yuhu, roles=[Role.BUREAU_HEAD, Role.JUDGE])
    supervisor = UserFactory(username="supervisor", court=courts.mid, roles=[Role.SUPERVISOR])
    high_supervisor = UserFactory(username="high_supervisor", court=courts.high, roles=[Role.SUPERVISOR])
    sibling_head = UserFactory(username="sibling_head", court=courts.yuetang, roles=[Role.BUREAU_HEAD])
    outsider = UserFactory(username="outsider", court=courts.jiaocheng, roles=[Role.JUDGE, Role.BUREAU_HEAD])
    other_supervisor = UserFactory(username="other_supervisor", court=courts.fj, roles=[Role.SUPERVISOR])
    admin = UserFactory(username="admin", court=None, roles=[Role.SYSTEM_ADMIN])
    superuser = UserFactory(username="root", court=courts.yuhu, roles=[], is_superuser=True, is_staff=True)
    case = EnforcementCaseFactory(court=courts.yuhu, judges=[assigned])
    return SimpleNamespace(
        courts=courts,
        case=case,
        assigned=assigned,
        colleague=colleague,
        head=head,
        supervisor=supervisor,
        high_supervisor=high_supervisor,
        sibling_head=sibling_head,
        outsider=outsider,
        other_supervisor=other_supervisor,
        admin=admin,
        superuser=superuser,
    )
