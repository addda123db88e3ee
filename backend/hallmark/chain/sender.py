"""The only code that signs and sends transactions.

Every transaction is signed locally with the issuer key, stored (raw bytes and hash, under a unique
`purpose`) *before* it is broadcast, and only then sent. A retried request or a restarted process finds the
stored transaction by its purpose and looks it up or re-broadcasts the very same bytes (same nonce), so a
write can never happen twice. Nonces come from one lock-guarded counter; fees are EIP-1559 where the node
has a base fee; receipts are awaited with a configurable number of confirmations.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from eth_account.signers.local import LocalAccount
from requests.exceptions import ConnectionError as RequestsConnectionError, Timeout
from sqlalchemy import select
from sqlalchemy.orm import Session
from web3 import Web3
from web3.exceptions import Web3RPCError

from ..db import Database
from ..models import ChainTx, utcnow

log = logging.getLogger(__name__)
TRANSIENT = (RequestsConnectionError, Timeout, ConnectionError)


class SendError(Exception):
    pass


@dataclass(frozen=True)
class Receipt:
    """The parts of a receipt callers use, read from the raw JSON: web3's formatting of a 500-log receipt costs
    ten times the RPC call itself."""

    tx_hash: str
    status: int
    block_number: int
    gas_used: int
    logs: list[dict]  # raw: hex strings, topics as 0x-prefixed hex

    @classmethod
    def from_json(cls, raw: dict) -> "Receipt":
        return cls(raw["transactionHash"], int(raw["status"], 16), int(raw["blockNumber"], 16),
                   int(raw["gasUsed"], 16), raw["logs"])


class Sender:
    def __init__(self, w3: Web3, account: LocalAccount, db: Database, confirmations: int = 0,
                 priority_fee_wei: int = 10**9, receipt_timeout: float = 120):
        self.w3 = w3
        self.account = account
        self.db = db
        self.confirmations = confirmations
        self.priority_fee_wei = priority_fee_wei
        self.receipt_timeout = receipt_timeout
        self.chain_id = w3.eth.chain_id
        self._lock = threading.RLock()
        self._nonce: int | None = None

    @property
    def address(self) -> str:
        return self.account.address

    # ------------------------------------------------------------------ sending

    def submit(self, purpose: str, call, gas: int,
               on_signed: Callable[[Session, ChainTx], None] | None = None, broadcast: bool = True) -> ChainTx:
        """Sign `call` (a web3 contract function call), store it under `purpose`, broadcast it.

        If a transaction with this purpose exists already, nothing new is signed: it is re-broadcast if needed
        and returned. `on_signed` runs in the same database transaction that stores the signed transaction
        (e.g. to mark queued items as being sent in it). With broadcast=False the caller sends it later, in
        nonce order, with `broadcast()`."""
        with self._lock:
            with self.db.session() as s:
                existing = s.scalar(select(ChainTx).where(ChainTx.purpose == purpose))
                if existing is None:
                    nonce = self._next_nonce()
                    tx = call.build_transaction({"from": self.address, "nonce": nonce, "gas": gas,
                                                 "chainId": self.chain_id, **self._fees()})
                    signed = self.account.sign_transaction(tx)
                    existing = ChainTx(purpose=purpose, nonce=nonce, tx_hash=Web3.to_hex(signed.hash),
                                       raw=bytes(signed.raw_transaction))
                    s.add(existing)
                    s.flush()
                    if on_signed:
                        on_signed(s, existing)
                    self._nonce = nonce + 1
            if broadcast:
                self._broadcast(existing)
        return existing

    def broadcast(self, row: ChainTx) -> None:
        """Send a stored transaction. If the node refuses it, it is marked dropped and the nonce counter is
        re-read, so the next transaction fills the gap."""
        try:
            self._broadcast(row)
        except SendError:
            with self._lock:
                self._nonce = None
            self._record(row, "dropped", None, "refused by the node")
            raise

    def _next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = self.w3.eth.get_transaction_count(self.address, "pending")
        return self._nonce

    def _fees(self) -> dict:
        base_fee = self.w3.eth.get_block("latest").get("baseFeePerGas")
        if base_fee is None:  # a pre-London node: legacy pricing
            return {"gasPrice": self.w3.eth.gas_price}
        return {"maxFeePerGas": 2 * base_fee + self.priority_fee_wei, "maxPriorityFeePerGas": self.priority_fee_wei}

    def _broadcast(self, row: ChainTx, attempts: int = 5) -> None:
        for attempt in range(attempts):
            try:
                self.w3.eth.send_raw_transaction(row.raw)
                return
            except TRANSIENT:
                # the same bytes are safe to resend: at worst the node already has them
                time.sleep(min(2**attempt * 0.2, 5))
            except Web3RPCError as exc:
                message = str(exc).lower()
                if "already known" in message or "known transaction" in message or self._receipt(row.tx_hash):
                    return
                if "nonce too low" in message:
                    return  # mined earlier (its receipt shows up) or replaced: `wait` tells which
                raise SendError(f"node refused transaction {row.purpose}: {exc}") from None
        raise SendError(f"node unreachable while sending {row.purpose}")

    # ------------------------------------------------------------------ receipts

    def _receipt(self, tx_hash: str) -> Receipt | None:
        reply = self.w3.provider.make_request("eth_getTransactionReceipt", [tx_hash])
        if reply.get("error"):
            raise SendError(f"eth_getTransactionReceipt: {reply['error'].get('message')}")
        return Receipt.from_json(reply["result"]) if reply.get("result") else None

    def wait(self, row: ChainTx) -> Receipt | None:
        """Wait for the receipt (and confirmations), record the outcome and return the receipt (None when the
        transaction was dropped)."""
        if row.status == "dropped":
            return None
        deadline = time.monotonic() + self.receipt_timeout
        receipt = None
        while time.monotonic() < deadline:
            try:
                receipt = receipt or self._receipt(row.tx_hash)
                if receipt is not None and (
                        not self.confirmations or self.w3.eth.block_number - receipt.block_number >= self.confirmations):
                    break
                if receipt is None and self.w3.eth.get_transaction_count(self.address, "latest") > row.nonce:
                    # the nonce was used but not by this transaction: it was replaced and will never mine
                    if self._receipt(row.tx_hash) is None:
                        self._record(row, "dropped", None, "replaced by another transaction with the same nonce")
                        return None
            except TRANSIENT:
                pass
            time.sleep(0.05 if receipt is None else 0.5)
        else:
            raise SendError(f"no receipt for {row.tx_hash} within {self.receipt_timeout:.0f} s")
        self._record(row, "mined" if receipt.status == 1 else "reverted", receipt)
        return receipt

    def _record(self, row: ChainTx, status: str, receipt, error: str | None = None) -> None:
        with self.db.session() as s:
            db_row = s.get(ChainTx, row.id)
            db_row.status = status
            db_row.error = error
            if receipt is not None:
                db_row.block_number, db_row.gas_used, db_row.mined_at = receipt.block_number, receipt.gas_used, utcnow()
        row.status = status

    def recover(self) -> list[ChainTx]:
        """After a restart: re-broadcast every signed transaction that has no outcome yet, in nonce order."""
        with self.db.session() as s:
            pending = list(s.scalars(select(ChainTx).where(ChainTx.status == "signed").order_by(ChainTx.nonce)))
        with self._lock:
            self._nonce = None
            for row in pending:
                if self._receipt(row.tx_hash) is None:
                    try:
                        self._broadcast(row)
                    except SendError as exc:
                        log.warning("could not re-broadcast %s: %s", row.purpose, exc)
        return pending
