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
        rows = s.execute(  # plain columns, not ORM objects: this is the hot read of the wallet page
            select(IndexedToken.collection, IndexedToken.token_id, IndexedToken.minted_at, IndexedToken.acquired_at,
                   IndexedToken.redeemed_at, IndexedCollection.name, IndexedCollection.max_supply,
                   IndexedCollection.transfer_policy, Drop.slug, Drop.public_base_url, Drop.holding_period)
            .join(IndexedCollection, IndexedCollection.address == IndexedToken.collection)
            .outerjoin(Drop, Drop.contract_address == IndexedToken.collection)
            .where(*held)
            .order_by(IndexedToken.acquired_block.desc(), IndexedToken.collection.desc(), IndexedToken.token_id.desc())
            .limit(per_page).offset((page - 1) * per_page)
        ).all()
    now = utcnow()
    items = []
    for (collection, token_id, minted_at, acquired_at, redeemed_at, name, max_supply, policy, slug, base,
         holding_period) in rows:
        locked = policy == 1 or (policy == 2 and holding_period is not None
                                 and now < minted_at + timedelta(seconds=holding_period))
        items.append({
            "collection": collection, "token_id": token_id, "drop": name, "drop_slug": slug,
            "serial_label": format_serial(token_id, max_supply),
            "image_url": f"{base}/art/{collection}/{token_id}.png" if base else None,
            "verify_url": f"{base}/v/{collection}/{token_id}" if base else None,
            "acquired_at": acquired_at.isoformat() + "Z", "locked": locked, "redeemed": redeemed_at is not None,
        })
    return {"address": owner, "total": total, "page": page, "per_page": per_page, "items": items}
