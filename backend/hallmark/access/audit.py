"""The audit trail: an append-only, hash-chained record of every staff and system action.

`record()` adds an entry inside the caller's transaction, so an action and its entry commit together or not at
all. Each entry's hash covers its fields and the previous entry's hash; entries are numbered without gaps.
`verify()` recomputes the chain: an edited entry no longer matches its hash, an inserted or deleted one breaks
the numbering or the link to its neighbour, a truncated tail is caught against a published head
(`hallmark audit verify --head`)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from flask import g, has_request_context, request
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ..models import iso_utc, utcnow
from .models import AuditEntry

GENESIS = "0" * 64
LOCK_ID = 7_244_001  # PostgreSQL advisory lock: one appender at a time (SQLite's write lock does the same)


@dataclass(frozen=True)
class Actor:
    kind: str  # staff | key | system | cli
    id: int | None
    name: str
    role: str


SYSTEM = Actor("system", None, "worker", "system")


def actor_of_request() -> Actor:
    principal = getattr(g, "principal", None) if has_request_context() else None
    if principal is None:
        return Actor("public", None, "customer", "public")
    return Actor(principal.kind, principal.id, principal.name, principal.role)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def entry_hash(fields: dict) -> str:
    canonical = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _hashed_fields(entry: AuditEntry) -> dict:
    return {"seq": entry.seq, "at": iso_utc(entry.at), "actor_kind": entry.actor_kind, "actor_id": entry.actor_id,
            "actor_name": entry.actor_name, "role": entry.role, "action": entry.action,
            "object_type": entry.object_type, "object_id": entry.object_id, "before": entry.before,
            "after": entry.after, "request_id": entry.request_id, "client": entry.client,
            "prev_hash": entry.prev_hash}


def record(s: Session, action: str, object_type: str = "", object_id: Any = "", *, before: Any = None,
           after: Any = None, actor: Actor | None = None) -> AuditEntry:
    """Append an entry in session `s` (flushed, so its id can be linked); it commits with the caller's work."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
    else:  # a write takes SQLite's write lock before the last entry is read: no two appenders read the same one
        s.execute(text("UPDATE audit_entries SET seq = seq WHERE 1 = 0"))
    last = s.execute(select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    actor = actor or actor_of_request()
    in_request = has_request_context()
    entry = AuditEntry(
        seq=(last.seq + 1) if last else 1, at=utcnow(),
        actor_kind=actor.kind, actor_id=actor.id, actor_name=actor.name, role=actor.role, action=action,
        object_type=object_type, object_id=str(object_id), before=_json(before), after=_json(after),
        request_id=getattr(g, "request_id", None) if in_request else None,
        client=(request.remote_addr or "")[:64] if in_request else None,
        prev_hash=last.entry_hash if last else GENESIS, entry_hash="")
    entry.entry_hash = entry_hash(_hashed_fields(entry))
    s.add(entry)
    s.flush()
    return entry


@dataclass
class Verdict:
    ok: bool
    entries: int
    head: str
    problem: str | None = None
    seq: int | None = None  # where the chain first breaks


def verify(s: Session, expected_head: str | None = None) -> Verdict:
    """Walk the whole chain in order; the first break is reported with the entry number where it is."""
    prev, expected_seq, count = GENESIS, 1, 0
    for entry in _in_order(s):
        if entry.seq != expected_seq:
            return Verdict(False, count, prev, f"entry {expected_seq} is missing (next is {entry.seq})", expected_seq)
        if entry.prev_hash != prev:
            return Verdict(False, count, prev, f"entry {entry.seq} does not link to entry {entry.seq - 1}", entry.seq)
        if entry_hash(_hashed_fields(entry)) != entry.entry_hash:
            return Verdict(False, count, prev, f"entry {entry.seq} was altered after it was written", entry.seq)
        prev, expected_seq, count = entry.entry_hash, expected_seq + 1, count + 1
    if expected_head and expected_head not in (prev,) and not _contains(s, expected_head):
        return Verdict(False, count, prev, "the published head is no longer in the trail: entries were removed")
    return Verdict(True, count, prev)


def _contains(s: Session, head: str) -> bool:
    return s.scalar(select(AuditEntry.id).where(AuditEntry.entry_hash == head)) is not None


def _in_order(s: Session, page: int = 2000) -> Iterator[AuditEntry]:
    after = 0
    while True:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(page)))
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1].seq


def view(entry: AuditEntry) -> dict:
    return {"seq": entry.seq, "at": iso_utc(entry.at), "actor_kind": entry.actor_kind, "actor_id": entry.actor_id,
            "actor_name": entry.actor_name, "role": entry.role, "action": entry.action,
            "object_type": entry.object_type, "object_id": entry.object_id,
            "before": json.loads(entry.before) if entry.before else None,
            "after": json.loads(entry.after) if entry.after else None, "request_id": entry.request_id,
            "client": entry.client, "prev_hash": entry.prev_hash, "entry_hash": entry.entry_hash}
