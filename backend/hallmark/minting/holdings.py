"""What the bank holds for a custodial customer, and their requests to withdraw an item to their own wallet (web
side; the worker carries them out in minting.withdrawals). The customer is named only by a customer assertion
the bank signed (security.assertions), never by an id the browser typed."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from web3.exceptions import ContractCustomError, ContractLogicError

from ..access import audit
from ..db import Database
from ..inputs import MAX_DB_INT
from ..models import CustodialWithdrawal, Drop, IndexedToken, MintItem, iso_utc, utcnow
from .custody import CustodyService

ACTIVE = ("queued", "funding", "sending")


class WithdrawalRefused(Exception):
    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.field = status, field


def customer_actor(customer_id: str) -> audit.Actor:
    return audit.Actor("customer", None, customer_id, "customer")


def _unlocks_at(drop: Drop, minted_at) -> str | None:
    if drop.transfer_policy != "holding_period" or minted_at is None:
        return None
    return iso_utc(minted_at + timedelta(seconds=drop.holding_period))


def holdings(db: Database, customer_id: str) -> dict:
    """The items the customer's custodial address holds: from the index (the chain's record), plus items minted to
    it that the index has not read yet; without those whose withdrawal the chain already confirmed."""
    with db.session() as s:
        address = CustodyService.existing_address(s, customer_id)
        if address is None:
            return {"address": None, "items": []}
        found: dict[tuple[str, int], tuple[Drop, object]] = {}
        for token, drop in s.execute(select(IndexedToken, Drop).join(
                Drop, Drop.contract_address == IndexedToken.collection).where(
                IndexedToken.owner == address, IndexedToken.burned.is_(False))):
            found[(drop.contract_address, token.token_id)] = (drop, token.minted_at)
        for item, drop in s.execute(select(MintItem, Drop).join(Drop, Drop.id == MintItem.drop_id).where(
                MintItem.recipient == address, MintItem.status == "minted")):
            key = (drop.contract_address, item.token_id)
            if key not in found and s.get(IndexedToken, key) is None:
                found[key] = (drop, item.minted_at)
        latest: dict[tuple[str, int], CustodialWithdrawal] = {}
        for row in s.scalars(select(CustodialWithdrawal).where(CustodialWithdrawal.customer_id == customer_id)
                             .order_by(CustodialWithdrawal.id)):
            latest[(row.collection, row.token_id)] = row
    now = iso_utc(utcnow())
    items = []
    for (contract, token_id), (drop, minted_at) in sorted(found.items(), key=lambda kv: (kv[1][0].id, kv[0][1])):
        withdrawal = latest.get((contract, token_id))
        if withdrawal is not None and withdrawal.status == "done":
            continue
        unlocks_at = _unlocks_at(drop, minted_at)
        items.append({
            "collection": contract, "token_id": token_id, "drop_id": drop.id, "drop_name": drop.name,
            "drop_slug": drop.slug, "serial_label": f"{token_id}/{drop.edition_size}",
            "transfer_policy": drop.transfer_policy, "unlocks_at": unlocks_at,
            "transferable": drop.transfer_policy != "soulbound" and not drop.paused and (
                unlocks_at is None or unlocks_at <= now),
            "image_url": f"/art/{contract}/{token_id}.png",
            "verify_url": f"{drop.public_base_url}/v/{contract}/{token_id}",
            "withdrawal": None if withdrawal is None else view(withdrawal)})
    return {"address": address, "items": items}


def _chain_checks(handles, address: str, drop: Drop, token_id: int) -> None:
    """The chain decides whether the custodial address holds the item and whether it may move now."""
    contract = handles.collection(drop.contract_address)
    try:
        owner = contract.functions.ownerOf(token_id).call()
        locked = contract.functions.locked(token_id).call()
        unlocks = contract.functions.unlockTime(token_id).call() if locked else 0
        now = handles.w3.eth.get_block("latest")["timestamp"]
    except (ContractCustomError, ContractLogicError):  # ownerOf of a token that does not exist (or was burned)
        raise WithdrawalRefused(404, f"serial {token_id} of {drop.name} is not held for you", "token_id") from None
    except Exception as exc:  # the node did not answer: nothing is decided
        raise WithdrawalRefused(503, f"the chain is not available: {type(exc).__name__}") from None
    if owner != address:
        raise WithdrawalRefused(404, f"serial {token_id} of {drop.name} is not held for you", "token_id")
    if locked and drop.transfer_policy == "soulbound":
        raise WithdrawalRefused(409, f"{drop.name} is soulbound: its items can never leave the account they were "
                                     "issued to", "token_id")
    if locked and unlocks > now:
        at = iso_utc(utcnow() + timedelta(seconds=unlocks - now))
        raise WithdrawalRefused(409, f"serial {token_id} of {drop.name} is in its holding period until {at}: it "
                                     "can be withdrawn after that", "token_id")


def request(db: Database, handles, customer_id: str, collection: str, token_id: int, to: str,
            request_ref: str | None) -> tuple[dict, bool]:
    """Queue a withdrawal (with its audit entry, the customer as actor) or refuse it (WithdrawalRefused).
    Returns (withdrawal, created); the same request_ref returns the first."""
    with db.session() as s:
        address = CustodyService.existing_address(s, customer_id)
        drop = s.scalar(select(Drop).where(Drop.contract_address == collection))
    if address is None or drop is None or token_id > MAX_DB_INT:
        raise WithdrawalRefused(404, f"serial {token_id} of {collection} is not held for you", "token_id")
    if to == address:
        raise WithdrawalRefused(422, "this is the bank's custodial address: give your own wallet's address", "to")
    if drop.paused:
        raise WithdrawalRefused(409, f"{drop.name} is paused: nothing can move until it is resumed")
    _chain_checks(handles, address, drop, token_id)
    with db.locked_session() as s:
        if request_ref and (same := s.scalar(select(CustodialWithdrawal).where(
                CustodialWithdrawal.request_ref == request_ref))):
            if same.customer_id != customer_id:
                raise WithdrawalRefused(409, "this Idempotency-Key was used for another customer's request")
            return view(same), False
        # the drop's row lock serialises requests: at most one withdrawal of an item on its way
        s.scalar(select(Drop).where(Drop.id == drop.id).with_for_update())
        earlier = s.scalar(select(CustodialWithdrawal).where(
            CustodialWithdrawal.collection == collection, CustodialWithdrawal.token_id == token_id,
            CustodialWithdrawal.status.in_(ACTIVE)).limit(1))
        if earlier is not None:
            raise WithdrawalRefused(409, f"serial {token_id} is already being withdrawn (withdrawal {earlier.id})")
        row = CustodialWithdrawal(customer_id=customer_id, collection=collection, token_id=token_id,
                                  from_address=address, to_address=to, request_ref=request_ref)
        s.add(row)
        s.flush()
        entry = audit.record(s, "custody.withdraw", "custodial_withdrawal", row.id, actor=customer_actor(customer_id),
                             after={"customer_id": customer_id, "collection": collection, "token_id": token_id,
                                    "from": address, "to": to})
        row.audit_id = entry.id
        return view(row), True


def view(row: CustodialWithdrawal) -> dict:
    return {"id": row.id, "status": row.status, "collection": row.collection, "token_id": row.token_id,
            "from_address": row.from_address, "to": row.to_address, "tx_hash": row.tx_hash, "error": row.error,
            "created_at": iso_utc(row.created_at), "done_at": iso_utc(row.done_at),
            "holder": row.to_address if row.status == "done" else row.from_address}


def status(db: Database, customer_id: str, withdrawal_id: int) -> dict | None:
    """A withdrawal of this customer's (None for anyone else's: no one learns of another's)."""
    with db.session() as s:
        row = s.get(CustodialWithdrawal, withdrawal_id) if withdrawal_id <= MAX_DB_INT else None
        return None if row is None or row.customer_id != customer_id else view(row)
