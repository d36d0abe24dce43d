"""CaseListing pages and counts each source of access on its own; it must give exactly the cases,
order and total of the plain policy query (cases_for), whoever asks and however the list is cut."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from enforcement.models import CaseStatus, Role
from enforcement.permissions import HANDLE_PERM, VIEW_FILE_PERM, Action, cases_for
from enforcement.queries import case_filters, case_list
from tests.factories import EnforcementCaseFactory, UserFactory, make_cast, make_courts
from tests.support.shared_rows import SharedCast

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast):
    return build_world(cast)


def build_world(cast) -> dict:
    """Cases in three courts with overlapping sources: the head's court holds cases also granted to
    the head; a 岳塘 case is granted to the head; 蕉城 cases are out of everyone's reach but the
    outsider's."""
    c = cast.courts
    base = dt.date(2025, 1, 1)
    own = [
        EnforcementCaseFactory(court=c.yuhu, filed_on=base + dt.timedelta(days=i % 7), judges=[cast.assigned])
        for i in range(23)
    ]
    sibling = [EnforcementCaseFactory(court=c.yuetang, filed_on=base + dt.timedelta(days=i % 5)) for i in range(9)]
    far = [EnforcementCaseFactory(court=c.jiaocheng, filed_on=base) for _ in range(4)]
    assign_perm(HANDLE_PERM, cast.head, own[0])  # also the head's court: counted once
    assign_perm(VIEW_FILE_PERM, cast.head, sibling[0])  # another court's case, granted
    own[3].status = CaseStatus.IN_PROGRESS
    own[3].save(update_fields=["status"])
    return {"own": own, "sibling": sibling, "far": far}


def reference(user, filtered, order):
    return list(cases_for(user, Action.VIEW, filtered).order_by(*order).values_list("pk", flat=True))


def build_cast_and_world(request) -> SimpleNamespace:
    cast = make_cast(make_courts())
    return SimpleNamespace(cast=cast, world=build_world(cast))


class TestPagesAndCountEqualThePolicyQuery(SharedCast):
    """The cast and the 36 cases are built once for the class's 12 tests (tests/support/shared_rows.py)."""

    build_rows = staticmethod(build_cast_and_world)

    @pytest.mark.parametrize("who", ["head", "assigned", "supervisor", "high_supervisor", "outsider", "admin"])
    @pytest.mark.parametrize("order", [("-filed_on", "-id"), ("filed_on", "id")])
    def test_pages_and_count_equal_the_policy_query(self, cast, who, order):
        user = getattr(cast, who)
        listing = case_list(user, order=order)
        expected = reference(user, case_filters(), order)
        assert listing.count() == len(expected)
        for size in (1, 7, 50):
            pages = [
                [case.pk for case in listing[start : start + size]] for start in range(0, len(expected) + size, size)
            ]
            assert [pk for page in pages for pk in page] == expected
        assert listing[len(expected) : len(expected) + 5] == []


def test_filters_apply_inside_every_source(cast, world):
    head = cast.head
    for params in (
        {"status": CaseStatus.IN_PROGRESS},
        {"court": cast.courts.yuetang.pk},
        {"q": world["own"][5].number},
    ):
        listing = case_list(head, **params)
        expected = reference(head, case_filters(**params), ("-filed_on", "-id"))
        assert listing.count() == len(expected) >= 1
        assert [case.pk for case in listing[0:50]] == expected
    open_cases = case_filters().exclude(status=CaseStatus.CLOSED)
    assert case_list(head, open_only=True).count() == len(reference(head, open_cases, ("id",)))
    closed_one = world["own"][7]
    closed_one.status, closed_one.closing_method = CaseStatus.CLOSED, "rejected"
    closed_one.save(update_fields=["status", "closing_method"])
    assert closed_one.pk not in [case.pk for case in case_list(head, open_only=True)[0:100]]
    assert closed_one.pk in [case.pk for case in case_list(head)[0:100]]


def test_the_head_sees_the_court_and_the_granted_case_once(cast, world):
    ids = [case.pk for case in case_list(cast.head)[0:100]]
    assert len(ids) == len(set(ids)) == len(world["own"]) + 1 + 1  # + cast.case of 雨湖, + the granted 岳塘 case
    assert world["sibling"][0].pk in ids and not {case.pk for case in world["far"]} & set(ids)


def test_a_role_without_cases_gets_an_empty_list(cast, world):
    nobody = UserFactory(court=cast.courts.yuhu, roles=[Role.SYSTEM_ADMIN])
    listing = case_list(nobody)
    assert listing.count() == 0 and listing[0:50] == []


def test_queries_do_not_grow_with_the_page(cast, world):
    listing = case_list(cast.supervisor)
    counts = []
    for size in (1, 30):
        with CaptureQueriesContext(connection) as captured:
            assert len(listing[0:size]) == size
            listing.count()
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_a_whole_case_number_finds_its_case_and_a_part_finds_all_that_contain_it(cast, world):
    target = world["own"][11]
    assert [case.pk for case in case_list(cast.head, q=target.number)[0:50]] == [target.pk]
    part = target.number[1:5]  # the year
    found = {case.pk for case in case_list(cast.head, q=part)[0:100]}
    assert target.pk in found and len(found) > 1
