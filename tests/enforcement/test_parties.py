"""Parties: identity numbers checked with real vectors, errors in Chinese per field, nothing written on failure.

Vectors (DOMAIN.md): 身份证号 ``11010519491231002X`` (ISO 7064 MOD 11-2, check character X) and
统一社会信用代码 ``91350100M000100Y43`` (GB 32100, MOD 31 over ``0-9A-HJ-NP-RTUW-Y``).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from stdnum.cn import ric

from enforcement import services
from enforcement.models import AuditEntry, Party, PartyKind, Role
from enforcement.validators import normalize_id_number, normalize_uscc
from tests.factories import UserFactory

VALID_ID = "11010519491231002X"
VALID_USCC = "91350100M000100Y43"


def _id_with_valid_check(body17: str) -> str:
    """A 身份证号 whose check character is right, whatever the body says."""
    return body17 + ric.calc_check_digit(body17 + "0")


@pytest.fixture
def judge(courts):
    return UserFactory(court=courts.yuhu, roles=[Role.JUDGE])


def _errors(exc_info) -> dict[str, list[str]]:
    return exc_info.value.message_dict


def _refused(actor, field: str, **kwargs) -> list[str]:
    """Call create_party expecting a ValidationError on ``field``; assert nothing was written."""
    parties, entries = Party.objects.count(), AuditEntry.objects.count()
    with pytest.raises(ValidationError) as exc_info:
        services.create_party(actor, **kwargs)
    assert field in _errors(exc_info), _errors(exc_info)
    assert Party.objects.count() == parties
    assert AuditEntry.objects.count() == entries
    return _errors(exc_info)[field]


# --------------------------------------------------------------------------------------------
# the validators on their own
# --------------------------------------------------------------------------------------------


def test_validator_accepts_the_reference_id_number():
    assert normalize_id_number(VALID_ID) == VALID_ID


def test_validator_reads_lowercase_x_as_upper_case():
    assert normalize_id_number("11010519491231002x") == VALID_ID


def test_validator_accepts_the_reference_uscc_and_upper_cases_it():
    assert normalize_uscc(VALID_USCC) == VALID_USCC
    assert normalize_uscc(VALID_USCC.lower()) == VALID_USCC


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("110105194912310021", "校验位"),  # last character should be X
        ("11010519491231002", "18位"),  # one short
        ("11010519491231002X1", "18位"),  # one long
        ("1101051949123100AX", "字符"),  # letters in the body
    ],
)
def test_validator_names_the_rule_for_bad_id_numbers(value, rule):
    with pytest.raises(ValidationError) as exc_info:
        normalize_id_number(value)
    (message,) = exc_info.value.messages
    assert "身份证号" in message
    assert rule in message


# --------------------------------------------------------------------------------------------
# create_party: natural persons
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_person_with_valid_id_number_is_created_and_audited(judge):
    party = services.create_party(judge, kind=PartyKind.PERSON, name=" 张晓燕 ", id_number=VALID_ID, address="湘潭")
    party.refresh_from_db()
    assert (party.kind, party.name, party.id_number, party.uscc) == ("person", "张晓燕", VALID_ID, "")
    assert party.created_by == judge
    entry = AuditEntry.objects.get()
    assert (entry.chain, entry.seq, entry.action) == ("system", 1, "party.create")
    assert entry.object_id == str(party.pk)
    assert entry.actor == judge


@pytest.mark.django_db
def test_lowercase_x_is_accepted_and_stored_as_upper_case(judge):
    party = services.create_party(judge, kind="person", name="张三", id_number="11010519491231002x")
    party.refresh_from_db()
    assert party.id_number == VALID_ID
    # stored normalized, so a search for the canonical form finds it
    assert Party.objects.filter(id_number=VALID_ID).get() == party


@pytest.mark.django_db
def test_wrong_check_character_is_refused_naming_field_and_rule(judge):
    (message,) = _refused(judge, "id_number", kind="person", name="张三", id_number="110105194912310021")
    assert "身份证号" in message
    assert "校验位" in message


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["11010519491231002", "1101051949123100", "11010519491231002X0"])
def test_wrong_length_is_refused_with_18_digit_rule(judge, value):
    (message,) = _refused(judge, "id_number", kind="person", name="张三", id_number=value)
    assert "身份证号" in message
    assert "18位" in message
    assert f"{len(value)}位" in message  # and says how long it was


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["1101051949123100AX", "11010519491231O02X", "ABCDEFGHIJKLMNOPQR"])
def test_letters_in_the_id_number_are_refused(judge, value):
    (message,) = _refused(judge, "id_number", kind="person", name="张三", id_number=value)
    assert "身份证号" in message
    assert "校验位" not in message  # a format error, not a checksum error


@pytest.mark.django_db
def test_impossible_birth_date_is_refused_even_with_a_matching_check_character(judge):
    value = _id_with_valid_check("11010519491331002")  # month 13
    (message,) = _refused(judge, "id_number", kind="person", name="张三", id_number=value)
    assert "身份证号" in message
    assert "出生日期" in message


@pytest.mark.django_db
def test_person_needs_an_id_number(judge):
    (message,) = _refused(judge, "id_number", kind="person", name="张三", id_number="")
    assert "身份证号" in message


@pytest.mark.django_db
def test_person_with_uscc_is_refused(judge):
    errors = _refused(judge, "uscc", kind="person", name="张三", id_number=VALID_ID, uscc=VALID_USCC)
    assert "统一社会信用代码" in errors[0]


# --------------------------------------------------------------------------------------------
# create_party: entities and other organizations
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_entity_with_valid_uscc_is_created(judge):
    party = services.create_party(judge, kind="entity", name="某网络科技有限公司", uscc=VALID_USCC.lower())
    party.refresh_from_db()
    assert (party.kind, party.uscc, party.id_number) == ("entity", VALID_USCC, "")


@pytest.mark.django_db
def test_uscc_with_wrong_check_character_is_refused(judge):
    (message,) = _refused(judge, "uscc", kind="entity", name="某公司", uscc="91350100M000100Y44")
    assert "统一社会信用代码" in message
    assert "校验位" in message


@pytest.mark.django_db
@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_uscc_with_a_letter_outside_its_alphabet_is_a_format_error(judge, letter):
    value = VALID_USCC[:15] + letter + VALID_USCC[16:]  # replaces the Y
    (message,) = _refused(judge, "uscc", kind="entity", name="某公司", uscc=value)
    assert "统一社会信用代码" in message
    assert "校验位" not in message
    assert "字符" in message or "格式" in message


@pytest.mark.django_db
def test_uscc_with_wrong_length_is_refused(judge):
    (message,) = _refused(judge, "uscc", kind="entity", name="某公司", uscc=VALID_USCC[:-1])
    assert "统一社会信用代码" in message
    assert "18位" in message


@pytest.mark.django_db
def test_entity_with_id_number_is_refused(judge):
    errors = _refused(judge, "id_number", kind="entity", name="某公司", uscc=VALID_USCC, id_number=VALID_ID)
    assert "身份证号" in errors[0]


@pytest.mark.django_db
def test_entity_needs_a_uscc(judge):
    (message,) = _refused(judge, "uscc", kind="entity", name="某公司")
    assert "统一社会信用代码" in message


@pytest.mark.django_db
def test_organization_without_identifiers_is_allowed(judge):
    party = services.create_party(judge, kind="organization", name="某村民委员会")
    party.refresh_from_db()
    assert (party.kind, party.id_number, party.uscc) == ("organization", "", "")


@pytest.mark.django_db
def test_organization_with_uscc_is_validated(judge):
    party = services.create_party(judge, kind="organization", name="某合伙企业", uscc=VALID_USCC)
    assert party.uscc == VALID_USCC
    _refused(judge, "uscc", kind="organization", name="另一合伙企业", uscc="91350100M000100Y44")


@pytest.mark.django_db
def test_organization_with_id_number_is_refused(judge):
    _refused(judge, "id_number", kind="organization", name="某合伙企业", id_number=VALID_ID)


@pytest.mark.django_db
def test_unknown_kind_and_empty_name_are_reported_together(judge):
    parties = Party.objects.count()
    with pytest.raises(ValidationError) as exc_info:
        services.create_party(judge, kind="robot", name="  ")
    assert {"kind", "name"} <= set(_errors(exc_info))
    assert Party.objects.count() == parties


# --------------------------------------------------------------------------------------------
# who may register parties
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("roles", [[Role.JUDGE], [Role.BUREAU_HEAD]])
def test_judges_and_bureau_heads_may_create_parties(courts, roles):
    user = UserFactory(court=courts.yuhu, roles=roles)
    assert services.create_party(user, kind="person", name="张三", id_number=VALID_ID).pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make_user",
    [
        pytest.param(lambda c: UserFactory(court=None, roles=[Role.SYSTEM_ADMIN]), id="system_admin"),
        pytest.param(lambda c: UserFactory(court=c.mid, roles=[Role.SUPERVISOR]), id="supervisor"),
        pytest.param(lambda c: UserFactory(court=c.yuhu, roles=[], is_superuser=True), id="superuser"),
        pytest.param(lambda c: AnonymousUser(), id="anonymous"),
    ],
)
def test_other_users_may_not_create_parties(courts, make_user):
    user = make_user(courts)
    with pytest.raises(PermissionDenied):
        services.create_party(user, kind="person", name="张三", id_number=VALID_ID)
    assert not Party.objects.exists()
    assert not AuditEntry.objects.exists()
