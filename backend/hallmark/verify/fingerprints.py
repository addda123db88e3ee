"""Every card's perceptual fingerprints as arrays in memory, for the image check's near-match search.

Reading every item_hashes row through Python for each upload took seconds once drops held 100,000 items; a drop's
fingerprints never change once rendered, so each process loads a drop's once (64 bytes an item: 6.4 MB for
100,000) and compares an upload with all of them in one vectorised pass. A drop is reloaded when its `rendered`
count moved (a drop still rendering). Each drop is compared with the upload fingerprinted by the drop's own method
(art.fingerprint), taken once per method."""
from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np
from PIL import Image
from sqlalchemy import select

from ..art.fingerprint import fingerprint, method_of
from ..models import Drop, ItemHash


class _Drop(NamedTuple):
    rendered: int
    address: str
    method: int  # of fingerprinting
    serials: np.ndarray  # (n,) int64
    cards: np.ndarray  # (n, 32) uint8: pHash of the whole card
    qrs: np.ndarray  # (n, 32) uint8: average hash of the QR tile


class FingerprintIndex:
    def __init__(self):
        self._drops: dict[int, _Drop] = {}
        self._lock = threading.Lock()

    def nearest(self, db, picture: Image.Image, max_card_bits: int) -> list[tuple[int, int, str, int]]:
        """(card + QR distance, card distance, collection, serial) of every item within `max_card_bits` of the
        picture's (RGB) card fingerprint, unsorted."""
        found, by_method = [], {}
        for drop in self._current(db):
            if drop.method not in by_method:
                by_method[drop.method] = [np.frombuffer(h, np.uint8) for h in fingerprint(picture, drop.method)]
            wanted, wanted_qr = by_method[drop.method]
            card_bits = np.bitwise_count(drop.cards ^ wanted).sum(axis=1, dtype=np.int32)
            hits = np.flatnonzero(card_bits <= max_card_bits)
            qr_bits = np.bitwise_count(drop.qrs[hits] ^ wanted_qr).sum(axis=1, dtype=np.int32)
            found += [(int(c + q), int(c), drop.address, int(n))
                      for c, q, n in zip(card_bits[hits], qr_bits, drop.serials[hits])]
        return found

    def _current(self, db) -> list[_Drop]:
        with db.session() as s:
            drops = s.execute(select(Drop.id, Drop.contract_address, Drop.rendered, Drop.render_version)).all()
        with self._lock:
            for drop_id, address, rendered, version in drops:
                cached = self._drops.get(drop_id)
                # the address too: a process that opened another database (tests do) may hold a drop of that id
                if cached is None or (cached.rendered, cached.address) != (rendered, address):
                    self._drops[drop_id] = _load(db, drop_id, address, method_of(version))
            return [self._drops[drop_id] for drop_id, *_ in drops]


def _load(db, drop_id: int, address: str, method: int) -> _Drop:
    with db.session() as s:
        rendered = s.scalar(select(Drop.rendered).where(Drop.id == drop_id))
        rows = s.execute(select(ItemHash.serial, ItemHash.phash_card, ItemHash.phash_qr)
                         .where(ItemHash.drop_id == drop_id)).all()
    serials = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    cards = np.frombuffer(b"".join(r[1] for r in rows), np.uint8).reshape(-1, 32)
    qrs = np.frombuffer(b"".join(r[2] for r in rows), np.uint8).reshape(-1, 32)
    return _Drop(rendered, address, method, serials, cards, qrs)
