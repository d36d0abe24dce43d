"""The stand-in platform service as a real process (``manage.py run_mock_platforms``), tested over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from platforms import signing
from tests.support.platforms import free_port

ROOT = Path(__file__).resolve().parents[2]
COMPANY = ("91430300MA4L0XXQ1U", "湘潭鲜享家网络科技有限公司")
PERSON = ("430302199003150048", "黄志伟")
YUHU, YUETANG = "湘潭市雨湖区人民法院", "湘潭市岳塘区人民法院"


def holding(who, account, balance, kind="platform_balance"):
    return {"holder_id": who[0], "holder_name": who[1], "account": account, "asset_kind": kind, "balance": balance}


def platform(code, mode="sync", holdings=(), **extra):
    return {
        "name": code.title(),
        "key_id": f"k-{code}",
        "secret": f"s-{code}",
        "latency_ms": 0,
        "failure_rate": 0.0,
        "mode": mode,
        "holdings": list(holdings),
        **extra,
    }


DATA = {
    "platforms": {
        "alpha": platform(
            "alpha",
            holdings=[
                holding(COMPANY, "a-query-1", "1000.00"),
                holding(COMPANY, "a-query-2", "250.5", "payment_account"),
                holding(PERSON, "a-person", "80.00"),
                holding(COMPANY, "a-freeze", "500.00"),
                holding(COMPANY, "a-replay", "900.00"),
                holding(COMPANY, "a-deduct", "1000.00"),
                holding(COMPANY, "a-unfreeze", "1000.00"),
                holding(COMPANY, "a-block", "321.09"),
                holding(COMPANY, "a-conflict", "100.00"),
            ],
            previous_secrets=["s-alpha-old"],
        ),
        "slow": platform("slow", latency_ms=600, holdings=[holding(COMPANY, "s-1", "100.00")]),
        "beta": platform(
            "beta",
            mode="async",
            latency_ms=20,
            holdings=[holding(COMPANY, "b-1", "700.00"), holding(COMPANY, "b-2", "50.00")],
        ),
        "gamma": platform("gamma", failure_rate=1.0, hang_s=1.0, holdings=[holding(COMPANY, "g-1", "600.00")]),
    }
}


def start_server(data_file: Path, log_file: Path, port: int, *extra: str) -> subprocess.Popen:
    # An unreachable database: the service must not need one.
    env = dict(os.environ, DATABASE_URL="postgres://nobody@127.0.0.1:9/unreachable")
    log = open(log_file, "w")  # noqa: SIM115 - the child owns it
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_mock_platforms", "--port", str(port), "--data", str(data_file), *extra],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"mock platforms exited: {log_file.read_text()}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/_health", timeout=0.5).json() == {
                "ok": True,
                "platforms": sorted(json.loads(data_file.read_text())["platforms"]),
            }:
                return proc
        except requests.RequestException:
            time.sleep(0.05)
    proc.kill()
    pytest.fail(f"mock platforms did not answer /_health: {log_file.read_text()}")


def stop_server(proc: subprocess.Popen, sig=signal.SIGTERM) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mock")
    data_file = tmp / "platforms.json"
    data_file.write_text(json.dumps(DATA, ensure_ascii=False), encoding="utf-8")
    port = free_port()
    proc = start_server(data_file, tmp / "mock.log", port, "--seed", "7")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(proc)


class Receiver:
    """A local callback endpoint: records every call; paths containing 'flaky' fail their first call."""

    def __init__(self):
        self.calls: list[tuple[str, dict, bytes]] = []
        self.lock = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    first = not any(path == self.path for path, _, _ in outer.calls)
                    outer.calls.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = 500 if ("flaky" in self.path and first) else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def wait(self, path: str, count: int = 1, timeout: float = 10.0) -> list[tuple[dict, bytes]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                got = [(h, b) for p, h, b in self.calls if p == path]
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"{count} callback(s) to {path} did not arrive")

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def notice(kind, account=None, *, holder=COMPANY, court=YUHU, **fields) -> dict:
    body = {
        "notice_id": str(uuid.uuid4()),
        "kind": kind,
        "holder_id": holder[0],
        "holder_name": holder[1],
        "case_number": "（2024）湘0302执1182号",
        "court": court,
        "document_number": "（2024）湘0302执1182号之一",
    }
    if account is not None:
        body["account"] = account
    body.update(fields)
    return body


def post(base, code, payload, *, key=None, key_id=None, secret=None, ts=None, timeout=5.0):
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = signing.headers(key_id or f"k-{code}", secret or f"s-{code}", key or str(uuid.uuid4()), body, ts)
    headers["Content-Type"] = "application/json"
    return requests.post(f"{base}/{code}/notices", data=body, headers=headers, timeout=timeout)


def ledger(base, code) -> dict:
    r = requests.get(f"{base}/{code}/_ledger", timeout=5)
    assert r.status_code == 200
    return r.json()


def rows(base, code, key) -> list[dict]:
    return [r for r in ledger(base, code)["requests"] if r["idempotency_key"] == key]


def holds(base, code, account) -> list[dict]:
    return [h for h in ledger(base, code)["holds"] if h["account"] == account]


def balance(base, code, account) -> str:
    return next(a["balance"] for a in ledger(base, code)["accounts"] if a["account"] == account)


# --- authentication ---------------------------------------------------------------------------


def test_health(base):
    assert requests.get(f"{base}/_health", timeout=5).json()["ok"] is True
    assert requests.get(f"{base}/alpha/_health", timeout=5).json()["ok"] is True
    assert requests.get(f"{base}/nope/_ledger", timeout=5).status_code == 404


def test_bad_signature_is_refused_and_does_nothing(base):
    key = str(uuid.uuid4())
    r = post(base, "alpha", notice("freeze", "a-freeze", amount="10.00"), key=key, secret="wrong")
    assert r.status_code == 401
    assert r.json()["code"] == "bad_signature"
    assert rows(base, "alpha", key) == []
    assert holds(base, "alpha", "a-freeze") == []
    assert [x["outcome"] for x in ledger(base, "alpha")["refused"] if x["idempotency_key"] == key] == ["401"]


def test_another_platforms_key_is_refused(base):
    r = post(base, "alpha", notice("query"), key_id="k-beta", secret="s-beta")
    assert r.status_code == 401
    assert r.json()["code"] == "unknown_key_id"


def test_tampered_body_is_refused(base):
    payload = notice("freeze", "a-freeze", amount="10.00")
    body = json.dumps(payload).encode()
    headers = signing.headers("k-alpha", "s-alpha", str(uuid.uuid4()), body)
    r = requests.post(f"{base}/alpha/notices", data=body.replace(b"10.00", b"99.00"), headers=headers, timeout=5)
    assert r.status_code == 401


def test_missing_signature_headers_are_refused(base):
    r = requests.post(f"{base}/alpha/notices", json=notice("query"), timeout=5)
    assert r.status_code == 401
    assert r.json()["code"] == "missing_header"


@pytest.mark.parametrize("offset, code", [(-400, "stale_timestamp"), (400, "future_timestamp")])
def test_timestamp_more_than_five_minutes_off_is_refused(base, offset, code):
    r = post(base, "alpha", notice("query"), ts=int(time.time()) + offset)
    assert r.status_code == 401
    assert r.json()["code"] == code


def test_previous_secret_is_still_accepted(base):
    r = post(base, "alpha", notice("query"), secret="s-alpha-old")
    assert r.status_code == 200


# --- effects ----------------------------------------------------------------------------------


def test_query_lists_the_holders_holdings(base):
    r = post(base, "alpha", notice("query"))
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "completed"
    accounts = {a["account"]: a for a in body["result"]["accounts"]}
    assert {"a-query-1", "a-query-2"} <= set(accounts)
    assert "a-person" not in accounts
    assert accounts["a-query-2"]["balance"] == "250.50"
    assert accounts["a-query-2"]["asset_kind"] == "payment_account"

    r = post(base, "alpha", notice("query", holder=PERSON))
    assert [a["account"] for a in r.json()["result"]["accounts"]] == ["a-person"]
    r = post(base, "alpha", notice("query", holder=("110101199003070000", "无名")))
    assert r.json() == {"status": "completed", "result": {"accounts": []}}


def test_freeze_holds_min_of_requested_and_available(base):
    k1, k2 = str(uuid.uuid4()), str(uuid.uuid4())
    r = post(base, "alpha", notice("freeze", "a-freeze", amount="300.00"), key=k1)
    assert r.status_code == 200
    assert r.json() == {"status": "completed", "result": {"account": "a-freeze", "amount_frozen": "300.00"}}
    r = post(base, "alpha", notice("freeze", "a-freeze", amount="400.00", court=YUETANG), key=k2)
    assert r.json()["result"] == {"account": "a-freeze", "amount_frozen": "200.00"}  # only 200 left available

    assert sorted((h["amount"], h["court"], h["idempotency_key"]) for h in holds(base, "alpha", "a-freeze")) == [
        ("200.00", YUETANG, k2),
        ("300.00", YUHU, k1),
    ]
    (row,) = rows(base, "alpha", k1)
    assert row["kind"] == "freeze"
    assert row["account"] == "a-freeze"
    assert (row["amount_requested"], row["amount_effected"], row["replayed"]) == ("300.00", "300.00", False)
    assert row["received_at"]

    r = post(base, "alpha", notice("freeze", "a-freeze", amount="1.00"))
    assert r.json()["result"]["amount_frozen"] == "0.00"
    assert balance(base, "alpha", "a-freeze") == "500.00"


def test_replay_answers_the_stored_answer_and_does_not_double_the_hold(base):
    key = str(uuid.uuid4())
    payload = notice("freeze", "a-replay", amount="400.00")
    first = post(base, "alpha", payload, key=key)
    again = post(base, "alpha", payload, key=key)  # a fresh signature and timestamp, same key and body
    assert first.status_code == again.status_code == 200
    assert (
        first.json()
        == again.json()
        == {
            "status": "completed",
            "result": {"account": "a-replay", "amount_frozen": "400.00"},
        }
    )
    assert [r["replayed"] for r in rows(base, "alpha", key)] == [False, True]
    assert [h["amount"] for h in holds(base, "alpha", "a-replay")] == ["400.00"]


def test_same_key_with_another_body_is_422(base):
    key = str(uuid.uuid4())
    payload = notice("freeze", "a-conflict", amount="10.00")
    assert post(base, "alpha", payload, key=key).status_code == 200
    r = post(base, "alpha", {**payload, "amount": "20.00"}, key=key)
    assert r.status_code == 422
    assert [h["amount"] for h in holds(base, "alpha", "a-conflict")] == ["10.00"]
    assert len(rows(base, "alpha", key)) == 1


def test_same_key_in_progress_is_409(base):
    key = str(uuid.uuid4())
    payload = notice("freeze", "s-1", amount="30.00")
    answers = {}
    t = threading.Thread(target=lambda: answers.setdefault("first", post(base, "slow", payload, key=key)))
    t.start()
    time.sleep(0.2)  # the first is sleeping its 600 ms latency
    second = post(base, "slow", payload, key=key)
    t.join()
    assert second.status_code == 409
    assert second.headers["Retry-After"] == "1"
    assert answers["first"].status_code == 200
    assert answers["first"].json()["result"]["amount_frozen"] == "30.00"
    assert [h["amount"] for h in holds(base, "slow", "s-1")] == ["30.00"]


def test_deduct_moves_held_money_out_of_the_balance(base):
    post(base, "alpha", notice("freeze", "a-deduct", amount="300.00"))
    r = post(base, "alpha", notice("deduct", "a-deduct", amount="120.00"))
    assert r.json() == {"status": "completed", "result": {"account": "a-deduct", "amount_deducted": "120.00"}}
    assert balance(base, "alpha", "a-deduct") == "880.00"
    assert [h["amount"] for h in holds(base, "alpha", "a-deduct")] == ["180.00"]

    # never more than this court holds
    r = post(base, "alpha", notice("deduct", "a-deduct", amount="500.00"))
    assert r.json()["result"]["amount_deducted"] == "180.00"
    assert balance(base, "alpha", "a-deduct") == "700.00"
    assert holds(base, "alpha", "a-deduct") == []

    # nothing held by this court: rejected
    r = post(base, "alpha", notice("deduct", "a-deduct", amount="1.00"))
    assert r.json()["status"] == "rejected"
    assert r.json()["result"]["code"] == "no_hold"
    assert balance(base, "alpha", "a-deduct") == "700.00"


def test_unfreeze_releases_this_courts_holds_or_the_referenced_notice(base):
    post(base, "alpha", notice("freeze", "a-unfreeze", amount="100.00"))
    post(base, "alpha", notice("freeze", "a-unfreeze", amount="50.00"))
    other = notice("freeze", "a-unfreeze", amount="70.00", court=YUETANG)
    post(base, "alpha", other)

    r = post(base, "alpha", notice("renew", "a-unfreeze"))
    assert r.json() == {"status": "completed", "result": {"account": "a-unfreeze", "amount_frozen": "150.00"}}

    r = post(base, "alpha", notice("unfreeze", "a-unfreeze"))
    assert r.json() == {"status": "completed", "result": {"account": "a-unfreeze", "amount_released": "150.00"}}
    assert [(h["court"], h["amount"]) for h in holds(base, "alpha", "a-unfreeze")] == [(YUETANG, "70.00")]

    # after a transfer the receiving court releases the original court's freeze by reference
    r = post(base, "alpha", notice("unfreeze", "a-unfreeze", ref_notice_id=other["notice_id"]))
    assert r.json()["result"]["amount_released"] == "70.00"
    assert holds(base, "alpha", "a-unfreeze") == []
    assert balance(base, "alpha", "a-unfreeze") == "1000.00"

    r = post(base, "alpha", notice("unfreeze", "a-unfreeze"))
    assert r.json()["status"] == "rejected"


def test_block_outflow_holds_the_whole_balance(base):
    r = post(base, "alpha", notice("freeze", "a-block", freeze_mode="block_outflow"))
    assert r.json()["result"] == {"account": "a-block", "amount_frozen": "321.09"}
    account = next(a for a in ledger(base, "alpha")["accounts"] if a["account"] == "a-block")
    assert account["outflow_blocked"] is True
    post(base, "alpha", notice("unfreeze", "a-block"))
    account = next(a for a in ledger(base, "alpha")["accounts"] if a["account"] == "a-block")
    assert (account["outflow_blocked"], account["held"]) == (False, "0.00")


@pytest.mark.parametrize(
    "payload, code",
    [
        (notice("freeze", "no-such-account", amount="1.00"), "unknown_account"),
        (notice("freeze", "a-person", amount="1.00"), "holder_mismatch"),
        (notice("deduct", "a-query-1", amount="1.00", holder=PERSON), "holder_mismatch"),
        (notice("freeze", "a-query-1", amount="-5"), "bad_amount"),
    ],
)
def test_freeze_or_deduct_on_a_wrong_account_is_rejected(base, payload, code):
    r = post(base, "alpha", payload)
    assert r.status_code == 200
    assert r.json()["status"] == "rejected"
    assert r.json()["result"]["code"] == code
    assert r.json()["result"]["reason"]
    assert holds(base, "alpha", payload["account"]) == []


def test_malformed_notice_is_400(base):
    r = post(base, "alpha", {"notice_id": "x", "kind": "seize"})
    assert r.status_code == 400


# --- failures ---------------------------------------------------------------------------------


def test_failures_perform_nothing_and_store_no_key_so_a_retry_performs_once(base):
    key = str(uuid.uuid4())
    payload = notice("freeze", "g-1", amount="250.00")
    outcomes = []
    for _ in range(4):
        try:
            outcomes.append(post(base, "gamma", payload, key=key, timeout=0.3).status_code)
        except (requests.Timeout, requests.ConnectionError):
            outcomes.append("timeout")
    assert set(outcomes) <= {503, "timeout"}
    state = ledger(base, "gamma")
    assert state["requests"] == []
    assert state["holds"] == []
    assert len(state["refused"]) == 4

    # the platform comes back: the same key performs the effect, once
    r = requests.post(f"{base}/gamma/_control", json={"failure_rate": 0}, timeout=5)
    assert r.json()["failure_rate"] == 0
    r = post(base, "gamma", payload, key=key)
    assert r.json()["result"] == {"account": "g-1", "amount_frozen": "250.00"}
    r = post(base, "gamma", payload, key=key)
    assert r.json()["result"] == {"account": "g-1", "amount_frozen": "250.00"}
    assert [x["replayed"] for x in rows(base, "gamma", key)] == [False, True]
    assert [h["amount"] for h in holds(base, "gamma", "g-1")] == ["250.00"]


# --- async ------------------------------------------------------------------------------------


def test_async_platform_acknowledges_then_calls_back_signed(base, receiver):
    key = str(uuid.uuid4())
    payload = notice("freeze", "b-1", amount="500.00", callback_url=f"{receiver.url}/cb/ok")
    r = post(base, "beta", payload, key=key)
    assert r.status_code == 202
    assert r.json() == {"status": "accepted"}

    ((headers, body),) = receiver.wait("/cb/ok")
    assert signing.verify({"k-beta": ["s-beta"]}, headers, body) == "k-beta"
    assert headers["webhook-id"] == key
    assert json.loads(body) == {
        "notice_id": payload["notice_id"],
        "status": "completed",
        "result": {"account": "b-1", "amount_frozen": "500.00"},
    }
    with pytest.raises(signing.SignatureError):
        signing.verify({"k-beta": ["s-alpha"]}, headers, body)

    # a replay is acknowledged again and performs nothing
    again = post(base, "beta", payload, key=key)
    assert (again.status_code, again.json()) == (202, {"status": "accepted"})
    assert [x["replayed"] for x in rows(base, "beta", key)] == [False, True]
    assert [h["amount"] for h in holds(base, "beta", "b-1")] == ["500.00"]


def test_async_callback_is_retried_when_the_receiver_fails(base, receiver):
    key = str(uuid.uuid4())
    payload = notice("query", callback_url=f"{receiver.url}/cb/flaky")
    assert post(base, "beta", payload, key=key).status_code == 202
    calls = receiver.wait("/cb/flaky", count=2)
    for headers, body in calls:
        assert signing.verify({"k-beta": ["s-beta"]}, headers, body) == "k-beta"
    accounts = json.loads(calls[1][1])["result"]["accounts"]
    assert {a["account"] for a in accounts} == {"b-1", "b-2"}
    # the receiver has answered the second call; the platform notes that just after
    deadline = time.monotonic() + 5
    while True:
        (cb,) = [c for c in ledger(base, "beta")["callbacks"] if c["idempotency_key"] == key]
        if cb["delivered"] or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert (cb["attempts"], cb["delivered"], cb["last_status"]) == (2, True, 204)


def test_async_platform_needs_a_callback_url(base):
    assert post(base, "beta", notice("query")).status_code == 400


# --- the process ------------------------------------------------------------------------------


def test_money_is_decimal_strings(base):
    r = post(base, "alpha", notice("query"))
    for account in r.json()["result"]["accounts"]:
        assert isinstance(account["balance"], str)
        assert Decimal(account["balance"]).as_tuple().exponent == -2


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stops_cleanly_on_a_signal(tmp_path, sig):
    data_file = tmp_path / "one.json"
    data_file.write_text(json.dumps({"platforms": {"solo": platform("solo")}}))
    proc = start_server(data_file, tmp_path / "solo.log", free_port())
    assert stop_server(proc, sig) == 0
    assert "stopped" in (tmp_path / "solo.log").read_text()


def test_demo_data_file_loads(tmp_path):
    from platforms.mock.server import MockPlatforms

    demo = ROOT / "platforms" / "mock" / "demo_platforms.json"
    service = MockPlatforms.from_file(demo)
    assert sorted(service.platforms) == ["aliexpress", "alipay", "douyin", "jd", "pinduoduo", "taobao", "tenpay"]
    assert service.platforms["alipay"].mode == "async"
    assert service.platforms["taobao"].key_id == "demo-taobao"
    assert "xxj-alipay-001" in service.platforms["alipay"].accounts
