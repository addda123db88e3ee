"""The mint worker: coalesces each drop's queued items into batched `airdrop` transactions.

Airdrop rows and single mints go out at once; claims wait up to `claim_window` seconds for company, so a burst
of claims shares transactions (and gas) while a lone claim is still minted within about a second. Every
batch is stored as a signed transaction before it is broadcast (see chain.sender), so a restart resumes
exactly where it stopped.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select, update

from ..chain.sender import Sender, SendError
from ..db import Database
from ..models import ChainTx, Drop, MintItem, utcnow

log = logging.getLogger(__name__)
BASE_GAS, GAS_PER_ITEM = 150_000, 56_000  # above the measured worst case (holding period, first mint)
MAX_IN_FLIGHT = 4


class MintWorker:
    def __init__(self, db: Database, sender: Sender, handles, batch_size: int = 500, claim_window: float = 1.0,
                 tick: float = 0.1):
        self.db, self.sender, self.handles = db, sender, handles
        self.batch_size, self.claim_window, self.tick = batch_size, claim_window, tick
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        # batches are signed here, broadcast in nonce order by one thread and settled by another, so the node
        # never waits for our bookkeeping: batch k+1 reaches it the moment batch k is mined;
        # the semaphore bounds how many batches are in flight at once on nodes that do not mine on receipt
        self._broadcaster = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hallmark-mint-broadcaster")
        self._settler = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hallmark-mint-settler")
        self._in_flight = threading.BoundedSemaphore(MAX_IN_FLIGHT)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hallmark-mint-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
        self._broadcaster.shutdown(wait=True)
        self._settler.shutdown(wait=True)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        self.resume()
        while not self._stop.is_set():
            try:
                busy = self.process_once(pipelined=True)
            except Exception:  # keep the worker alive; the item rows keep the state
                log.exception("mint worker iteration failed")
                busy = False
            if not busy:
                self._wake.wait(self.tick)
                self._wake.clear()

    # ------------------------------------------------------------------ work

    def resume(self) -> None:
        """Settle batches that were signed before a restart: re-broadcast, wait, record token ids."""
        self.sender.recover()
        with self.db.session() as s:
            txs = list(s.scalars(
                select(ChainTx).where(ChainTx.id.in_(
                    select(MintItem.tx_id).where(MintItem.status == "sending").distinct()
                )).order_by(ChainTx.nonce)
            ))
        for row in txs:
            self._settle(row)

    def process_once(self, pipelined: bool = False) -> bool:
        """Send one batch for the first drop that has one ready; True when something was sent. Pipelined, its
        receipt is settled in the background; otherwise before returning."""
        with self.db.session() as s:
            drop_ids = list(s.scalars(
                select(MintItem.drop_id).join(Drop, Drop.id == MintItem.drop_id)
                .where(MintItem.status == "queued", Drop.status == "live", Drop.paused.is_(False))
                .group_by(MintItem.drop_id).order_by(func.min(MintItem.id))
            ))
        for drop_id in drop_ids:
            if self._send_batch(drop_id, pipelined):
                return True
        return False

    def _send_batch(self, drop_id: int, pipelined: bool) -> bool:
        with self.db.session() as s:
            drop = s.get(Drop, drop_id)
            items = list(s.scalars(
                select(MintItem).where(MintItem.drop_id == drop_id, MintItem.status == "queued")
                .order_by(MintItem.id).limit(self.batch_size)
            ))
            if not items:
                return False
            oldest_claim_wait = utcnow() - items[0].created_at
            only_claims = all(i.source == "claim" for i in items)
            if only_claims and len(items) < self.batch_size and oldest_claim_wait < timedelta(seconds=self.claim_window):
                return False  # let more claims join this transaction
            taken = s.scalar(select(func.count()).select_from(MintItem).where(
                MintItem.drop_id == drop_id, MintItem.status.in_(("sending", "minted"))))
            remaining = drop.edition_size - taken
            if remaining < len(items):
                for item in items[remaining:]:
                    item.status, item.error = "failed", "the edition is sold out"
                items = items[:remaining]
            if not items:
                return True
            ids = [i.id for i in items]
            recipients = [i.recipient for i in items]
            address = drop.contract_address

        call = self.handles.collection(address).functions.airdrop(recipients)

        def mark_sending(session, tx):
            session.execute(update(MintItem).where(MintItem.id.in_(ids)).values(status="sending", tx_id=tx.id))

        with self.db.session() as s:  # a batch whose transaction was dropped is re-sent under a new purpose
            dropped = s.scalar(select(func.count()).select_from(ChainTx).where(
                ChainTx.purpose.like(f"mint:{drop_id}:{ids[0]}:%"), ChainTx.status == "dropped"))
        self._in_flight.acquire()
        try:
            row = self.sender.submit(f"mint:{drop_id}:{ids[0]}:{dropped}", call,
                                     BASE_GAS + GAS_PER_ITEM * len(ids), mark_sending, broadcast=not pipelined)
        except SendError as exc:
            self._in_flight.release()
            log.warning("batch for drop %s not sent: %s", drop_id, exc)
            return False
        if pipelined:
            self._broadcaster.submit(self._broadcast_then_settle, row)
        else:
            self._settle_and_release(row)
        return True

    def _broadcast_then_settle(self, row: ChainTx) -> None:
        try:
            self.sender.broadcast(row)
        except SendError as exc:
            log.warning("batch %s refused by the node: %s", row.purpose, exc)
        self._settler.submit(self._settle_and_release, row)

    def _settle_and_release(self, row: ChainTx) -> None:
        try:
            self._settle(row)
        finally:
            self._in_flight.release()

    def _settle(self, row: ChainTx) -> None:
        """Wait for a batch's receipt and give each of its items its token id (or its failure)."""
        try:
            receipt = self.sender.wait(row)
        except SendError as exc:
            log.warning("batch %s unsettled: %s", row.purpose, exc)
            return
        with self.db.session() as s:
            items = list(s.scalars(select(MintItem).where(MintItem.tx_id == row.id).order_by(MintItem.id)))
            now = utcnow()
            if receipt is None:  # dropped: put the items back in the queue
                s.execute(update(MintItem).where(MintItem.tx_id == row.id).values(status="queued", tx_id=None))
                return
            if receipt.status != 1:
                reason = "transaction reverted (drop paused on chain or sold out)"
                s.execute(update(MintItem).where(MintItem.tx_id == row.id).values(status="failed", error=reason))
                return
            first = self._first_token_id(receipt)
            s.execute(update(MintItem), [
                {"id": item.id, "status": "minted", "token_id": first + n, "minted_at": now}
                for n, item in enumerate(items)
            ])

    def _first_token_id(self, receipt) -> int:
        topic = self.handles.transfer_topic_hex
        for entry in receipt.logs:
            if entry["topics"] and entry["topics"][0] == topic:
                return int(entry["topics"][3], 16)
        raise SendError(f"no Transfer event in {receipt.tx_hash}")


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
