"""schemathesis against /api/v1/schema/ (issue 6): every GET operation, and POST on parties and case
clues, called as the assigned judge of the cast with a DRF token. No 500s, every response conforms to
the schema (body, status code and content type) and none answers without the token (ignored_auth). Path parameters point at real rows of the cast where they can, so
the fuzzer reaches the views' code and not only their 404s."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.clues.factories import PlatformFactory, add_clue, add_measure, respondent_of

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    ignored_auth,
]


# Loaded once at collection, in-process over WSGI (the lazy `from_fixture` loader does not work with
# pytest 9).
schema = (
    schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    .include(method="GET")
    .include(method="POST", path=["/api/v1/parties/", "/api/v1/cases/{case_id}/clues/"])
)


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """Like Django's test client, keep the request signals from closing the test's connection (it is
    inside the test transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(cast):
    """The assigned judge's token and the ids of real rows behind each path parameter."""
    token = Token.objects.create(user=cast.assigned)
    clue = add_clue(cast.assigned, cast.case, platform=PlatformFactory())
    measure = add_measure(cast.assigned, cast.case, clue)
    ids = {
        "case_id": cast.case.pk,
        "/api/v1/cases/{id}": cast.case.pk,
        "/api/v1/clues/{id}": clue.pk,
        "/api/v1/measures/{id}": measure.pk,
        "/api/v1/parties/{id}": respondent_of(cast.case).pk,
        "/api/v1/courts/{id}": cast.courts.yuhu.pk,
        "/api/v1/users/{id}": cast.assigned.pk,
    }
    return token.key, ids


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema_and_never_fails(case, world):
    key, ids = world
    for name in list(case.path_parameters or {}):
        real = ids.get(name) or next((v for k, v in ids.items() if case.path.startswith(k + "/")), None)
        if name in ("id", "case_id") and real is not None:
            case.path_parameters[name] = real
    case.call_and_validate(headers={"Authorization": f"Token {key}"}, checks=CHECKS)


# Regressions for what the fuzzer found, pinned so they stay fixed whatever it generates next.


def test_options_on_the_trigger_thresholds_is_not_a_500(cast):
    client = APIClient()
    client.force_authenticate(cast.assigned)
    assert client.options("/api/v1/transfers/triggers/").status_code == 200
    client.force_authenticate(cast.supervisor)
    assert client.options("/api/v1/transfers/triggers/").status_code == 200


def test_an_api_url_that_matches_no_route_answers_json_404(cast):
    client = APIClient()
    client.force_authenticate(cast.assigned)
    response = client.get("/api/v1/transfers/abc/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
