"""A drop's ledger: every mint, claim, transfer, burn and redemption, in chain order, from the index (the
chain's own record), with the customer behind custodial addresses for those allowed to see it. Read a page at
a time, so a drop of any size streams in constant memory apart from one holder per token."""
from __future__ import annotations

from typing import Iterator

from sqlalchemy import and_, select, tuple_

from ..db import Database
from ..models import (Claim, CustodialAccount, Drop, IndexedToken, IndexedTransfer, MintItem, iso_utc)

ZERO = "0x" + "00" * 20
COLUMNS = ("time", "event", "token_id", "from", "to", "tx_hash", "block")
CUSTOMER_COLUMN = "customer_id"
PAGE = 2000


def rows(db: Database, drop: Drop, with_customers: bool, page: int = PAGE) -> Iterator[tuple]:
    """The header, then one tuple per event; the customer_id column only `with_customers`."""
    yield COLUMNS + ((CUSTOMER_COLUMN,) if with_customers else ())
    address = drop.contract_address
    with db.session() as s:
        redemptions = list(s.execute(
            select(IndexedToken.redeemed_block, IndexedToken.redeemed_at, IndexedToken.token_id,
                   IndexedToken.redeemed_tx)
            .where(IndexedToken.collection == address, IndexedToken.redeemed_block.is_not(None))
            .order_by(IndexedToken.redeemed_block, IndexedToken.token_id)))
    holders: dict[int, tuple[str, str | None]] = {}  # token id -> (holder, its customer) as the stream goes
    pending = iter(redemptions)
    next_redemption = next(pending, None)
    after = (-1, -1)

    def redemption_row(block, when, token_id, tx):
        holder, customer = holders.get(token_id, ("", None))
        return _row((iso_utc(when), "redemption", token_id, "", holder, tx, block), customer, with_customers)

    while True:
        with db.session() as s:
            batch = s.execute(_transfers(drop.id, address, after, page)).all()
        for block, log_index, when, token_id, frm, to, tx, claim_id, claim_customer, custodial_customer in batch:
            while next_redemption is not None and next_redemption[0] < block:
                yield redemption_row(*next_redemption)
                next_redemption = next(pending, None)
            event = "transfer"
            if frm == ZERO:
                event = "claim" if claim_id is not None else "mint"
            elif to == ZERO:
                event = "burn"
            customer = claim_customer or custodial_customer
            holders[token_id] = (to, customer)
            yield _row((iso_utc(when), event, token_id, frm, to, tx, block), customer, with_customers)
        if len(batch) < page:
            break
        after = (batch[-1][0], batch[-1][1])
    while next_redemption is not None:
        yield redemption_row(*next_redemption)
        next_redemption = next(pending, None)


def _row(values: tuple, customer: str | None, with_customers: bool) -> tuple:
    return values + ((customer or "",) if with_customers else ())


def _transfers(drop_id: int, address: str, after: tuple[int, int], limit: int):
    t = IndexedTransfer
    # a mint is a claim when its token went out for a claim code; its customer is the claim's (custodial claims)
    claimed = and_(MintItem.drop_id == drop_id, MintItem.token_id == t.token_id, MintItem.status == "minted",
                   MintItem.source == "claim", t.from_address == ZERO)
    return (select(t.block_number, t.log_index, t.timestamp, t.token_id, t.from_address, t.to_address, t.tx_hash,
                   Claim.id, Claim.customer_id, CustodialAccount.customer_id)
            .outerjoin(MintItem, claimed)
            .outerjoin(Claim, Claim.item_id == MintItem.id)
            .outerjoin(CustodialAccount, CustodialAccount.address == t.to_address)
            .where(t.collection == address, tuple_(t.block_number, t.log_index) > tuple_(*after))
            .order_by(t.block_number, t.log_index).limit(limit))
