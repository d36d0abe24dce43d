"""执转破 notifications: every other court holding a case against the respondent is notified (one
per case, in the decision's transaction, audited), the notification shows on the workbench of that
court's bureau heads and of the case's judges only, is acknowledged once (404 for anybody else),
and the suspended case's page says why."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse

from enforcement.models import AuditEntry, Court, Role
from tests.factories import EnforcementCaseFactory, PartyFactory, UserFactory
from tests.transfers.conftest import decide_bankruptcy, document, start
from transfers import services
from transfers.models import CourtNotification

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral(people):
    """A company with cases in 雨湖 (two: the referred one and another), 岳塘 and 蕉城; the 雨湖
    case is referred to bankruptcy review and decided."""
    Court.objects.filter(pk=people.courts.mid.pk).update(region="430300")
    company = PartyFactory(entity=True, name="湘潭鲜享家网络科技有限公司", region="430302")
    case = EnforcementCaseFactory(court=people.courts.yuhu, judges=[people.assigned], parties__respondents=[company])
    start(case, people.assigned)
    own_other = EnforcementCaseFactory(
        court=people.courts.yuhu, judges=[people.assigned], parties__respondents=[company]
    )
    yuetang_judge = UserFactory(username="yt_judge", court=people.courts.yuetang, roles=[Role.JUDGE])
    yuetang_colleague = UserFactory(username="yt_colleague", court=people.courts.yuetang, roles=[Role.JUDGE])
    yuetang_case = EnforcementCaseFactory(
        court=people.courts.yuetang, judges=[yuetang_judge], parties__respondents=[company]
    )
    start(yuetang_case, yuetang_judge)
    jc_judge = UserFactory(username="jc_judge", court=people.courts.jiaocheng, roles=[Role.JUDGE])
    jc_case = EnforcementCaseFactory(court=people.courts.jiaocheng, judges=[jc_judge], parties__respondents=[company])
    consent = document(people.assigned, case, title="申请执行人同意移送破产审查的书面意见")
    transfer = services.create_transfer(
        people.assigned,
        case=case,
        mode="bankruptcy",
        trigger="court_request",
        reason="不能清偿到期债务",
        consent_document=consent.pk,
    )
    transfer = decide_bankruptcy(people, transfer)
    return {
        "transfer": transfer,
        "case": case,
        "own_other": own_other,
        "yuetang_case": yuetang_case,
        "yuetang_judge": yuetang_judge,
        "yuetang_colleague": yuetang_colleague,
        "jc_case": jc_case,
        "jc_judge": jc_judge,
    }


def test_the_decision_notifies_every_other_court_once_per_case(people, referral):
    transfer = referral["transfer"]
    notifications = {n.case_id: n for n in CourtNotification.objects.all()}
    assert set(notifications) == {referral["yuetang_case"].pk, referral["jc_case"].pk}  # not the own court
    for n in notifications.values():
        assert n.transfer_id == transfer.pk and n.kind == "bankruptcy_referral" and n.acknowledged_at is None
        assert n.court_id == n.case.court_id
        assert "湘潭市雨湖区人民法院" in n.text and "湘潭鲜享家网络科技有限公司" in n.text
        assert transfer.decision_number in n.text
    audited = AuditEntry.objects.filter(action="transfer.court_notified")
    assert sorted(audited.values_list("case_id", flat=True)) == sorted(notifications)


def test_the_workbench_shows_a_notification_to_the_courts_head_and_the_cases_judges_only(client, people, referral):
    yuetang = CourtNotification.objects.get(case=referral["yuetang_case"])
    jc = CourtNotification.objects.get(case=referral["jc_case"])

    def shown(user) -> set[int]:
        client.force_login(user)
        response = client.get(reverse("workbench"))
        assert response.status_code == 200
        html = response.content.decode()
        return {n.pk for n in (yuetang, jc) if f'id="notification-{n.pk}"' in html}

    assert shown(people.sibling_head) == {yuetang.pk}  # 岳塘's bureau head
    assert shown(referral["yuetang_judge"]) == {yuetang.pk}  # the judge of the 岳塘 case
    assert shown(referral["jc_judge"]) == {jc.pk}
    assert shown(people.outsider) == {jc.pk}  # 蕉城's bureau head
    for user in (referral["yuetang_colleague"], people.head, people.assigned, people.supervisor):
        assert shown(user) == set()
    client.force_login(referral["yuetang_judge"])
    html = client.get(reverse("workbench")).content.decode()
    assert "待确认的通知" in html and yuetang.text in html and reverse("notification_acknowledge", args=[yuetang.pk])


def test_acknowledged_once_by_the_notified_court_404_for_everybody_else(client, people, referral):
    notification = CourtNotification.objects.get(case=referral["yuetang_case"])
    url = reverse("notification_acknowledge", args=[notification.pk])
    audit_before = AuditEntry.objects.count()
    # another court's users, a colleague who may not see the case, the original court: 404
    for user in (referral["jc_judge"], referral["yuetang_colleague"], people.head, people.supervisor, people.admin):
        client.force_login(user)
        assert client.post(url).status_code == 404, user
        with pytest.raises(Http404):
            services.acknowledge_notification(user, notification)
    assert client.get(url).status_code == 405
    notification.refresh_from_db()
    assert notification.acknowledged_at is None and AuditEntry.objects.count() == audit_before
    client.force_login(referral["yuetang_judge"])
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("workbench")
    notification.refresh_from_db()
    assert notification.acknowledged_by == referral["yuetang_judge"] and notification.acknowledged_at
    entry = AuditEntry.objects.get(action="transfer.notification_ack")
    assert entry.case_id == referral["yuetang_case"].pk and entry.actor == referral["yuetang_judge"]
    # once: the bureau head's later click changes nothing and says who acknowledged it
    acknowledged_at = notification.acknowledged_at
    with pytest.raises(ValidationError) as exc:
        services.acknowledge_notification(people.sibling_head, notification)
    assert "已于" in exc.value.message_dict["state"][0] and "确认" in exc.value.message_dict["state"][0]
    client.force_login(people.sibling_head)
    page = client.post(url, follow=True).content.decode()
    assert "该通知已于" in page
    notification.refresh_from_db()
    assert notification.acknowledged_at == acknowledged_at and notification.acknowledged_by == referral["yuetang_judge"]
    assert AuditEntry.objects.filter(action="transfer.notification_ack").count() == 1
    assert f'id="notification-{notification.pk}"' not in client.get(reverse("workbench")).content.decode()


def test_the_suspended_cases_page_says_why_and_links_the_transfer_when_visible(client, people, referral):
    transfer = referral["transfer"]
    link = reverse("transfer_detail", args=[transfer.pk])
    client.force_login(referral["yuetang_judge"])
    html = client.get(reverse("case_detail", args=[referral["yuetang_case"].pk])).content.decode()
    assert "中止执行原因" in html and "移送破产审查" in html and transfer.decision_number in html
    assert link not in html  # the referred case is 雨湖's: 岳塘's judge may not see the transfer
    assert client.get(link).status_code == 404
    client.force_login(people.supervisor)  # the intermediate court above both
    html = client.get(reverse("case_detail", args=[referral["yuetang_case"].pk])).content.decode()
    assert "中止执行原因" in html and link in html
    client.force_login(people.assigned)
    for case in (referral["case"], referral["own_other"]):
        html = client.get(reverse("case_detail", args=[case.pk])).content.decode()
        assert "中止执行原因" in html and link in html
    # the transfer page lists the courts notified and who acknowledged
    services.acknowledge_notification(referral["jc_judge"], CourtNotification.objects.get(case=referral["jc_case"]))
    html = client.get(link).content.decode()
    assert "已通知的法院" in html and "湘潭市岳塘区人民法院" in html and "待确认" in html
    assert referral["jc_case"].number in html and str(referral["jc_judge"]) in html


def test_refusal_resumes_and_the_reason_goes(client, people, referral):
    transfer = services.refuse_transfer(people.mid_head, referral["transfer"], reason="不符合受理条件")
    assert transfer.state == "returned"
    client.force_login(referral["yuetang_judge"])
    html = client.get(reverse("case_detail", args=[referral["yuetang_case"].pk])).content.decode()
    assert "中止执行原因" not in html


def test_a_refusal_by_the_bankruptcy_court_is_notified_to_the_same_courts(people, referral):
    transfer = services.refuse_transfer(people.mid_head, referral["transfer"], reason="不符合受理条件")
    refused = {n.case_id: n for n in CourtNotification.objects.filter(kind="bankruptcy_refused")}
    assert set(refused) == {referral["yuetang_case"].pk, referral["jc_case"].pk}
    for n in refused.values():
        assert n.court_id == n.case.court_id and n.transfer_id == transfer.pk
        assert "不予受理" in n.text and "恢复执行" in n.text and transfer.decision_number in n.text
    referral["yuetang_case"].refresh_from_db()
    assert referral["yuetang_case"].status == "in_progress"
    assert AuditEntry.objects.filter(action="transfer.court_notified", case_id=referral["jc_case"].pk).count() == 2
