"""A worker outlives restarts of its broker.

Redis restarted without persistence loses the queue; the outbox and the sweeper recover the
notices (``test_outbox_recovery``). That only helps while a worker still consumes: Celery 5.7.0's
worker ended itself ("Unrecoverable error: AttributeError") at the second loss of its broker
connection when a task was in flight, and left every later notice queued (docs/adr/0009). The
large version is ``make chaos``.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from platforms import services
from platforms.models import Notice, NoticeState
from tests.clues.factories import PlatformFactory
from tests.support.brokers import PrivateRedis, broker_usable, celery_broker
from tests.support.platforms import free_port, holding, platform_config
from tests.support.workers import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(tmp_path):
    """A private broker for this test's worker and enqueues (set up before, torn down after the
    worker)."""
    server = PrivateRedis(f"redis://127.0.0.1:{free_port()}/0", tmp_path)
    with celery_broker(server.url):
        yield server
    server.stop()


def test_a_worker_keeps_consuming_after_two_broker_restarts_with_tasks_in_flight(
    cast, case, company, mock_platforms, sysadmin, broker, worker_factory
):
    # a platform slow enough that a notice is in flight (unacknowledged) when the broker dies
    mock = mock_platforms({"taobao": platform_config("taobao", latency_ms=1500, holdings=[holding("tb-1", "100.00")])})
    mock.connect(sysadmin, PlatformFactory(code="taobao", name="taobao"), timeout_s=5)
    worker = worker_factory(2, CELERY_BROKER_URL=broker.url)

    def query() -> Notice:
        [notice] = services.request_notices(
            cast.assigned, case, kind="query", platforms=["taobao"], respondent=company.pk
        )
        return notice

    def state(notice: Notice) -> str:
        assert worker.proc.poll() is None, "worker exited:\n" + worker.log_path.read_text()[-3000:]
        return Notice.objects.get(pk=notice.pk).state

    in_flight = []
    for _restart in range(2):
        notice = query()
        wait_for(lambda n=notice: state(n) == NoticeState.SENDING, timeout=20, interval=0.02)
        broker.kill()
        time.sleep(1)
        broker.start()
        wait_for(broker_usable, timeout=30, interval=0.1)
        in_flight.append(notice)
        time.sleep(2)  # the worker notices the loss and reconnects

    # a notice requested now reaches the platform through the worker that lived through both
    fresh = query()
    wait_for(lambda: state(fresh) == NoticeState.COMPLETED, timeout=30, interval=0.1)
    # the notices in flight at the losses were delivered by their tasks, once each
    wait_for(lambda: all(state(n) == NoticeState.COMPLETED for n in in_flight), timeout=30, interval=0.1)
    effects = Counter(r["idempotency_key"] for r in mock.ledger("taobao")["requests"] if not r["replayed"])
    assert sorted(effects) == sorted(n.idempotency_key for n in [*in_flight, fresh])
    assert set(effects.values()) == {1}
