"""The policy answers the same in can() and in the SQL filter, for every member of the cast."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from enforcement.permissions import Action, can, cases_for, require
from tests.factories import make_cast, make_courts

# relation to the case -> actions allowed
EXPECTED = {
    "assigned": {Action.VIEW, Action.VIEW_FILE, Action.HANDLE},
    "colleague": set(),
    "head": set(Action),
    "supervisor": {Action.VIEW, Action.VIEW_FILE},
    "high_supervisor": {Action.VIEW, Action.VIEW_FILE},
    "sibling_head": set(),
    "outsider": set(),
    "other_supervisor": set(),
    "admin": set(),
    "superuser": set(),
}


def build_cast(request):
    return make_cast(make_courts())


@pytest.mark.django_db
class TestCanAndSqlFilterAgree:
    """The cast is built once for the class's tests (tests/support/shared_rows.py)."""

    build_rows = staticmethod(build_cast)

    @pytest.fixture
    def cast(self, shared_rows):
        return shared_rows

    @pytest.mark.parametrize("who", sorted(EXPECTED))
    @pytest.mark.parametrize("action", list(Action))
    def test_can_and_sql_filter_agree(self, cast, who, action):
        user = getattr(cast, who)
        allowed = action in EXPECTED[who]
        assert can(user, action, cast.case) is allowed
        assert cases_for(user, action).filter(pk=cast.case.pk).exists() is allowed


@pytest.mark.django_db
def test_require_hides_with_404_and_forbids_with_403(cast):
    with pytest.raises(Http404):
        require(cast.outsider, Action.HANDLE, cast.case)
    with pytest.raises(PermissionDenied):
        require(cast.supervisor, Action.HANDLE, cast.case)
    assert require(cast.assigned, Action.HANDLE, cast.case) == cast.case


@pytest.mark.django_db
def test_model_wide_permission_grants_nothing(cast):
    from django.contrib.auth.models import Permission

    cast.colleague.user_permissions.add(*Permission.objects.filter(codename__in=["handle_case", "view_case_file"]))
    assert not can(cast.colleague, Action.HANDLE, cast.case)
    assert not cases_for(cast.colleague, Action.VIEW).exists()


@pytest.mark.django_db
def test_a_grant_to_a_group_reaches_its_members_on_that_case_only(cast):
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    from tests.factories import EnforcementCaseFactory

    other = EnforcementCaseFactory(court=cast.case.court)
    assign_perm("view_case_file", Group.objects.create(name="另一团队"), other)
    team = Group.objects.create(name="执行团队")
    assign_perm("view_case_file", team, cast.case)
    assert not can(cast.colleague, Action.VIEW_FILE, cast.case)
    cast.colleague.groups.add(team)
    assert can(cast.colleague, Action.VIEW_FILE, cast.case)
    assert can(cast.colleague, Action.VIEW, cast.case)
    assert not can(cast.colleague, Action.HANDLE, cast.case)  # the group holds the file, not handling
    assert set(cases_for(cast.colleague, Action.VIEW_FILE)) == {cast.case}
    assert not can(cast.colleague, Action.VIEW_FILE, other)
    assign_perm("handle_case", cast.colleague, cast.case)  # a direct grant adds to the group's
    assert can(cast.colleague, Action.HANDLE, cast.case)
    cast.colleague.groups.remove(team)
    assert can(cast.colleague, Action.VIEW_FILE, cast.case)  # handling includes the file
