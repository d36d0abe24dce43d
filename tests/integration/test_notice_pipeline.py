"""The notice pipeline with a real Celery worker, the real stand-in platforms, PostgreSQL and Redis.

Each test commits its requests (transactional database), lets the worker deliver them, and then
checks the platforms' ledgers: every effect happened exactly once per idempotency key.
"""

from __future__ import annotations

from collections import Counter

import pytest
import requests

from clues.models import Measure, PropertyClue
from config.celery import app as celery_app
from platforms import services
from platforms.models import Notice, NoticeState
from tests.clues.factories import PlatformFactory
from tests.support.platforms import holding, platform_config
from tests.support.workers import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CODES = ["taobao", "alipay", "jd", "pinduoduo", "douyin", "tenpay"]


def six_platforms(mock_platforms, sysadmin, **overrides):
    config = {
        code: platform_config(
            code,
            mode="async" if code == "alipay" else "sync",
            holdings=[holding(f"{code}-{i}", f"{(i + 1) * 1000}.00") for i in range(2)],
            **overrides.get(code, {}),
        )
        for code in CODES
    }
    mock = mock_platforms(config)
    for code in CODES:
        mock.connect(sysadmin, PlatformFactory(code=code, name=code), max_attempts=20)
    return mock


def terminal(case) -> bool:
    return (
        not Notice.objects.filter(case=case)
        .exclude(state__in=[NoticeState.COMPLETED, NoticeState.REJECTED, NoticeState.FAILED, NoticeState.CANCELLED])
        .exists()
    )


def effects_per_key(mock, code) -> Counter:
    """How many requests of the ledger actually did something, per idempotency key."""
    return Counter(r["idempotency_key"] for r in mock.ledger(code)["requests"] if not r["replayed"])


def test_one_click_query_of_six_platforms_becomes_clues(
    cast,
    case,
    company,
    mock_platforms,
    sysadmin,
    worker_factory,
    live_server,
    settings,
):
    settings.CALLBACK_BASE_URL = live_server.url
    mock = six_platforms(mock_platforms, sysadmin)
    worker_factory(CALLBACK_BASE_URL=live_server.url)

    notices = services.request_notices(cast.assigned, case, kind="query", platforms="all", respondent=company.pk)
    assert len(notices) == 6

    wait_for(lambda: terminal(case), timeout=60)
    assert set(Notice.objects.filter(case=case).values_list("state", flat=True)) == {NoticeState.COMPLETED}
    accounts = set(PropertyClue.objects.filter(case=case).values_list("account", flat=True))
    assert accounts == {f"{code}-{i}" for code in CODES for i in range(2)}
    # alipay answered through the signed callback to the live server
    assert mock.ledger("alipay")["callbacks"]
    for code in CODES:
        assert set(effects_per_key(mock, code).values()) == {1}


def test_freezes_reach_a_flaky_platform_exactly_once(
    cast,
    case,
    company,
    mock_platforms,
    sysadmin,
    worker_factory,
    settings,
):
    mock = six_platforms(mock_platforms, sysadmin, jd={"failure_rate": 0.5, "hang_s": 1})
    worker_factory(NOTICE_RETRY_BASE_S="0.05", NOTICE_SWEEP_INTERVAL_S="1")
    requested = []
    for i in range(2):
        for code in ("jd", "taobao"):
            requested += services.request_notices(
                cast.head,
                case,
                kind="freeze",
                platforms=[code],
                respondent=company.pk,
                account=f"{code}-{i}",
                amount="500.00",
            )

    def done():
        services.sweep()  # what beat does every few seconds
        return terminal(case)

    wait_for(done, timeout=90, interval=0.5)
    assert set(Notice.objects.filter(case=case).values_list("state", flat=True)) == {NoticeState.COMPLETED}
    for code in ("jd", "taobao"):
        effects = effects_per_key(mock, code)
        assert len(effects) == 2 and set(effects.values()) == {1}, effects
        holds = mock.ledger(code)["holds"]
        assert sorted(h["amount"] for h in holds) == ["500.00", "500.00"]
    assert Measure.objects.filter(case=case, kind="freeze", status="active").count() == 4, [
        n.result for n in Notice.objects.all()
    ]
    assert max(Notice.objects.filter(platform__code="jd").values_list("attempts", flat=True)) >= 1


def test_a_platform_down_then_up_gets_every_notice_once(
    cast,
    case,
    company,
    mock_platforms,
    sysadmin,
    worker_factory,
):
    mock = six_platforms(mock_platforms, sysadmin)
    control = f"{mock.base}/pinduoduo/_control"
    requests.post(control, json={"failure_rate": 1.0, "failure_kind": "503"}, timeout=5)
    worker_factory(NOTICE_RETRY_BASE_S="0.2")
    notices = services.request_notices(
        cast.assigned, case, kind="query", platforms=["pinduoduo"], respondent=company.pk
    )
    wait_for(lambda: Notice.objects.get(pk=notices[0].pk).attempts >= 3, timeout=30)
    assert Notice.objects.get(pk=notices[0].pk).state in (NoticeState.QUEUED, NoticeState.SENDING)
    assert effects_per_key(mock, "pinduoduo") == Counter()

    requests.post(control, json={"failure_rate": 0.0}, timeout=5)

    def done():
        services.sweep()
        return Notice.objects.get(pk=notices[0].pk).state == NoticeState.COMPLETED

    wait_for(done, timeout=60, interval=0.5)
    assert list(effects_per_key(mock, "pinduoduo").values()) == [1]
    assert Notice.objects.get(pk=notices[0].pk).delivery_attempts.filter(http_status=503).count() >= 3


def test_worker_killed_mid_delivery_loses_nothing_and_doubles_nothing(
    cast,
    case,
    company,
    mock_platforms,
    sysadmin,
    worker_factory,
    settings,
):
    settings.NOTICE_SENDING_TIMEOUT_S = 2  # the sweeper below runs in this process
    mock = six_platforms(mock_platforms, sysadmin, tenpay={"latency_ms": 3000})
    worker = worker_factory(NOTICE_SENDING_TIMEOUT_S="2")
    (notice,) = services.request_notices(
        cast.head,
        case,
        kind="freeze",
        platforms=["tenpay"],
        respondent=company.pk,
        account="tenpay-1",
        amount="1500.00",
    )
    wait_for(lambda: Notice.objects.get(pk=notice.pk).state == NoticeState.SENDING, timeout=20, interval=0.05)
    worker.kill()  # mid-request: the platform still performs the freeze, the court never hears back
    celery_app.control.purge()
    assert Notice.objects.get(pk=notice.pk).state == NoticeState.SENDING

    # the requeued notice meets the platform still busy with the first request: a short back-off
    # (as in the tests above) retries it in about a second instead of the default 9 to 18 s
    worker_factory(NOTICE_SENDING_TIMEOUT_S="2", NOTICE_RETRY_BASE_S="0.2")

    def done():
        services.sweep()  # requeues the notice stuck in "sending" past the timeout
        return Notice.objects.get(pk=notice.pk).state == NoticeState.COMPLETED

    wait_for(done, timeout=60, interval=0.5)
    effects = effects_per_key(mock, "tenpay")
    assert list(effects.values()) == [1], effects  # one freeze on the platform
    assert [h["amount"] for h in mock.ledger("tenpay")["holds"]] == ["1500.00"]
    assert Measure.objects.filter(case=case, kind="freeze").count() == 1  # one measure in the court


def test_celery_is_configured_for_at_least_once_delivery(settings):
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert conf.broker_transport_options["visibility_timeout"] > settings.NOTICE_COUNTDOWN_LIMIT_S
    # both delivery tasks (one request's notices, one notice) are acknowledged only when done
    from platforms.tasks import deliver_notice, deliver_notices

    assert deliver_notice.acks_late is True and deliver_notices.acks_late is True


def _other_backends() -> set[int]:
    """PostgreSQL backends on the test database other than this test's own connection."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


@pytest.mark.parametrize("max_age", ["60", "0"])
def test_a_worker_keeps_its_database_connection_between_tasks_only_when_told_to(
    cast, case, company, mock_platforms, sysadmin, worker_factory, max_age
):
    """Celery's Django fixup closes the connection around every task unless CELERY_DB_REUSE_MAX
    is set; with DB_CONN_MAX_AGE the worker keeps one connection from task to task (no connection
    set up per task), without it the connection is closed when the task ends."""
    mock_platforms({"jd": platform_config("jd")}).connect(sysadmin, PlatformFactory(code="jd", name="京东"))
    worker_factory(DB_CONN_MAX_AGE=max_age)
    seen = []
    for _ in range(3):  # three tasks, one after the other
        services.request_notices(cast.assigned, case, kind="query", platforms="all", respondent=company.pk)
        wait_for(lambda: terminal(case), timeout=30)
        if max_age == "0":
            wait_for(lambda: not _other_backends(), timeout=10)  # closed after the task
        else:
            seen.append(_other_backends())
    if max_age != "0":
        assert len(seen[0]) == 1 and seen[0] == seen[1] == seen[2]  # the same backend throughout
