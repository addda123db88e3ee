"""The only code that signs and sends transactions, after Chainlink's transaction manager.

- One owner per signing key and chain: only the worker holding the sender lease (run.leases) calls `sign`, and the
  database refuses a second transaction with the same (chain, signer, nonce) even if two ever tried.
- Every attempt is signed and saved before it is broadcast; a transaction's items are marked in the same database
  transaction that saves it, so a crash at any point leaves either nothing or a stored transaction to finish.
  Mint batches are broadcast by a thread (`broadcast_soon`), in signing order, while the next one is signed.
- The chain decides a transaction's fate, never a failed RPC call. `poll` (the confirmer) settles a transaction
  when one of its attempts has a receipt with enough confirmations; re-sends the same bytes when the node has
  forgotten it while its nonce is still free; replaces it with the same nonce at a higher fee when it waits too
  long or the fee is too low; and gives its items back only when the nonce is provably taken by a transaction that
  is none of its attempts. A nonce, once stored, is never given up, so a new transaction never jumps a gap.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from eth_account.signers.local import LocalAccount
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from web3 import Web3

from ..access import audit
from ..db import Database
from ..models import ChainTx, TxAttempt, utcnow
from .node import Node, NodeUnavailable, Receipt, Settled

log = logging.getLogger(__name__)
NODE_READ_SECONDS = 1.0  # how long a nonce or fee read from the node is used again while signing


def _record(s: Session, row: ChainTx, outcome: str) -> None:
    """Audit a transaction that a staff action caused (sent, mined, reverted, replaced), in the transaction that
    changes it. Batched mints carry no audit_id (their items do): one entry per transaction, never per item."""
    if row.audit_id is not None:
        audit.record(s, f"chain_tx.{outcome}", "chain_tx", row.id, actor=audit.SYSTEM, after={
            "purpose": row.purpose, "nonce": row.nonce, "tx_hash": row.tx_hash, "block_number": row.block_number,
            "cause": row.audit_id})


class Sender:
    def __init__(self, w3: Web3, account: LocalAccount, db: Database, confirmations: int = 0,
                 priority_fee_wei: int = 10**9, bump_after: float = 30.0, bump_percent: int = 20,
                 max_fee_wei: int = 500 * 10**9, recheck_after: float = 2.0):
        self.w3, self.account, self.db = w3, account, db
        self.node = Node(w3)
        self.confirmations = confirmations
        self.priority_fee_wei = priority_fee_wei
        self.bump_after = bump_after  # seconds a transaction may wait unmined before a fee-bumped replacement
        self.bump_percent = max(bump_percent, 10)  # nodes refuse replacements below +10%
        self.max_fee_wei = max_fee_wei
        self.recheck_after = recheck_after  # seconds before asking the node whether it still has a transaction
        self._lock = threading.RLock()
        self._chain_id: int | None = None
        self._outbox: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._outgoing: set[int] = set()  # stored transactions queued for or being sent by the broadcaster thread
        self._outgoing_lock = threading.Lock()
        self._broadcaster: threading.Thread | None = None
        self._decided = threading.Condition()  # notified as the confirmer records outcomes: `wait` returns at once
        self._node_reads: dict[str, tuple[float, object]] = {}  # what `_fresh` read from the node, and when
        self.on_sent = lambda: None  # called after each send returns: its receipt may be there to read

    @property
    def address(self) -> str:
        return self.account.address

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self.node.quantity("eth_chainId", [])
        return self._chain_id

    # ------------------------------------------------------------------ signing

    @contextmanager
    def signing(self) -> Iterator[Session]:
        """A locked database transaction in which to pick the work and `sign` it: the work's rows and the signed
        transaction commit together or not at all. Broadcast after it commits."""
        with self._lock, self.db.locked_session() as s:
            yield s

    def sign(self, s: Session, purpose: str, to: str, data: bytes, gas: int, audit_id: int | None = None,
             value: int = 0) -> ChainTx:
        """Sign a transaction under the next nonce and store it (not yet broadcast). A purpose seen before returns
        the transaction stored for it: nothing is signed twice. `audit_id`: the audit entry that caused it;
        `value`: wei sent along (a custodial address's gas)."""
        existing = s.scalar(select(ChainTx).where(ChainTx.purpose == purpose))
        if existing is not None:
            return existing
        chain_id = self.chain_id
        stored_next = s.scalar(select(func.max(ChainTx.nonce) + 1).where(
            ChainTx.chain_id == chain_id, ChainTx.signer == self.address)) or 0
        on_chain = self._fresh("nonce", lambda: self.node.quantity("eth_getTransactionCount", [self.address, "pending"]))
        row = ChainTx(purpose=purpose, chain_id=chain_id, signer=self.address, nonce=max(stored_next, on_chain),
                      to_address=Web3.to_checksum_address(to), data=data, gas=gas, value=value, tx_hash="",
                      audit_id=audit_id)
        s.add(row)
        s.flush()
        self._new_attempt(s, row, *self.fees())
        _record(s, row, "sent")
        return row

    def _fresh(self, what: str, read):
        """`read()` from the node, or its answer from less than NODE_READ_SECONDS ago. A node that mines as it
        accepts (Ganache) answers only between blocks: reading the nonce and the fee for every batch held each
        signature back until the block in progress was mined, and the node idled while the batch was signed. The
        nonce signed is the larger of the stored and the node's, so a recent read only matters if something else
        signed with this key meanwhile, which one owner per key rules out (and the confirmer settles as before)."""
        at, value = self._node_reads.get(what, (float("-inf"), None))
        if time.monotonic() - at > NODE_READ_SECONDS:
            value = read()
            self._node_reads[what] = (time.monotonic(), value)
        return value

    def fees(self) -> tuple[int, int]:
        """(max fee, priority fee) per gas for a transaction signed now: room for the base fee to double."""
        block = self._fresh("block", lambda: self.node.call("eth_getBlockByNumber", ["latest", False]))
        base_fee = int(block.get("baseFeePerGas") or "0x0", 16)
        priority = self.priority_fee_wei
        return min(2 * base_fee + priority, self.max_fee_wei), priority

    def _new_attempt(self, s: Session, row: ChainTx, max_fee: int, priority: int) -> TxAttempt:
        signed = self.account.sign_transaction({
            "type": 2, "chainId": row.chain_id, "nonce": row.nonce, "to": row.to_address, "data": row.data,
            "gas": row.gas, "value": row.value, "maxFeePerGas": max_fee, "maxPriorityFeePerGas": min(priority, max_fee),
        })
        attempt = TxAttempt(chain_tx_id=row.id, tx_hash=Web3.to_hex(signed.hash), raw=bytes(signed.raw_transaction),
                            max_fee_per_gas=max_fee, max_priority_fee_per_gas=min(priority, max_fee))
        s.add(attempt)
        s.flush()
        row.tx_hash = attempt.tx_hash
        return attempt

    # ------------------------------------------------------------------ broadcasting

    def broadcast(self, tx_id: int) -> str:
        """Send the newest attempt of a stored transaction. Returns how the node answered ("sent", "known",
        "nonce_used", "underpriced", ...); raises NodeUnavailable when it did not answer at all."""
        try:
            return self._broadcast(tx_id)
        finally:
            self.on_sent()

    def _broadcast(self, tx_id: int, db: Database | None = None) -> str:
        with (db or self.db).session() as s:
            attempt = s.scalar(select(TxAttempt).where(TxAttempt.chain_tx_id == tx_id).order_by(TxAttempt.id.desc()))
            return self._send(s, attempt)

    def broadcast_soon(self, tx_id: int) -> None:
        """Hand a stored transaction to this sender's broadcaster thread, which sends in the order given. A node
        that mines as it accepts (Ganache's instamine) answers only once the block is mined: meanwhile the caller
        signs the next batch instead of waiting. A send that fails is left to the confirmer (`poll` re-sends a
        stored attempt the node does not know), as after a crash between saving and sending."""
        with self._outgoing_lock:
            self._outgoing.add(tx_id)
        self.start_broadcaster()
        self._outbox.put(tx_id)

    def start_broadcaster(self) -> None:
        """Start the broadcaster thread (if it is not running) with its database connection open: started by the
        first send instead, it put about 0.1 s between an airdrop's first signature and its broadcast."""
        with self._outgoing_lock:
            if self._broadcaster is None or not self._broadcaster.is_alive():
                db = self.db.companion()
                with db.engine.connect():
                    pass  # the pool keeps it
                self._broadcaster = threading.Thread(target=self._broadcast_loop, args=(db,),
                                                     name="hallmark-broadcaster", daemon=True)
                self._broadcaster.start()

    def drain(self, timeout: float) -> bool:
        """Wait until the broadcaster has sent (or given up on) everything handed to it; False after `timeout`."""
        deadline = time.monotonic() + timeout
        while self._outgoing:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _broadcast_loop(self, db: Database) -> None:
        # one send at a time, each after the one before returned: a node that mines as it accepts (Ganache's eager
        # instamine) holds a transaction whose nonce it has not reached until the gap is filled, and refuses one
        # arriving while its nonce is being mined (both seen in tests/faults with two sends overlapping)
        while True:
            tx_id = self._outbox.get()
            try:
                self._broadcast(tx_id, db)
            except NodeUnavailable as exc:
                log.info("broadcast of transaction %s deferred to the confirmer: %s", tx_id, exc)
            except Exception:
                log.exception("broadcast of transaction %s failed; the confirmer sends it again", tx_id)
            finally:
                with self._outgoing_lock:
                    self._outgoing.discard(tx_id)
                self.on_sent()  # once it is no longer outgoing, so the woken confirmer looks at it

    def _send(self, s: Session, attempt: TxAttempt) -> str:
        outcome, message = self.node.send_raw(attempt.raw)
        attempt.broadcast_at = utcnow()  # refused or not, the node is asked again only after `recheck_after`
        if outcome in ("sent", "known"):
            attempt.last_error = None
        else:
            attempt.last_error = message[:500]
            log.info("node answered %s for %s: %s", outcome, attempt.tx_hash, attempt.last_error)
        return outcome

    # ------------------------------------------------------------------ the confirmer

    def pending_count(self, purpose_prefix: str = "") -> int:
        with self.db.session() as s:
            return s.scalar(select(func.count()).select_from(ChainTx).where(
                ChainTx.status == "pending", ChainTx.signer == self.address,
                ChainTx.purpose.like(f"{purpose_prefix}%")))

    def poll(self) -> list[Settled]:
        """One pass over this key's pending transactions, in nonce order: settle what the chain decided, re-send
        what the node forgot, replace what waited too long. Raises NodeUnavailable (deciding nothing) when the
        node does not answer."""
        with self.db.session() as s:
            pending = list(s.scalars(select(ChainTx).where(
                ChainTx.status == "pending", ChainTx.chain_id == self.chain_id, ChainTx.signer == self.address)
                .order_by(ChainTx.nonce)))
        with self._outgoing_lock:  # the broadcaster is sending these: looked at once their sends return
            pending = [row for row in pending if row.id not in self._outgoing]
        if not pending:
            return []  # nor asks the node anything: it is busy mining what the broadcaster sent
        now = _ChainNow(self)
        settled = []
        for row in pending:
            try:
                with self.db.session() as s:
                    attempts = list(s.scalars(select(TxAttempt).where(TxAttempt.chain_tx_id == row.id)
                                              .order_by(TxAttempt.id.desc())))
                    outcome = self._check(s, row, attempts, now)
                if outcome is not None:
                    with self._decided:
                        self._decided.notify_all()
            except NodeUnavailable:
                if settled:  # already recorded as decided: the caller must hear of them; the outage shows next poll
                    return settled
                raise
            if outcome is not None:
                settled.append(outcome)
        return settled

    def _check(self, s: Session, row: ChainTx, attempts: list[TxAttempt], now: "_ChainNow") -> Settled | None:
        receipt = self._first_receipt(attempts)
        if receipt is None and now.used is None:
            # the nonce count, then the receipts again: a nonce found used was used before they were asked for, so
            # none of them having a receipt means another transaction took it (read only when one is missing:
            # mined transactions, the usual case, cost one call each)
            now.read_used()
            receipt = self._first_receipt(attempts)
        if receipt is not None:
            if self.confirmations and now.head() - receipt.block_number < self.confirmations:
                return None  # mined, not yet final: a reorg could still undo it
            return self._settle(s, row, receipt)
        if row.nonce < now.used:
            db_row = s.get(ChainTx, row.id)
            db_row.status, db_row.error = "replaced", "its nonce was used by a transaction that is none of its attempts"
            _record(s, db_row, "replaced")
            log.warning("transaction %s (nonce %s) was replaced on chain", row.purpose, row.nonce)
            return Settled(row.id, row.purpose, None)
        newest = attempts[0]
        age = (utcnow() - newest.created_at).total_seconds()
        last_seen = newest.broadcast_at and (utcnow() - newest.broadcast_at).total_seconds()
        if newest.broadcast_at is None or last_seen > self.recheck_after:
            if not any(self.node.knows(a.tx_hash) for a in attempts):
                outcome = self._send(s, newest)  # the node lost it (restart, pool eviction): the same bytes again
                if outcome == "underpriced":
                    self._bump(s, row, newest)
                return None
            newest.broadcast_at = utcnow()
        if age > self.bump_after:
            self._bump(s, row, newest)
        return None

    def _first_receipt(self, attempts: list[TxAttempt]) -> Receipt | None:
        for attempt in attempts:
            if (receipt := self.node.receipt(attempt.tx_hash)) is not None:
                return receipt
        return None

    def _bump(self, s: Session, row: ChainTx, newest: TxAttempt) -> None:
        """Replace a waiting transaction with the same nonce at a higher fee (at least the node's +10%)."""
        current_max, current_priority = self.fees()
        factor = 100 + self.bump_percent
        max_fee = max(int(newest.max_fee_per_gas) * factor // 100, current_max)
        priority = max(int(newest.max_priority_fee_per_gas) * factor // 100, current_priority)
        if max_fee > self.max_fee_wei:
            if int(newest.max_fee_per_gas) >= self.max_fee_wei:
                log.warning("transaction %s waits at the fee cap (%s wei)", row.purpose, self.max_fee_wei)
                return
            max_fee = self.max_fee_wei
        db_row = s.get(ChainTx, row.id)
        attempt = self._new_attempt(s, db_row, max_fee, priority)
        s.commit()  # saved before it is broadcast
        log.info("transaction %s (nonce %s) re-priced: max fee %s wei", row.purpose, row.nonce, max_fee)
        self._send(s, attempt)

    def _settle(self, s: Session, row: ChainTx, receipt: Receipt) -> Settled:
        db_row = s.get(ChainTx, row.id)
        db_row.status = "mined" if receipt.status == 1 else "reverted"
        db_row.tx_hash, db_row.block_number, db_row.block_hash = receipt.tx_hash, receipt.block_number, receipt.block_hash
        db_row.gas_used, db_row.mined_at = receipt.gas_used, utcnow()
        _record(s, db_row, db_row.status)
        return Settled(row.id, row.purpose, receipt)

    def wait(self, tx_id: int, timeout: float) -> ChainTx:
        """Block until the confirmer (another thread of this process) settles a transaction."""
        deadline = time.monotonic() + timeout
        while True:
            with self.db.session() as s:
                row = s.get(ChainTx, tx_id)
            if row.status != "pending" or time.monotonic() > deadline:
                return row
            with self._decided:  # the timeout covers an outcome recorded between the read and this wait
                self._decided.wait(0.1)

    # ------------------------------------------------------------------ node access

    def decided(self, rows) -> Iterator[Settled]:
        """The outcomes of transactions recorded as decided, as `poll` handed them out, for consumers that crashed
        before settling them: (id, purpose, hash, status) rows. A replaced one has no receipt; one recorded as
        mined whose receipt the node no longer has is skipped (decide nothing); NodeUnavailable when it does not
        answer."""
        for tx_id, purpose, tx_hash, status in rows:
            receipt = None  # replaced: its nonce went to another transaction
            if status != "replaced":
                receipt = self.node.receipt(tx_hash)
                if receipt is None:
                    continue
            yield Settled(tx_id, purpose, receipt)


class _ChainNow:
    """What one confirmer pass reads from the node besides receipts, each at most once and only when needed: this
    key's used nonces and the head block."""

    def __init__(self, sender: Sender):
        self.sender, self.used, self._head = sender, None, None

    def read_used(self) -> None:
        self.used = self.sender.node.quantity("eth_getTransactionCount", [self.sender.address, "latest"])

    def head(self) -> int:
        if self._head is None:
            self._head = self.sender.node.quantity("eth_blockNumber", [])
        return self._head
