"""Signing of notices and callbacks: the Standard Webhooks scheme (https://www.standardwebhooks.com/).

The sender computes HMAC-SHA256 over ``f"{msg_id}.{timestamp}.".encode() + body`` and sends

- ``webhook-id``: the message id (for notices: the notice's idempotency key),
- ``webhook-timestamp``: Unix seconds,
- ``webhook-signature``: ``v1,<base64 of the MAC>`` (several space-separated signatures allowed),
- ``key-id``: which key signed it, so the receiver knows which secrets to try.

A secret is a plain string, or ``whsec_<base64>`` as Standard Webhooks issues them (the part after
the prefix is base64-decoded into the key). Rotation: the receiver keeps several secrets per key id
during a grace period and accepts a signature made with any of them.

Used by the court side (delivery and inbound callbacks) and by the stand-in platform service; no
Django imports here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Mapping

__all__ = [
    "HEADER_ID",
    "HEADER_KEY_ID",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "TOLERANCE_S",
    "SignatureError",
    "headers",
    "sign",
    "verify",
]

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"
HEADER_KEY_ID = "key-id"
TOLERANCE_S = 300
SECRET_PREFIX = "whsec_"
VERSION = "v1"

SecretsLookup = Mapping[str, Iterable[str] | str] | Callable[[str], Iterable[str] | str | None]


class SignatureError(ValueError):
    """The message is not authentic. ``code`` is a stable machine word, ``str(exc)`` the reason."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _key(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        return secret
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("a whsec_ secret must be base64 after the prefix") from exc
    return secret.encode("utf-8")


def _mac(secret: str | bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    if isinstance(body, str):
        body = body.encode("utf-8")
    signed = f"{msg_id}.{int(timestamp)}.".encode() + body
    return hmac.new(_key(secret), signed, hashlib.sha256).digest()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value ``v1,<base64>`` for one secret."""
    return f"{VERSION}," + base64.b64encode(_mac(secret, msg_id, timestamp, body)).decode("ascii")


def headers(key_id: str, secret: str, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """All four headers for a message signed now (or at ``timestamp``)."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(ts),
        HEADER_SIGNATURE: sign(secret, msg_id, ts, body),
        HEADER_KEY_ID: key_id,
    }


def _header(hdrs: Mapping, name: str) -> str | None:
    """Case-insensitive lookup that works for dicts, Django's ``request.headers`` and email Messages."""
    value = hdrs.get(name)
    if value is None:
        value = hdrs.get(name.title())
    if value is None:
        for key in hdrs.keys():
            if isinstance(key, str) and key.lower() == name:
                value = hdrs[key]
                break
    if value is None:
        return None
    value = value.strip()
    return value or None


def _secrets_for(lookup: SecretsLookup, key_id: str) -> list[str]:
    found = lookup(key_id) if callable(lookup) else lookup.get(key_id)
    if not found:
        return []
    if isinstance(found, str | bytes):
        return [found]
    return [s for s in found if s]


def verify(
    secrets_by_key_id: SecretsLookup,
    headers: Mapping,
    body: bytes,
    now: float | None = None,
    tolerance_s: int = TOLERANCE_S,
) -> str:
    """Check a signed message; return its key id or raise :class:`SignatureError`.

    ``secrets_by_key_id`` maps a key id to its valid secrets (the current one and, during a rotation
    grace period, the previous ones), or is a callable ``key_id -> secrets``. ``headers`` is any
    mapping of the request headers (looked up case-insensitively).
    """
    values = {}
    for name in (HEADER_KEY_ID, HEADER_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE):
        values[name] = _header(headers, name)
        if values[name] is None:
            raise SignatureError("missing_header", f"missing header {name}")
    key_id = values[HEADER_KEY_ID]
    secrets = _secrets_for(secrets_by_key_id, key_id)
    if not secrets:
        raise SignatureError("unknown_key_id", f"unknown key id {key_id!r}")
    try:
        timestamp = int(values[HEADER_TIMESTAMP])
    except ValueError:
        raise SignatureError("bad_timestamp", "webhook-timestamp is not an integer") from None
    current = time.time() if now is None else now
    if timestamp < current - tolerance_s:
        raise SignatureError("stale_timestamp", f"timestamp is more than {tolerance_s} s in the past")
    if timestamp > current + tolerance_s:
        raise SignatureError("future_timestamp", f"timestamp is more than {tolerance_s} s in the future")
    offered = []
    for item in values[HEADER_SIGNATURE].split():
        version, _, encoded = item.partition(",")
        if version != VERSION or not encoded:
            continue
        try:
            offered.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not offered:
        raise SignatureError("no_signature", "no v1 signature in webhook-signature")
    msg_id = values[HEADER_ID]
    for secret in secrets:
        expected = _mac(secret, msg_id, timestamp, body)
        # compare against every offered signature (no early exit on the first mismatch)
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return key_id
    raise SignatureError("bad_signature", "no signature matches")
