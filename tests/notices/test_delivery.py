"""Notices delivered to the real stand-in platform process and their results ingested."""

from decimal import Decimal

import pytest

from clues.models import Measure, PropertyClue
from enforcement.models import AuditEntry
from platforms import services
from platforms.models import DeliveryAttempt, Notice, NoticeState
from tests.clues.factories import PlatformFactory
from tests.factories import EnforcementCaseFactory, PartyFactory
from tests.support.platforms import COMPANY_USCC, holding, platform_config

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    return PartyFactory(entity=True, name="湘潭鲜享家网络科技有限公司", uscc=COMPANY_USCC)


@pytest.fixture
def case(cast, company):
    return EnforcementCaseFactory(
        court=cast.courts.yuhu, judges=[cast.assigned], parties__respondents=[company], amount_due=Decimal("500000.00")
    )


def test_query_of_all_platforms_turns_holdings_into_clues(cast, case, company, mock_platforms, sysadmin):
    config = {
        "taobao": platform_config("taobao", holdings=[holding("tb-1", "1200.50"), holding("tb-2", "300.00")]),
        "alipay": platform_config("alipay", holdings=[holding("ali-1", "88000.00", kind="payment_account")]),
        "jd": platform_config("jd"),
    }
    mock = mock_platforms(config)
    for code in config:
        mock.connect(sysadmin, PlatformFactory(code=code, name=code))

    notices = services.request_notices(cast.assigned, case, kind="query", platforms="all", respondent=company.pk)
    assert {n.platform.code for n in notices} == set(config)
    assert {n.state for n in notices} == {NoticeState.QUEUED}

    assert services.deliver_many([n.pk for n in notices]) == {n.pk: "completed" for n in notices}
    found = {c.account: c for c in PropertyClue.objects.filter(case=case)}
    assert set(found) == {"tb-1", "tb-2", "ali-1"}
    assert found["ali-1"].estimated_value == Decimal("88000.00")
    assert found["ali-1"].kind == "payment_account" and found["ali-1"].source == "platform_query"
    assert DeliveryAttempt.objects.filter(notice__case=case, outcome="done").count() == 3
    ledger = mock.ledger("taobao")["requests"]
    assert [r["kind"] for r in ledger] == ["query"] and ledger[0]["replayed"] is False

    # the same notice delivered again (a duplicate task) is skipped, not sent twice
    assert services.deliver(notices[0].pk) == "skipped"
    assert len(mock.ledger(notices[0].platform.code)["requests"]) == 1


def test_freeze_holds_at_most_the_balance_and_becomes_a_measure(cast, case, company, mock_platforms, sysadmin):
    mock = mock_platforms({"alipay": platform_config("alipay", holdings=[holding("ali-1", "30000.00")])})
    mock.connect(sysadmin, PlatformFactory(code="alipay", name="支付宝"))

    (notice,) = services.request_notices(
        cast.head,
        case,
        kind="freeze",
        platforms=["alipay"],
        respondent=company.pk,
        account="ali-1",
        amount="50000.00",
    )
    assert notice.state == NoticeState.QUEUED  # the bureau head's own freeze needs no approval
    assert services.deliver(notice.pk) == "completed"
    notice.refresh_from_db()
    assert notice.result["amount_frozen"] == "30000.00"
    measure = Measure.objects.get(case=case)
    assert (measure.kind, measure.amount, measure.status) == ("freeze", Decimal("30000.00"), "active")
    assert notice.measure_id == measure.pk
    assert mock.ledger("alipay")["holds"][0]["amount"] == "30000.00"


def test_judges_freeze_waits_for_approval_then_goes_out(cast, case, company, mock_platforms, sysadmin):
    mock = mock_platforms({"alipay": platform_config("alipay", holdings=[holding("ali-1", "30000.00")])})
    mock.connect(sysadmin, PlatformFactory(code="alipay", name="支付宝"))
    (notice,) = services.request_notices(
        cast.assigned,
        case,
        kind="freeze",
        platforms=["alipay"],
        respondent=company.pk,
        account="ali-1",
        amount="1000.00",
    )
    assert notice.state == NoticeState.AWAITING_APPROVAL
    assert services.deliver(notice.pk) == "skipped"
    assert mock.ledger("alipay")["requests"] == []
    services.approve_notice(cast.head, notice)
    assert services.deliver(notice.pk) == "completed"
    assert Measure.objects.get(case=case).amount == Decimal("1000.00")


def test_a_notice_whose_judge_was_unassigned_is_cancelled_not_sent(cast, case, company, mock_platforms, sysadmin):
    from enforcement.services import assign_judges

    mock = mock_platforms({"jd": platform_config("jd")})
    mock.connect(sysadmin, PlatformFactory(code="jd", name="京东"))
    (notice,) = services.request_notices(cast.assigned, case, kind="query", platforms=["jd"], respondent=company.pk)
    assign_judges(cast.head, case, [cast.colleague.pk])
    assert services.deliver(notice.pk) == "cancelled"
    notice.refresh_from_db()
    assert notice.state == NoticeState.CANCELLED and "承办" in notice.cancel_reason
    assert mock.ledger("jd")["requests"] == []


def test_denied_request_writes_and_queues_nothing(cast, case, company, mock_platforms, sysadmin):
    from django.http import Http404

    mock = mock_platforms({"jd": platform_config("jd")})
    mock.connect(sysadmin, PlatformFactory(code="jd", name="京东"))
    audit_before = AuditEntry.objects.count()
    with pytest.raises(Http404):
        services.request_notices(cast.outsider, case, kind="query", platforms="all", respondent=company.pk)
    assert Notice.objects.count() == 0 and AuditEntry.objects.count() == audit_before


def test_a_request_goes_out_as_one_task_and_is_recorded_as_one_batch(
    cast, case, company, mock_platforms, sysadmin, django_capture_on_commit_callbacks, monkeypatch, settings
):
    """One request to every platform is one Celery task; its answers are recorded in one
    transaction with one insert of attempts and one batch of audit entries on the case chain."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from enforcement import audit
    from platforms import tasks

    settings.NOTICE_CLAIM_BATCH = 24  # as by default: the claim also looks for waiting notices
    codes = ["taobao", "alipay", "jd", "douyin"]
    mock = mock_platforms({code: platform_config(code, holdings=[holding(f"{code}-1", "10.00")]) for code in codes})
    for code in codes:
        mock.connect(sysadmin, PlatformFactory(code=code, name=code))
    sent: list = []
    monkeypatch.setattr(tasks.deliver_notices, "delay", lambda ids: sent.append(ids))
    monkeypatch.setattr(tasks.deliver_notice, "delay", lambda pk: sent.append(pk))
    with django_capture_on_commit_callbacks(execute=True):
        notices = services.request_notices(cast.assigned, case, kind="query", platforms="all", respondent=company.pk)
    assert sent == [[n.pk for n in notices]]

    with CaptureQueriesContext(connection) as queries:
        outcomes = services.deliver_many(sent[0])
    assert outcomes == {n.pk: "completed" for n in notices}
    statements = [q["sql"] for q in queries.captured_queries]
    assert sum('INSERT INTO "platforms_deliveryattempt"' in sql for sql in statements) == 1
    assert sum('INSERT INTO "enforcement_auditentry"' in sql for sql in statements) == 1
    notice_updates = [sql for sql in statements if 'UPDATE "platforms_notice"' in sql]
    # the claim (compare-and-set on the request's notices, then the notices waiting that it takes
    # along: none here) and one update writing every final state
    assert len(notice_updates) == 3, notice_updates
    assert "sent_at" in notice_updates[0] and "SKIP LOCKED" in notice_updates[1] and "UNNEST" in notice_updates[2]
    assert set(PropertyClue.objects.filter(case=case).values_list("account", flat=True)) == {f"{c}-1" for c in codes}
    completed = AuditEntry.objects.filter(case_id=case.pk, action="notice.completed")
    assert sorted(int(e.object_id) for e in completed) == sorted(n.pk for n in notices)
    assert audit.verify() is None
    for code in codes:  # every platform reached once
        assert [r["replayed"] for r in mock.ledger(code)["requests"]] == [False]

    # the broker delivers the task again: nothing is sent twice
    assert services.deliver_many(sent[0]) == {n.pk: "skipped" for n in notices}
    assert all(len(mock.ledger(code)["requests"]) == 1 for code in codes)


def test_in_one_batch_a_disabled_connector_cancels_its_notice_and_the_others_go_out(
    cast, case, company, mock_platforms, sysadmin
):
    mock = mock_platforms({code: platform_config(code) for code in ("taobao", "jd")})
    connectors = {code: mock.connect(sysadmin, PlatformFactory(code=code, name=code)) for code in ("taobao", "jd")}
    notices = services.request_notices(cast.assigned, case, kind="query", platforms="all", respondent=company.pk)
    by_code = {n.platform.code: n for n in notices}
    connector = connectors["jd"]
    connector.enabled = False
    connector.save(update_fields=["enabled"])

    outcomes = services.deliver_many([n.pk for n in notices])
    assert outcomes == {by_code["taobao"].pk: "completed", by_code["jd"].pk: "cancelled"}
    assert Notice.objects.get(pk=by_code["jd"].pk).cancel_reason == "平台连接器已停用"
    assert mock.ledger("jd")["requests"] == [] and len(mock.ledger("taobao")["requests"]) == 1


def test_a_balance_reported_again_unchanged_writes_nothing_and_the_answer_is_kept_tamper_evident(
    cast, case, company, mock_platforms, sysadmin
):
    from clues import services as clue_services
    from enforcement import audit

    mock = mock_platforms({"alipay": platform_config("alipay", holdings=[holding("ali-1", "300.00")])})
    alipay = PlatformFactory(code="alipay", name="支付宝")
    mock.connect(sysadmin, alipay)

    def query():
        (notice,) = services.request_notices(cast.assigned, case, kind="query", platforms="all", respondent=company.pk)
        assert services.deliver_many([notice.pk]) == {notice.pk: "completed"}
        return Notice.objects.get(pk=notice.pk)

    def actions():
        return list(
            AuditEntry.objects.filter(case_id=case.pk, action__startswith="clue.").values_list("action", flat=True)
        )

    first, second = query(), query()
    assert actions() == ["clue.found"]  # the second answer repeated the balance: no entry, no update
    clue = PropertyClue.objects.get(case=case, account="ali-1")
    assert clue.estimated_value == Decimal("300.00")
    for notice in (first, second):  # each answer as kept on its notice is covered by the trail
        entry = AuditEntry.objects.get(action="notice.completed", object_id=str(notice.pk))
        assert entry.payload["result_digest"] == audit.digest(notice.result)
        assert notice.result["accounts"][0]["account"] == "ali-1"

    rows = [{"account": "ali-1", "asset_kind": "platform_balance", "balance": "120.00"}]
    assert clue_services.record_query_answers(case, respondent=company, answers=[(alipay, rows)]) == [None]
    assert actions() == ["clue.found", "clue.balance"]
    clue.refresh_from_db()
    assert clue.estimated_value == Decimal("120.00")
    assert audit.verify() is None
