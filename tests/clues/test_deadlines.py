"""Verification deadlines of clues: received + 7 days (3 when urgent), moved to the next working
day of the Chinese calendar when the last day is a rest day; overdue = pending past that day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from clues import queries, services
from clues.models import PropertyClue
from tests.clues.factories import add_clue, client_for, counts, days, respondent_of

pytestmark = pytest.mark.django_db

D = dt.date.fromisoformat


@pytest.mark.parametrize(
    ("received_on", "urgent", "verify_by"),
    [
        ("2025-06-09", False, "2025-06-16"),  # Monday + 7 = Monday
        ("2025-06-09", True, "2025-06-12"),  # Monday + 3 = Thursday
        ("2025-06-07", False, "2025-06-16"),  # + 7 = Saturday 14th -> Monday 16th
        ("2025-06-12", True, "2025-06-16"),  # + 3 = Sunday 15th -> Monday 16th
        ("2025-09-24", False, "2025-10-09"),  # + 7 = 1 October, National Day holiday -> 9 October
        ("2025-10-01", True, "2025-10-09"),  # + 3 = 4 October, holiday -> 9 October
        ("2025-09-30", False, "2025-10-09"),  # + 7 = 7 October, holiday -> 9 October
        ("2025-09-21", False, "2025-09-28"),  # + 7 = Sunday 28 September, an adjusted working day
        ("2025-10-04", False, "2025-10-11"),  # + 7 = Saturday 11 October, an adjusted working day
    ],
)
def test_verify_by(received_on, urgent, verify_by):
    assert services.verify_by_for(D(received_on), urgent) == D(verify_by)


@pytest.mark.parametrize(("urgent", "verify_by"), [(False, "2025-10-09"), (True, "2025-10-09")])
def test_add_clue_stores_the_deadline(cast, alipay, urgent, verify_by):
    clue = add_clue(cast.assigned, cast.case, platform=alipay, urgent=urgent, received_on=D("2025-09-30"))
    assert clue.verify_by == D(verify_by)
    assert clue.status == "pending"


def test_api_answers_verify_by(cast, alipay, freeze_today):
    freeze_today(D("2025-06-12"))
    response = client_for(cast.assigned).post(
        f"/api/v1/cases/{cast.case.pk}/clues/",
        {
            "respondent": respondent_of(cast.case).pk,
            "category": "funds",
            "kind": "payment_account",
            "platform": "alipay",
            "account": "ZFB-001",
            "source": "applicant",
            "urgent": True,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["verify_by"] == "2025-06-16"
    assert response.json()["overdue"] is False


def test_received_in_the_future_is_refused(cast, alipay):
    before = counts()
    with pytest.raises(ValidationError) as exc:
        add_clue(cast.assigned, cast.case, platform=alipay, received_on=dt.date.today() + days(30))
    assert "received_on" in exc.value.message_dict
    assert counts() == before


def test_overdue_is_pending_past_the_deadline(cast, alipay, freeze_today):
    today = freeze_today(D("2025-06-20"))
    late = add_clue(cast.assigned, cast.case, platform=alipay, account="late", received_on=D("2025-06-09"))
    due_today = add_clue(cast.assigned, cast.case, platform=alipay, account="today", received_on=D("2025-06-13"))
    verified_late = add_clue(cast.assigned, cast.case, platform=alipay, account="done", received_on=D("2025-06-09"))
    services.verify_clue(cast.assigned, verified_late)
    assert late.verify_by < today
    assert due_today.verify_by == today  # 13th + 7 = Friday 20th

    assert list(queries.overdue_clues(cast.assigned)) == [late]
    # the bureau head of the court sees the list too; a colleague with no grant does not
    assert list(queries.overdue_clues(cast.head)) == [late]
    assert list(queries.overdue_clues(cast.colleague)) == []

    body = client_for(cast.assigned).get(f"/api/v1/cases/{cast.case.pk}/clues/").json()
    overdue = {c["account"]: c["overdue"] for c in body}
    assert overdue == {"late": True, "today": False, "done": False}


def test_clues_to_verify_lists_pending_only(cast, alipay):
    pending = add_clue(cast.assigned, cast.case, platform=alipay, account="a")
    done = add_clue(cast.assigned, cast.case, platform=alipay, account="b")
    services.verify_clue(cast.assigned, done)
    invalid = add_clue(cast.assigned, cast.case, platform=alipay, account="c")
    services.invalidate_clue(cast.assigned, invalid, reason="账户已注销")
    assert list(queries.clues_to_verify(cast.assigned)) == [pending]
    assert PropertyClue.objects.get(pk=invalid.pk).invalid_reason == "账户已注销"
