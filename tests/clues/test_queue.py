"""The waiting queue (轮候) across three courts, expiry by the beat task, and the 30/15/7-day
reminders."""

from __future__ import annotations

import datetime as dt

import pytest

from clues import services, tasks
from clues.models import Measure, MeasureReminder, MeasureStatus
from enforcement.models import AuditEntry, CaseEvent
from tests.clues.factories import add_clue, add_measure, case_in, client_for, counts, days, respondent_of, twin_of

pytestmark = pytest.mark.django_db

D = dt.date.fromisoformat


@pytest.fixture
def three(cast, alipay):
    """The same Alipay account of one person, found by 雨湖 (A), 岳塘 (B) and 蕉城 (C) in turn."""
    person = respondent_of(cast.case)
    case_b, judge_b = case_in(cast.courts.yuetang, respondent=twin_of(person, "张三（岳塘登记）"))
    case_c, judge_c = case_in(cast.courts.jiaocheng, respondent=twin_of(person, "张三（蕉城登记）"))
    clue_a = add_clue(cast.assigned, cast.case, platform=alipay, account="ZFB 2088 001")
    clue_b = add_clue(judge_b, case_b, platform=alipay, account="zfb2088001")
    clue_c = add_clue(judge_c, case_c, platform=alipay, account=" Zfb 2088 001 ")
    assert clue_a.asset_key == clue_b.asset_key == clue_c.asset_key

    a = add_measure(cast.assigned, cast.case, clue_a, amount="50000.00", effective_on=dt.date.today() - days(100))
    b = add_measure(judge_b, case_b, clue_b, amount="20000.00")
    c = add_measure(judge_c, case_c, clue_c, amount="30000.00")
    return {"a": a, "b": b, "c": c, "judge_b": judge_b, "judge_c": judge_c, "case_b": case_b, "case_c": case_c}


def states(*measures):
    result = []
    for m in measures:
        m.refresh_from_db()
        result.append((m.status, m.queue_position))
    return result


def test_later_holding_measures_wait_in_order(three):
    a, b, c = three["a"], three["b"], three["c"]
    assert states(a, b, c) == [("active", None), ("waiting", 1), ("waiting", 2)]
    assert (b.effective_on, b.expires_on) == (None, None)
    assert CaseEvent.objects.filter(case=three["case_b"], kind="measure", message__contains="轮候第1位").exists()


def test_release_promotes_the_earliest_waiting(cast, three):
    a, b, c = three["a"], three["b"], three["c"]
    today = dt.date.today()

    response = client_for(cast.assigned).post(f"/api/v1/measures/{a.pk}/release/", {"reason": "已履行"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "released"
    assert response.json()["promoted"]["id"] == b.pk
    assert states(a, b, c) == [("released", None), ("active", None), ("waiting", 1)]
    assert a.released_on == today
    assert b.effective_on == today
    assert b.expires_on == services.measure_expiry("platform_balance", today)
    assert CaseEvent.objects.filter(
        case=three["case_b"], kind="measure_promoted", message__startswith="轮候", message__contains="已生效"
    ).exists()
    assert not CaseEvent.objects.filter(case=three["case_c"], kind="measure_promoted").exists()


def test_expiry_promotes_the_next_with_its_own_period(cast, three):
    a, b, c = three["a"], three["b"], three["c"]
    services.release_measure(cast.assigned, a)
    b.refresh_from_db()
    day_after = b.expires_on + days(1)

    assert services.expire_measures(today=day_after) == 1

    assert states(b, c) == [("expired", None), ("active", None)]
    assert c.effective_on == day_after
    assert c.expires_on == services.measure_expiry("platform_balance", day_after)
    assert CaseEvent.objects.filter(case=three["case_b"], kind="measure_expired").exists()
    assert CaseEvent.objects.filter(case=three["case_c"], kind="measure_promoted", message__contains="已生效").exists()


def test_nothing_expires_on_the_last_day(cast, three):
    a = three["a"]
    assert services.expire_measures(today=a.expires_on) == 0
    assert states(a, three["b"]) == [("active", None), ("waiting", 1)]


def test_releasing_a_waiting_measure_moves_up_those_behind(three):
    a, b, c = three["a"], three["b"], three["c"]
    released, promoted = services.release_measure(three["judge_b"], b, reason="申请人撤回")
    assert promoted is None
    assert states(a, b, c) == [("active", None), ("released", None), ("waiting", 1)]


def test_a_fourth_court_queues_behind_the_last(cast, three, alipay):
    case_d, judge_d = case_in(cast.courts.mid, respondent=twin_of(respondent_of(cast.case), "张三（中院登记）"))
    clue_d = add_clue(judge_d, case_d, platform=alipay, account="ZFB2088001")
    d = add_measure(judge_d, case_d, clue_d)
    assert states(d) == [("waiting", 3)]
    services.release_measure(cast.assigned, three["a"])
    assert states(three["c"], d) == [("waiting", 1), ("waiting", 2)]


def test_the_beat_task_expires_and_promotes_idempotently(cast, three):
    # A took effect 400 days ago: its one-year period is already over.
    a = three["a"]
    Measure.objects.filter(pk=a.pk).update(
        effective_on=dt.date.today() - days(400),
        expires_on=services.measure_expiry("platform_balance", dt.date.today() - days(400)),
    )
    assert tasks.expire_measures() == 1
    assert states(three["a"], three["b"], three["c"]) == [("expired", None), ("active", None), ("waiting", 1)]
    assert three["b"].effective_on == dt.date.today()

    before = counts()
    assert tasks.expire_measures() == 0
    assert counts() == before
    assert states(three["a"], three["b"], three["c"]) == [("expired", None), ("active", None), ("waiting", 1)]


def test_the_beat_task_with_a_frozen_clock(cast, three, freeze_today):
    b = three["b"]
    services.release_measure(cast.assigned, three["a"])
    b.refresh_from_db()
    freeze_today(b.expires_on + days(1))

    assert tasks.expire_measures() == 1
    assert states(b, three["c"]) == [("expired", None), ("active", None)]
    events, audit = CaseEvent.objects.count(), AuditEntry.objects.count()
    assert tasks.expire_measures() == 0
    assert (CaseEvent.objects.count(), AuditEntry.objects.count()) == (events, audit)


# --------------------------------------------------------------------------------------------
# reminders 30 / 15 / 7 days before expiry
# --------------------------------------------------------------------------------------------


@pytest.fixture
def measure(cast, alipay):
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    return add_measure(cast.assigned, cast.case, clue)


def thresholds(measure) -> set[int]:
    return set(MeasureReminder.objects.filter(measure=measure).values_list("days_before", flat=True))


def test_reminders_at_30_15_7_days(measure):
    expires = measure.expires_on
    assert services.remind_expiring(today=expires - days(31)) == 0
    assert services.remind_expiring(today=expires - days(30)) == 1
    assert thresholds(measure) == {30}
    assert services.remind_expiring(today=expires - days(30)) == 0
    assert services.remind_expiring(today=expires - days(20)) == 0
    assert services.remind_expiring(today=expires - days(15)) == 1
    assert thresholds(measure) == {30, 15}
    assert services.remind_expiring(today=expires - days(7)) == 1
    assert services.remind_expiring(today=expires - days(7)) == 0
    assert thresholds(measure) == {30, 15, 7}
    assert all(r.expires_on == expires for r in MeasureReminder.objects.filter(measure=measure))


def test_a_late_first_run_creates_every_passed_threshold(measure):
    assert services.remind_expiring(today=measure.expires_on - days(7)) == 3
    assert thresholds(measure) == {30, 15, 7}


def test_a_renewed_measure_gets_no_new_reminders(cast, measure):
    expires = measure.expires_on
    assert services.remind_expiring(today=expires - days(30)) == 1
    renewal = services.renew_measure(cast.assigned, measure)
    assert services.remind_expiring(today=expires - days(7)) == 0
    assert thresholds(measure) == {30}
    assert thresholds(renewal) == set()


def test_released_and_waiting_measures_get_no_reminders(cast, three):
    services.release_measure(three["judge_c"], three["c"])
    a = three["a"]
    services.remind_expiring(today=a.expires_on - days(7))
    assert thresholds(a) == {30, 15, 7}
    assert thresholds(three["b"]) == thresholds(three["c"]) == set()


def test_the_reminder_task_with_a_frozen_clock(measure, freeze_today):
    freeze_today(measure.expires_on - days(30))
    assert tasks.remind_expiring_measures() == 1
    assert tasks.remind_expiring_measures() == 0
    freeze_today(measure.expires_on - days(15))
    assert tasks.remind_expiring_measures() == 1
    assert thresholds(measure) == {30, 15}


def test_releasing_a_renewed_measure_releases_its_renewal_and_promotes(cast, three):
    a, b = three["a"], three["b"]
    renewal = services.renew_measure(cast.assigned, a)
    _released, promoted = services.release_measure(cast.assigned, a)
    assert promoted == b
    assert states(a, renewal, b, three["c"]) == [
        ("released", None),
        ("released", None),
        ("active", None),
        ("waiting", 1),
    ]


def test_a_renewal_keeps_the_queue_waiting_until_it_ends(cast, three):
    a, b = three["a"], three["b"]
    renewal = services.renew_measure(cast.assigned, a)
    services.expire_measures(today=a.expires_on + days(1))
    assert states(a, renewal, b) == [("completed", None), ("active", None), ("waiting", 1)]
    services.expire_measures(today=renewal.expires_on + days(1))
    assert states(renewal, b) == [("expired", None), ("active", None)]
    assert b.effective_on == renewal.expires_on + days(1)


def test_a_measure_whose_renewal_was_released_expires_and_is_reminded(cast, measure):
    renewal = services.renew_measure(cast.assigned, measure)
    services.release_measure(cast.assigned, renewal, reason="续行申请撤回")
    # not renewed any more: the 30/15/7-day reminders are due again, and it lapses at its end
    assert services.remind_expiring(today=measure.expires_on - days(7)) == 3
    services.expire_measures(today=measure.expires_on + days(1))
    measure.refresh_from_db()
    assert measure.status == MeasureStatus.EXPIRED
