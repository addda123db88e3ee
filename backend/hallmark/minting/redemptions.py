"""Perk redemption: branch staff ask (web side, `request`), the worker signs `redeem(tokenId)` through the one
sender (`Redeemer.sync`) and settles each request from its receipt (`Redeemer.settle`). Only a receipt with the
collection's Redeemed event marks a redemption redeemed: the chain decides, never the request."""
from __future__ import annotations

import logging

from eth_utils import keccak
from sqlalchemy import select
from web3.exceptions import ContractCustomError, ContractLogicError

from ..access import audit
from ..access.models import Redemption
from ..access.permissions import Principal
from ..chain.contracts import calldata
from ..chain.node import Receipt, Settled
from ..chain.sender import Sender
from ..db import Database
from ..inputs import MAX_DB_INT
from ..models import ChainTx, Drop, IndexedToken, MintItem, iso_utc, utcnow

log = logging.getLogger(__name__)
REDEEM_GAS = 120_000
ACTIVE = ("queued", "sending")
REDEEMED_TOPIC = "0x" + keccak(text="Redeemed(uint256,address,address)").hex()


class RedemptionRefused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------------------------- web side

def item(db: Database, contract: str, token_id: int) -> dict:
    """What branch staff see before they redeem: the drop, the serial, its holder and whether it was redeemed
    (from the index, the chain's record), and any redemption still on its way. RedemptionRefused(404) if the
    contract is not one of the bank's drops or the serial was not minted."""
    with db.session() as s:
        drop = s.scalar(select(Drop).where(Drop.contract_address == contract))
        if drop is None:
            raise RedemptionRefused(404, f"{contract} is not one of the bank's drops")
        token = s.get(IndexedToken, (contract, token_id)) if token_id <= MAX_DB_INT else None
        minted = token is not None or (token_id <= MAX_DB_INT and s.scalar(select(MintItem.id).where(
            MintItem.drop_id == drop.id, MintItem.token_id == token_id, MintItem.status == "minted")) is not None)
        if not minted:
            raise RedemptionRefused(404, f"serial {token_id} of {drop.name} has not been minted")
        latest = s.scalar(select(Redemption).where(Redemption.drop_id == drop.id, Redemption.token_id == token_id)
                          .order_by(Redemption.id.desc()).limit(1))
    # a redemption whose transaction was mined counts at once, before the index has read its Redeemed event
    confirmed = latest if latest is not None and latest.status == "redeemed" else None
    return {
        "drop": {"id": drop.id, "slug": drop.slug, "name": drop.name, "paused": drop.paused},
        "contract": contract, "token_id": token_id, "serial_label": f"{token_id}/{drop.edition_size}",
        "holder": None if token is None or token.burned else token.owner,
        "indexed": token is not None, "burned": bool(token and token.burned),
        "redeemed": bool(token and token.redeemed_at) or confirmed is not None,
        "redeemed_at": iso_utc(token.redeemed_at) if token and token.redeemed_at else
        iso_utc(confirmed.redeemed_at) if confirmed else None,
        "redeemed_tx": token.redeemed_tx if token else None,
        "image_url": f"/art/{contract}/{token_id}.png",
        "verify_url": f"{drop.public_base_url}/v/{contract}/{token_id}",
        "last_redemption": view(latest) if latest else None,
    }


def request(db: Database, drop_id: int, token_id: int, principal: Principal | None, note: str,
            request_ref: str | None) -> Redemption:
    """Queue a redemption for the worker, with its audit entry, or refuse (RedemptionRefused: 404 not minted,
    409 burned, paused, already redeemed or one already on its way). The same request_ref returns the first."""
    with db.locked_session() as s:
        if request_ref and (same := s.scalar(select(Redemption).where(Redemption.request_ref == request_ref))):
            return same
        # the drop's row lock serialises requests for its tokens: at most one active redemption per token
        drop = s.scalar(select(Drop).where(Drop.id == drop_id).with_for_update())
        if drop is None or drop.status != "live":
            raise RedemptionRefused(404, f"no live drop {drop_id}")
        token = s.get(IndexedToken, (drop.contract_address, token_id)) if token_id <= MAX_DB_INT else None
        if token is None and (token_id > MAX_DB_INT or s.scalar(select(MintItem.id).where(
                MintItem.drop_id == drop_id, MintItem.token_id == token_id, MintItem.status == "minted")) is None):
            raise RedemptionRefused(404, f"serial {token_id} of {drop.name} has not been minted")
        if token is not None and token.burned:
            raise RedemptionRefused(409, f"serial {token_id} was burned: there is no perk left to redeem")
        if token is not None and token.redeemed_at is not None:
            raise RedemptionRefused(409, f"serial {token_id} was already redeemed on {iso_utc(token.redeemed_at)} "
                                         f"(transaction {token.redeemed_tx})")
        earlier = s.scalar(select(Redemption).where(
            Redemption.drop_id == drop_id, Redemption.token_id == token_id,
            Redemption.status.in_((*ACTIVE, "redeemed"))).limit(1))
        if earlier is not None:
            state = "was already redeemed" if earlier.status == "redeemed" else "is already being redeemed"
            raise RedemptionRefused(409, f"serial {token_id} {state} (redemption {earlier.id})")
        if drop.paused or drop.pause_wanted:
            raise RedemptionRefused(409, f"{drop.name} is paused: nothing can be redeemed until it is resumed")
        row = Redemption(drop_id=drop_id, token_id=token_id, branch_note=note,
                         staff_id=principal.id if principal is not None and principal.kind == "staff" else None,
                         request_ref=request_ref)
        s.add(row)
        s.flush()
        entry = audit.record(s, "perk.redeem", "redemption", row.id, after={
            "drop_id": drop_id, "contract": drop.contract_address, "token_id": token_id, "note": note})
        row.audit_id = entry.id
    return row


def view(row: Redemption, tx: ChainTx | None = None) -> dict:
    return {"id": row.id, "drop_id": row.drop_id, "token_id": row.token_id, "status": row.status,
            "error": row.error, "note": row.branch_note, "staff_id": row.staff_id,
            "tx_hash": tx.tx_hash if tx else None, "created_at": iso_utc(row.created_at),
            "redeemed_at": iso_utc(row.redeemed_at)}


def status(db: Database, redemption_id: int) -> dict | None:
    with db.session() as s:
        row = s.get(Redemption, redemption_id)
        return None if row is None else view(row, s.get(ChainTx, row.tx_id) if row.tx_id else None)


def listing(db: Database, drop_id: int | None, visible, limit: int = 200) -> list[dict]:
    """The newest redemptions (of one drop), only of drops `visible(drop_id)` allows."""
    with db.session() as s:
        query = select(Redemption, ChainTx).outerjoin(ChainTx, ChainTx.id == Redemption.tx_id)
        if drop_id is not None:
            query = query.where(Redemption.drop_id == drop_id)
        rows = s.execute(query.order_by(Redemption.id.desc()).limit(limit)).all()
    return [view(row, tx) for row, tx in rows if visible(row.drop_id)]


# ---------------------------------------------------------------------------------------------- worker side

def error_names(abi: list[dict]) -> dict[str, str]:
    """0x-prefixed 4-byte selector -> name of each custom error in an ABI."""
    return {"0x" + keccak(text=f"{e['name']}({','.join(i['type'] for i in e['inputs'])})")[:4].hex(): e["name"]
            for e in abi if e.get("type") == "error"}


class Redeemer:
    """Runs in the worker that holds the sender lease, like DropBuilder.sync_pauses."""

    def __init__(self, db: Database, sender: Sender, handles):
        self.db, self.sender, self.handles = db, sender, handles

    def sync(self) -> bool:
        """Sign and send every queued redemption; True when something was sent or settled. NodeUnavailable
        (deciding nothing) when the node does not answer."""
        with self.db.session() as s:
            # settled while no worker was there to read the receipt (a crash between the confirmer and `settle`)
            orphans = list(s.execute(select(ChainTx.id, ChainTx.purpose, ChainTx.tx_hash, ChainTx.status)
                                     .join(Redemption, Redemption.tx_id == ChainTx.id)
                                     .where(Redemption.status == "sending", ChainTx.status != "pending")))
        settled = False
        for done in self.sender.decided(orphans):
            self.settle(done)
            settled = True
        with self.db.session() as s:
            queued = list(s.execute(select(Redemption.id, Redemption.token_id, Drop.contract_address)
                                    .join(Drop, Drop.id == Redemption.drop_id)
                                    .where(Redemption.status == "queued").order_by(Redemption.id)))
        for redemption_id, token_id, address in queued:
            call = self.handles.collection(address).functions.redeem(token_id)
            with self.sender.signing() as s:
                row = s.get(Redemption, redemption_id)
                if row.status != "queued":
                    continue
                tx = self.sender.sign(s, f"redeem:{redemption_id}", address, calldata(call), REDEEM_GAS,
                                      audit_id=row.audit_id)
                row.status, row.tx_id = "sending", tx.id
                tx_id = tx.id
            self.sender.broadcast(tx_id)
        return bool(queued) or settled

    def settle(self, done: Settled) -> None:
        """Decide a redemption from its settled transaction's receipt."""
        redemption_id = int(done.purpose.split(":")[1])
        receipt = done.receipt
        with self.db.session() as s:
            row = s.get(Redemption, redemption_id)
            drop = s.get(Drop, row.drop_id)
            tx = s.get(ChainTx, done.tx_id)
        if receipt is None:
            status, error = "failed", "its nonce was taken by another transaction: nothing was redeemed, ask again"
        elif receipt.status == 1 and self._redeemed(receipt, drop.contract_address, row.token_id):
            status, error = "redeemed", None
        elif receipt.status == 1:
            status, error = "failed", f"transaction {receipt.tx_hash} emitted no Redeemed event"
        else:
            status, error = "failed", self._revert_reason(tx, receipt)
        with self.db.session() as s:
            row = s.get(Redemption, redemption_id)
            row.status, row.error = status, error
            row.redeemed_at = utcnow() if status == "redeemed" else None
            audit.record(s, "perk.redeem.settled", "redemption", redemption_id, actor=audit.SYSTEM, after={
                "status": status, "error": error, "tx_hash": receipt.tx_hash if receipt else None})

    @staticmethod
    def _redeemed(receipt: Receipt, address: str, token_id: int) -> bool:
        return any(entry["address"].lower() == address.lower() and entry["topics"][0] == REDEEMED_TOPIC
                   and int(entry["topics"][1], 16) == token_id for entry in receipt.logs if entry["topics"])

    def _revert_reason(self, tx: ChainTx, receipt: Receipt) -> str:
        """The custom error's name (e.g. AlreadyRedeemed), from replaying the call on the state of its block."""
        try:
            self.handles.w3.eth.call({"from": tx.signer, "to": tx.to_address, "data": tx.data},
                                     block_identifier=receipt.block_number)
        except ContractCustomError as exc:
            data = exc.data if isinstance(exc.data, str) else ""
            return error_names(self.handles.collection(tx.to_address).abi).get(data[:10], f"reverted ({data[:10]})")
        except ContractLogicError as exc:
            return f"reverted: {exc.message or exc}"[:300]
        except Exception as exc:  # the reason is a courtesy: the receipt already decided
            log.info("could not replay %s: %s", receipt.tx_hash, exc)
        return "reverted"
