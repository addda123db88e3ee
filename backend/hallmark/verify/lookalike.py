"""Which official drop a foreign contract imitates, by name or symbol.

Two names are the same to a customer's eye when their UTS #39 confusable skeletons match after case folding and
once whitespace, punctuation and invisible characters are dropped: "Fuhu Tеst" (a Cyrillic е), "FUHU-TEST" and
"Fuhu Test" are one name. The skeleton comes from disarm's `skeleton_key` with the TR39 digit classes (1 ≡ l,
0 ≡ O), which is what a spoof check wants."""
from __future__ import annotations

import unicodedata
from functools import lru_cache

from disarm import skeleton_key
from sqlalchemy import select

from ..db import Database
from ..models import Drop, IndexedCollection

_DROPPED = ("Z", "P", "C")  # separators, punctuation, controls and format characters (zero-width joiners ...)


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """The key two look-alike names share; "" for a name with nothing visible left."""
    key = skeleton_key(text, digit_policy="tr39")
    return "".join(ch for ch in key if unicodedata.category(ch)[0] not in _DROPPED)


def imitated(db: Database, name: str | None, symbol: str | None) -> dict | None:
    """The official collection whose name (or else symbol) a foreign contract's folds to, or None."""
    name_key, symbol_key = fold(name or ""), fold(symbol or "")
    if not name_key and not symbol_key:
        return None
    with db.session() as s:
        rows = s.execute(select(IndexedCollection.address, IndexedCollection.name, IndexedCollection.symbol, Drop.slug)
                         .outerjoin(Drop, Drop.contract_address == IndexedCollection.address)
                         .order_by(IndexedCollection.created_at)).all()
    for matched_by, key, column in (("name", name_key, 1), ("symbol", symbol_key, 2)):
        for row in rows if key else ():
            if fold(row[column] or "") == key:
                return {"address": row[0], "name": row[1], "symbol": row[2], "slug": row[3], "matched_by": matched_by}
    return None
