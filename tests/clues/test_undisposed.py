"""Since when a case has had property found and not disposed of (``EnforcementCase.undisposed_since``,
read by the supervisor's "property long undisposed" trigger): kept by every clue and measure
service, on the case itself and on the case whose waiting measure a release puts into force."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from clues import services
from enforcement.models import EnforcementCase
from enforcement.services import undisposed_since_expression
from tests.clues.factories import add_clue, add_measure, case_in, days, respondent_of, twin_of

pytestmark = pytest.mark.django_db


def kept(case) -> dt.date | None:
    """The kept day, after checking that it is what the clues and measures give."""
    row = EnforcementCase.objects.annotate(counted=undisposed_since_expression()).get(pk=case.pk)
    assert row.undisposed_since == row.counted
    return row.undisposed_since


def verified_at(when: dt.datetime, actor, clue):
    with mock.patch("django.utils.timezone.now", return_value=when):
        return services.verify_clue(actor, clue)


def test_every_clue_and_measure_service_keeps_the_day(cast, alipay):
    today, now = timezone.localdate(), timezone.now()
    case, judge = cast.case, cast.assigned
    old = add_clue(judge, case, account="acct-old")
    assert kept(case) is None  # pending: not yet property found
    verified_at(now - days(200), judge, old)
    assert kept(case) == timezone.localdate(now - days(200))
    fresh = verified_at(now, judge, add_clue(judge, case, account="acct-fresh"))
    assert kept(case) == timezone.localdate(now - days(200))
    services.invalidate_clue(judge, old, reason="账户已注销")
    assert kept(case) == today  # the fresh clue is all that is left

    # a freeze in force for 50 days: the earlier of its effective day and the clue's verification
    freeze = add_measure(judge, case, fresh, amount="500.00", effective_on=today - days(50))
    assert kept(case) == today - days(50)

    # another court's case waits on the same account: nothing of it in force, nothing verified
    person = respondent_of(case)
    other, other_judge = case_in(cast.courts.yuetang, respondent=twin_of(person, "张三（岳塘登记）"))
    on_alipay = add_clue(judge, case, platform=alipay, account="ZFB 1")
    services.verify_clue(judge, on_alipay)
    holding = add_measure(judge, case, on_alipay, amount="100.00", effective_on=today - days(80))
    assert kept(case) == today - days(80)
    waiting = add_measure(other_judge, other, add_clue(other_judge, other, platform=alipay, account="zfb1"))
    assert waiting.status == "waiting" and kept(other) is None

    # the release puts the waiting measure into force today: the other case's day moves too
    released, promoted = services.release_measure(judge, holding, reason="已履行")
    assert promoted.pk == waiting.pk
    assert kept(other) == today
    assert kept(case) == today - days(50)  # the Alipay clue is verified again, today's; the freeze stays

    services.renew_measure(other_judge, promoted)
    assert kept(other) == today

    # a deduction disposes of the clue: only the Alipay clue, verified today, is left
    add_measure(judge, case, fresh, kind="deduct", amount="200.00")
    services.release_measure(judge, freeze, reason="扣划后解除")
    assert kept(case) == today

    # the measure and its renewal run out: nothing of ``other`` in force any more
    assert services.expire_measures(today + days(3 * 365)) == 2
    assert kept(other) is None and kept(case) == today

    # a platform's answer is property found and verified by its holder
    services.record_finding(
        other, respondent=respondent_of(other), platform=alipay, account="zfb-2", asset_kind="balance", balance="10"
    )
    assert kept(other) == today
