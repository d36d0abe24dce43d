"""Standard Webhooks signing (platforms.signing) against fixed vectors computed independently."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from platforms import signing
from platforms.signing import SignatureError

MSG_ID = "0b7c2f4e-1d3a-4c55-9a7e-2f1c8d6b9e01"
TS = 1735689600  # 2025-01-01T00:00:00Z
BODY = b'{"kind":"freeze","notice_id":"N-1","amount":"1234.50"}'
SECRET = "demo-secret-taobao"
# Computed once by hand: base64(HMAC-SHA256(b"demo-secret-taobao", f"{MSG_ID}.{TS}.".encode() + BODY))
VECTOR = "v1,8gROrIRJCwvD4TjLtAeZ4vzuNMyylknKIFEuxfuEwqI="


def by_hand(key: bytes, msg_id: str, ts: int, body: bytes) -> str:
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signed(secret=SECRET, key_id="demo-taobao", msg_id=MSG_ID, ts=TS, body=BODY) -> dict:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": by_hand(secret.encode(), msg_id, ts, body),
        "key-id": key_id,
    }


KEYS = {"demo-taobao": [SECRET]}


def test_the_fixed_vector_is_what_hmac_gives():
    assert by_hand(SECRET.encode(), MSG_ID, TS, BODY) == VECTOR


def test_sign_matches_the_fixed_vector():
    assert signing.sign(SECRET, MSG_ID, TS, BODY) == VECTOR


def test_sign_matches_the_standard_webhooks_reference_vector():
    # The test vector of the Standard Webhooks reference libraries (whsec_ secret, base64 key).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert by_hand(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected
    assert signing.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected


def test_headers_carries_all_four():
    h = signing.headers("demo-taobao", SECRET, MSG_ID, BODY, timestamp=TS)
    assert h == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(TS),
        "webhook-signature": VECTOR,
        "key-id": "demo-taobao",
    }


def test_headers_default_to_now():
    h = signing.headers("demo-taobao", SECRET, MSG_ID, BODY)
    assert signing.verify(KEYS, h, BODY) == "demo-taobao"


def test_verify_accepts_the_vector_and_returns_the_key_id():
    assert signing.verify(KEYS, signed(), BODY, now=TS) == "demo-taobao"


def test_verify_looks_headers_up_case_insensitively():
    h = {k.title(): v for k, v in signed().items()}
    assert signing.verify(KEYS, h, BODY, now=TS + 10) == "demo-taobao"


def test_verify_takes_a_callable():
    assert signing.verify(lambda kid: KEYS.get(kid), signed(), BODY, now=TS) == "demo-taobao"
    assert signing.verify(lambda kid: SECRET, signed(), BODY, now=TS) == "demo-taobao"


def reason(*args, **kwargs) -> str:
    with pytest.raises(SignatureError) as info:
        signing.verify(*args, **kwargs)
    assert isinstance(info.value, ValueError)
    return info.value.code


def test_tampered_body_fails():
    assert reason(KEYS, signed(), BODY.replace(b"1234.50", b"9234.50"), now=TS) == "bad_signature"


def test_tampered_id_or_timestamp_fails():
    h = signed()
    h["webhook-id"] = "another-key"
    assert reason(KEYS, h, BODY, now=TS) == "bad_signature"
    h = signed()
    h["webhook-timestamp"] = str(TS + 1)
    assert reason(KEYS, h, BODY, now=TS) == "bad_signature"


def test_wrong_secret_fails():
    assert reason(KEYS, signed(secret="not-the-secret"), BODY, now=TS) == "bad_signature"


def test_unknown_key_id_fails():
    assert reason(KEYS, signed(key_id="demo-jd"), BODY, now=TS) == "unknown_key_id"
    assert reason(lambda kid: None, signed(), BODY, now=TS) == "unknown_key_id"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature", "key-id"])
def test_missing_header_fails(missing):
    h = signed()
    del h[missing]
    assert reason(KEYS, h, BODY, now=TS) == "missing_header"


def test_stale_timestamp_fails_beyond_five_minutes():
    assert signing.verify(KEYS, signed(), BODY, now=TS + 300) == "demo-taobao"
    assert reason(KEYS, signed(), BODY, now=TS + 301) == "stale_timestamp"


def test_future_timestamp_fails_beyond_five_minutes():
    assert signing.verify(KEYS, signed(), BODY, now=TS - 300) == "demo-taobao"
    assert reason(KEYS, signed(), BODY, now=TS - 301) == "future_timestamp"


def test_non_numeric_timestamp_fails():
    h = signed()
    h["webhook-timestamp"] = "yesterday"
    assert reason(KEYS, h, BODY, now=TS) == "bad_timestamp"


def test_rotation_accepts_old_and_new_secret():
    body = b"{}"
    old = {"webhook-id": "k-rot", "webhook-timestamp": str(TS), "key-id": "k"}
    new = dict(old)
    old["webhook-signature"] = "v1,gxNZMi/tK5S5i9wdkLD+550b9qdlLINrcn2BkIpaXn0="  # by hand, b"old-secret"
    new["webhook-signature"] = "v1,ryoKOdXJ8hYLBuuAELEYphomRRAEt40CdL7cuqxZ258="  # by hand, b"new-secret"
    assert old["webhook-signature"] == by_hand(b"old-secret", "k-rot", TS, body)
    assert new["webhook-signature"] == by_hand(b"new-secret", "k-rot", TS, body)
    grace = {"k": ["new-secret", "old-secret"]}
    assert signing.verify(grace, old, body, now=TS) == "k"
    assert signing.verify(grace, new, body, now=TS) == "k"
    after = {"k": ["new-secret"]}
    assert signing.verify(after, new, body, now=TS) == "k"
    assert reason(after, old, body, now=TS) == "bad_signature"


def test_several_signatures_in_the_header():
    good = by_hand(SECRET.encode(), MSG_ID, TS, BODY)
    other = by_hand(b"some-other-secret", MSG_ID, TS, BODY)
    h = signed()
    h["webhook-signature"] = f"{other} v2,notasignature v1,@@@ {good}"
    assert signing.verify(KEYS, h, BODY, now=TS) == "demo-taobao"
    h["webhook-signature"] = f"{other} v1,{base64.b64encode(b'x' * 32).decode()}"
    assert reason(KEYS, h, BODY, now=TS) == "bad_signature"
    h["webhook-signature"] = "v2,abc"
    assert reason(KEYS, h, BODY, now=TS) == "no_signature"


def test_whsec_secrets_are_base64_keys():
    key = b"\x00\x01binary-key\xff"
    secret = "whsec_" + base64.b64encode(key).decode()
    assert signing.sign(secret, MSG_ID, TS, BODY) == by_hand(key, MSG_ID, TS, BODY)
    h = {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(TS),
        "webhook-signature": by_hand(key, MSG_ID, TS, BODY),
        "key-id": "w",
    }
    assert signing.verify({"w": [secret]}, h, BODY, now=TS) == "w"


def test_non_ascii_body_is_signed_as_bytes():
    body = '{"holder_name":"湘潭鲜享家网络科技有限公司"}'.encode()
    assert signing.sign(SECRET, MSG_ID, TS, body) == by_hand(SECRET.encode(), MSG_ID, TS, body)
