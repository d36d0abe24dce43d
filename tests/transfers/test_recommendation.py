"""Clue-guided court recommendation: a constructed case with clues on three platforms."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enforcement.models import Court, CourtLevel, Party, Role
from tests.clues.factories import PlatformFactory, add_clue, add_measure
from tests.factories import CourtFactory, EnforcementCaseFactory, UserFactory
from tests.transfers.conftest import client_for, designate

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(people):
    courts = people.courts
    Court.objects.filter(pk=courts.yuetang.pk).update(region="430304")
    county = CourtFactory(
        code="湘0321", name="湘潭县人民法院", level=CourtLevel.BASIC, parent=courts.mid, region="430321"
    )
    shaoshan = CourtFactory(
        code="湘0382", name="韶山市人民法院", level=CourtLevel.BASIC, parent=courts.mid, region="430382"
    )
    for court, judges, cases in ((county, 2, 4), (shaoshan, 1, 6), (courts.yuetang, 2, 2)):
        for _ in range(judges):
            UserFactory(court=court, roles=[Role.JUDGE])
        for _ in range(cases):
            EnforcementCaseFactory(court=court)
    taobao = PlatformFactory(code="taobao", name="淘宝", hq_court=county, region="430321")
    alipay = PlatformFactory(code="alipay", name="支付宝", hq_court=county, region="430321")
    jd = PlatformFactory(code="jd", name="京东", hq_court=shaoshan, region="430382")
    pdd = PlatformFactory(code="pdd", name="拼多多", hq_court=courts.yuhu, region="430302")
    case = people.case
    add_clue(people.assigned, case, platform=taobao, account="tb-1", estimated_value="50000.00")
    zfb = add_clue(people.assigned, case, platform=alipay, account="zfb-1", estimated_value="1000.00")
    add_measure(people.assigned, case, zfb, amount="30000.00")  # the measure's amount counts
    add_clue(people.assigned, case, platform=jd, account="jd-1", estimated_value="10000.00")
    add_clue(people.assigned, case, platform=pdd, account="pdd-1", estimated_value="90000.00")
    respondent = case.case_parties.get(role="respondent").party
    Party.objects.filter(pk=respondent.pk).update(region="430382")
    return {"county": county, "shaoshan": shaoshan, "platforms": (taobao, alipay, jd, pdd)}


def test_ranking_with_reasons_and_the_original_court_excluded(people, setting):
    transfer = designate(people, approve=False)
    body = client_for(people.supervisor).get(f"/api/v1/transfers/{transfer.pk}/recommendation/").json()
    candidates = body["candidates"]
    assert [c["court"] for c in candidates] == [setting["county"].pk, setting["shaoshan"].pk, people.courts.yuetang.pk]
    assert people.courts.yuhu.pk not in [c["court"] for c in candidates]  # 拼多多's court is the original court
    assert candidates[0]["score"] > candidates[1]["score"] > candidates[2]["score"]
    top = candidates[0]["reasons"]
    assert top[0].startswith("淘宝、支付宝上的线索合计 ¥80,000.00") and top[0].endswith("平台所在地为湘潭县人民法院")
    assert any("被执行人" in r and "住所地" in r for r in candidates[1]["reasons"])
    assert any("京东上的线索合计 ¥10,000.00" in r for r in candidates[1]["reasons"])
    assert all(any("人均" in r for r in c["reasons"]) for c in candidates)


def test_weights_are_configurable(people, setting, settings):
    settings.TRANSFER_WEIGHT_PROPERTY = 0
    settings.TRANSFER_WEIGHT_CLUE_REGION = 0
    settings.TRANSFER_WEIGHT_DOMICILE = 100
    transfer = designate(people, approve=False)
    body = client_for(people.supervisor).get(f"/api/v1/transfers/{transfer.pk}/recommendation/").json()
    assert body["candidates"][0]["court"] == setting["shaoshan"].pk


def test_elevation_recommends_the_deciding_court(people, setting):
    transfer = designate(people, mode="elevate", approve=False)
    body = client_for(people.supervisor).get(f"/api/v1/transfers/{transfer.pk}/recommendation/").json()
    assert [c["court"] for c in body["candidates"]] == [people.courts.mid.pk]


def test_recommendation_is_hidden_and_constant_in_queries(people, setting):
    transfer = designate(people, approve=False)
    url = f"/api/v1/transfers/{transfer.pk}/recommendation/"
    assert client_for(people.outsider).get(url).status_code == 404
    assert client_for(people.other_supervisor).get(url).status_code == 404
    client = client_for(people.supervisor)

    def count() -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = count()
    taobao = setting["platforms"][0]
    for i in range(8):
        add_clue(people.assigned, people.case, platform=taobao, account=f"tb-x{i}", estimated_value="10.00")
    assert count() == before
