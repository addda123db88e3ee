"""What a wallet holds: every official collectible, across drops, from the index (no RPC call)."""
from __future__ import annotations

from datetime import timedelta

from eth_utils import to_checksum_address
from sqlalchemy import func, select

from ..art.render import format_serial
from ..db import Database
from ..models import Drop, IndexedCollection, IndexedToken, utcnow


def holdings(db: Database, address: str, page: int = 1, per_page: int = 24) -> dict:
    owner = to_checksum_address(address)
    held = (IndexedToken.owner == owner, IndexedToken.burned.is_(False))
    with db.session() as s:
        total = s.scalar(select(func.count()).select_from(IndexedToken).where(*held))
        rows = s.execute(
            select(IndexedToken, IndexedCollection, Drop)
            .join(IndexedCollection, IndexedCollection.address == IndexedToken.collection)
            .outerjoin(Drop, Drop.contract_address == IndexedToken.collection)
            .where(*held)
            .order_by(IndexedToken.acquired_block.desc(), IndexedToken.collection, IndexedToken.token_id)
            .limit(per_page).offset((page - 1) * per_page)
        ).all()
    now = utcnow()
    items = []
    for token, coll, drop in rows:
        locked = coll.transfer_policy == 1 or (
            coll.transfer_policy == 2 and drop is not None
            and now < token.minted_at + timedelta(seconds=drop.holding_period))
        base = drop.public_base_url if drop else None
        items.append({
            "collection": coll.address, "token_id": token.token_id, "drop": coll.name,
            "drop_slug": drop.slug if drop else None, "serial_label": format_serial(token.token_id, coll.max_supply),
            "image_url": f"{base}/art/{coll.address}/{token.token_id}.png" if base else None,
            "verify_url": f"{base}/v/{coll.address}/{token.token_id}" if base else None,
            "acquired_at": token.acquired_at.isoformat() + "Z", "locked": locked,
            "redeemed": token.redeemed_at is not None,
        })
    return {"address": owner, "total": total, "page": page, "per_page": per_page, "items": items}
