"""Notice rules without a platform: proportionality, guard, approval, rate limits, retry schedule,
failure classification (HTTP mocked at the boundary), callbacks' signature and replays."""

from __future__ import annotations

import datetime as dt
import json
import time
from contextlib import contextmanager
from decimal import Decimal

import pytest
import requests
from django.core.exceptions import ValidationError
from django.utils import timezone

from enforcement.models import AuditEntry, CaseEvent
from platforms import services, signing, transport
from platforms.models import DeliveryAttempt, Notice, NoticeState
from tests.clues.factories import PlatformFactory
from tests.factories import EnforcementCaseFactory, PartyFactory

pytestmark = pytest.mark.django_db

SECRET = "secret-of-the-platform-0001"


@pytest.fixture
def company():
    return PartyFactory(entity=True, name="湘潭鲜享家网络科技有限公司", uscc="91430300MA4L0XXQ1U")


@pytest.fixture
def case(cast, company):
    return EnforcementCaseFactory(
        court=cast.courts.yuhu, judges=[cast.assigned], parties__respondents=[company], amount_due=Decimal("10000.00")
    )


@pytest.fixture
def connectors(sysadmin):
    made = {}
    for code, caps in (("taobao", ["query", "freeze", "deduct"]), ("jd", ["query"])):
        made[code] = services.save_connector(
            sysadmin,
            PlatformFactory(code=code, name=code),
            base_url=f"http://127.0.0.1:9/{code}",
            key_id=f"k-{code}",
            secret=SECRET,
            capabilities=caps,
        )
    return made


def counts():
    return Notice.objects.count(), AuditEntry.objects.count(), CaseEvent.objects.count()


def refused(field, call):
    before = counts()
    with pytest.raises(ValidationError) as exc:
        call()
    assert field in exc.value.message_dict, exc.value.message_dict
    assert counts() == before
    return " ".join(exc.value.message_dict[field])


def test_proportionality_needs_a_named_respondent_of_this_case(cast, case, company, connectors):
    stranger = PartyFactory(entity=True)
    nameless = PartyFactory(kind="organization", id_number="", uscc="")
    case.case_parties.create(party=nameless, role="respondent")
    ask = lambda **kw: services.request_notices(cast.assigned, case, kind="query", platforms="all", **kw)  # noqa: E731
    assert "被执行人" in refused("respondent", lambda: ask(respondent=None))
    assert "本案" in refused("respondent", lambda: ask(respondent=stranger.pk))
    assert "身份证号" in refused("respondent", lambda: ask(respondent=nameless.pk))
    assert "通配符" in refused("account", lambda: ask(respondent=company.pk, account="tb-*"))


def test_platforms_must_be_connected_and_capable(cast, case, company, connectors):
    assert "jd" in refused(
        "platforms",
        lambda: services.request_notices(
            cast.head, case, kind="freeze", platforms=["jd"], respondent=company.pk, account="a", amount="1.00"
        ),
    )
    notices = services.request_notices(
        cast.head, case, kind="freeze", platforms="all", respondent=company.pk, account="a", amount="1.00"
    )
    assert [n.platform.code for n in notices] == ["taobao"]  # "all" means all capable ones


def test_freeze_guard_counts_notices_still_in_flight(cast, case, company, connectors):
    # limit = 10000 outstanding + 10 % = 11000
    services.request_notices(
        cast.head, case, kind="freeze", platforms=["taobao"], respondent=company.pk, account="a", amount="8000.00"
    )
    message = refused(
        "amount",
        lambda: services.request_notices(
            cast.head, case, kind="freeze", platforms=["taobao"], respondent=company.pk, account="b", amount="3000.01"
        ),
    )
    assert "11000.00" in message and "3000.00" in message
    services.request_notices(
        cast.head, case, kind="freeze", platforms=["taobao"], respondent=company.pk, account="b", amount="3000.00"
    )


def test_deduction_cannot_exceed_the_outstanding_amount(cast, case, company, connectors):
    refused(
        "amount",
        lambda: services.request_notices(
            cast.head, case, kind="deduct", platforms=["taobao"], respondent=company.pk, account="a", amount="10000.01"
        ),
    )


def test_judges_freeze_awaits_the_head_and_only_the_head_approves(cast, case, company, connectors):
    from django.core.exceptions import PermissionDenied

    (notice,) = services.request_notices(
        cast.assigned, case, kind="freeze", platforms=["taobao"], respondent=company.pk, account="a", amount="100.00"
    )
    assert notice.state == NoticeState.AWAITING_APPROVAL and notice.approved_by is None
    with pytest.raises(PermissionDenied):
        services.approve_notice(cast.assigned, notice)
    approved = services.approve_notice(cast.head, notice)
    assert approved.state == NoticeState.QUEUED and approved.approved_by == cast.head
    (query,) = services.request_notices(cast.assigned, case, kind="query", platforms=["jd"], respondent=company.pk)
    assert query.state == NoticeState.QUEUED  # queries need no approval


def test_query_rate_limit_per_case_and_platform(cast, case, company, connectors, settings):
    settings.QUERY_RATE_PER_CASE_HOUR = 2
    for _ in range(2):
        services.request_notices(cast.assigned, case, kind="query", platforms=["jd"], respondent=company.pk)
    assert "2" in refused(
        "platforms",
        lambda: services.request_notices(cast.assigned, case, kind="query", platforms=["jd"], respondent=company.pk),
    )


def test_query_rate_limits_count_the_last_hour_per_case_and_platform_and_per_user(
    cast, case, company, connectors, settings
):
    """Per case and platform: everyone's queries on this case count, other cases' do not. Per
    user: the user's queries on every case count, the request's own notices included. Queries
    older than an hour count for neither."""
    settings.QUERY_RATE_PER_CASE_HOUR, settings.QUERY_RATE_PER_USER_HOUR = 2, 5
    other = EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.assigned], parties__respondents=[company])
    services.request_notices(cast.head, case, kind="query", platforms=["jd"], respondent=company.pk)
    services.request_notices(cast.assigned, other, kind="query", platforms="all", respondent=company.pk)
    services.request_notices(cast.assigned, other, kind="query", platforms=["jd"], respondent=company.pk)
    # this case: jd once (by the head); the judge: three queries in the hour
    services.request_notices(cast.assigned, case, kind="query", platforms=["jd"], respondent=company.pk)
    assert "2" in refused(
        "platforms",
        lambda: services.request_notices(cast.assigned, case, kind="query", platforms=["jd"], respondent=company.pk),
    )
    # a third case has no queries yet, but the judge has four in the hour: 4 + 2 > 5
    third = EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.assigned], parties__respondents=[company])
    assert "5" in refused(
        "platforms",
        lambda: services.request_notices(cast.assigned, third, kind="query", platforms="all", respondent=company.pk),
    )
    services.request_notices(cast.assigned, third, kind="query", platforms=["taobao"], respondent=company.pk)  # 5
    assert "5" in refused(
        "platforms",
        lambda: services.request_notices(cast.assigned, third, kind="query", platforms=["jd"], respondent=company.pk),
    )
    Notice.objects.update(created_at=timezone.now() - dt.timedelta(hours=1, seconds=1))
    assert len(services.request_notices(cast.assigned, case, kind="query", platforms="all", respondent=company.pk)) == 2


def test_retry_schedule_grows_from_seconds_to_hours_with_jitter(settings):
    settings.NOTICE_RETRY_BASE_S, settings.NOTICE_RETRY_CAP_S = 2, 4 * 3600
    top = [services.retry_delay(n, rand=lambda: 1.0) for n in range(1, 13)]
    assert top[:4] == [2, 6, 18, 54]
    assert top[-1] == 4 * 3600 and all(a <= b for a, b in zip(top, top[1:], strict=False))
    assert services.retry_delay(1, rand=lambda: 0.0) == 1.0  # half of the step at least
    assert services.retry_delay(1, retry_after=30, rand=lambda: 1.0) == 30  # Retry-After honoured
    assert 3600 * 10 < sum(top) < 3600 * 30  # about a day in all


class FakeResponse:
    def __init__(self, status, body=None, headers=None):
        self.status_code, self.headers = status, headers or {}
        self.text = json.dumps(body) if body is not None else "<html>oops</html>"
        self._body = body

    def json(self):
        if self._body is None:
            raise ValueError("no json")
        return self._body


@pytest.mark.parametrize(
    ("response", "retryable", "error_class"),
    [
        (FakeResponse(503), True, "http_503"),
        (FakeResponse(500), True, "http_500"),
        (FakeResponse(429, headers={"Retry-After": "7"}), True, "http_429"),
        (FakeResponse(409, {"error": "in progress"}), True, "http_409"),
        (FakeResponse(400, {"error": "bad"}), False, "http_400"),
        (FakeResponse(401, {"error": "signature"}), False, "http_401"),
        (FakeResponse(422, {"error": "key reused"}), False, "http_422"),
        (FakeResponse(200), True, "bad_response"),
        (requests.Timeout(), True, "timeout"),
        (requests.ConnectionError("refused"), True, "connection_error"),
    ],
)
def test_failures_are_sorted_into_transient_and_permanent(monkeypatch, response, retryable, error_class):
    def fake_post(url, data, headers, timeout):
        assert headers["webhook-id"] == "ntc_1" and headers["key-id"] == "k"
        signing.verify({"k": [SECRET]}, headers, data)  # what the platform will check
        if isinstance(response, Exception):
            raise response
        return response

    monkeypatch.setattr(transport._session, "post", fake_post)
    with pytest.raises(transport.DeliveryError) as exc:
        transport.post_signed(
            "http://p/notices", key_id="k", secret=SECRET, msg_id="ntc_1", payload={"a": 1}, timeout_s=1
        )
    assert (exc.value.retryable, exc.value.error_class) == (retryable, error_class)
    if error_class == "http_429":
        assert exc.value.retry_after == 7


def test_permanent_failure_fails_at_once_and_replay_keeps_the_key(cast, case, company, connectors, monkeypatch):
    monkeypatch.setattr(transport._session, "post", lambda *a, **k: FakeResponse(400, {"error": "holder unknown"}))
    (notice,) = services.request_notices(cast.assigned, case, kind="query", platforms=["jd"], respondent=company.pk)
    assert services.deliver(notice.pk) == "failed"
    notice.refresh_from_db()
    assert notice.state == NoticeState.FAILED and "http_400" in notice.last_error
    assert DeliveryAttempt.objects.get(notice=notice).outcome == "failed"
    key = notice.idempotency_key
    replayed = services.replay_notice(cast.assigned, notice)
    assert replayed.state == NoticeState.QUEUED and replayed.idempotency_key == key


def test_transient_failure_is_retried_later_then_fails_after_max_attempts(cast, case, company, connectors, monkeypatch):
    monkeypatch.setattr(transport._session, "post", lambda *a, **k: FakeResponse(503))
    connectors["jd"].max_attempts = 2
    connectors["jd"].save()
    (notice,) = services.request_notices(cast.assigned, case, kind="query", platforms=["jd"], respondent=company.pk)
    assert services.deliver(notice.pk) == "retry"
    notice.refresh_from_db()
    assert notice.state == NoticeState.QUEUED and notice.next_attempt_at is not None
    assert services.deliver(notice.pk) == "skipped"  # not due yet
    Notice.objects.filter(pk=notice.pk).update(next_attempt_at=None)
    assert services.deliver(notice.pk) == "failed"
    assert DeliveryAttempt.objects.filter(notice=notice).count() == 2


def test_callbacks_need_a_valid_signature_and_replays_change_nothing(
    cast, case, company, connectors, monkeypatch, client
):
    monkeypatch.setattr(transport._session, "post", lambda *a, **k: FakeResponse(202, {"status": "accepted"}))
    (notice,) = services.request_notices(cast.assigned, case, kind="query", platforms=["taobao"], respondent=company.pk)
    assert services.deliver(notice.pk) == "acknowledged"
    body = json.dumps(
        {
            "notice_id": notice.idempotency_key,
            "status": "completed",
            "result": {"accounts": [{"account": "tb-9", "asset_kind": "platform_balance", "balance": "77.00"}]},
        }
    ).encode()
    url = "/api/v1/platforms/callbacks/taobao/"
    forged = signing.headers("k-taobao", "wrong-secret-0000000000", notice.idempotency_key, body)
    assert client.post(url, body, content_type="application/json", headers=forged).status_code == 401
    stale = signing.headers("k-taobao", SECRET, notice.idempotency_key, body, timestamp=int(time.time()) - 3600)
    assert client.post(url, body, content_type="application/json", headers=stale).status_code == 401
    notice.refresh_from_db()
    assert notice.state == NoticeState.ACKNOWLEDGED

    good = signing.headers("k-taobao", SECRET, notice.idempotency_key, body)
    assert client.post(url, body, content_type="application/json", headers=good).json() == {"outcome": "completed"}
    again = signing.headers("k-taobao", SECRET, notice.idempotency_key, body)
    assert client.post(url, body, content_type="application/json", headers=again).json() == {"outcome": "replayed"}
    assert case.clues.filter(account="tb-9").count() == 1


def _callback(client, notice, accounts):
    body = json.dumps(
        {"notice_id": notice.idempotency_key, "status": "completed", "result": {"accounts": accounts}}
    ).encode()
    headers = signing.headers("k-taobao", SECRET, notice.idempotency_key, body)
    return client.post("/api/v1/platforms/callbacks/taobao/", body, content_type="application/json", headers=headers)


def test_an_overdue_callback_is_asked_for_again_with_the_same_key(
    cast, case, company, connectors, monkeypatch, client, settings
):
    """A platform accepted a notice (202) and its callback never came: after the callback timeout the
    sweeper queues it again, it is sent with the same idempotency key, and a callback arriving at any
    point from then on completes it; a repeat delivery then does nothing."""
    from django.utils import timezone

    sent = []

    def accept(url, data, headers, timeout):
        sent.append(headers["webhook-id"])
        return FakeResponse(202, {"status": "accepted"})

    monkeypatch.setattr(transport._session, "post", accept)
    (notice,) = services.request_notices(cast.assigned, case, kind="query", platforms=["taobao"], respondent=company.pk)
    assert services.deliver(notice.pk) == "acknowledged"
    notice.refresh_from_db()
    timeout = settings.NOTICE_CALLBACK_TIMEOUT_S
    assert services.sweep(now=notice.acknowledged_at + dt.timedelta(seconds=timeout - 1)) == 0  # not overdue yet
    notice.refresh_from_db()
    assert notice.state == NoticeState.ACKNOWLEDGED

    assert services.sweep(now=notice.acknowledged_at + dt.timedelta(seconds=timeout + 1)) == 1
    notice.refresh_from_db()
    assert notice.state == NoticeState.QUEUED and notice.last_error == "callback_overdue"
    # the callback comes while the notice waits to be sent again: it is taken
    assert _callback(client, notice, [{"account": "tb-7", "balance": "5.00"}]).json() == {"outcome": "completed"}
    notice.refresh_from_db()
    assert notice.state == NoticeState.COMPLETED and case.clues.filter(account="tb-7").count() == 1
    assert services.deliver(notice.pk) == "skipped"  # the queued task finds it done
    assert sent == [notice.idempotency_key]  # nothing went out again

    # another notice: sent again after the timeout, acknowledged again, then completed by its callback
    (second,) = services.request_notices(cast.assigned, case, kind="query", platforms=["taobao"], respondent=company.pk)
    assert services.deliver(second.pk) == "acknowledged"
    second.refresh_from_db()
    services.sweep(now=second.acknowledged_at + dt.timedelta(seconds=timeout + 1))
    assert services.deliver(second.pk) == "acknowledged"
    second.refresh_from_db()
    assert second.attempts == 2 and second.acknowledged_at > timezone.now() - dt.timedelta(minutes=1)
    assert sent[1:] == [second.idempotency_key, second.idempotency_key]
    assert _callback(client, second, []).json() == {"outcome": "completed"}


def test_a_platform_that_never_calls_back_fails_the_notice_after_its_attempts(
    cast, case, company, connectors, monkeypatch, settings
):
    monkeypatch.setattr(transport._session, "post", lambda *a, **k: FakeResponse(202, {"status": "accepted"}))
    connectors["taobao"].max_attempts = 2
    connectors["taobao"].save()
    (notice,) = services.request_notices(cast.assigned, case, kind="query", platforms=["taobao"], respondent=company.pk)
    overdue = dt.timedelta(seconds=settings.NOTICE_CALLBACK_TIMEOUT_S + 1)
    for _attempt in range(2):
        assert services.deliver(notice.pk) == "acknowledged"
        notice.refresh_from_db()
        services.sweep(now=notice.acknowledged_at + overdue)
    notice.refresh_from_db()
    assert notice.state == NoticeState.FAILED and "未回复" in notice.last_error
    assert CaseEvent.objects.filter(case=case, kind="notice_failed").count() == 1
    assert AuditEntry.objects.filter(action="notice.failed", object_id=str(notice.pk)).count() == 1


def test_rotated_secret_keeps_the_old_one_valid_for_the_grace_period(sysadmin, connectors):
    connector = services.rotate_secret(sysadmin, connectors["taobao"], secret="the-new-secret-0000002", grace_hours=1)
    assert services.connector_secrets(connector) == ["the-new-secret-0000002", SECRET]
    connector.previous_valid_until = connector.previous_valid_until.replace(year=2000)
    connector.save()
    assert services.connector_secrets(connector) == ["the-new-secret-0000002"]
    assert SECRET not in connector.secret_encrypted  # stored encrypted


def test_a_court_may_require_approval_of_queries_too(cast, case, company, connectors):
    court = case.court
    court.notice_approval_kinds = ["query", "freeze", "deduct"]
    court.save()
    (query,) = services.request_notices(cast.assigned, case, kind="query", platforms=["jd"], respondent=company.pk)
    assert query.state == NoticeState.AWAITING_APPROVAL
    court.notice_approval_kinds = ["deduct"]  # this court lets its judges freeze directly
    court.save()
    (freeze,) = services.request_notices(
        cast.assigned, case, kind="freeze", platforms=["taobao"], respondent=company.pk, account="a", amount="5.00"
    )
    assert freeze.state == NoticeState.QUEUED


def test_one_answer_with_a_bad_balance_spoils_neither_its_good_rows_nor_the_other_platforms(
    cast, case, company, connectors, monkeypatch
):
    """A request's answers are recorded together; an unreadable balance in one of them keeps the rows
    before it, marks that notice's result with the error, and leaves the other answer whole."""
    from clues.models import PropertyClue

    answers = {
        "taobao": [{"account": "tb-1", "balance": "10.00"}, {"account": "tb-2", "balance": "lots"}],
        "jd": [{"account": "jd-1", "balance": "20.00"}],
    }

    def fake_post(url, data, headers, timeout):
        accounts = answers[url.split("/")[-2]]
        return FakeResponse(200, {"status": "completed", "result": {"accounts": accounts}})

    monkeypatch.setattr(transport._session, "post", fake_post)
    notices = services.request_notices(cast.assigned, case, kind="query", platforms="all", respondent=company.pk)
    assert set(services.deliver_many([n.pk for n in notices]).values()) == {"completed"}
    found = dict(PropertyClue.objects.filter(case=case).values_list("account", "estimated_value"))
    assert found == {"tb-1": Decimal("10.00"), "jd-1": Decimal("20.00")}
    results = {n.platform.code: Notice.objects.get(pk=n.pk).result for n in notices}
    assert "余额" in " ".join(results["taobao"]["ingest_error"]) and "ingest_error" not in results["jd"]


def test_the_sweeper_hands_a_waiting_notice_over_once_per_sending_timeout(
    cast, case, company, connectors, monkeypatch, settings
):
    """Under a backlog a queued notice waits for a free worker: the sweeper hands it to the broker
    once, and again only when that task can be presumed lost (not claimed within the sending
    timeout); a retry soon is left to its own delayed task, a retry later is the sweeper's."""
    from platforms.tasks import deliver_notices

    handed: list[int] = []
    monkeypatch.setattr(deliver_notices, "delay", lambda ids: handed.extend(ids))
    (waiting,) = services.request_notices(cast.assigned, case, kind="query", platforms=["jd"], respondent=company.pk)
    start, timeout = waiting.queued_at, dt.timedelta(seconds=settings.NOTICE_SENDING_TIMEOUT_S)
    assert services.sweep(now=start + dt.timedelta(seconds=10)) == 1  # its own task may be lost
    assert services.sweep(now=start + dt.timedelta(seconds=25)) == 0  # the next sweep: handed over already
    assert services.sweep(now=start + dt.timedelta(seconds=10) + timeout - dt.timedelta(seconds=1)) == 0
    assert services.sweep(now=start + dt.timedelta(seconds=11) + timeout) == 1  # that task is lost too
    assert handed == [waiting.pk, waiting.pk]

    handed.clear()
    monkeypatch.setattr(transport._session, "post", lambda *a, **k: FakeResponse(503))
    assert services.deliver(waiting.pk) == "retry"
    waiting.refresh_from_db()
    assert waiting.enqueued_at == waiting.next_attempt_at  # a retry soon: its delayed task
    assert services.sweep(now=waiting.next_attempt_at + dt.timedelta(seconds=1)) == 0
    assert services.sweep(now=waiting.next_attempt_at + timeout + dt.timedelta(seconds=1)) == 1

    handed.clear()
    settings.NOTICE_COUNTDOWN_LIMIT_S = 0  # every wait is long: no delayed task, the sweeper sends it
    Notice.objects.filter(pk=waiting.pk).update(next_attempt_at=None)
    assert services.deliver(waiting.pk) == "retry"
    waiting.refresh_from_db()
    assert waiting.enqueued_at is None
    assert services.sweep(now=waiting.next_attempt_at - dt.timedelta(seconds=1)) == 0  # not due yet
    assert services.sweep(now=waiting.next_attempt_at + dt.timedelta(seconds=1)) == 1
    assert handed == [waiting.pk]


@contextmanager
def _stepping_while_case_is_held(case_pk: int, step):
    """Run ``step`` in a transaction of its own thread while another transaction holds the case
    ``case_pk`` (FOR UPDATE); the body runs once the step waits for that case, then the case is
    released and the step must finish."""
    import threading

    from django.db import connection, transaction

    from enforcement.models import EnforcementCase

    held, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            EnforcementCase.objects.select_for_update().get(pk=case_pk)
            held.set()
            release.wait(timeout=30)
        connection.close()

    def run():
        with transaction.atomic():
            step()
        done.set()
        connection.close()

    holder, stepper = threading.Thread(target=hold), threading.Thread(target=run)
    holder.start()
    assert held.wait(timeout=10)
    stepper.start()
    try:
        time.sleep(1.0)  # the step is waiting for the held case by now
        assert not done.is_set()
        yield
    finally:
        release.set()
        holder.join(timeout=10)
        stepper.join(timeout=10)
    assert done.is_set()


@pytest.mark.django_db(transaction=True)
def test_recording_locks_the_cases_in_the_order_of_their_ids(cast, company, connectors):
    """Two workers recording batches that share two cases must not each hold one case and wait for
    the other: the recording step locks the cases in the order of their ids, whatever the order of
    the notices. Here the first notice is on the later case: while another transaction holds the
    later case, the earlier one is already locked by the recording step, which waits."""
    from django.db import OperationalError, transaction

    from enforcement.models import EnforcementCase

    early, late = (
        EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.assigned], parties__respondents=[company])
        for _ in range(2)
    )
    (on_late,) = services.request_notices(cast.assigned, late, kind="query", platforms=["jd"], respondent=company.pk)
    (on_early,) = services.request_notices(cast.assigned, early, kind="query", platforms=["jd"], respondent=company.pk)
    assert on_late.pk < on_early.pk and early.pk < late.pk

    with _stepping_while_case_is_held(late.pk, lambda: services._lock_sent([on_late, on_early])):
        with pytest.raises(OperationalError), transaction.atomic():
            EnforcementCase.objects.select_for_update(nowait=True).get(pk=early.pk)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("step", ["recording", "callback_or_decision"])
def test_a_notice_is_locked_only_after_its_case(step, cast, case, company, connectors):
    """Every path that locks a notice and its case takes the case first. A platform's callback that
    held its notice while waiting for the case, as a worker recording the same case held the case
    and waited for that notice, deadlocked (make chaos). While another transaction holds the case,
    the waiting step holds nothing: the notice can still be locked."""
    from django.db import transaction

    (notice,) = services.request_notices(cast.assigned, case, kind="query", platforms=["jd"], respondent=company.pk)
    lock = (lambda: services._lock_sent([notice])) if step == "recording" else (lambda: services._lock_notice(notice))
    with _stepping_while_case_is_held(case.pk, lock), transaction.atomic():
        assert Notice.objects.select_for_update(nowait=True).get(pk=notice.pk).pk == notice.pk


@pytest.fixture
def answered_once(monkeypatch):
    """Platforms that answer every query at once; returns the idempotency keys posted, in order."""
    posted: list[str] = []

    def fake_post(url, data, headers, timeout):
        posted.append(headers["webhook-id"])
        return FakeResponse(200, {"status": "completed", "result": {"accounts": []}})

    monkeypatch.setattr(transport._session, "post", fake_post)
    return posted


def test_a_worker_takes_waiting_notices_of_other_requests_along(
    cast, case, company, connectors, answered_once, settings
):
    """Under a backlog one delivery task claims its own notices and the oldest notices waiting for
    their first send, up to NOTICE_CLAIM_BATCH; their own tasks find nothing left and send nothing
    twice. Notices awaiting approval, waiting for a retry or ended are never taken along."""
    from enforcement import audit

    settings.NOTICE_CLAIM_BATCH = 3
    other = EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.assigned], parties__respondents=[company])
    awaiting = services.request_notices(
        cast.assigned, case, kind="freeze", platforms=["taobao"], respondent=company.pk, account="a", amount="5.00"
    )
    retrying = services.request_notices(cast.assigned, case, kind="query", platforms=["jd"], respondent=company.pk)
    Notice.objects.filter(pk=retrying[0].pk).update(next_attempt_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    cancelled = services.request_notices(cast.assigned, case, kind="query", platforms=["jd"], respondent=company.pk)
    services.cancel_notice(cast.assigned, cancelled[0], reason="重复")
    first = services.request_notices(cast.assigned, case, kind="query", platforms="all", respondent=company.pk)
    second = services.request_notices(cast.assigned, other, kind="query", platforms="all", respondent=company.pk)
    assert [n.state for n in (*first, *second)] == [NoticeState.QUEUED] * 4

    outcomes = services.deliver_many([n.pk for n in first])
    # its own two and the oldest waiting one (the retry is due, but waits for its own task)
    assert outcomes == {first[0].pk: "completed", first[1].pk: "completed", second[0].pk: "completed"}
    assert services.deliver_many([n.pk for n in second]) == {second[0].pk: "skipped", second[1].pk: "completed"}
    keys = [n.idempotency_key for n in (*first, *second)]
    assert sorted(answered_once) == sorted(keys)  # each sent once
    states = dict(Notice.objects.values_list("pk", "state"))
    assert states[awaiting[0].pk] == NoticeState.AWAITING_APPROVAL
    assert states[retrying[0].pk] == NoticeState.QUEUED and states[cancelled[0].pk] == NoticeState.CANCELLED
    assert audit.verify() is None

    settings.NOTICE_CLAIM_BATCH = 1  # a task larger than the batch still claims all of its own
    third = services.request_notices(cast.assigned, other, kind="query", platforms="all", respondent=company.pk)
    assert services.deliver_many([n.pk for n in third]) == {n.pk: "completed" for n in third}


@contextmanager
def _notices_held(*notice_pks: int):
    """Another transaction, in a thread of its own, holds the notices (FOR UPDATE) for the body;
    then it lets them go unchanged."""
    import threading

    from django.db import connection, transaction

    held, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            list(Notice.objects.select_for_update().filter(pk__in=notice_pks))
            held.set()
            release.wait(timeout=30)
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(timeout=10)
        yield
    finally:
        release.set()
        holder.join(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_a_claim_takes_along_only_the_notices_nobody_holds(cast, case, company, connectors, answered_once, settings):
    """Taking waiting notices along never waits: one that another transaction holds (a cancellation,
    another worker's claim) is left to its own task, and the claim goes on with the rest."""

    settings.NOTICE_CLAIM_BATCH = 24

    own = services.request_notices(cast.assigned, case, kind="query", platforms="all", respondent=company.pk)
    (held_one,) = services.request_notices(cast.assigned, case, kind="query", platforms=["jd"], respondent=company.pk)
    (free_one,) = services.request_notices(cast.assigned, case, kind="query", platforms=["jd"], respondent=company.pk)
    with _notices_held(held_one.pk):
        outcomes = services.deliver_many([n.pk for n in own])
    assert outcomes == {**{n.pk: "completed" for n in own}, free_one.pk: "completed"}
    assert services.deliver_many([held_one.pk]) == {held_one.pk: "completed"}
    assert sorted(answered_once) == sorted(n.idempotency_key for n in (*own, held_one, free_one))


@pytest.mark.django_db(transaction=True)
def test_a_claim_does_not_wait_for_its_own_notice_that_another_transaction_holds(
    cast, case, company, connectors, answered_once, settings
):
    """A task's own notice that another transaction holds (another worker's claim that took it
    along, a cancellation) is skipped at once: the task goes on with the rest. The holder decides;
    if it lets the notice go unchanged, the notice is still queued, for its next task or the sweeper."""

    settings.NOTICE_CLAIM_BATCH = 0  # only the task's own notices
    own = services.request_notices(cast.assigned, case, kind="query", platforms="all", respondent=company.pk)
    held_one, free_one = own
    with _notices_held(held_one.pk):
        started = time.monotonic()
        outcomes = services.deliver_many([n.pk for n in own])
        waited = time.monotonic() - started
    assert outcomes == {held_one.pk: "skipped", free_one.pk: "completed"}
    assert waited < 20  # the holder keeps its lock for 30 s: the claim did not wait for it
    assert Notice.objects.get(pk=held_one.pk).state == NoticeState.QUEUED
    assert answered_once == [free_one.idempotency_key]
    assert services.deliver_many([held_one.pk]) == {held_one.pk: "completed"}
    assert sorted(answered_once) == sorted(n.idempotency_key for n in own)


@pytest.mark.django_db(transaction=True)
def test_a_handed_over_notice_found_held_gets_a_task_of_its_own_shortly(
    cast, case, company, connectors, answered_once, settings, monkeypatch
):
    """A notice the sweeper handed over (or a retry's delayed task) that another transaction holds is
    skipped like any other, but the sweeper would hand it over again only after the sending timeout:
    the claim gives it a task of its own, in HELD_RETRY_S, after its commit. A fresh notice found
    held gets none: the sweeper sends it 5 s after queuing."""

    from platforms import tasks

    settings.NOTICE_CLAIM_BATCH = 0
    handed, fresh = services.request_notices(cast.assigned, case, kind="query", platforms="all", respondent=company.pk)
    later: list = []  # tasks enqueued from here on
    monkeypatch.setattr(
        tasks.deliver_notices, "apply_async", lambda args, countdown: later.append((args[0], countdown))
    )
    Notice.objects.filter(pk=handed.pk).update(enqueued_at=timezone.now())  # as the sweeper does
    with _notices_held(handed.pk, fresh.pk):
        outcomes = services.deliver_many([handed.pk, fresh.pk])
    assert outcomes == {handed.pk: "skipped", fresh.pk: "skipped"}
    assert later == [([handed.pk], services.HELD_RETRY_S)]
    assert answered_once == []
    assert services.deliver_many(later[0][0]) == {handed.pk: "completed"}


def test_audit_chains_of_a_batch_are_written_in_the_order_of_their_cases(cast, company, connectors):
    """A claim that takes notices of several cases along writes their audit entries chain by chain
    in the order of the cases' ids, whatever the order of the notices, so that two workers never
    take the same two chain heads in opposite orders."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from enforcement import audit

    early, late = (
        EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.assigned], parties__respondents=[company])
        for _ in range(2)
    )
    (on_late,) = services.request_notices(cast.assigned, late, kind="query", platforms=["jd"], respondent=company.pk)
    (on_early,) = services.request_notices(cast.assigned, early, kind="query", platforms=["jd"], respondent=company.pk)
    with CaptureQueriesContext(connection) as queries:
        services._flush_audit(
            [(late, "notice.acknowledged", on_late, {}), (early, "notice.acknowledged", on_early, {})]
        )
    chains = [
        "early" if f"'case:{early.pk}'" in q["sql"] else "late" if f"'case:{late.pk}'" in q["sql"] else "?"
        for q in queries.captured_queries
        if "enforcement_auditchainhead" in q["sql"]
    ]
    assert chains and "?" not in chains
    assert chains == sorted(chains)  # every statement on the earlier case's chain comes first
    assert audit.verify() is None
