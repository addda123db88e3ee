"""The events partners can subscribe to, and `emit`, which writes one to the outbox in the caller's session: the
event commits with the change it reports, or not at all, and the deliverer (webhooks.delivery) sends it later.

Events the indexer derives from chain logs get an id computed from the transaction hash and log index, so that
re-reading the same log (a restart, a rewind after a reorg, a rebuilt index) finds the event already there and
adds nothing; every other event gets a random id."""
from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import iso_utc, utcnow
from .models import OutboxEvent

TYPES = {
    "drop.live": "a drop's collection is on chain and open for minting",
    "job.progress": "an airdrop job passed another tenth of its rows (at most ten a job)",
    "job.finished": "every row of an airdrop job is minted or failed",
    "claim.minted": "a claimed item was minted to the customer's wallet",
    "item.redeemed": "an item's perk was redeemed on chain",
    "item.transferred": "an official item changed hands between two holders (not a mint or a burn)",
}
PING = "ping"  # the console's test event: sent to one endpoint only, whatever it subscribes to


def random_id() -> str:
    return "evt_" + secrets.token_hex(16)


def chain_id(type_: str, tx_hash: str, log_index: int) -> str:
    """The same log always yields the same event id (36 characters, like a random one)."""
    return "evt_" + hashlib.sha256(f"{type_}:{tx_hash.lower()}:{log_index}".encode()).hexdigest()[:32]


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                      default=lambda v: iso_utc(v) if isinstance(v, datetime) else str(v))


def emit(s: Session, type_: str, drop_id: int | None, payload: dict, event_id: str | None = None) -> None:
    """Add an event to the outbox in session `s`. With `event_id` (a chain event), an event already stored under
    that id is left as it is: the unique id turns a repeat into nothing instead of an error that would roll back
    the caller's work."""
    if type_ not in TYPES and type_ != PING:
        raise ValueError(f"unknown event type {type_}")
    row = {"event_id": event_id or random_id(), "type": type_, "drop_id": drop_id, "payload": _json(payload),
           "created_at": utcnow(), "fanned_out": False}
    if event_id:
        insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
        s.execute(insert(OutboxEvent).values(**row).on_conflict_do_nothing(index_elements=["event_id"]))
    else:
        s.add(OutboxEvent(**row))


def body(event: OutboxEvent) -> str:
    """The JSON a receiver gets: the same bytes on every attempt and redelivery (only the timestamp header and
    the signature over it change)."""
    return _json({"id": event.event_id, "type": event.type, "created_at": iso_utc(event.created_at),
                  "drop_id": event.drop_id, "data": json.loads(event.payload)})
