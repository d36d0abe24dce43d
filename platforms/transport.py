"""All outbound HTTP to platforms goes through here: timeout, signature, error classification.

Outbound requests go only to allowed destinations (``destination_problem``, checked again before
every request; redirects are never followed). Failures are sorted (STYLE.md): timeouts, connection
errors, 429 and 5xx are transient and retried; 3xx, other 4xx and unreadable answers to a 4xx are
permanent. Secrets are never logged.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings

from . import signing

logger = logging.getLogger(__name__)


class _NoRedirectSession(requests.Session):
    """Never follows redirects: a redirect would lead to a destination that was never checked.
    Ignores the environment (``*_PROXY`` variables, ``~/.netrc``): a proxy would carry the request
    to a host that was never checked, and reading them costs milliseconds per request."""

    def __init__(self):
        super().__init__()
        self.trust_env = False
        # as many kept-alive connections per host as a claim sends at once: beyond the default 10,
        # every answer's connection was dropped and the next send opened a new one
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=settings.NOTICE_SEND_THREADS)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(self, *args, **kwargs):
        kwargs["allow_redirects"] = False
        return super().request(*args, **kwargs)


_session = _NoRedirectSession()  # keep-alive per worker process


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


# Cloud instance-metadata services (SSRF targets): names and the addresses outside 169.254.0.0/16.
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.internal",
        "metadata.tencentyun.com",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "100.100.100.200", "fd00:ec2::254", "169.254.170.2")
)


def _bare_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _is_server_name(host: str) -> bool:
    """``host`` is one of this server's names (ALLOWED_HOSTS, with its ".domain" wildcards)."""
    for pattern in settings.ALLOWED_HOSTS:
        pattern = _bare_host(pattern)
        if pattern.startswith("."):
            if host == pattern[1:] or host.endswith(pattern):
                return True
        elif pattern and pattern != "*" and host == pattern:
            return True
    return host == "localhost" or host.endswith(".localhost")


def destination_problem(url: str) -> str:
    """Why ``url`` must not be contacted ('' when it may): ``scheme``, ``host``, ``metadata``,
    ``link_local``, ``unspecified`` or ``self`` (this server: its ALLOWED_HOSTS names, loopback).

    A host listed in CONNECTOR_ALLOWED_HOSTS is always allowed. Other names are resolved and every
    address is checked; a name that does not resolve is not refused here (sending fails anyway)."""
    try:
        parts = urlsplit((url or "").strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "host"
    if parts.scheme.lower() not in ("http", "https"):
        return "scheme"
    if not host:
        return "host"
    host = _bare_host(host)
    if host in settings.CONNECTOR_ALLOWED_HOSTS:
        return ""
    if host in METADATA_HOSTS:
        return "metadata"
    if _is_server_name(host):
        return "self"
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return ""
        addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    for address in addresses:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if address in METADATA_ADDRESSES:
            return "metadata"
        if address.is_link_local:
            return "link_local"
        if address.is_unspecified:
            return "unspecified"
        if address.is_loopback:
            return "self"
    return ""


def _guard(url: str) -> None:
    """Re-check the destination right before connecting (DNS may have changed since it was saved)."""
    problem = destination_problem(url)
    if problem:
        logger.warning("refused outbound request to %s: %s", url, problem)
        raise DeliveryError("forbidden_destination", retryable=False, excerpt=problem)


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
    _guard(url)
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
    if status >= 300:  # 3xx too: redirects are not followed (see _NoRedirectSession)
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
    _guard(url)
    return _session.get(url, timeout=timeout_s)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
