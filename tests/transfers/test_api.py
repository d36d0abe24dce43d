"""The transfer API: exact statuses for the whole cast on every endpoint, nothing written on a
denial, the answer shapes of API.md, Chinese errors keyed by field, and constant query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import EnforcementCaseFactory
from tests.transfers.conftest import client_for, designate, snapshot
from transfers import queries, services

pytestmark = pytest.mark.django_db

CAST = [
    "assigned",
    "colleague",
    "head",
    "supervisor",
    "high_supervisor",
    "sibling_head",
    "outsider",
    "other_supervisor",
    "admin",
    "superuser",
]


def _check(people, who, method, url, body, expected, ok_statuses=(200, 201)):
    before = snapshot()
    client = client_for(getattr(people, who))
    answer = getattr(client, method)(url, body, format="json") if method == "post" else client.get(url)
    assert answer.status_code == expected, (who, answer.content[:300])
    if expected not in ok_statuses or method == "get":
        assert snapshot() == before
    return answer


CREATE = dict(
    zip(CAST, [403, 404, 403, 201, 201, 404, 404, 404, 403, 403], strict=True),
)


@pytest.mark.parametrize("who", CAST)
def test_create_matrix(people, who):
    body = {"case": people.case.pk, "mode": "designate", "trigger": "supervisor_initiative", "reason": "长期未执行"}
    answer = _check(people, who, "post", "/api/v1/transfers/", body, CREATE[who])
    if answer.status_code == 201:
        data = answer.json()
        assert data["state"] == "under_review" and data["deciding_court"] == getattr(people, who).court_id
        assert {"id", "state", "deciding_court", "case", "mode", "trigger", "reason"} <= set(data)


def test_create_court_request_and_errors(people):
    body = {"case": people.case.pk, "mode": "designate", "trigger": "court_request", "reason": "请求指定"}
    answer = client_for(people.head).post("/api/v1/transfers/", body, format="json")
    assert answer.status_code == 201 and answer.json()["state"] == "proposed"
    assert answer.json()["deciding_court"] == people.courts.mid.pk
    answer = client_for(people.supervisor).post(
        "/api/v1/transfers/", {"case": people.case.pk, "mode": "x", "trigger": "supervisor_initiative"}, format="json"
    )
    assert answer.status_code == 400 and "reason" in answer.json()
    answer = client_for(people.supervisor).post(
        "/api/v1/transfers/",
        {"case": people.case.pk, "mode": "x", "trigger": "supervisor_initiative", "reason": "r", "extra": 1},
        format="json",
    )
    assert answer.status_code == 400 and "extra" in answer.json()
    answer = client_for(people.supervisor).post(
        "/api/v1/transfers/",
        {"case": 999999, "mode": "designate", "trigger": "supervisor_initiative", "reason": "r"},
        format="json",
    )
    assert answer.status_code == 404
    assert client_for(None).post("/api/v1/transfers/", {}, format="json").status_code == 401


APPROVE = dict(zip(CAST, [403, 404, 403, 200, 403, 404, 404, 404, 404, 404], strict=True))


@pytest.mark.parametrize("who", CAST)
def test_approve_matrix(people, who):
    transfer = designate(people, approve=False)
    body = {"receiving_court": people.courts.yuetang.pk, "deadline_days": 30}
    answer = _check(people, who, "post", f"/api/v1/transfers/{transfer.pk}/approve/", body, APPROVE[who])
    if answer.status_code == 200:
        assert answer.json()["state"] == "approved" and answer.json()["receiving_court"] == people.courts.yuetang.pk
        assert answer.json()["decision_number"] and answer.json()["reconsideration_due"]


@pytest.mark.parametrize("who", CAST)
def test_reject_matrix(people, who):
    transfer = designate(people, approve=False)
    answer = _check(people, who, "post", f"/api/v1/transfers/{transfer.pk}/reject/", {"reason": "不符合"}, APPROVE[who])
    if answer.status_code == 200:
        assert answer.json()["state"] == "rejected"


def test_approve_errors_are_chinese_and_keyed(people):
    transfer = designate(people, approve=False)
    answer = client_for(people.supervisor).post(
        f"/api/v1/transfers/{transfer.pk}/approve/", {"receiving_court": people.courts.jiaocheng.pk}, format="json"
    )
    assert answer.status_code == 400 and "最高人民法院" in answer.json()["receiving_court"][0]
    answer = client_for(people.supervisor).post(
        f"/api/v1/transfers/{transfer.pk}/approve/",
        {"receiving_court": people.courts.yuetang.pk, "deadline_days": 0},
        format="json",
    )
    assert answer.status_code == 400 and "deadline_days" in answer.json()
    assert client_for(people.supervisor).post("/api/v1/transfers/99999/approve/", {}, format="json").status_code == 404


ACCEPT = dict(zip(CAST, [403, 404, 403, 403, 403, 200, 404, 404, 404, 404], strict=True))


@pytest.mark.parametrize("who", CAST)
def test_accept_matrix(people, who):
    transfer = designate(people)
    answer = _check(
        people,
        who,
        "post",
        f"/api/v1/transfers/{transfer.pk}/accept/",
        {"judges": [people.receiving_judge.pk]},
        ACCEPT[who],
    )
    if answer.status_code == 200:
        body = answer.json()
        assert body["state"] == "accepted" and body["receiving_case"]
        case = client_for(people.receiving_judge).get(f"/api/v1/cases/{body['receiving_case']}/").json()
        assert case["origin_case"] == people.case.pk and case["court"] == people.courts.yuetang.pk
        original = client_for(people.assigned).get(f"/api/v1/cases/{people.case.pk}/").json()
        assert original["status"] == "closed" and original["successor_case"] == body["receiving_case"]


DETAIL_PENDING = dict(zip(CAST, [200, 404, 200, 200, 200, 404, 404, 404, 404, 404], strict=True))
DETAIL_APPROVED = {**DETAIL_PENDING, "sibling_head": 200}


@pytest.mark.parametrize("who", CAST)
def test_detail_and_recommendation_matrix(people, who):
    transfer = designate(people, approve=False)
    _check(people, who, "get", f"/api/v1/transfers/{transfer.pk}/", None, DETAIL_PENDING[who])
    _check(people, who, "get", f"/api/v1/transfers/{transfer.pk}/recommendation/", None, DETAIL_PENDING[who])
    services.approve_transfer(people.supervisor, transfer, receiving_court=people.courts.yuetang)
    _check(people, who, "get", f"/api/v1/transfers/{transfer.pk}/", None, DETAIL_APPROVED[who])
    listed = client_for(getattr(people, who)).get("/api/v1/transfers/")
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()["results"]] == ([transfer.pk] if DETAIL_APPROVED[who] == 200 else [])


def test_other_endpoints_statuses(people):
    transfer = designate(people)
    url = f"/api/v1/transfers/{transfer.pk}"
    sup, head, sib, out = (
        client_for(p) for p in (people.supervisor, people.head, people.sibling_head, people.outsider)
    )
    assert out.post(f"{url}/reconsideration/", {"reason": "x"}, format="json").status_code == 404
    assert (
        client_for(people.assigned).post(f"{url}/reconsideration/", {"reason": "x"}, format="json").status_code == 403
    )
    assert head.post(f"{url}/reconsideration/", {"reason": "已查到财产"}, format="json").status_code == 200
    assert (
        head.post(f"{url}/reconsideration/answer/", {"upheld": True, "answer": "x"}, format="json").status_code == 403
    )
    assert (
        sup.post(f"{url}/reconsideration/answer/", {"upheld": True, "answer": "维持"}, format="json").status_code == 200
    )
    assert sib.post(f"{url}/refuse/", {"reason": "x"}, format="json").status_code == 400
    assert sib.post(f"{url}/accept/", {"judges": [people.receiving_judge.pk]}, format="json").status_code == 200
    assert out.post(f"{url}/reports/", {"text": "x"}, format="json").status_code == 404
    answer = client_for(people.receiving_judge).post(f"{url}/reports/", {"text": "已冻结"}, format="json")
    assert answer.status_code == 201
    answer = client_for(people.receiving_judge).post(f"{url}/materials/", {"description": "卷宗"}, format="json")
    assert answer.status_code == 201
    material = answer.json()["id"]
    assert sib.post(f"/api/v1/transfer-materials/{material}/supply/", {"note": "x"}, format="json").status_code == 403
    assert (
        head.post(f"/api/v1/transfer-materials/{material}/supply/", {"note": "已补"}, format="json").status_code == 200
    )
    assert sib.post(f"{url}/conclude/", {}, format="json").status_code == 403
    answer = sup.post(f"{url}/conclude/", {"note": "执行完毕"}, format="json")
    assert answer.status_code == 200 and answer.json()["state"] == "concluded"
    steps = [(s["from_state"], s["to_state"]) for s in answer.json()["steps"]]
    assert steps[-1] == ("in_progress", "concluded")


def test_excluded_periods_endpoint(people):
    url = f"/api/v1/cases/{people.case.pk}/art237-exclusions/"
    body = {
        "kind": "appraisal",
        "started_on": people.case.filed_on.replace(day=1).isoformat(),
        "ended_on": "2000-01-01",
    }
    assert client_for(people.outsider).post(url, body, format="json").status_code == 404
    assert client_for(people.supervisor).post(url, body, format="json").status_code == 403
    answer = client_for(people.assigned).post(url, body, format="json")
    assert answer.status_code == 400 and set(answer.json()) & {"ended_on", "started_on"}
    assert client_for(people.supervisor).get(url).json() == []


def test_lists_issue_a_constant_number_of_queries(people):
    client = client_for(people.supervisor)

    def count(url, total, make):
        while make.count < total:
            make()
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            answer = client.get(url)
        assert answer.status_code == 200
        return len(captured)

    class Make:
        count = 0

        def __call__(self):
            case = EnforcementCaseFactory(court=people.courts.yuhu)
            transfer = designate(people, case=case)
            services.accept_transfer(people.sibling_head, transfer)
            Make.count += 1

    make = Make()
    assert count("/api/v1/transfers/", 2, make) == count("/api/v1/transfers/", 7, make)
    transfer_id = client.get("/api/v1/transfers/").json()["results"][0]["id"]
    detail = f"/api/v1/transfers/{transfer_id}/"
    assert count(detail, 7, make) == count(detail, 9, make)


def test_file_access_list_is_constant_in_queries(people):
    client = client_for(people.head)

    def count(total):
        while queries.file_grants_for(people.head).count() < total:
            case = EnforcementCaseFactory(court=people.courts.yuhu)
            services.request_file_access(people.outsider, case=case.pk, reason="查阅")
        client.get("/api/v1/file-access/")
        with CaptureQueriesContext(connection) as captured:
            answer = client.get("/api/v1/file-access/")
        assert answer.json()["count"] == total
        return len(captured)

    assert count(2) == count(8)
