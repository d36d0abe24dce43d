"""The cast: two provinces, a fixed set of users per relation to one case (STYLE.md: a fixed cast)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from config.celery import app as celery_app
from enforcement.models import Role
from tests.factories import EnforcementCaseFactory, UserFactory, make_courts
from tests.support.platforms import MockPlatforms
from tests.support.workers import Worker


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def courts(db):
    return make_courts()


@pytest.fixture
def cast(courts):
    """Users by their relation to ``cast.case`` (a case of 雨湖 court handled by ``assigned``)."""
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


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def sysadmin(db):
    return UserFactory(username="sysadmin", court=None, roles=[Role.SYSTEM_ADMIN])


@pytest.fixture
def mock_platforms(tmp_path):
    """Start the real stand-in platform process with a given configuration; stopped afterwards."""
    started: list[MockPlatforms] = []

    def start(config: dict, **kwargs) -> MockPlatforms:
        mock = MockPlatforms(config, tmp_path, **kwargs)
        started.append(mock)
        return mock

    yield start
    for mock in started:
        mock.stop()


@pytest.fixture
def worker_factory(transactional_db, tmp_path):
    """Start real Celery workers (Redis broker, the test database) with extra environment."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("worker tests need CELERY_BROKER_URL=redis://... (make test sets it)")
    celery_app.control.purge()
    workers: list[Worker] = []

    def start(concurrency: int = 1, **env: str) -> Worker:
        worker = Worker(tmp_path, {k: str(v) for k, v in env.items()}).start(concurrency)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
    celery_app.control.purge()
    connection.close()


@pytest.fixture
def celery_worker_process(worker_factory):
    return worker_factory()
