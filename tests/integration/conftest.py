"""A real Celery worker process on the real Redis broker, reading the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    s = connection.settings_dict
    user = s.get("USER") or ""
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """Start ``celery -A config worker`` against the test database; stop it after the test."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("integration tests need CELERY_BROKER_URL=redis://... (make test sets it)")
    celery_app.control.purge()
    env = dict(os.environ, DATABASE_URL=_database_url(), CELERY_BROKER_URL=settings.CELERY_BROKER_URL)
    env["VAR_DIR"] = str(tmp_path)
    hostname = f"itest-{os.getpid()}@localhost"
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-n", hostname, "-l", "info"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"worker exited: {(tmp_path / 'worker.log').read_text()[-2000:]}")
            if celery_app.control.ping(destination=[hostname], timeout=0.5):
                break
        else:
            pytest.fail("worker did not answer a ping within 60 s")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        connection.close()


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    """Poll ``predicate`` until it returns a truthy value or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
