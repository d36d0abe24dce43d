"""The same asset across courts (other_courts) and the masking of data-category clues."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from guardian.shortcuts import assign_perm

from clues import services
from clues.models import MeasureStatus
from enforcement.models import AuditEntry, Role
from tests.clues.factories import add_clue, add_measure, case_in, client_for, respondent_of, twin_of
from tests.factories import PartyFactory, UserFactory

pytestmark = pytest.mark.django_db

D = dt.date.fromisoformat
ENTRY_KEYS = {"court", "court_name", "case_number", "measure_kind", "measure_status", "date", "queue_position"}


@pytest.fixture
def rivals(cast, alipay):
    """Two other courts on the same Alipay account of the same person (registered under other names)."""
    person = respondent_of(cast.case)
    jc_case, jc_judge = case_in(
        cast.courts.jiaocheng,
        respondent=twin_of(person, "王秘密"),
        applicant=PartyFactory(name="李申请"),
        amount_due="777777.00",
    )
    jc_clue = add_clue(
        jc_judge,
        jc_case,
        platform=alipay,
        account="ZFB 9988 77",
        estimated_value="88888.88",
        notes="秘密备注：账户藏于亲属名下",
    )
    jc_measure = add_measure(jc_judge, jc_case, jc_clue, amount="12345.67", effective_on=D("2025-03-05"))
    yt_case, yt_judge = case_in(cast.courts.yuetang, respondent=twin_of(person, "赵隐名"))
    yt_clue = add_clue(yt_judge, yt_case, platform=alipay, account="zfb998877", estimated_value="55555.55")
    return {
        "jc_case": jc_case,
        "jc_judge": jc_judge,
        "jc_clue": jc_clue,
        "jc_measure": jc_measure,
        "yt_case": yt_case,
        "yt_judge": yt_judge,
        "yt_clue": yt_clue,
    }


SECRETS = ["王秘密", "李申请", "赵隐名", "777777", "12345.67", "88888.88", "55555.55", "ZFB 9988 77", "秘密备注"]


def post_clue(user, case, **overrides):
    data = {
        "respondent": respondent_of(case).pk,
        "category": "funds",
        "kind": "payment_account",
        "platform": "alipay",
        "account": "Zfb 998877",
        "source": "applicant",
    }
    data.update(overrides)
    return client_for(user).post(f"/api/v1/cases/{case.pk}/clues/", data, format="json")


def test_recording_a_clue_shows_the_other_courts(cast, rivals):
    response = post_clue(cast.assigned, cast.case)

    assert response.status_code == 201, response.json()
    others = response.json()["other_courts"]
    assert all(set(entry) == ENTRY_KEYS for entry in others)
    expected = [
        {
            "court": "湘0304",
            "court_name": "湘潭市岳塘区人民法院",
            "case_number": rivals["yt_case"].number,
            "measure_kind": None,
            "measure_status": None,
            "date": rivals["yt_clue"].received_on.isoformat(),
            "queue_position": None,
        },
        {
            "court": "闽0902",
            "court_name": "宁德市蕉城区人民法院",
            "case_number": rivals["jc_case"].number,
            "measure_kind": "freeze",
            "measure_status": "active",
            "date": "2025-03-05",
            "queue_position": None,
        },
    ]
    assert sorted(others, key=lambda e: e["court"]) == sorted(expected, key=lambda e: e["court"])


def test_no_content_of_the_other_cases_leaks(cast, rivals):
    created = post_clue(cast.assigned, cast.case).json()
    client = client_for(cast.assigned)
    bodies = [
        created,
        client.get(f"/api/v1/clues/{created['id']}/").json(),
        client.get(f"/api/v1/cases/{cast.case.pk}/clues/").json(),
    ]
    text = json.dumps(bodies, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in text
    assert len(bodies[1]["other_courts"]) == 2


def test_the_first_court_sees_the_waiting_court_and_its_position(cast, rivals, alipay):
    ours = add_clue(cast.assigned, cast.case, platform=alipay, account="ZFB998877")
    waiting = add_measure(cast.assigned, cast.case, ours, amount="31415.92")
    assert (waiting.status, waiting.queue_position) == (MeasureStatus.WAITING, 1)

    body = client_for(rivals["jc_judge"]).get(f"/api/v1/clues/{rivals['jc_clue'].pk}/").json()
    ours_entry = [e for e in body["other_courts"] if e["court"] == "湘0302"]
    assert ours_entry == [
        {
            "court": "湘0302",
            "court_name": "湘潭市雨湖区人民法院",
            "case_number": cast.case.number,
            "measure_kind": "freeze",
            "measure_status": "waiting",
            "date": dt.date.today().isoformat(),  # a waiting measure has no effective day yet
            "queue_position": 1,
        }
    ]
    text = json.dumps(body["other_courts"], ensure_ascii=False)
    assert "31415.92" not in text
    assert respondent_of(cast.case).name not in text


def test_matching_is_exact_on_person_holder_and_account(cast, rivals, alipay, taobao):
    same = add_clue(cast.assigned, cast.case, platform=alipay, account=" zFb 99 88 77 ")
    other_platform = add_clue(cast.assigned, cast.case, platform=taobao, account="ZFB998877")
    other_account = add_clue(cast.assigned, cast.case, platform=alipay, account="ZFB998878")
    stranger_case, stranger_judge = case_in(cast.courts.yuhu)
    stranger = add_clue(stranger_judge, stranger_case, platform=alipay, account="ZFB998877")

    assert len(services.other_courts(same.asset_key, cast.case.pk)) == 2
    assert services.other_courts(other_platform.asset_key, cast.case.pk) == []
    assert services.other_courts(other_account.asset_key, cast.case.pk) == []
    # another person with the same account number: no match (the rivals do not show up)
    assert services.other_courts(stranger.asset_key, stranger_case.pk) == []


def test_own_case_clues_are_not_other_courts(cast, alipay):
    add_clue(cast.assigned, cast.case, platform=alipay, account="same")
    response = post_clue(cast.assigned, cast.case, account="SAME")
    assert response.json()["other_courts"] == []


def test_registry_assets_match_on_registry(cast):
    person = respondent_of(cast.case)
    rival_case, rival_judge = case_in(cast.courts.jiaocheng, respondent=twin_of(person, "王秘密"))
    add_clue(
        rival_judge,
        rival_case,
        category="traditional",
        kind="real_estate",
        registry="湘潭市不动产登记中心",
        account="湘(2024)雨湖区不动产权第0001号",
    )
    ours = add_clue(
        cast.assigned,
        cast.case,
        category="traditional",
        kind="real_estate",
        registry="湘潭市 不动产登记中心",
        account="湘(2024)雨湖区不动产权第0001号",
    )
    elsewhere = add_clue(
        cast.assigned,
        cast.case,
        category="traditional",
        kind="real_estate",
        registry="宁德市不动产登记中心",
        account="湘(2024)雨湖区不动产权第0001号",
    )
    assert [e["court"] for e in services.other_courts(ours.asset_key, cast.case.pk)] == ["闽0902"]
    assert services.other_courts(elsewhere.asset_key, cast.case.pk) == []


def test_entities_match_on_uscc(cast, alipay):
    company = PartyFactory(entity=True, name="鲜享家科技有限公司")
    ours_case, ours_judge = case_in(cast.courts.yuhu, respondent=company)
    twin = PartyFactory(entity=True, name="鲜享家（别名）", uscc=company.uscc)
    their_case, their_judge = case_in(cast.courts.jiaocheng, respondent=twin)
    add_clue(their_judge, their_case, platform=alipay, account="2088-XXJ")
    ours = add_clue(ours_judge, ours_case, platform=alipay, account="2088-xxj")
    assert [e["case_number"] for e in services.other_courts(ours.asset_key, ours_case.pk)] == [their_case.number]


# --------------------------------------------------------------------------------------------
# data-category clues: content only for readers of the case file, every read audited
# --------------------------------------------------------------------------------------------

MASKED = ("account", "registry", "notes", "estimated_value")


@pytest.fixture
def data_clue(cast, alipay):
    return add_clue(
        cast.assigned,
        cast.case,
        platform=alipay,
        category="data",
        kind="user_data",
        registry="支付宝（中国）网络技术有限公司",
        account="U-778899",
        estimated_value="500.00",
        notes="含用户手机号13800000000",
    )


@pytest.fixture
def viewer(cast):
    """A judge of the court who may view the case but not read its file."""
    user = UserFactory(court=cast.courts.yuhu, roles=[Role.JUDGE])
    assign_perm("view_enforcementcase", user, cast.case)
    return user


def sensitive_reads() -> int:
    return AuditEntry.objects.filter(action="clue.sensitive_read").count()


def test_viewer_without_file_access_sees_stars(cast, alipay, data_clue, viewer):
    plain = add_clue(cast.assigned, cast.case, platform=alipay, account="FUNDS-1", estimated_value="10.00")
    client = client_for(viewer)
    before = sensitive_reads()

    listed = {c["id"]: c for c in client.get(f"/api/v1/cases/{cast.case.pk}/clues/").json()}
    detail = client.get(f"/api/v1/clues/{data_clue.pk}/").json()

    for body in (listed[data_clue.pk], detail):
        assert {field: body[field] for field in MASKED} == dict.fromkeys(MASKED, "***")
        assert body["kind"] == "user_data"
    assert listed[plain.pk]["account"] == "FUNDS-1"
    assert listed[plain.pk]["estimated_value"] == "10.00"
    text = json.dumps([listed, detail], ensure_ascii=False)
    assert "U-778899" not in text and "13800000000" not in text
    assert sensitive_reads() == before  # nothing was read


def test_data_clue_content_does_not_leak_through_the_timeline(cast, data_clue, viewer):
    services.verify_clue(cast.assigned, data_clue)
    add_measure(cast.assigned, cast.case, data_clue, kind="seize")
    response = client_for(viewer).get(f"/api/v1/cases/{cast.case.pk}/events/")
    assert response.status_code == 200
    text = json.dumps(response.json(), ensure_ascii=False)
    assert "U-778899" not in text


def test_measures_of_a_data_clue_show_no_content_to_a_viewer(cast, data_clue, viewer):
    measure = add_measure(cast.assigned, cast.case, data_clue, kind="seize")
    client = client_for(viewer)
    bodies = [
        client.get(f"/api/v1/measures/{measure.pk}/").json(),
        client.get(f"/api/v1/cases/{cast.case.pk}/measures/").json(),
    ]
    assert "U-778899" not in json.dumps(bodies, ensure_ascii=False)


@pytest.mark.parametrize("who", ["assigned", "head", "supervisor"])
def test_file_readers_see_the_content_and_each_read_is_audited(cast, data_clue, who):
    user = getattr(cast, who)
    client = client_for(user)
    before = sensitive_reads()

    listed = client.get(f"/api/v1/cases/{cast.case.pk}/clues/").json()
    assert sensitive_reads() == before + 1
    detail = client.get(f"/api/v1/clues/{data_clue.pk}/").json()
    assert sensitive_reads() == before + 2
    client.get(f"/api/v1/clues/{data_clue.pk}/")
    assert sensitive_reads() == before + 3

    for body in (listed[0], detail):
        assert body["account"] == "U-778899"
        assert body["registry"] == "支付宝（中国）网络技术有限公司"
        assert body["estimated_value"] == "500.00"
        assert body["notes"] == "含用户手机号13800000000"
    entry = AuditEntry.objects.filter(action="clue.sensitive_read").latest("id")
    assert entry.actor == user
    assert entry.case_id == cast.case.pk
    assert data_clue.pk in entry.payload["clues"]


def test_a_list_without_data_clues_writes_no_read_audit(cast, alipay):
    add_clue(cast.assigned, cast.case, platform=alipay)
    before = sensitive_reads()
    client_for(cast.assigned).get(f"/api/v1/cases/{cast.case.pk}/clues/")
    assert sensitive_reads() == before


def test_a_clue_without_measure_is_dated_by_the_court_day_it_was_registered(cast, rivals):
    """Registered at 01:30 Beijing time (17:30 UTC the day before): the court's day, not UTC's."""
    from clues.models import PropertyClue

    PropertyClue.objects.filter(pk=rivals["yt_clue"].pk).update(
        created_at=dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC)
    )
    entries = services.other_courts(rivals["yt_clue"].asset_key, cast.case.pk)
    [yuetang] = [e for e in entries if e["case_number"] == rivals["yt_case"].number]
    assert (yuetang["measure_kind"], yuetang["date"]) == (None, D("2026-03-02"))
