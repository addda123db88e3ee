"""Every card's perceptual fingerprints as arrays in memory, for the image check's near-match search.

Reading every item_hashes row through Python for each upload took seconds once drops held 100,000 items; a drop's
fingerprints never change once rendered, so each process loads a drop's once (64 bytes an item: 6.4 MB for
100,000) and compares an upload with all of them in one vectorised pass. A drop is reloaded when its `rendered`
count moved (a drop still rendering)."""
from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np
from sqlalchemy import select

from ..models import Drop, ItemHash


class _Drop(NamedTuple):
    rendered: int
    address: str
    serials: np.ndarray  # (n,) int64
    cards: np.ndarray  # (n, 32) uint8: pHash of the whole card
    qrs: np.ndarray  # (n, 32) uint8: average hash of the QR tile


class FingerprintIndex:
    def __init__(self):
        self._drops: dict[int, _Drop] = {}
        self._lock = threading.Lock()

    def nearest(self, db, card: bytes, qr: bytes, max_card_bits: int) -> list[tuple[int, int, str, int]]:
        """(card + QR distance, card distance, collection, serial) of every item within `max_card_bits` of the
        upload's card fingerprint, unsorted."""
        wanted, found = np.frombuffer(card, np.uint8), []
        wanted_qr = np.frombuffer(qr, np.uint8)
        for drop in self._current(db):
            card_bits = np.bitwise_count(drop.cards ^ wanted).sum(axis=1, dtype=np.int32)
            hits = np.flatnonzero(card_bits <= max_card_bits)
            qr_bits = np.bitwise_count(drop.qrs[hits] ^ wanted_qr).sum(axis=1, dtype=np.int32)
            found += [(int(c + q), int(c), drop.address, int(n))
                      for c, q, n in zip(card_bits[hits], qr_bits, drop.serials[hits])]
        return found

    def _current(self, db) -> list[_Drop]:
        with db.session() as s:
            drops = s.execute(select(Drop.id, Drop.contract_address, Drop.rendered)).all()
        with self._lock:
            for drop_id, address, rendered in drops:
                cached = self._drops.get(drop_id)
                if cached is None or cached.rendered != rendered:
                    self._drops[drop_id] = _load(db, drop_id, address)
            return [self._drops[drop_id] for drop_id, _, _ in drops]


def _load(db, drop_id: int, address: str) -> _Drop:
    with db.session() as s:
        rendered = s.scalar(select(Drop.rendered).where(Drop.id == drop_id))
        rows = s.execute(select(ItemHash.serial, ItemHash.phash_card, ItemHash.phash_qr)
                         .where(ItemHash.drop_id == drop_id)).all()
    serials = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    cards = np.frombuffer(b"".join(r[1] for r in rows), np.uint8).reshape(-1, 32)
    qrs = np.frombuffer(b"".join(r[2] for r in rows), np.uint8).reshape(-1, 32)
    return _Drop(rendered, address, serials, cards, qrs)
