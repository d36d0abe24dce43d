"""Session limits: logged out after 30 minutes idle, and 12 hours after login whatever the activity.

Time is simulated with a clock that replaces ``time`` in ``enforcement.middleware`` only. The page
is the Django admin index: 200 for a logged-in staff user, a redirect to its login otherwise.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from enforcement import middleware
from enforcement.models import Role
from tests.factories import UserFactory

START = 1_750_000_000.0  # any fixed instant
MINUTE = 60.0
URL = "/admin/"


@pytest.fixture
def clock(monkeypatch):
    now = {"t": START}
    monkeypatch.setattr(middleware, "time", SimpleNamespace(time=lambda: now["t"]))

    class Clock:
        def advance(self, seconds: float) -> None:
            now["t"] += seconds

        @property
        def now(self) -> float:
            return now["t"]

    return Clock()


@pytest.fixture
def limits(settings):
    settings.SESSION_IDLE_TIMEOUT_S = 30 * 60
    settings.SESSION_ABSOLUTE_TIMEOUT_S = 12 * 60 * 60
    return settings


@pytest.fixture
def logged_in(client, db, limits, clock):
    user = UserFactory(username="staffer", court=None, roles=[Role.SYSTEM_ADMIN], is_staff=True, is_superuser=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def logged_in_after(client) -> bool:
    response = client.get(URL)
    authenticated = response.wsgi_request.user.is_authenticated
    if authenticated:
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    return authenticated


def test_settings_defaults_match_the_issue(settings):
    assert settings.SESSION_IDLE_TIMEOUT_S == 30 * 60
    assert settings.SESSION_ABSOLUTE_TIMEOUT_S == 12 * 60 * 60


def test_active_session_within_limits_stays_logged_in(logged_in, clock):
    assert logged_in_after(logged_in)
    clock.advance(29 * MINUTE)
    assert logged_in_after(logged_in)
    clock.advance(29 * MINUTE)  # 58 minutes after login, but never 30 idle
    assert logged_in_after(logged_in)


def test_idle_session_is_logged_out(logged_in, clock):
    assert logged_in_after(logged_in)
    clock.advance(30 * MINUTE + 1)
    assert not logged_in_after(logged_in)
    # and it stays logged out: the session was ended, not just this request refused
    assert not logged_in_after(logged_in)
    assert "_auth_user_id" not in logged_in.session


def test_idle_limit_counts_from_the_last_request_not_from_login(logged_in, clock):
    assert logged_in_after(logged_in)
    clock.advance(20 * MINUTE)
    assert logged_in_after(logged_in)
    clock.advance(20 * MINUTE)  # 40 minutes after login, 20 idle
    assert logged_in_after(logged_in)
    clock.advance(31 * MINUTE)
    assert not logged_in_after(logged_in)


def test_session_older_than_the_absolute_limit_is_logged_out_although_active(logged_in, clock, limits):
    assert logged_in_after(logged_in)
    elapsed = 0.0
    step = 25 * MINUTE  # always under the idle limit
    while elapsed + step <= limits.SESSION_ABSOLUTE_TIMEOUT_S:
        clock.advance(step)
        elapsed += step
        assert logged_in_after(logged_in), f"logged out after {elapsed / 3600:.2f} h"
    clock.advance(limits.SESSION_ABSOLUTE_TIMEOUT_S - elapsed + 1)
    assert not logged_in_after(logged_in)


def test_limits_follow_the_settings(logged_in, clock, limits):
    limits.SESSION_IDLE_TIMEOUT_S = 5 * MINUTE
    assert logged_in_after(logged_in)
    clock.advance(6 * MINUTE)
    assert not logged_in_after(logged_in)


def test_session_values_set_directly_are_honoured(logged_in, clock):
    """A session whose stored login time is older than 12 hours is ended on its next request."""
    assert logged_in_after(logged_in)
    session = logged_in.session
    session[middleware.LOGIN_AT] = clock.now - 12 * 3600 - 5
    session[middleware.LAST_SEEN] = clock.now - 10
    session.save()
    assert not logged_in_after(logged_in)


def test_logging_in_again_starts_a_fresh_session(logged_in, clock):
    assert logged_in_after(logged_in)
    clock.advance(31 * MINUTE)
    assert not logged_in_after(logged_in)
    user = UserFactory(username="again", court=None, roles=[Role.SYSTEM_ADMIN], is_staff=True, is_superuser=True)
    logged_in.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert logged_in_after(logged_in)
    clock.advance(10 * MINUTE)
    assert logged_in_after(logged_in)
