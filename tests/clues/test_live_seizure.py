"""Live seizure (活查封): follow-up visits and sale proceeds recorded as recovered (seed 002: 40 pigs
left with the farmer, sold four months later, the case closed in full)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from clues import queries, services
from clues.models import ClueStatus, LiveSeizureVisit, MeasureStatus
from enforcement.models import CaseEvent
from tests.clues.factories import add_clue, add_measure, client_for, counts, days

pytestmark = pytest.mark.django_db


@pytest.fixture
def pigs(cast):
    cast.case.amount_due = Decimal("93000.00")
    cast.case.save(update_fields=["amount_due"])
    clue = add_clue(cast.assigned, cast.case, category="traditional", kind="livestock", account="生猪40头（猪舍甲）")
    measure = add_measure(cast.assigned, cast.case, clue, kind="live_seizure")
    return clue, measure


def test_live_seizure_is_a_movable_measure(pigs):
    _clue, measure = pigs
    assert measure.status == MeasureStatus.ACTIVE
    assert measure.asset_kind == "movable"
    assert measure.amount is None
    assert measure.expires_on == services.measure_expiry("movable", dt.date.today())


def test_schedule_and_record_a_visit(cast, pigs):
    _clue, measure = pigs
    today = dt.date.today()
    client = client_for(cast.assigned)

    response = client.post(f"/api/v1/measures/{measure.pk}/visits/", {"scheduled_on": today.isoformat()}, format="json")
    assert response.status_code == 201, response.json()
    visit = LiveSeizureVisit.objects.get(pk=response.json()["id"])
    assert visit.officer == cast.assigned
    assert list(services.visits_due()) == [visit]
    assert list(queries.visits_due_for(cast.assigned)) == [visit]

    response = client.post(
        f"/api/v1/visits/{visit.pk}/record/",
        {"visited_on": today.isoformat(), "count": 40, "condition": "存栏正常", "notes": "生猪40头均在栏"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["count"] == 40
    visit.refresh_from_db()
    assert (visit.visited_on, visit.count, visit.condition) == (today, 40, "存栏正常")
    assert list(services.visits_due()) == []
    assert CaseEvent.objects.filter(case=cast.case, kind="visit", message__contains="存栏正常").exists()


def test_a_future_visit_becomes_due_on_its_day(cast, pigs):
    _clue, measure = pigs
    later = dt.date.today() + days(10)
    visit = services.schedule_visit(cast.assigned, measure, scheduled_on=later)
    assert list(services.visits_due()) == []
    assert list(services.visits_due(today=later - days(1))) == []
    assert list(services.visits_due(today=later)) == [visit]
    # the workbench warns a few days ahead
    assert list(queries.visits_due_for(cast.assigned, today=later - days(3))) == [visit]
    assert list(queries.visits_due_for(cast.outsider, today=later)) == []


def test_visit_bad_input(cast, pigs):
    _clue, measure = pigs
    before = counts()
    with pytest.raises(ValidationError) as exc:
        services.schedule_visit(cast.assigned, measure, scheduled_on=dt.date.today() - days(1))
    assert "scheduled_on" in exc.value.message_dict
    assert counts() == before

    visit = services.schedule_visit(cast.assigned, measure, scheduled_on=dt.date.today())
    before = counts()
    with pytest.raises(ValidationError) as exc:
        services.record_visit(cast.assigned, visit, visited_on=dt.date.today() + days(1))
    assert "visited_on" in exc.value.message_dict
    assert counts() == before

    services.record_visit(cast.assigned, visit, visited_on=dt.date.today(), count=40)
    before = counts()
    with pytest.raises(ValidationError) as exc:
        services.record_visit(cast.assigned, visit, visited_on=dt.date.today(), count=39)
    assert "visit" in exc.value.message_dict
    assert counts() == before


def test_visits_only_on_an_active_live_seizure(cast, alipay):
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    freeze = add_measure(cast.assigned, cast.case, clue)
    with pytest.raises(ValidationError) as exc:
        services.schedule_visit(cast.assigned, freeze, scheduled_on=dt.date.today())
    assert "measure" in exc.value.message_dict


def test_sale_proceeds_are_recovered(cast, pigs):
    clue, measure = pigs
    response = client_for(cast.assigned).post(
        f"/api/v1/measures/{measure.pk}/proceeds/", {"amount": "93000.00"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "completed"

    cast.case.refresh_from_db()
    clue.refresh_from_db()
    measure.refresh_from_db()
    assert cast.case.amount_recovered == Decimal("93000.00")
    assert cast.case.amount_outstanding == Decimal("0.00")
    assert measure.status == MeasureStatus.COMPLETED
    assert clue.status == ClueStatus.DISPOSED
    assert CaseEvent.objects.filter(case=cast.case, kind="recovered", message__contains="93000.00").exists()


def test_partial_proceeds(cast, pigs):
    _clue, measure = pigs
    services.record_sale_proceeds(cast.assigned, measure, amount="60000.00")
    cast.case.refresh_from_db()
    assert cast.case.amount_recovered == Decimal("60000.00")


def test_proceeds_above_the_outstanding_amount_are_refused(cast, pigs):
    clue, measure = pigs
    before = counts()
    response = client_for(cast.assigned).post(
        f"/api/v1/measures/{measure.pk}/proceeds/", {"amount": "93000.01"}, format="json"
    )
    assert response.status_code == 400
    assert "amount" in response.json()
    assert counts() == before
    cast.case.refresh_from_db()
    measure.refresh_from_db()
    clue.refresh_from_db()
    assert cast.case.amount_recovered == Decimal("0.00")
    assert measure.status == MeasureStatus.ACTIVE
    assert clue.status == ClueStatus.UNDER_MEASURE


@pytest.mark.parametrize("amount", ["0", "-1", "1.001"])
def test_bad_proceeds(cast, pigs, amount):
    _clue, measure = pigs
    before = counts()
    with pytest.raises(ValidationError) as exc:
        services.record_sale_proceeds(cast.assigned, measure, amount=amount)
    assert "amount" in exc.value.message_dict
    assert counts() == before


def test_no_proceeds_on_a_freeze(cast, alipay):
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    freeze = add_measure(cast.assigned, cast.case, clue)
    before = counts()
    with pytest.raises(ValidationError) as exc:
        services.record_sale_proceeds(cast.assigned, freeze, amount="100.00")
    assert "measure" in exc.value.message_dict
    assert counts() == before


def test_no_proceeds_twice(cast, pigs):
    _clue, measure = pigs
    services.record_sale_proceeds(cast.assigned, measure, amount="1000.00")
    before = counts()
    with pytest.raises(ValidationError):
        services.record_sale_proceeds(cast.assigned, measure, amount="1000.00")
    assert counts() == before


def test_selling_renewed_goods_ends_the_renewal_too(cast, pigs):
    clue, measure = pigs
    renewal = services.renew_measure(cast.assigned, measure)
    services.record_sale_proceeds(cast.assigned, measure, amount="93000.00")
    renewal.refresh_from_db()
    # the goods are sold: nothing may keep holding them
    assert renewal.status != MeasureStatus.ACTIVE
    assert not clue.measures.filter(status__in=["active", "waiting"]).exists()


def test_a_visit_keeps_its_photos_from_the_case_file(cast, pigs):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from enforcement.services import add_document
    from tests.factories import EnforcementCaseFactory

    _clue, measure = pigs
    photo = add_document(
        cast.assigned,
        cast.case,
        doc_type="evidence",
        title="猪舍照片",
        upload=SimpleUploadedFile("pigs.jpg", b"\xff\xd8\xff jpeg bytes", content_type="image/jpeg"),
    )
    other_case = EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.assigned])
    foreign = add_document(
        cast.assigned,
        other_case,
        doc_type="evidence",
        title="别案照片",
        upload=SimpleUploadedFile("x.jpg", b"\xff\xd8\xff other", content_type="image/jpeg"),
    )
    visit = services.schedule_visit(cast.assigned, measure, scheduled_on=dt.date.today())
    client = client_for(cast.assigned)
    url = f"/api/v1/visits/{visit.pk}/record/"
    today = dt.date.today().isoformat()

    refused = client.post(url, {"visited_on": today, "photos": [foreign.pk]}, format="json")
    assert refused.status_code == 400 and "photos" in refused.json()
    visit.refresh_from_db()
    assert visit.visited_on is None and not visit.photos.exists()

    response = client.post(url, {"visited_on": today, "count": 40, "photos": [photo.pk]}, format="json")
    assert response.status_code == 200 and response.json()["photos"] == [photo.pk]
    assert list(visit.photos.all()) == [photo]
