"""The stand-in platform service: every platform of one data file, served under ``/<code>/``.

A separate process holding its state in memory (no Django ORM, no database). Contract in API.md,
"The notice protocol" and "The stand-in platform service". Routes:

- ``POST /<code>/notices``: a signed notice (Standard Webhooks headers, see ``platforms.signing``).
  401 on a bad signature or timestamp, 400 on a malformed body, 404 for an unknown platform.
  Idempotency by ``webhook-id``: the same key and body answer the stored answer again (marked
  ``replayed`` in the ledger), the same key with another body 422, a key still in progress 409.
  Sync platforms answer 200 ``{status: completed|rejected, result}``; async platforms answer 202
  ``{status: accepted}`` and later POST ``{notice_id, status, result}`` to ``callback_url``, signed
  with the platform's key id and secret and ``webhook-id`` = the idempotency key.
- ``GET /<code>/_ledger``: ``{requests, holds, refused, callbacks}`` (``requests`` and ``holds`` as
  in API.md; ``refused`` lists attempts answered 401/409/422/503 or left hanging, which performed
  nothing; ``callbacks`` the callback deliveries of an async platform).
- ``GET /<code>/_health`` and ``GET /_health``: ``{"ok": true, ...}``.
- ``POST /<code>/_control``: change ``latency_ms``, ``failure_rate``, ``failure_kind``, ``hang_s`` or
  ``mode`` of a running platform (tests: a platform down, then up again).

Per platform in the data file (besides API.md's fields): ``previous_secrets`` (still accepted, for
rotation), ``hang_s`` (how long a "hanging" failure waits, default 30), ``failure_kind``
(``mixed`` = half 503 and half hang, ``503`` or ``hang``), ``callback_attempts`` (default 5).

A failure (share ``failure_rate`` of the notices that are not replays; random, seeded by ``--seed``
or ``MOCK_PLATFORMS_SEED``) performs nothing and stores no idempotency key, so a retry performs the
effect once. Money is ``Decimal`` with two places, serialized as strings (``"1234.50"``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import signal
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from platforms import signing

KINDS = ("query", "freeze", "unfreeze", "renew", "deduct")
MODES = ("sync", "async")
FAILURE_KINDS = ("mixed", "503", "hang")
FREEZE_MODES = ("amount", "block_outflow")
CODE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_BODY = 1 << 20
CALLBACK_DELAYS_S = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
CALLBACK_TIMEOUT_S = 5.0
SEED_ENV = "MOCK_PLATFORMS_SEED"
HANG = object()  # handler answer: close the connection without a response

REASONS = {
    "missing_holder": "缺少被执行人证件号码",
    "missing_account": "缺少账户",
    "missing_court": "缺少执行法院",
    "unknown_account": "账户不存在",
    "holder_mismatch": "账户持有人与被执行人不符",
    "bad_amount": "金额无效",
    "bad_freeze_mode": "冻结方式无效",
    "no_hold": "该账户无本院（或所引通知）的冻结",
}


class ConfigError(ValueError):
    """The data file is not usable."""


class BadRequest(ValueError):
    """A notice body that is not a notice (answered 400, nothing stored)."""


def to_money(value: Any) -> Decimal:
    """Yuan with two places; raises ValueError for anything else (floats go through ``str``)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not an amount: {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount.quantize(CENT))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class Account:
    account: str
    holder_id: str
    holder_name: str
    asset_kind: str
    balance: Decimal
    outflow_blocked: bool = False


@dataclass
class Hold:
    account: str
    amount: Decimal
    court: str
    idempotency_key: str
    notice_id: str
    freeze_mode: str
    renewed_by: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "account": self.account,
            "amount": fmt(self.amount),
            "court": self.court,
            "idempotency_key": self.idempotency_key,
            "notice_id": self.notice_id,
            "freeze_mode": self.freeze_mode,
            "renewed_by": list(self.renewed_by),
        }


@dataclass
class Entry:
    """One idempotency key: the body's fingerprint, and the answer once there is one."""

    fingerprint: str
    notice: dict
    state: str = "processing"  # processing | done
    status_code: int = 0
    response: dict | None = None
    callback: str = ""  # async: "" (none yet) | pending | delivered | failed
    outcome: dict | None = None  # async: {status, result} once performed, for the callback


class Platform:
    """One platform's configuration and in-memory state (guarded by the service lock)."""

    def __init__(self, code: str, cfg: dict, seed: int | str | None):
        def need(name, kind):
            if name not in cfg or not isinstance(cfg[name], kind):
                raise ConfigError(f"platform {code!r}: {name!r} is required ({kind.__name__})")
            return cfg[name]

        if not CODE_RE.match(code):
            raise ConfigError(f"platform code {code!r} must be lower-case letters, digits, - or _")
        self.code = code
        self.name = need("name", str)
        self.key_id = need("key_id", str)
        self.secret = need("secret", str)
        previous = cfg.get("previous_secrets", [])
        if not isinstance(previous, list) or not all(isinstance(s, str) for s in previous):
            raise ConfigError(f"platform {code!r}: previous_secrets must be a list of strings")
        self.secrets = [self.secret, *previous]
        self.callback_attempts = int(cfg.get("callback_attempts", 5))
        self.configure(
            {
                "latency_ms": cfg.get("latency_ms", 0),
                "failure_rate": cfg.get("failure_rate", 0.0),
                "failure_kind": cfg.get("failure_kind", "mixed"),
                "hang_s": cfg.get("hang_s", 30),
                "mode": cfg.get("mode", "sync"),
            }
        )
        self.rng = random.Random(None if seed is None else f"{seed}:{code}")
        self.accounts: dict[str, Account] = {}
        holdings = cfg.get("holdings", [])
        if not isinstance(holdings, list):
            raise ConfigError(f"platform {code!r}: holdings must be a list")
        for i, h in enumerate(holdings):
            try:
                acc = Account(
                    account=str(h["account"]),
                    holder_id=str(h["holder_id"]),
                    holder_name=str(h.get("holder_name", "")),
                    asset_kind=str(h.get("asset_kind", "platform_balance")),
                    balance=to_money(h.get("balance", "0")),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError(f"platform {code!r}: holding {i} is invalid ({exc})") from exc
            if acc.balance < 0:
                raise ConfigError(f"platform {code!r}: holding {acc.account!r} has a negative balance")
            if acc.account in self.accounts:
                raise ConfigError(f"platform {code!r}: account {acc.account!r} appears twice")
            self.accounts[acc.account] = acc
        self.holds: list[Hold] = []
        self.requests: list[dict] = []
        self.refused: list[dict] = []
        self.callbacks: list[dict] = []
        self.entries: dict[str, Entry] = {}

    def configure(self, values: dict) -> None:
        """Validate and apply behaviour settings (all or nothing)."""
        new = {}
        try:
            if "latency_ms" in values:
                new["latency_ms"] = float(values["latency_ms"])
                if new["latency_ms"] < 0:
                    raise ValueError("latency_ms must be >= 0")
            if "failure_rate" in values:
                new["failure_rate"] = float(values["failure_rate"])
                if not 0.0 <= new["failure_rate"] <= 1.0:
                    raise ValueError("failure_rate must be between 0 and 1")
            if "failure_kind" in values:
                new["failure_kind"] = str(values["failure_kind"])
                if new["failure_kind"] not in FAILURE_KINDS:
                    raise ValueError(f"failure_kind must be one of {FAILURE_KINDS}")
            if "hang_s" in values:
                new["hang_s"] = float(values["hang_s"])
                if new["hang_s"] < 0:
                    raise ValueError("hang_s must be >= 0")
            if "mode" in values:
                new["mode"] = str(values["mode"])
                if new["mode"] not in MODES:
                    raise ValueError(f"mode must be one of {MODES}")
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"platform {self.code!r}: {exc}") from exc
        for name, value in new.items():
            setattr(self, name, value)

    def settings(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "mode": self.mode,
            "latency_ms": self.latency_ms,
            "failure_rate": self.failure_rate,
            "failure_kind": self.failure_kind,
            "hang_s": self.hang_s,
        }

    # --- effects (called with the service lock held) ------------------------------------------

    def held(self, account: str) -> Decimal:
        return sum((h.amount for h in self.holds if h.account == account), ZERO)

    def apply(self, n: dict, key: str) -> tuple[str, dict, Decimal | None]:
        """Perform one notice: ``(status, result, amount_effected)``."""
        kind = n["kind"]
        if kind == "query":
            return self._query(n)
        account = n.get("account")
        if not account:
            return self._reject(account, "missing_account")
        acc = self.accounts.get(str(account))
        if acc is None:
            return self._reject(account, "unknown_account")
        holder_id = n.get("holder_id")
        if kind in ("freeze", "deduct") and not holder_id:
            return self._reject(account, "missing_holder")
        if holder_id and str(holder_id) != acc.holder_id:
            return self._reject(account, "holder_mismatch")
        court = str(n.get("court") or "")
        if not court:
            return self._reject(account, "missing_court")
        amount = None
        if n.get("amount") not in (None, ""):
            try:
                amount = to_money(n["amount"])
            except ValueError:
                return self._reject(account, "bad_amount")
            if amount <= 0:
                return self._reject(account, "bad_amount")
        return getattr(self, f"_{kind}")(n, key, acc, court, amount)

    @staticmethod
    def _reject(account, code: str) -> tuple[str, dict, Decimal | None]:
        return "rejected", {"account": account, "code": code, "reason": REASONS[code]}, ZERO

    def _query(self, n: dict):
        holder_id = n.get("holder_id")
        if not holder_id:
            return "rejected", {"code": "missing_holder", "reason": REASONS["missing_holder"]}, None
        only = n.get("account")
        accounts = [
            {
                "account": a.account,
                "asset_kind": a.asset_kind,
                "balance": fmt(a.balance),
                "available": fmt(a.balance - self.held(a.account)),
            }
            for a in self.accounts.values()
            if a.holder_id == str(holder_id) and (not only or a.account == only)
        ]
        return "completed", {"accounts": accounts}, None

    def _freeze(self, n, key, acc: Account, court, amount):
        mode = n.get("freeze_mode") or "amount"
        if mode not in FREEZE_MODES:
            return self._reject(acc.account, "bad_freeze_mode")
        available = max(acc.balance - self.held(acc.account), ZERO)
        if mode == "block_outflow":
            frozen = available
            acc.outflow_blocked = True
        else:
            if amount is None:
                return self._reject(acc.account, "bad_amount")
            frozen = min(amount, available)
        if frozen > 0 or mode == "block_outflow":
            self.holds.append(Hold(acc.account, frozen, court, key, str(n["notice_id"]), mode))
        return "completed", {"account": acc.account, "amount_frozen": fmt(frozen)}, frozen

    def _targets(self, n, acc: Account, court) -> list[Hold]:
        ref = n.get("ref_notice_id")
        if ref:  # the referenced notice's holds, whichever court holds the case now
            return [h for h in self.holds if h.account == acc.account and h.notice_id == str(ref)]
        return [h for h in self.holds if h.account == acc.account and h.court == court]

    def _unblock_if_free(self, acc: Account) -> None:
        if not any(h.account == acc.account and h.freeze_mode == "block_outflow" for h in self.holds):
            acc.outflow_blocked = False

    def _unfreeze(self, n, key, acc: Account, court, amount):
        targets = self._targets(n, acc, court)
        if not targets:
            return self._reject(acc.account, "no_hold")
        remaining = amount  # None: release everything
        released = ZERO
        for hold in reversed(targets):  # newest first
            if remaining is not None and remaining <= 0:
                break
            take = hold.amount if remaining is None else min(hold.amount, remaining)
            hold.amount -= take
            released += take
            if remaining is not None:
                remaining -= take
        for hold in targets:
            if amount is None or (hold.amount <= 0 and hold.freeze_mode == "amount"):
                self.holds.remove(hold)
        self._unblock_if_free(acc)
        return "completed", {"account": acc.account, "amount_released": fmt(released)}, released

    def _renew(self, n, key, acc: Account, court, amount):
        targets = self._targets(n, acc, court)
        if not targets:
            return self._reject(acc.account, "no_hold")
        for hold in targets:
            if key not in hold.renewed_by:
                hold.renewed_by.append(key)
        frozen = sum((h.amount for h in targets), ZERO)
        return "completed", {"account": acc.account, "amount_frozen": fmt(frozen)}, frozen

    def _deduct(self, n, key, acc: Account, court, amount):
        targets = [h for h in self._targets(n, acc, court) if h.amount > 0]
        held = sum((h.amount for h in targets), ZERO)
        if held <= 0:
            return self._reject(acc.account, "no_hold")
        deducted = held if amount is None else min(amount, held)
        left = deducted
        for hold in targets:  # oldest first
            take = min(hold.amount, left)
            hold.amount -= take
            left -= take
            if hold.amount <= 0 and hold.freeze_mode != "block_outflow":
                self.holds.remove(hold)
            if left <= 0:
                break
        acc.balance -= deducted
        return "completed", {"account": acc.account, "amount_deducted": fmt(deducted)}, deducted


def _fingerprint(notice: dict) -> str:
    return hashlib.sha256(json.dumps(notice, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _amount_requested(notice: dict) -> str | None:
    raw = notice.get("amount")
    if raw in (None, ""):
        return None
    try:
        return fmt(to_money(raw))
    except ValueError:
        return str(raw)


class MockPlatforms:
    """All platforms of a data file and the one lock around their state."""

    def __init__(self, data: dict, seed: int | str | None = None, verbose: bool = False):
        if not isinstance(data, dict) or not isinstance(data.get("platforms"), dict) or not data["platforms"]:
            raise ConfigError('the data file must hold {"platforms": {code: {...}, ...}} with at least one platform')
        self.platforms = {code: Platform(code, cfg, seed) for code, cfg in data["platforms"].items()}
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.verbose = verbose

    @classmethod
    def from_file(cls, path: str | Path, seed: int | str | None = None, verbose: bool = False) -> MockPlatforms:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path} is not JSON: {exc}") from exc
        return cls(data, seed=seed, verbose=verbose)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.stopping.wait(seconds)

    # --- notices ------------------------------------------------------------------------------

    def _refuse(self, p: Platform, key: str | None, notice: dict | None, outcome: str, reason: str) -> None:
        with self.lock:
            p.refused.append(
                {
                    "idempotency_key": key,
                    "kind": (notice or {}).get("kind"),
                    "account": (notice or {}).get("account"),
                    "outcome": outcome,
                    "reason": reason,
                    "received_at": now_iso(),
                }
            )

    def handle_notice(self, code: str, headers, body: bytes):
        p = self.platforms.get(code)
        if p is None:
            return 404, {"error": "not_found", "reason": f"no platform {code!r}"}
        key = (headers.get(signing.HEADER_ID) or "").strip() or None
        try:
            signing.verify(lambda kid: p.secrets if kid == p.key_id else None, headers, body)
        except signing.SignatureError as exc:
            self._refuse(p, key, None, "401", exc.code)
            return 401, {"error": "unauthorized", "code": exc.code, "reason": str(exc)}
        try:
            notice = self._parse(p, body)
        except BadRequest as exc:
            self._refuse(p, key, None, "400", str(exc))
            return 400, {"error": "bad_request", "reason": str(exc)}

        fingerprint = _fingerprint(notice)
        replay_callback = None
        with self.lock:
            entry = p.entries.get(key)
            if entry is not None:
                if entry.fingerprint != fingerprint:
                    outcome = (422, {"error": "idempotency_conflict", "reason": "this key was used for another body"})
                elif entry.state != "done":
                    outcome = (409, {"error": "in_progress", "reason": "a request with this key is being processed"})
                else:
                    p.requests.append(self._ledger_row(key, notice, replayed=True))
                    if entry.callback == "failed":  # the court missed the callback: send it again
                        entry.callback = "pending"
                        replay_callback = entry
                    outcome = (entry.status_code, entry.response)
            else:
                outcome = None
                failure = None
                if p.failure_rate > 0 and p.rng.random() < p.failure_rate:
                    failure = p.failure_kind
                    if failure == "mixed":
                        failure = "503" if p.rng.random() < 0.5 else "hang"
                if failure is None:
                    entry = p.entries[key] = Entry(fingerprint, notice)
                    row = self._ledger_row(key, notice, replayed=False)
                    p.requests.append(row)
                    mode, latency_s, hang_s = p.mode, p.latency_ms / 1000, p.hang_s
                    if mode == "async":  # the answer is the acknowledgement; the effect follows
                        entry.state, entry.status_code, entry.response = "done", 202, {"status": "accepted"}
                        entry.callback = "pending"
                else:
                    latency_s, hang_s = p.latency_ms / 1000, p.hang_s
        if outcome is not None:
            status = outcome[0]
            if status in (409, 422):
                self._refuse(p, key, notice, str(status), outcome[1]["error"])
            if replay_callback is not None:
                self._start(self._deliver_callback, p, key, replay_callback)
            return outcome

        if failure is not None:
            self._refuse(p, key, notice, failure, "simulated failure")
            self.sleep(latency_s)
            if failure == "503":
                return 503, {"error": "unavailable", "reason": "simulated failure"}
            self.sleep(hang_s)
            return HANG

        if mode == "async":
            self._start(self._process_async, p, key, entry, row, latency_s)
            return 202, {"status": "accepted"}

        self.sleep(latency_s)
        with self.lock:
            try:
                response = self._perform(p, key, entry, row)
            except Exception as exc:  # a bug here must not leave the key "in progress" for ever
                del p.entries[key]
                p.requests.remove(row)
                return 500, {"error": "internal", "reason": f"{type(exc).__name__}: {exc}"}
            entry.state, entry.status_code, entry.response = "done", 200, response
        return 200, response

    @staticmethod
    def _parse(p: Platform, body: bytes) -> dict:
        if not body:
            raise BadRequest("empty body")
        try:
            notice = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadRequest(f"body is not JSON: {exc}") from exc
        if not isinstance(notice, dict):
            raise BadRequest("body must be a JSON object")
        if not notice.get("notice_id"):
            raise BadRequest("notice_id is required")
        if notice.get("kind") not in KINDS:
            raise BadRequest(f"kind must be one of {', '.join(KINDS)}")
        if p.mode == "async":
            url = notice.get("callback_url")
            if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
                raise BadRequest("callback_url (http or https) is required by this platform")
        return notice

    @staticmethod
    def _ledger_row(key: str, notice: dict, replayed: bool) -> dict:
        kind = notice.get("kind")
        return {
            "idempotency_key": key,
            "notice_id": str(notice.get("notice_id")),
            "kind": kind,
            "account": notice.get("account"),
            "court": notice.get("court"),
            "amount_requested": _amount_requested(notice),
            # a replay performs nothing: "0.00" for money kinds, null for a query
            "amount_effected": None if (kind == "query" or not replayed) else "0.00",
            "status": "replayed" if replayed else "processing",
            "received_at": now_iso(),
            "replayed": replayed,
        }

    @staticmethod
    def _perform(p: Platform, key: str, entry: Entry, row: dict) -> dict:
        """Apply the effect (lock held), fill in the ledger row, return ``{status, result}``."""
        status, result, effected = p.apply(entry.notice, key)
        row["status"] = status
        row["amount_effected"] = fmt(effected)
        return {"status": status, "result": result}

    # --- async --------------------------------------------------------------------------------

    @staticmethod
    def _start(target, *args) -> None:
        threading.Thread(target=target, args=args, daemon=True).start()

    def _process_async(self, p: Platform, key: str, entry: Entry, row: dict, latency_s: float) -> None:
        self.sleep(latency_s)
        with self.lock:
            try:
                entry.outcome = self._perform(p, key, entry, row)
            except Exception as exc:  # reported to the court as a rejection rather than never
                row["status"] = "rejected"
                entry.outcome = {"status": "rejected", "result": {"code": "internal", "reason": str(exc)}}
        self._deliver_callback(p, key, entry)

    def _deliver_callback(self, p: Platform, key: str, entry: Entry) -> None:
        notice, outcome = entry.notice, entry.outcome
        body = json.dumps(
            {"notice_id": notice["notice_id"], "status": outcome["status"], "result": outcome["result"]},
            ensure_ascii=False,
        ).encode("utf-8")
        record = {
            "idempotency_key": key,
            "notice_id": str(notice["notice_id"]),
            "url": notice["callback_url"],
            "attempts": 0,
            "delivered": False,
            "last_status": None,
            "last_error": None,
        }
        with self.lock:
            p.callbacks.append(record)
        for attempt in range(max(1, p.callback_attempts)):
            if attempt:
                self.sleep(CALLBACK_DELAYS_S[min(attempt - 1, len(CALLBACK_DELAYS_S) - 1)])
            if self.stopping.is_set():
                break
            hdrs = signing.headers(p.key_id, p.secret, key, body)
            hdrs["Content-Type"] = "application/json; charset=utf-8"
            request = urllib.request.Request(notice["callback_url"], data=body, headers=hdrs, method="POST")
            status, error = None, None
            try:
                with urllib.request.urlopen(request, timeout=CALLBACK_TIMEOUT_S) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except (OSError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            with self.lock:
                record["attempts"] = attempt + 1
                record["last_status"], record["last_error"] = status, error
                if status is not None and 200 <= status < 300:
                    record["delivered"] = True
                    entry.callback = "delivered"
                    return
        with self.lock:
            entry.callback = "failed"

    # --- reading and control ------------------------------------------------------------------

    def ledger(self, code: str):
        p = self.platforms.get(code)
        if p is None:
            return 404, {"error": "not_found", "reason": f"no platform {code!r}"}
        with self.lock:
            return 200, {
                "platform": p.settings(),
                "requests": [dict(r) for r in p.requests],
                "holds": [h.as_json() for h in p.holds],
                "accounts": [
                    {
                        "account": a.account,
                        "holder_id": a.holder_id,
                        "balance": fmt(a.balance),
                        "held": fmt(p.held(a.account)),
                        "outflow_blocked": a.outflow_blocked,
                    }
                    for a in p.accounts.values()
                ],
                "refused": [dict(r) for r in p.refused],
                "callbacks": [dict(c) for c in p.callbacks],
            }

    def control(self, code: str, body: bytes):
        p = self.platforms.get(code)
        if p is None:
            return 404, {"error": "not_found", "reason": f"no platform {code!r}"}
        try:
            values = json.loads(body or b"{}")
            if not isinstance(values, dict):
                raise ValueError("body must be a JSON object")
            with self.lock:
                p.configure(values)
                return 200, p.settings()
        except (ValueError, ConfigError) as exc:
            return 400, {"error": "bad_request", "reason": str(exc)}

    def health(self, code: str | None = None):
        if code is None:
            return 200, {"ok": True, "platforms": sorted(self.platforms)}
        p = self.platforms.get(code)
        if p is None:
            return 404, {"error": "not_found", "reason": f"no platform {code!r}"}
        return 200, {"ok": True, "code": p.code, "name": p.name, "mode": p.mode}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the court's client reuses connections
    # Headers and body go out in separate writes; without TCP_NODELAY each answer on a kept-alive
    # connection waits ~40 ms for the client's delayed ACK (Nagle), which is not the platform's time.
    disable_nagle_algorithm = True
    server_version = "MockPlatforms/1"
    service: MockPlatforms  # set on the subclass made by make_server

    def _route(self) -> list[str]:
        return [part for part in urlsplit(self.path).path.split("/") if part]

    def _body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._send(413, {"error": "too_large", "reason": f"body must be at most {MAX_BODY} bytes"})
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if status == 409:  # the first request with this key is still being processed: try again soon
                self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _answer(self, outcome) -> None:
        if outcome is HANG:
            self.close_connection = True
            return
        self._send(*outcome)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        parts = self._route()
        if parts == ["_health"]:
            self._answer(self.service.health())
        elif len(parts) == 2 and parts[1] == "_health":
            self._answer(self.service.health(parts[0]))
        elif len(parts) == 2 and parts[1] == "_ledger":
            self._answer(self.service.ledger(parts[0]))
        else:
            self._send(404, {"error": "not_found", "reason": self.path})

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        parts = self._route()
        body = self._body()
        if body is None:
            return
        if len(parts) == 2 and parts[1] == "notices":
            self._answer(self.service.handle_notice(parts[0], self.headers, body))
        elif len(parts) == 2 and parts[1] == "_control":
            self._answer(self.service.control(parts[0], body))
        else:
            self._send(404, {"error": "not_found", "reason": self.path})

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature of the base class
        if self.service.verbose:
            super().log_message(format, *args)


class MockHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def make_server(service: MockPlatforms, host: str = "127.0.0.1", port: int = 0) -> MockHTTPServer:
    handler = type("BoundHandler", (Handler,), {"service": service})
    return MockHTTPServer((host, port), handler)


def resolve_seed(seed: int | str | None) -> int | str | None:
    if seed is None:
        seed = os.environ.get(SEED_ENV) or None
    return seed


def serve(data: str | Path, host: str = "127.0.0.1", port: int = 8900, seed=None, verbose=False, out=None) -> None:
    """Run in the foreground until SIGINT or SIGTERM, then shut down cleanly."""
    out = out or sys.stdout
    service = MockPlatforms.from_file(data, seed=resolve_seed(seed), verbose=verbose)
    httpd = make_server(service, host, port)
    stop = threading.Event()

    def _stop(signum, frame):
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    bound_host, bound_port = httpd.server_address[:2]
    codes = ", ".join(sorted(service.platforms))
    out.write(f"Stand-in platforms ({codes}) on http://{bound_host}:{bound_port}/<code>/\n")
    out.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        service.stopping.set()  # wakes latency sleeps, hangs and callback back-offs
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        out.write("Stand-in platforms stopped.\n")
        out.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", default=None)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    try:
        serve(args.data, args.host, args.port, seed=args.seed, verbose=args.verbose)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
