"""Courts and users: the hierarchy helpers and the admin services that create them."""

from __future__ import annotations

from itertools import combinations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from enforcement import services
from enforcement.models import AuditEntry, Court, CourtLevel, Role, User
from enforcement.permissions import cases_for
from tests.factories import EnforcementCaseFactory, UserFactory

STRONG = "Xiangtan-Yuhu-2025!"


def codes(courts) -> list[str]:
    return [c.code for c in courts]


@pytest.fixture
def admin(courts):
    return UserFactory(username="sysadmin", court=None, roles=[Role.SYSTEM_ADMIN])


# --------------------------------------------------------------------------------------------
# hierarchy helpers
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ancestors_nearest_first(courts):
    assert codes(courts.yuhu.ancestors()) == ["湘03", "湘", "最高法"]
    assert codes(courts.mid.ancestors()) == ["湘", "最高法"]
    assert codes(courts.fj.ancestors()) == ["最高法"]
    assert codes(courts.supreme.ancestors()) == []
    assert courts.yuhu.ancestor_ids() == [courts.mid.pk, courts.high.pk, courts.supreme.pk]


@pytest.mark.django_db
def test_subordinates_are_all_levels_below_not_itself_nor_siblings(courts):
    assert set(codes(courts.high.subordinates())) == {"湘03", "湘0302", "湘0304"}
    assert set(codes(courts.mid.subordinates())) == {"湘0302", "湘0304"}
    assert set(codes(courts.ningde.subordinates())) == {"闽0902"}
    assert list(courts.yuhu.subordinates()) == []
    everything_else = set(Court.objects.exclude(pk=courts.supreme.pk).values_list("code", flat=True))
    assert set(codes(courts.supreme.subordinates())) == everything_else


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("upper", "lower", "expected"),
    [
        ("mid", "yuhu", True),
        ("high", "yuhu", True),
        ("supreme", "jiaocheng", True),
        ("yuhu", "mid", False),  # a subordinate is not a superior
        ("yuhu", "yuetang", False),  # siblings
        ("mid", "jiaocheng", False),  # another province
        ("fj", "yuhu", False),
        ("yuhu", "yuhu", False),  # not its own superior
        ("supreme", "supreme", False),
    ],
)
def test_is_superior_of(courts, upper, lower, expected):
    assert getattr(courts, upper).is_superior_of(getattr(courts, lower)) is expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("yuhu", "yuetang", "mid"),  # two basic courts under one intermediate court
        ("yuhu", "jiaocheng", "supreme"),  # across provinces
        ("mid", "ningde", "supreme"),
        ("high", "fj", "supreme"),
        ("yuhu", "mid", "high"),  # a court and its own superior: neither of the two themselves
        ("yuhu", "high", "supreme"),
        ("yuhu", "yuhu", "mid"),
        ("yuhu", "supreme", None),  # nothing is above the supreme court
        ("supreme", "supreme", None),
    ],
)
def test_common_superior(courts, a, b, expected):
    a, b = getattr(courts, a), getattr(courts, b)
    want = getattr(courts, expected) if expected else None
    assert a.common_superior(b) == want
    assert b.common_superior(a) == want


def parent_chain(court: Court) -> list[Court]:
    """Superiors found by following ``parent`` links (independent of the materialized path)."""
    chain = []
    while court.parent_id:
        court = Court.objects.get(pk=court.parent_id)
        chain.append(court)
    return chain


@pytest.mark.django_db
def test_helpers_agree_with_the_parent_links_for_every_pair(courts):
    every = list(Court.objects.all())
    for court in every:
        assert list(court.ancestors()) == parent_chain(court)
    for a, b in combinations(every, 2):
        theirs = parent_chain(b)
        nearest = next((c for c in parent_chain(a) if c in theirs), None)
        assert a.common_superior(b) == nearest, (a, b)
        assert a.is_superior_of(b) is (a in theirs), (a, b)


# --------------------------------------------------------------------------------------------
# create_court
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_creates_a_basic_court_in_the_hierarchy(courts, admin):
    court = services.create_court(
        admin, code="湘0321", name=" 湘潭县人民法院 ", level="basic", parent=courts.mid, region="430321"
    )
    court.refresh_from_db()
    assert (court.code, court.name, court.level, court.region) == ("湘0321", "湘潭县人民法院", "basic", "430321")
    assert codes(court.ancestors()) == ["湘03", "湘", "最高法"]
    assert court in courts.mid.subordinates() and court in courts.high.subordinates()
    assert courts.mid.is_superior_of(court)
    assert court.common_superior(courts.yuhu) == courts.mid
    (entry,) = AuditEntry.objects.all()
    assert (entry.chain, entry.action, entry.actor, entry.object_id) == (
        "system",
        "court.create",
        admin,
        str(court.pk),
    )
    assert entry.payload == {"code": "湘0321", "name": "湘潭县人民法院", "level": "basic"}


@pytest.mark.django_db
def test_whole_hierarchy_can_be_built_from_nothing(db):
    root = UserFactory(court=None, roles=[Role.SYSTEM_ADMIN])
    spc = services.create_court(root, code="最高法", name="最高人民法院", level="supreme", parent=None)
    high = services.create_court(root, code="苏", name="江苏省高级人民法院", level="high", parent=spc, region="320000")
    mid = services.create_court(root, code="苏10", name="江苏省扬州市中级人民法院", level="intermediate", parent=high)
    basic = services.create_court(root, code="苏1002", name="扬州市广陵区人民法院", level="basic", parent=mid)
    assert codes(basic.ancestors()) == ["苏10", "苏", "最高法"]
    assert set(codes(spc.subordinates())) == {"苏", "苏10", "苏1002"}
    assert [e.seq for e in AuditEntry.objects.filter(chain="system").order_by("seq")] == [1, 2, 3, 4]


@pytest.mark.django_db
def test_superuser_may_create_courts(courts):
    root = UserFactory(court=None, roles=[], is_superuser=True, is_staff=True)
    assert services.create_court(root, code="湘0321", name="湘潭县人民法院", level="basic", parent=courts.mid).pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("level", "parent", "field"),
    [
        ("basic", "high", "parent"),  # basic courts sit under an intermediate court only
        ("basic", "supreme", "parent"),
        ("basic", "yuhu", "parent"),
        ("basic", None, "parent"),
        ("intermediate", "supreme", "parent"),
        ("intermediate", "mid", "parent"),
        ("intermediate", None, "parent"),
        ("high", "high", "parent"),
        ("high", None, "parent"),
        ("supreme", "high", "parent"),  # the supreme court has no parent
        ("supreme", "supreme", "parent"),
        ("district", "mid", "level"),
        ("", "mid", "level"),
    ],
)
def test_level_and_parent_rules(courts, admin, level, parent, field):
    parent = getattr(courts, parent) if parent else None
    count = Court.objects.count()
    with pytest.raises(ValidationError) as exc_info:
        services.create_court(admin, code="新1", name="新法院", level=level, parent=parent)
    assert field in exc_info.value.message_dict
    assert Court.objects.count() == count
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("level", "parent"), [("high", "supreme"), ("intermediate", "high"), ("basic", "mid"), ("basic", "ningde")]
)
def test_each_level_under_the_level_above(courts, admin, level, parent):
    court = services.create_court(admin, code="新1", name="新法院", level=level, parent=getattr(courts, parent))
    assert court.parent == getattr(courts, parent)
    assert codes(court.ancestors())[0] == getattr(courts, parent).code


@pytest.mark.django_db
def test_there_is_only_one_supreme_court(courts, admin):
    with pytest.raises(ValidationError) as exc_info:
        services.create_court(admin, code="最高法二", name="另一个最高人民法院", level="supreme", parent=None)
    assert "level" in exc_info.value.message_dict or "parent" in exc_info.value.message_dict
    assert Court.objects.filter(level=CourtLevel.SUPREME).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("region", ["43032", "4303210", "43O321", "４３０３２１", "430 21"])
def test_region_must_be_six_digits(courts, admin, region):
    with pytest.raises(ValidationError) as exc_info:
        services.create_court(
            admin, code="湘0321", name="湘潭县人民法院", level="basic", parent=courts.mid, region=region
        )
    assert "6位" in exc_info.value.message_dict["region"][0]
    assert not Court.objects.filter(code="湘0321").exists()


@pytest.mark.django_db
def test_region_may_be_left_empty(courts, admin):
    court = services.create_court(admin, code="湘0321", name="湘潭县人民法院", level="basic", parent=courts.mid)
    assert court.region == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "name", "field"),
    [
        ("湘0302", "新的法院", "code"),  # duplicate code
        (" 湘0302 ", "新的法院", "code"),  # duplicate once trimmed
        ("湘0399", "湘潭市雨湖区人民法院", "name"),  # duplicate name
        ("", "新的法院", "code"),
        ("湘0399", "  ", "name"),
    ],
)
def test_code_and_name_are_required_and_unique(courts, admin, code, name, field):
    count = Court.objects.count()
    with pytest.raises(ValidationError) as exc_info:
        services.create_court(admin, code=code, name=name, level="basic", parent=courts.mid)
    assert field in exc_info.value.message_dict
    assert Court.objects.count() == count


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make_user",
    [
        pytest.param(lambda c: UserFactory(court=c.yuhu, roles=[Role.JUDGE]), id="judge"),
        pytest.param(lambda c: UserFactory(court=c.yuhu, roles=[Role.BUREAU_HEAD, Role.JUDGE]), id="bureau_head"),
        pytest.param(lambda c: UserFactory(court=c.high, roles=[Role.SUPERVISOR]), id="supervisor"),
        pytest.param(lambda c: AnonymousUser(), id="anonymous"),
    ],
)
def test_only_system_admins_create_courts(courts, make_user):
    user = make_user(courts)
    count = Court.objects.count()
    with pytest.raises(PermissionDenied):
        services.create_court(user, code="湘0321", name="湘潭县人民法院", level="basic", parent=courts.mid)
    assert Court.objects.count() == count
    assert not AuditEntry.objects.exists()


# --------------------------------------------------------------------------------------------
# courts added through the Django admin keep the hierarchy intact
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_court_added_in_django_admin_gets_its_place_in_the_hierarchy(client, courts):
    operator = UserFactory(username="operator", court=None, roles=[Role.SYSTEM_ADMIN], is_superuser=True, is_staff=True)
    client.force_login(operator, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(
        "/admin/enforcement/court/add/",
        {"code": "湘0321", "name": "湘潭县人民法院", "level": "basic", "parent": courts.mid.pk, "region": "430321"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    court = Court.objects.get(code="湘0321")
    assert codes(court.ancestors()) == ["湘03", "湘", "最高法"]
    assert court in courts.mid.subordinates()
    # and, above all, it is not a "superior" of every court in the country
    assert not court.is_superior_of(courts.jiaocheng)
    assert list(court.subordinates()) == []


@pytest.mark.django_db
def test_supervisor_of_a_court_added_in_django_admin_sees_no_foreign_cases(client, courts):
    operator = UserFactory(username="operator", court=None, roles=[Role.SYSTEM_ADMIN], is_superuser=True, is_staff=True)
    client.force_login(operator, backend="django.contrib.auth.backends.ModelBackend")
    client.post(
        "/admin/enforcement/court/add/",
        {"code": "湘0321", "name": "湘潭县人民法院", "level": "basic", "parent": courts.mid.pk, "region": ""},
    )
    court = Court.objects.get(code="湘0321")
    supervisor = UserFactory(court=court, roles=[Role.SUPERVISOR])
    case = EnforcementCaseFactory(court=courts.jiaocheng)
    assert not cases_for(supervisor).filter(pk=case.pk).exists()


# --------------------------------------------------------------------------------------------
# create_user
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_creates_a_judge(courts, admin):
    user = services.create_user(
        admin,
        username=" judge_new ",
        password=STRONG,
        display_name="李明",
        court=courts.yuhu,
        roles=[Role.JUDGE, Role.JUDGE],
    )
    user = User.objects.get(pk=user.pk)
    assert (user.username, user.display_name, user.court) == ("judge_new", "李明", courts.yuhu)
    assert user.role_codes == {Role.JUDGE}
    assert user.check_password(STRONG)
    assert not user.is_staff and not user.is_superuser
    (entry,) = AuditEntry.objects.all()
    assert (entry.chain, entry.action, entry.actor) == ("system", "user.create", admin)
    assert entry.payload == {"username": "judge_new", "court": courts.yuhu.pk, "roles": ["judge"]}
    assert STRONG not in str(entry.payload)  # the password never reaches the audit trail


@pytest.mark.django_db
def test_system_admin_needs_no_court(courts, admin):
    user = services.create_user(
        admin, username="ops", password=STRONG, display_name="", court=None, roles=[Role.SYSTEM_ADMIN], is_staff=True
    )
    assert user.court is None and user.is_staff
    assert user.display_name == "ops"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"roles": ["clerk"]}, "roles"),
        ({"roles": [Role.JUDGE, "president"]}, "roles"),
        ({"roles": []}, "roles"),
        ({"roles": None}, "roles"),
        ({"username": "taken"}, "username"),
        ({"username": "  "}, "username"),
        ({"password": "123"}, "password"),  # too short and numeric
        ({"password": "password123"}, "password"),  # common
        ({"password": "87654321098"}, "password"),  # entirely numeric
        ({"password": "judge_new1"}, "password"),  # too similar to the username
        ({"password": ""}, "password"),
        ({"court": None}, "court"),  # a judge needs a court
        ({"court": None, "roles": [Role.SUPERVISOR]}, "court"),
        ({"court": None, "roles": [Role.SYSTEM_ADMIN, Role.BUREAU_HEAD]}, "court"),
    ],
)
def test_create_user_rules(courts, admin, changes, field):
    UserFactory(username="taken", court=courts.yuhu)
    kwargs = {
        "username": "judge_new",
        "password": STRONG,
        "display_name": "李明",
        "court": courts.yuhu,
        "roles": [Role.JUDGE],
    }
    kwargs.update(changes)
    users = User.objects.count()
    with pytest.raises(ValidationError) as exc_info:
        services.create_user(admin, **kwargs)
    assert field in exc_info.value.message_dict, exc_info.value.message_dict
    assert User.objects.count() == users
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make_user",
    [
        pytest.param(lambda c: UserFactory(court=c.yuhu, roles=[Role.JUDGE]), id="judge"),
        pytest.param(lambda c: UserFactory(court=c.yuhu, roles=[Role.BUREAU_HEAD]), id="bureau_head"),
        pytest.param(lambda c: UserFactory(court=c.supreme, roles=[Role.SUPERVISOR]), id="supervisor"),
        pytest.param(lambda c: AnonymousUser(), id="anonymous"),
    ],
)
def test_only_system_admins_create_users(courts, make_user):
    user = make_user(courts)
    users = User.objects.count()
    with pytest.raises(PermissionDenied):
        services.create_user(
            user, username="judge_new", password=STRONG, display_name="李明", court=courts.yuhu, roles=[Role.JUDGE]
        )
    assert User.objects.count() == users
    assert not AuditEntry.objects.exists()
