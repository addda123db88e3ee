"""The image check's in-memory fingerprint index against the database it mirrors (PostgreSQL): the same matches a
row-by-row comparison finds, each drop against the upload fingerprinted by that drop's method, and a drop still
rendering picked up as its rows arrive."""
import random

from sqlalchemy import insert

from hallmark.art.content import DropContent
from hallmark.art.fingerprint import fingerprint
from hallmark.art.render import render_item_and_image
from hallmark.db import Database
from hallmark.models import Drop, ItemHash
from hallmark.verify.fingerprints import FingerprintIndex

BITS = 48


def bit_distance(a: bytes, b: bytes) -> int:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


def near(rng: random.Random, base: bytes, flips: int) -> bytes:
    value = int.from_bytes(base, "big")
    for bit in rng.sample(range(256), flips):
        value ^= 1 << bit
    return value.to_bytes(32, "big")


def add_items(db, drop_id: int, rows: list[tuple[int, bytes, bytes]]) -> None:
    with db.session() as s:
        s.execute(insert(ItemHash), [{"drop_id": drop_id, "serial": n, "image_sha256": bytes(32),
                                      "metadata_sha256": bytes(32), "phash_card": c, "phash_qr": q}
                                     for n, c, q in rows])
        s.get(Drop, drop_id).rendered = rows[-1][0]


def test_index_matches_a_row_by_row_search_and_follows_rendering(pg_url):
    db = Database(pg_url)
    db.upgrade()
    rng = random.Random(7)
    content = DropContent(name="福虎", description="", issuer="银行", edition_size=9, contract_address=f"0x{9:040x}",
                          public_base_url="http://x")
    picture = render_item_and_image(content.item_spec(3))[1].resize((500, 500))
    # drop 1 is fingerprinted by method 1 (render version 3), drop 2 by method 2 (version 4)
    uploads = [fingerprint(picture, 1), fingerprint(picture, 2)]
    with db.session() as s:
        drops = [Drop(slug=f"d{i}", name="d", symbol="D", issuer_name="b", edition_size=2000, status="rendering",
                      transfer_policy="transferable", contract_address=f"0x{i:040x}", public_base_url="http://x",
                      render_version=2 + i)
                 for i in (1, 2)]
        s.add_all(drops)
        s.flush()
        ids = [d.id for d in drops]
    # mostly unrelated cards, some near the upload at every distance around the threshold
    rows = {drop_id: [(n, near(rng, upload, rng.choice([2, 30, 47, 48, 49, 90])) if n % 7 == 0 else rng.randbytes(32),
                       rng.randbytes(32)) for n in range(1, 1001)]
            for drop_id, (upload, _) in zip(ids, uploads)}
    add_items(db, ids[0], rows[ids[0]])
    add_items(db, ids[1], rows[ids[1]][:400])

    def row_by_row(upto, methods=uploads):
        return sorted((bit_distance(upload, c) + bit_distance(upload_qr, q), bit_distance(upload, c), address, n)
                      for drop_id, address, (upload, upload_qr) in zip(ids, (f"0x{1:040x}", f"0x{2:040x}"), methods)
                      for n, c, q in rows[drop_id][:upto[drop_id]] if bit_distance(upload, c) <= BITS)

    index = FingerprintIndex()
    found = sorted(index.nearest(db, picture, BITS))
    assert found == row_by_row({ids[0]: 1000, ids[1]: 400}) and len(found) > 100
    # the methods differ by a few bits: comparing a drop with the other method's fingerprint would find other items
    assert found != row_by_row({ids[0]: 1000, ids[1]: 400}, uploads[::-1])
    add_items(db, ids[1], rows[ids[1]][400:])  # the second drop renders on
    found = sorted(index.nearest(db, picture, BITS))
    assert found == row_by_row({ids[0]: 1000, ids[1]: 1000})
    assert {d for _, d, _, _ in found} >= {2, 30, 47, 48} and max(d for _, d, _, _ in found) == BITS
    db.engine.dispose()
