"""The cast: two provinces, a fixed set of users per relation to one case (STYLE.md: a fixed cast)."""

from __future__ import annotations

import copy

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from config.celery import app as celery_app
from enforcement.models import Role
from tests.factories import UserFactory, make_cast, make_courts
from tests.support.platforms import MockPlatforms
from tests.support.shared_rows import built_once
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
    return make_cast(courts)


@pytest.fixture(scope="class")
def shared_rows_built(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """The rows of the test class's ``build_rows(request)``, built once for the class (see
    tests/support/shared_rows.py), and the directory of their files."""
    build = getattr(request.cls, "build_rows", None)
    if build is None:
        pytest.fail("shared_rows is for test classes that define build_rows")
    media = tmp_path_factory.mktemp("shared_media")
    with built_once(django_db_blocker, media, lambda: build(request)) as rows:
        yield rows, media


@pytest.fixture
def shared_rows(db, settings, shared_rows_built):
    """This test's own copy of the class's rows (what it writes is rolled back after it)."""
    rows, media = shared_rows_built
    settings.MEDIA_ROOT = media
    return copy.deepcopy(rows)


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
    workers: list[Worker] = []

    def start(concurrency: int = 1, **env: str) -> Worker:
        worker = Worker(tmp_path, {k: str(v) for k, v in env.items()}).start(concurrency)
        workers.append(worker)
        return worker

    def forget_unacked() -> None:
        # a task whose worker was killed stays in the transport's "unacked" keys, which purge()
        # leaves; Redis would hand it to a later test's worker after the visibility timeout, to act
        # on whatever notice then has its id
        import redis

        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("unacked", "unacked_index", "unacked_mutex")

    celery_app.control.purge()
    forget_unacked()
    yield start
    for worker in workers:
        worker.stop()
    celery_app.control.purge()
    forget_unacked()
    connection.close()


@pytest.fixture
def celery_worker_process(worker_factory):
    return worker_factory()
