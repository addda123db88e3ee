"""Custodial withdrawals, worker side (a step of the worker holding the sender lease, like the redemptions).

For each queued withdrawal: 1) the issuer key sends the custodial address exactly the gas the transfer needs
(its gas estimate × the max fee) through the one sender, unless the address already holds that much; 2) once
that is mined, the custody key signs `safeTransferFrom(custodial, to, tokenId)` with the address's nonce from the
chain, the signed bytes are stored before they are broadcast (and the same bytes sent again if the node forgets
them); 3) the receipt decides: its Transfer event marks the withdrawal done, a revert fails it with the reason.
One withdrawal per custodial address is in flight at a time, so their nonces and gas never mix."""
from __future__ import annotations

import logging

from eth_account.signers.local import LocalAccount
from sqlalchemy import select
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from ..access import audit
from ..chain.contracts import calldata
from ..chain.node import Receipt
from ..chain.sender import Sender
from ..db import Database
from ..models import ChainTx, CustodialWithdrawal, utcnow
from .custody import CustodyService
from .holdings import ACTIVE
from .redemptions import error_names

log = logging.getLogger(__name__)
FUND_GAS = 21_000  # a plain value transfer to an address without code


class Withdrawer:
    def __init__(self, db: Database, sender: Sender, handles, custody: CustodyService):
        self.db, self.sender, self.handles, self.custody = db, sender, handles, custody
        self.node = sender.node  # the custody keys sign; the node is the issuer's

    def sync(self) -> bool:
        """Move every active withdrawal one step on; True when something was sent or settled."""
        with self.db.session() as s:
            rows = list(s.scalars(select(CustodialWithdrawal).where(CustodialWithdrawal.status.in_(ACTIVE))
                                  .order_by(CustodialWithdrawal.id)))
        progressed, busy = False, set()
        for row in rows:
            if row.from_address in busy:  # the address's earlier withdrawal first
                continue
            busy.add(row.from_address)
            progressed |= {"queued": self._fund, "funding": self._funded, "sending": self._follow}[row.status](row)
        return progressed

    # ------------------------------------------------------------------ chain access

    def _transfer_call(self, row: CustodialWithdrawal) -> dict:
        call = self.handles.collection(row.collection).functions.safeTransferFrom(
            row.from_address, row.to_address, row.token_id)
        return {"from": row.from_address, "to": row.collection, "data": Web3.to_hex(calldata(call))}

    def _estimate(self, row: CustodialWithdrawal) -> int | str:
        """The transfer's gas, or why the chain would refuse it (e.g. paused, holding period, no longer held)."""
        try:
            return self.handles.w3.eth.estimate_gas(self._transfer_call(row))
        except (ContractCustomError, ContractLogicError) as exc:
            return self._reason(exc, row.collection)

    def _reason(self, exc: Exception, collection: str) -> str:
        data = getattr(exc, "data", None)
        if isinstance(exc, ContractCustomError) and isinstance(data, str):
            return error_names(self.handles.collection(collection).abi).get(data[:10], f"reverted ({data[:10]})")
        return f"reverted: {getattr(exc, 'message', None) or exc}"[:300]

    def _balance(self, address: str) -> int:
        return self.node.quantity("eth_getBalance", [address, "latest"])

    # ------------------------------------------------------------------ steps

    def _fund(self, row: CustodialWithdrawal) -> bool:
        gas = self._estimate(row)
        if isinstance(gas, str):
            self._finish(row.id, "failed", f"the chain refuses this transfer: {gas}")
            return True
        max_fee, _ = self.sender.fees()
        missing = gas * max_fee - self._balance(row.from_address)
        if missing <= 0:  # gas left from before covers it
            return self._sign_transfer(row)
        with self.sender.signing() as s:
            current = s.get(CustodialWithdrawal, row.id)
            if current.status != "queued":
                return False
            tx = self.sender.sign(s, f"custody-gas:{row.id}", row.from_address, b"", FUND_GAS,
                                  audit_id=current.audit_id, value=missing)
            current.status, current.fund_tx_id = "funding", tx.id
            tx_id = tx.id
        self.sender.broadcast(tx_id)
        return True

    def _funded(self, row: CustodialWithdrawal) -> bool:
        with self.db.session() as s:
            tx_status = s.scalar(select(ChainTx.status).where(ChainTx.id == row.fund_tx_id))
        if tx_status == "pending":
            return False  # the sender's confirmer settles it
        if tx_status != "mined":
            self._finish(row.id, "failed", f"the gas for the transfer was not delivered (transaction {tx_status})")
            return True
        return self._sign_transfer(row)

    def _sign_transfer(self, row: CustodialWithdrawal) -> bool:
        gas = self._estimate(row)
        if isinstance(gas, str):
            self._finish(row.id, "failed", f"the chain refuses this transfer: {gas}")
            return True
        # all the gas money the address holds, spread over the gas: what was funded for exactly this transfer
        max_fee = self._balance(row.from_address) // gas
        with self.db.session() as s:
            account: LocalAccount = self.custody.signer(s, row.from_address)
        nonce = self.node.quantity("eth_getTransactionCount", [row.from_address, "pending"])
        signed = account.sign_transaction({
            "type": 2, "chainId": self.sender.chain_id, "nonce": nonce, "to": row.collection,
            "data": self._transfer_call(row)["data"], "gas": gas, "value": 0, "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": min(self.sender.priority_fee_wei, max_fee)})
        with self.db.session() as s:  # stored before it is broadcast: a crash leaves bytes to send again
            current = s.get(CustodialWithdrawal, row.id)
            current.raw_tx, current.tx_hash, current.status = bytes(signed.raw_transaction), Web3.to_hex(
                signed.hash), "sending"
        self.node.send_raw(bytes(signed.raw_transaction))
        return True

    def _follow(self, row: CustodialWithdrawal) -> bool:
        if (receipt := self.node.receipt(row.tx_hash)) is not None:
            self._settle(row, receipt)
            return True
        if self.node.knows(row.tx_hash):
            return False  # in the pool: wait
        outcome, _ = self.node.send_raw(row.raw_tx)  # the node forgot it: the same bytes again
        if outcome == "nonce_used" and self.node.receipt(row.tx_hash) is None:
            self._finish(row.id, "failed", "the custodial address's nonce was used by another transaction: "
                                           "nothing moved, ask again")
            return True
        return outcome == "sent"

    def _settle(self, row: CustodialWithdrawal, receipt: Receipt) -> None:
        topic = self.handles.transfer_topic_hex
        moved = receipt.status == 1 and any(
            e["address"].lower() == row.collection.lower() and e["topics"] and e["topics"][0] == topic
            and int(e["topics"][1], 16) == int(row.from_address, 16) and int(e["topics"][2], 16) == int(row.to_address, 16)
            and int(e["topics"][3], 16) == row.token_id for e in receipt.logs)
        if moved:
            self._finish(row.id, "done", None, receipt.tx_hash)
        elif receipt.status == 1:
            self._finish(row.id, "failed", f"transaction {receipt.tx_hash} emitted no Transfer event", receipt.tx_hash)
        else:
            self._finish(row.id, "failed", self._replayed_reason(row, receipt), receipt.tx_hash)

    def _replayed_reason(self, row: CustodialWithdrawal, receipt: Receipt) -> str:
        """The custom error's name (e.g. EnforcedPause), from replaying the call on the state of its block."""
        try:
            self.handles.w3.eth.call(self._transfer_call(row), block_identifier=receipt.block_number)
        except (ContractCustomError, ContractLogicError) as exc:
            return self._reason(exc, row.collection)
        except Exception as exc:  # the reason is a courtesy: the receipt already decided
            log.info("could not replay %s: %s", receipt.tx_hash, exc)
        return "reverted"

    def _finish(self, withdrawal_id: int, status: str, error: str | None, tx_hash: str | None = None) -> None:
        with self.db.session() as s:
            row = s.get(CustodialWithdrawal, withdrawal_id)
            row.status, row.error = status, error
            row.done_at = utcnow() if status == "done" else None
            audit.record(s, "custody.withdraw.settled", "custodial_withdrawal", withdrawal_id, actor=audit.SYSTEM,
                         after={"status": status, "error": error, "tx_hash": tx_hash or row.tx_hash,
                                "customer_id": row.customer_id, "to": row.to_address})
