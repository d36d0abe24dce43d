"""The outbox: a notice committed to the database is delivered even when its enqueue is lost.

A crash between the commit and the enqueue (the ``on_commit`` hook never runs), or a broker that
loses the message after it was sent (a Redis restart without persistence), leaves a ``queued`` row
and no task. The sweeper (beat, every ``NOTICE_SWEEP_INTERVAL_S``) finds the row and enqueues it
again; a real worker then delivers it once. The large version of this (SIGKILLed workers, Redis
restarts, flaky and dead platforms, 1,000 notices) is ``make chaos`` (tests/chaos/chaos_scenario.py).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from config.celery import app as celery_app
from platforms import services
from platforms.models import Notice, NoticeState
from platforms.tasks import deliver_notices
from tests.clues.factories import PlatformFactory
from tests.support.platforms import holding, platform_config
from tests.support.workers import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def sweep_interval() -> dt.timedelta:
    return dt.timedelta(seconds=settings.CELERY_BEAT_SCHEDULE["notices-sweep"]["schedule"])


@pytest.fixture
def taobao(mock_platforms, sysadmin):
    mock = mock_platforms({"taobao": platform_config("taobao", holdings=[holding("tb-1", "5000.00")])})
    mock.connect(sysadmin, PlatformFactory(code="taobao", name="taobao"))
    return mock


def effects_per_key(mock, code) -> Counter:
    return Counter(r["idempotency_key"] for r in mock.ledger(code)["requests"] if not r["replayed"])


def broker_down(*args, **kwargs):
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.mark.parametrize("loss", ["enqueue_dropped", "broker_down_at_commit", "message_lost_in_broker"])
def test_a_committed_notice_whose_task_is_lost_is_recovered_by_the_next_sweep(
    loss, cast, case, company, taobao, worker_factory, monkeypatch
):
    if loss == "enqueue_dropped":
        # the process dies right after COMMIT, before the on_commit hook sends the task
        monkeypatch.setattr(services, "_enqueue_after_commit", lambda notice_ids: None)
    if loss == "broker_down_at_commit":
        monkeypatch.setattr(deliver_notices, "delay", broker_down)
    # the request succeeds in every case: the notice is stored, which is the promise
    (notice,) = services.request_notices(
        cast.head, case, kind="freeze", platforms=["taobao"], respondent=company.pk, account="tb-1", amount="1200.00"
    )
    monkeypatch.undo()
    if loss == "message_lost_in_broker":
        celery_app.control.purge()  # Redis restarted without persistence: the task is gone
    committed_at = timezone.now()

    worker_factory()
    time.sleep(1.0)  # a worker is running, but it has nothing to do: no task reached the queue
    notice.refresh_from_db()
    assert notice.state == NoticeState.QUEUED and notice.attempts == 0
    assert effects_per_key(taobao, "taobao") == Counter()

    # beat's next tick, one sweep interval after the commit
    assert services.sweep(now=committed_at + sweep_interval()) == 1
    wait_for(lambda: Notice.objects.get(pk=notice.pk).state == NoticeState.COMPLETED, timeout=30)

    notice.refresh_from_db()
    assert notice.attempts == 1
    assert list(effects_per_key(taobao, "taobao").values()) == [1]
    assert [(h["account"], h["amount"]) for h in taobao.ledger("taobao")["holds"]] == [("tb-1", "1200.00")]
    assert case.measures.get(kind="freeze").amount == Decimal("1200.00")


def test_the_sweeper_leaves_fresh_rows_to_their_own_enqueue(cast, case, company, taobao, monkeypatch):
    """A notice committed a moment ago is not enqueued twice by a sweep that happens to run now."""
    monkeypatch.setattr(services, "_enqueue_after_commit", lambda notice_ids: None)
    services.request_notices(cast.assigned, case, kind="query", platforms=["taobao"], respondent=company.pk)
    assert services.sweep() == 0
    assert services.sweep(now=timezone.now() + sweep_interval()) == 1
    celery_app.control.purge()


def test_a_sweep_interval_is_shorter_than_the_sending_timeout():
    """A stuck 'sending' notice is found by the first sweep after its timeout, not hours later."""
    assert sweep_interval() <= dt.timedelta(seconds=settings.NOTICE_SENDING_TIMEOUT_S)
