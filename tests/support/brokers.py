"""A broker of a test's own: a private ``redis-server`` without persistence that the test may kill
and start again (never the machine's shared Redis), and this process's Celery app pointed at it."""

from __future__ import annotations

import subprocess
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
import redis
from kombu import pools
from kombu.utils.collections import eqhash

from config.celery import app as celery_app
from tests.support.workers import end_process, wait_for


class PrivateRedis:
    """A ``redis-server`` on the port of ``url``, no persistence: a kill loses everything queued."""

    def __init__(self, url: str, tmp):
        self.url = url
        self.port = urlsplit(url).port
        if self.port in (None, 6379):
            pytest.fail(f"{url}: a broker that is killed needs a private redis-server on another port")
        self.client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
        if self.answers():
            pytest.fail(f"something already answers on 127.0.0.1:{self.port}; it is not ours to kill")
        self.dir = tmp
        self.proc: subprocess.Popen | None = None
        self.log = open(tmp / f"redis-{self.port}.log", "a")  # noqa: SIM115 - closed in stop()
        self.start()

    def answers(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + ["--daemonize", "no", "--dir", str(self.dir)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for(self.answers, timeout=15, interval=0.05)

    def kill(self) -> None:
        """SIGKILL: whatever was queued or unacknowledged is gone (nothing is persisted)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        end_process(self.proc)
        self.log.close()


def broker_usable() -> bool:
    """One broadcast through this process's pooled connections: after a Redis restart the first use
    of a stale connection raises (and drops it); the next one works."""
    try:
        celery_app.control.ping(timeout=0.05)
    except Exception:  # noqa: BLE001 - redis or kombu connection errors
        return False
    return True


def _forget_cached_pools() -> None:
    """The app's pool and producer pool are the process-wide pools of one URL (``kombu.pools``),
    cached on first use; forgetting them makes the next use look up the current URL's."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _close_pools_of(url: str) -> None:
    """Close and forget the process-wide pools of ``url`` (kombu keys them by ``eqhash`` of the
    connection, and its ``EqualityDict`` does not translate ``pop``)."""
    key = eqhash(celery_app.connection_for_write(url))
    for group in (pools.producers, pools.connections):
        pool = dict.pop(group, key, None)
        if pool is not None:
            pool.force_close_all()


BROKER_KEYS = ("broker_url", "broker_read_url", "broker_write_url")


@contextmanager
def celery_broker(url: str):
    """This process's Celery app (enqueues, control broadcasts) on ``url`` for the block. All three
    URLs are set: the app reads the read and write URLs first, and ``broker_url`` itself keeps
    answering with ``CELERY_BROKER_URL`` from the environment, which ``make test`` sets."""
    previous = {key: celery_app.conf[key] for key in BROKER_KEYS}
    _forget_cached_pools()
    for key in BROKER_KEYS:
        celery_app.conf[key] = url
    try:
        yield
    finally:
        _close_pools_of(url)
        _forget_cached_pools()
        for key, value in previous.items():
            celery_app.conf[key] = value
