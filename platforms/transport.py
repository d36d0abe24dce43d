"""All outbound HTTP to platforms goes through here: timeout, signature, error classification.

Failures are sorted (STYLE.md): timeouts, connection errors, 429 and 5xx are transient and retried;
other 4xx and unreadable answers to a 4xx are permanent. Secrets are never logged.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import requests

from . import signing

logger = logging.getLogger(__name__)

_session = requests.Session()  # keep-alive per worker process


@dataclass
class Answer:
    http_status: int
    body: dict
    duration_ms: int
    excerpt: str


class DeliveryError(Exception):
    def __init__(
        self, error_class: str, *, retryable: bool, http_status=None, excerpt="", retry_after=None, duration_ms=0
    ):
        super().__init__(error_class)
        self.error_class = error_class
        self.retryable = retryable
        self.http_status = http_status
        self.excerpt = excerpt
        self.retry_after = retry_after
        self.duration_ms = duration_ms


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def post_signed(url: str, *, key_id: str, secret: str, msg_id: str, payload: dict, timeout_s: float) -> Answer:
    """POST ``payload`` signed with the Standard Webhooks headers; raise DeliveryError on failure."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", **signing.headers(key_id, secret, msg_id, body)}
    started = time.monotonic()
    try:
        response = _session.post(url, data=body, headers=headers, timeout=timeout_s)
    except requests.Timeout:
        raise DeliveryError("timeout", retryable=True, duration_ms=_ms(started)) from None
    except requests.ConnectionError as exc:
        raise DeliveryError(
            "connection_error", retryable=True, excerpt=str(exc)[:200], duration_ms=_ms(started)
        ) from None
    duration = _ms(started)
    excerpt = response.text[:500]
    status = response.status_code
    # 409: the platform is still working on this idempotency key (a repeat raced the first try).
    if status in (409, 429) or status >= 500:
        raise DeliveryError(
            f"http_{status}",
            retryable=True,
            http_status=status,
            excerpt=excerpt,
            retry_after=_retry_after(response),
            duration_ms=duration,
        )
    if status >= 400:
        raise DeliveryError(
            f"http_{status}", retryable=False, http_status=status, excerpt=excerpt, duration_ms=duration
        )
    try:
        data = response.json()
    except ValueError:
        raise DeliveryError(
            "bad_response", retryable=True, http_status=status, excerpt=excerpt, duration_ms=duration
        ) from None
    if not isinstance(data, dict):
        raise DeliveryError("bad_response", retryable=True, http_status=status, excerpt=excerpt, duration_ms=duration)
    logger.info("delivered %s to %s: %s in %d ms", msg_id, url, status, duration)
    return Answer(http_status=status, body=data, duration_ms=duration, excerpt=excerpt)


def get(url: str, timeout_s: float) -> requests.Response:
    return _session.get(url, timeout=timeout_s)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
