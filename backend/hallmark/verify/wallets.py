"""What a wallet holds: every official collectible, across drops, from the index (no RPC call).

The hot read of the wallet page (bench/lookup.py: a page of 100 among a million indexed tokens). The statements
are built once, run on a plain connection (no ORM session or objects), and walk the wallet index
(owner, burned, acquired_block, collection, token_id) in its own order. Pages are numbered (OFFSET, bounded by
what one wallet holds) or follow a cursor: `next` names the last item of a page, and `after=<next>` continues
right behind it through the index (keyset), so no page costs more than the first and none skips or repeats an
item when the wallet changes between requests."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import bindparam, func, select, tuple_

from ..art.render import format_serial
from ..db import Database
from ..inputs import AddressError, checked_address
from ..models import Drop, IndexedCollection, IndexedToken, utcnow

CURSOR = re.compile(r"(\d{1,10})\.(0x[0-9a-fA-F]{40})\.(\d{1,10})")
CURSOR_MAX = 2**31 - 1  # blocks and token ids are 32-bit integer columns

_HELD = (IndexedToken.owner == bindparam("owner"), IndexedToken.burned.is_(False))
_KEY = (IndexedToken.acquired_block, IndexedToken.collection, IndexedToken.token_id)
_COUNT = select(func.count()).select_from(IndexedToken).where(*_HELD)
# the total rides along with the page as a scalar subquery: one round trip; asked alone only for an empty page
_PAGE = (select(_COUNT.scalar_subquery(), *_KEY, IndexedToken.minted_at, IndexedToken.acquired_at, IndexedToken.redeemed_at,
                IndexedCollection.name, IndexedCollection.max_supply, IndexedCollection.transfer_policy, Drop.slug,
                Drop.public_base_url, Drop.holding_period)
         .join(IndexedCollection, IndexedCollection.address == IndexedToken.collection)
         .outerjoin(Drop, Drop.contract_address == IndexedToken.collection)
         .where(*_HELD)
         .order_by(*(column.desc() for column in _KEY))
         .limit(bindparam("limit")))
_BY_NUMBER = _PAGE.offset(bindparam("offset"))
_AFTER = _PAGE.where(tuple_(*_KEY) < tuple_(bindparam("block"), bindparam("collection"), bindparam("token_id")))


def parse_cursor(cursor: str) -> tuple[int, str, int] | None:
    """(acquired block, collection, token id) of a `next` cursor, or None when it is not one."""
    match = CURSOR.fullmatch(cursor)
    if not match or int(match[1]) > CURSOR_MAX or int(match[3]) > CURSOR_MAX:
        return None
    try:
        return int(match[1]), checked_address(match[2]), int(match[3])
    except AddressError:
        return None


def holdings(db: Database, owner: str, page: int = 1, per_page: int = 24,
             after: tuple[int, str, int] | None = None) -> dict:
    """`owner` checksummed (inputs.checked_address), as the index stores it; `after`: a parsed cursor."""
    with db.engine.connect() as conn:
        if after is None:
            rows = conn.execute(_BY_NUMBER, {"owner": owner, "limit": per_page + 1,
                                             "offset": (page - 1) * per_page}).all()
        else:
            rows = conn.execute(_AFTER, {"owner": owner, "limit": per_page + 1, "block": after[0],
                                         "collection": after[1], "token_id": after[2]}).all()
        total = rows[0][0] if rows else conn.execute(_COUNT, {"owner": owner}).scalar_one()
    more, rows = len(rows) > per_page, rows[:per_page]
    now = utcnow()
    items = []
    for (_, block, collection, token_id, minted_at, acquired_at, redeemed_at, name, max_supply, policy, slug, base,
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
    last = rows[-1] if more else None
    return {"address": owner, "total": total, "page": page, "per_page": per_page, "items": items,
            "next": f"{last[1]}.{last[2]}.{last[3]}" if last else None}
