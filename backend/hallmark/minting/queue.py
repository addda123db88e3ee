"""The mint queue: coalesces each drop's queued items into batched `airdrop` transactions, and settles them from
their receipts.

Airdrop rows and single mints go out at once; claims wait up to `claim_window` seconds for company, so a burst
of claims shares transactions (and gas) while a lone claim is still minted within about a second. Items are
picked with row locks that skip rows another worker holds, marked `sending` in the same database transaction
that stores the signed batch, and leave `sending` only when the chain has decided: minted (token ids and
recipients read from the receipt's Transfer events), failed (the transaction reverted), or back to `queued`
(its nonce was provably taken by another transaction).
"""
from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

from eth_utils import keccak
from sqlalchemy import Integer, any_, bindparam, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from ..access import audit
from ..chain.node import Settled
from ..chain.sender import Sender
from ..config import MAX_PACKED_BATCH
from ..db import Database
from ..models import AirdropJob, ChainTx, Drop, MintItem, utcnow
from ..webhooks import sources as webhook_sources
from . import jobs
from .gas import batch_limit

log = logging.getLogger(__name__)
PURPOSE = "mint:"
AIRDROP_SELECTOR = keccak(text="airdrop(address[])")[:4]


class MintQueue:
    def __init__(self, db: Database, sender: Sender, handles, batch_size: int = MAX_PACKED_BATCH,
                 claim_window: float = 1.0, max_in_flight: int = 4):
        self.db, self.sender, self.handles = db, sender, handles
        self.batch_size, self.claim_window, self.max_in_flight = batch_size, claim_window, max_in_flight

    def fill(self) -> list[int]:
        """Sign batches while fewer than `max_in_flight` are pending and hand them to the sender's broadcaster;
        returns the new transactions."""
        sent = []
        while (in_flight := self.sender.pending_count(PURPOSE)) < self.max_in_flight:
            tx_id = self._sign_next_batch(first=in_flight == 0)
            if tx_id is None:
                break
            sent.append(tx_id)
            self.sender.broadcast_soon(tx_id)  # sent while the next batch is signed
        return sent

    def _ready_drops(self) -> list[int]:
        """Live drops with queued items (oldest first), then those with airdrop rows still to queue."""
        ready = (Drop.status == "live", Drop.paused.is_(False))
        with self.db.session() as s:
            drops = list(s.scalars(
                select(MintItem.drop_id).join(Drop, Drop.id == MintItem.drop_id)
                .where(MintItem.status == "queued", *ready)
                .group_by(MintItem.drop_id).order_by(func.min(MintItem.id))))
            return drops + [d for d in s.scalars(
                select(AirdropJob.drop_id).join(Drop, Drop.id == AirdropJob.drop_id)
                .where(AirdropJob.pending > 0, *ready)
                .group_by(AirdropJob.drop_id).order_by(func.min(AirdropJob.id))) if d not in drops]

    def _pick(self, s, drop_id: int, n: int):
        """The drop's next `n` queued items as plain rows (a batch holds up to 1,200: read and marked once), locked."""
        return s.execute(
            select(MintItem.id, MintItem.recipient, MintItem.source, MintItem.created_at)
            .where(MintItem.drop_id == drop_id, MintItem.status == "queued")
            .order_by(MintItem.id).limit(n).with_for_update(skip_locked=True)).all()

    def _sign_next_batch(self, first: bool = False) -> int | None:
        """`first`: nothing of ours is in flight, so the node waits for this batch: it takes the queue's remainder
        (its length modulo the batch size), quicker to sign, and the full batches follow while the node mines it.
        As many transactions as full batches first would need. Airdrop rows not yet queued become items as a batch
        takes them, so the first goes out at once and the rest are queued while the node mines."""
        for drop_id in self._ready_drops():
            with self.sender.signing() as s:
                drop = s.get(Drop, drop_id, with_for_update=True)  # one batch of a drop at a time across workers
                items = self._pick(s, drop_id, self.batch_size)
                unqueued = jobs.unqueued(s, drop_id)
                if not items and not unqueued:
                    continue
                if (not unqueued and len(items) < self.batch_size and all(i.source == "claim" for i in items)
                        and utcnow() - items[0].created_at < timedelta(seconds=self.claim_window)):
                    continue  # let more claims join this transaction
                want = self.batch_size
                if first and (unqueued or len(items) == self.batch_size):
                    queued = unqueued + (len(items) if len(items) < self.batch_size else s.scalar(
                        select(func.count()).select_from(MintItem).where(
                            MintItem.drop_id == drop_id, MintItem.status == "queued")))
                    want = queued % self.batch_size or self.batch_size
                taken = s.scalar(select(func.count()).select_from(MintItem).where(
                    MintItem.drop_id == drop_id, MintItem.status.in_(("sending", "minted"))))
                remaining = max(drop.edition_size - taken, 0)
                if not items and want <= remaining:
                    # only rows not yet queued: they become items already in this batch (written once, where
                    # queueing and then marking them wrote each twice), in the transaction that stores it
                    picked = jobs.next_rows(s, drop_id, want)
                    row = self._sign(s, drop, [address for _, rows in picked for _, address in rows])
                    jobs.queue_rows(s, drop_id, picked, status="sending", tx_id=row.id)
                    return row.id
                if len(items) < want and unqueued:
                    jobs.expand(s, drop_id, want - len(items))
                    items = self._pick(s, drop_id, want)
                items = items[:want]
                if items[remaining:]:
                    sold_out = MintItem.id.in_([i.id for i in items[remaining:]])
                    s.execute(update(MintItem).where(sold_out).values(status="failed", error="the edition is sold out"))
                    _finish_jobs(s, _count_into_jobs(s, sold_out))
                items = items[:remaining]
                if not items:
                    continue
                row = self._sign(s, drop, [i.recipient for i in items])
                s.execute(update(MintItem).where(_among(s, MintItem.id, [i.id for i in items]))
                          .values(status="sending", tx_id=row.id, error=None))
                return row.id
        return None

    def _sign(self, s, drop: Drop, recipients: list[str]) -> ChainTx:
        return self.sender.sign(s, f"{PURPOSE}{drop.id}:{uuid.uuid4().hex}", drop.contract_address,
                                airdrop_calldata(recipients), batch_limit(len(recipients)))

    def settle(self, done: Settled) -> None:
        """Give a decided batch's items their token ids, their failure, or back to the queue."""
        with self.db.session() as s:
            if done.receipt is None:  # its nonce went to another transaction: these items were not minted
                s.execute(update(MintItem).where(MintItem.tx_id == done.tx_id).values(status="queued", tx_id=None))
                return
            if done.receipt.status != 1:
                reason = "transaction reverted (drop paused on chain or sold out)"
                s.execute(update(MintItem).where(MintItem.tx_id == done.tx_id).values(status="failed", error=reason))
                _finish_jobs(s, _count_into_jobs(s, MintItem.tx_id == done.tx_id))
                webhook_sources.batch_settled(s, done.tx_id, done.receipt.tx_hash)
                return
            items = s.execute(select(MintItem.id, MintItem.recipient).where(MintItem.tx_id == done.tx_id)
                              .order_by(MintItem.id)).all()
            minted = transfers(done.receipt, self.handles.transfer_topic_hex)
            if _in_order(items, minted):
                _mark_minted_in_order(s, done.tx_id, minted[0][1])
            else:
                _mark_each(s, items, minted, done.receipt.tx_hash)
            _finish_jobs(s, _count_into_jobs(s, MintItem.tx_id == done.tx_id))
            webhook_sources.batch_settled(s, done.tx_id, done.receipt.tx_hash)

    def recover(self) -> bool:
        """Settle batches the sender has decided whose items still wait in `sending`: the sender records a decision
        before this queue hears of it, so a crash in between leaves them here. True when one was settled (a batch
        whose receipt the node does not have is not progress: the worker waits before asking again)."""
        with self.db.session() as s:
            orphans = s.execute(select(ChainTx.id, ChainTx.purpose, ChainTx.tx_hash, ChainTx.status).where(
                ChainTx.status != "pending",
                ChainTx.id.in_(select(MintItem.tx_id).where(MintItem.status == "sending")))).all()
        settled = False
        for done in self.sender.decided(orphans):
            log.warning("settling batch %s (%s), decided but not settled before", done.tx_id, done.purpose)
            self.settle(done)
            settled = True
        return settled


def _count_into_jobs(s, items) -> list[int]:
    """Add the settled (minted or failed) items matching `items` to their jobs' counters, in the transaction that
    settled them; returns those jobs."""
    counts = s.execute(select(MintItem.job_id, MintItem.status, func.count()).where(
        items, MintItem.job_id.is_not(None), MintItem.status.in_(("minted", "failed")))
        .group_by(MintItem.job_id, MintItem.status)).all()
    for job_id, status, n in counts:
        column = getattr(AirdropJob, status)
        s.execute(update(AirdropJob).where(AirdropJob.id == job_id).values({column: column + n}))
    return sorted({job_id for job_id, _, _ in counts})


def _finish_jobs(s, job_ids: list[int]) -> None:
    """Close the jobs whose last items these were: finished_at set and audited once, with the settlement."""
    for job in s.scalars(select(AirdropJob).where(AirdropJob.id.in_(job_ids), AirdropJob.finished_at.is_(None),
                                                  AirdropJob.minted + AirdropJob.failed >= AirdropJob.total)):
        job.finished_at = utcnow()
        audit.record(s, "airdrop.finished", "airdrop_job", job.id, actor=audit.SYSTEM, after={
            "drop_id": job.drop_id, "minted": job.minted, "failed": job.failed, "request": job.audit_id})


def transfers(receipt, transfer_topic: str) -> list[tuple[str, int]]:
    """(lower-case recipient, token id) of each mint in the receipt, in log order, read straight from the raw
    topics (to is topics[2], the token id topics[3]): web3's event decoding costs more than the whole batch."""
    zero = "0x" + "00" * 32
    return [("0x" + topics[2][-40:].lower(), int(topics[3], 16)) for topics in (e["topics"] for e in receipt.logs)
            if len(topics) == 4 and topics[0] == transfer_topic and topics[1] == zero]


def _in_order(items, minted: list[tuple[str, int]]) -> bool:
    """Whether the receipt minted consecutive token ids to exactly the items' recipients, in item order."""
    return len(items) == len(minted) and all(
        to == item.recipient.lower() and token_id == minted[0][1] + n
        for n, (item, (to, token_id)) in enumerate(zip(items, minted)))


def _mark_minted_in_order(s, tx_id: int, first_token: int) -> None:
    """A packed batch as expected: one statement gives the items token ids from `first_token` in item order
    (a statement per item cost PostgreSQL about 0.1 s per 1,000)."""
    table = MintItem.__table__
    ranked = select(table.c.id, func.row_number().over(order_by=table.c.id).label("n")).where(
        table.c.tx_id == tx_id).subquery()
    s.execute(table.update().where(table.c.id == ranked.c.id).values(
        status="minted", token_id=ranked.c.n + (first_token - 1), minted_at=utcnow()))


def _mark_each(s, items, minted: list[tuple[str, int]], tx_hash: str) -> None:
    """Any other receipt: each item gets the token the receipt shows for it at its place, or fails."""
    table, now = MintItem.__table__, utcnow()
    rows, failed = [], []
    for n, item in enumerate(items):
        to, token_id = minted[n] if n < len(minted) else (None, None)
        if to is not None and to == item.recipient.lower():
            rows.append({"item_id": item.id, "token_id": token_id})
        else:  # never expected: the receipt does not show this recipient's token
            failed.append(item.id)
    if rows:
        s.execute(table.update().where(table.c.id == bindparam("item_id"))
                  .values(status="minted", token_id=bindparam("token_id"), minted_at=now), rows)
    if failed:
        s.execute(update(MintItem).where(MintItem.id.in_(failed)).values(
            status="failed", error=f"transaction {tx_hash} minted no token to this recipient"))


def _among(s, column, ids: list[int]):
    """`column IN ids`. On PostgreSQL one array parameter instead: the statement's text is the same for every batch,
    so it is prepared once with a small plan, where each 1,200-id IN list left 1.4 MB of plans in the connection."""
    if s.get_bind().dialect.name == "postgresql":
        return column == any_(literal(ids, ARRAY(Integer)))
    return column.in_(ids)


def airdrop_calldata(recipients: list[str]) -> bytes:
    """`airdrop(address[])`'s input, ABI-encoded by hand (selector, offset, length, one 32-byte word per address):
    web3's encoder checks and formats every address and took about 0.3 s for a batch of 1,000. The recipients were
    checked when they were queued."""
    words = [AIRDROP_SELECTOR, (32).to_bytes(32, "big"), len(recipients).to_bytes(32, "big")]
    words += [bytes(12) + bytes.fromhex(r[2:]) for r in recipients]
    return b"".join(words)


def wait_until_idle(db: Database, item_ids: list[int], timeout: float) -> bool:
    """Block until the given items leave the queue (minted or failed) or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.session() as s:
            open_count = s.scalar(select(func.count()).select_from(MintItem).where(
                MintItem.id.in_(item_ids), MintItem.status.in_(("queued", "sending"))))
        if not open_count:
            return True
        time.sleep(0.05)
    return False
