"""The tamper-evident audit trail: the only writer of ``AuditEntry`` and its verifier.

Each entry's hash covers its chain, sequence number, time, actor, action, object, payload digest
and the previous entry's hash. Editing, deleting or reordering entries breaks a link; deleting the
newest entries is caught by the chain head table and by the signed checkpoints.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from . import bulk
from .models import SYSTEM_CHAIN, AuditChainHead, AuditCheckpoint, AuditEntry

GENESIS = "0" * 64


def _canonical(data: Any) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def digest(data: Any) -> str:
    """The SHA-256 of ``data``'s canonical JSON: an entry's payload can carry it to make data kept
    elsewhere (a platform's answer stored on its notice) tamper-evident."""
    return _digest(_canonical(data))


def chain_for_case(case_id: int | None) -> str:
    return f"case:{case_id}" if case_id else SYSTEM_CHAIN


def entry_hash(entry: AuditEntry) -> str:
    fields = {
        "chain": entry.chain,
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "case": entry.case_id,
        "payload_digest": entry.payload_digest,
        "prev_hash": entry.prev_hash,
    }
    return _digest(_canonical(fields))


def _lock_head(chain: str) -> AuditChainHead:
    """Create the chain head if missing and lock it for the rest of the transaction."""
    table = AuditChainHead._meta.db_table
    if connection.vendor == "postgresql":
        # One round trip: ON CONFLICT DO UPDATE locks the existing row (as SELECT ... FOR UPDATE
        # would, waiting for a concurrent writer) and RETURNING gives its latest committed values.
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (chain, seq, entry_hash) VALUES (%s, 0, %s) "
                f"ON CONFLICT (chain) DO UPDATE SET chain = EXCLUDED.chain RETURNING seq, entry_hash",
                [chain, GENESIS],
            )
            seq, last_hash = cursor.fetchone()
        return AuditChainHead(chain=chain, seq=seq, entry_hash=last_hash)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (chain, seq, entry_hash) VALUES (%s, 0, %s) ON CONFLICT (chain) DO NOTHING",
            [chain, GENESIS],
        )
    return AuditChainHead.objects.select_for_update().get(chain=chain)


def record(actor, action: str, obj=None, *, case=None, payload: dict | None = None) -> AuditEntry:
    """Append an entry. Must run inside the transaction of the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must be called inside the transaction of the change")
    payload = payload or {}
    case_id = case.pk if case is not None else None
    chain = chain_for_case(case_id)
    head = _lock_head(chain)
    actor_obj = actor if getattr(actor, "pk", None) else None
    entry = AuditEntry(
        chain=chain,
        seq=head.seq + 1,
        at=timezone.now(),
        actor=actor_obj,
        actor_name=actor_obj.get_username() if actor_obj else "system",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        case_id=case_id,
        payload=json.loads(_canonical(payload)),
        payload_digest=_digest(_canonical(payload)),
        prev_hash=head.entry_hash or GENESIS,
    )
    entry.entry_hash = entry_hash(entry)
    _append([entry], chain, entry.seq, entry.entry_hash)
    return entry


def record_many(
    actor, action: str, objects: list, *, case, payloads: list[dict], actions: list[str] | None = None
) -> list[AuditEntry]:
    """Append one entry per object on the case's chain with one head lock and one insert (a
    request that writes many rows at once, e.g. a notice to every platform). ``actions``, when
    given, names each entry's action (several kinds of change recorded together)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record_many must be called inside the transaction of the change")
    actions = [action] * len(objects) if actions is None else actions
    if not objects:
        return []
    chain = chain_for_case(case.pk)
    head = _lock_head(chain)
    actor_obj = actor if getattr(actor, "pk", None) else None
    entries, prev, seq, now = [], head.entry_hash or GENESIS, head.seq, timezone.now()
    for obj, payload, entry_action in zip(objects, payloads, actions, strict=True):
        seq += 1
        text = _canonical(payload)
        entry = AuditEntry(
            chain=chain,
            seq=seq,
            at=now,
            actor=actor_obj,
            actor_name=actor_obj.get_username() if actor_obj else "system",
            action=entry_action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            case_id=case.pk,
            payload=json.loads(text),
            payload_digest=_digest(text),
            prev_hash=prev,
        )
        entry.entry_hash = prev = entry_hash(entry)
        entries.append(entry)
    _append(entries, chain, seq, prev)
    return entries


def _append(entries: list[AuditEntry], chain: str, seq: int, last_hash: str) -> None:
    """Insert ``entries`` and move the chain head to the last of them (locked by ``_lock_head``)."""
    if connection.vendor != "postgresql":
        AuditEntry.objects.bulk_create(entries)
        AuditChainHead.objects.filter(chain=chain).update(seq=seq, entry_hash=last_hash)
        return
    fields = [f for f in AuditEntry._meta.concrete_fields if not f.primary_key]
    values, params = bulk.unnest(fields, entries)
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:  # one round trip for both
        cursor.execute(
            f"WITH appended AS (INSERT INTO {quote(AuditEntry._meta.db_table)} ({names}) SELECT * FROM {values})"
            f" UPDATE {quote(AuditChainHead._meta.db_table)} SET seq = %s, entry_hash = %s WHERE chain = %s",
            [*params, seq, last_hash, chain],
        )


def _sign(heads: dict) -> str:
    return hmac.new(settings.AUDIT_SIGNING_KEY.encode(), _canonical(heads).encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def checkpoint() -> AuditCheckpoint:
    """Sign the current head of every chain."""
    heads = {h.chain: [h.seq, h.entry_hash] for h in AuditChainHead.objects.order_by("chain")}
    return AuditCheckpoint.objects.create(heads=heads, signature=_sign(heads))


@dataclass
class Break:
    chain: str
    seq: int | None
    entry_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"chain {self.chain}" + (f" seq {self.seq}" if self.seq is not None else "")
        if self.entry_id is not None:
            where += f" (entry id {self.entry_id})"
        return f"{where}: {self.reason}"


def verify() -> Break | None:
    """Walk every chain and return the first broken link, or None when the trail is intact.

    Entries are walked in order of id; per chain the sequence numbers must count up from 1
    without gaps, which catches reordering as well as deletion. The chain heads and the latest
    signed checkpoint catch entries removed from the end of a chain.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            # One snapshot for heads, checkpoint and entries: writers keep appending meanwhile.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _verify_snapshot()


def _verify_snapshot() -> Break | None:
    heads = {h.chain: h for h in AuditChainHead.objects.all()}
    latest = AuditCheckpoint.objects.first()
    signed: dict[str, list] = {}
    if latest is not None:
        if not hmac.compare_digest(latest.signature, _sign(latest.heads)):
            return Break("checkpoint", None, latest.id, "checkpoint signature is invalid")
        signed = latest.heads
    state: dict[str, tuple[int, str]] = {}
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        last_seq, last_hash = state.get(entry.chain, (0, GENESIS))
        if entry.seq != last_seq + 1:
            return Break(entry.chain, entry.seq, entry.id, f"expected sequence {last_seq + 1}, found {entry.seq}")
        if entry.prev_hash != last_hash:
            return Break(entry.chain, entry.seq, entry.id, "previous-hash link does not match")
        if entry.payload_digest != _digest(_canonical(entry.payload)):
            return Break(entry.chain, entry.seq, entry.id, "payload does not match its digest")
        if entry.entry_hash != entry_hash(entry):
            return Break(entry.chain, entry.seq, entry.id, "entry hash does not match its content")
        signed_head = signed.get(entry.chain)
        if signed_head and signed_head[0] == entry.seq and signed_head[1] != entry.entry_hash:
            return Break(entry.chain, entry.seq, entry.id, "entry differs from the signed checkpoint")
        state[entry.chain] = (entry.seq, entry.entry_hash)
    for chain, (seq, _hash) in sorted(signed.items()):
        if state.get(chain, (0, GENESIS))[0] < seq:
            return Break(chain, seq, None, "entries signed in the latest checkpoint are missing")
    for chain, head in sorted(heads.items()):
        seq, last_hash = state.get(chain, (0, GENESIS))
        if head.seq != seq or (seq and head.entry_hash != last_hash):
            return Break(chain, head.seq, None, f"chain head records {head.seq} entries, found {seq}")
    for chain in sorted(state):
        if chain not in heads:
            return Break(chain, None, None, "chain has entries but no head")
    return None
