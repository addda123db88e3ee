"""Wallet lookup over many indexed tokens, on SQLite and PostgreSQL: every item exactly once, newest first, by page
number and by cursor; a cursor keeps its place when the wallet changes between pages; bad cursors are refused."""
from datetime import datetime, timedelta

import pytest
from eth_account import Account
from sqlalchemy import insert, update

from hallmark.art.render import format_serial
from hallmark.models import Drop, IndexedCollection, IndexedToken
from hallmark.testing import fresh_addresses

from conftest import CI_PORT

HELD = 1_000
MINTED = datetime(2025, 1, 2, 3, 4, 5, 678000)


@pytest.fixture(params=["sqlite", "postgresql"])
def lookup(request, deployed_data, app_for):
    """(client, db, wallet, the wallet's live tokens newest first) over an index of 6,000 synthetic tokens: the
    wallet's in three collections (one with its drop, soulbound; one plain; one its drop, transferable), many
    acquired in the same block (the order falls back to collection and token id), some burned, the rest others'."""
    url = (f"sqlite:///{deployed_data / 'hallmark.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    app = app_for(deployed_data, CI_PORT, DATABASE_URL=url, START_WORKERS=False)
    db, now = app.extensions["hallmark.db"], MINTED
    soulbound, plain, open_ = sorted(fresh_addresses(b"wallet-test-coll", 3))
    wallet, others = Account.create().address, fresh_addresses(b"wallet-test-other", 50)
    rows, burned = [], set()
    for n in range(HELD + 50):
        collection = (soulbound, plain, open_)[n % 3]
        rows.append({"collection": collection, "token_id": n + 1, "owner": wallet, "minted_block": 10 + n // 7,
                     "minted_tx": "0x" + "ab" * 32, "minted_at": now, "acquired_at": now + timedelta(seconds=n),
                     "acquired_block": 10 + n // 7, "burned": n % 21 == 0, "redeemed_at": now if n == 5 else None})
        if n % 21 == 0:
            burned.add((collection, n + 1))
    rows += [{**rows[0], "token_id": 10_000 + n, "owner": others[n % 50], "burned": False, "redeemed_at": None}
             for n in range(5_000)]
    with db.engine.begin() as conn:
        conn.execute(insert(IndexedCollection.__table__), [
            {"address": a, "name": name, "symbol": "W", "max_supply": 5_000, "transfer_policy": policy,
             "content_root": "0x" + "00" * 32, "block_number": 1, "tx_hash": "0x" + "00" * 32, "created_at": now,
             "paused": False} for a, name, policy in ((soulbound, "Bound", 1), (plain, "Plain", 0), (open_, "Open", 0))])
        conn.execute(insert(IndexedToken.__table__), rows)
    with db.session() as s:
        for address, slug, policy in ((soulbound, "bound", "soulbound"), (open_, "open", "transferable")):
            s.add(Drop(slug=f"wallet-{slug}", name=slug, symbol="W", issuer_name="Bank", edition_size=5_000,
                       transfer_policy=policy, public_base_url="https://bank.example", contract_address=address,
                       status="live"))
    live = sorted(((r["acquired_block"], r["collection"], r["token_id"]) for r in rows[:HELD + 50]
                   if (r["collection"], r["token_id"]) not in burned), reverse=True)
    yield app.test_client(), db, wallet, [(c, t) for _, c, t in live], (soulbound, plain, open_)
    app.extensions["hallmark.services"].stop()
    db.engine.dispose()


def keys(page):
    return [(i["collection"], i["token_id"]) for i in page["items"]]


def test_pages_and_cursors_list_every_item_once_newest_first(lookup):
    client, _, wallet, live, (soulbound, plain, open_) = lookup
    numbered, n = [], 1
    while (page := client.get(f"/api/wallets/{wallet}", query_string={"per_page": 100, "page": n}).get_json())["items"]:
        assert page["total"] == len(live) and page["page"] == n
        numbered += keys(page)
        n += 1
    assert numbered == live and n == -(-len(live) // 100) + 1

    cursored, after, pages = [], None, 0
    while True:
        query = {"per_page": 37, **({"after": after} if after else {})}
        page = client.get(f"/api/wallets/{wallet.lower()}", query_string=query).get_json()
        cursored += keys(page)
        pages, after = pages + 1, page["next"]
        if after is None:
            break
        assert len(page["items"]) == 37
    assert cursored == live and pages == -(-len(live) // 37)

    items = [i for n in range(1, 12) for i in client.get(
        f"/api/wallets/{wallet}", query_string={"per_page": 100, "page": n}).get_json()["items"]]
    assert len(items) == len(live)
    for item in items:
        collection, token_id = item["collection"], item["token_id"]
        assert item["locked"] == (collection == soulbound) and item["redeemed"] == (token_id == 6)
        assert (item["drop"], item["drop_slug"]) == {soulbound: ("Bound", "wallet-bound"), plain: ("Plain", None),
                                                     open_: ("Open", "wallet-open")}[collection]
        assert item["serial_label"] == format_serial(token_id, 5_000)
        assert item["acquired_at"] == (MINTED + timedelta(seconds=token_id - 1)).isoformat() + "Z"
        verify = None if collection == plain else f"https://bank.example/v/{collection}/{token_id}"
        assert item["verify_url"] == verify
        assert item["image_url"] == (verify and f"https://bank.example/art/{collection}/{token_id}.png")


def test_a_cursor_keeps_its_place_when_the_wallet_changes(lookup):
    client, db, wallet, live, _ = lookup
    first = client.get(f"/api/wallets/{wallet}", query_string={"per_page": 10}).get_json()
    with db.engine.begin() as conn:  # the wallet gives away two items already shown
        for collection, token_id in live[:2]:
            conn.execute(update(IndexedToken).where(IndexedToken.collection == collection,
                                                    IndexedToken.token_id == token_id).values(owner=Account.create().address))
    second = client.get(f"/api/wallets/{wallet}", query_string={"per_page": 10, "after": first["next"]}).get_json()
    assert keys(second) == live[10:20] and second["total"] == len(live) - 2
    by_number = client.get(f"/api/wallets/{wallet}", query_string={"per_page": 10, "page": 2}).get_json()
    assert keys(by_number) == live[12:22]  # what OFFSET does: two items never shown


def test_bad_cursors_are_refused_naming_the_field(lookup):
    client, _, wallet, _, _ = lookup
    zero = "0x" + "00" * 20
    for cursor in ("", "12", "1.0x12.3", f"1.0x{'aB' * 20}.2", f"{2**31}.{zero}.1", f"1.{zero}.{2**31}",
                   f"-1.{zero}.1", f"1.{zero}.1.2"):
        reply = client.get(f"/api/wallets/{wallet}", query_string={"after": cursor})
        assert reply.status_code == 422 and "after" in reply.get_json()["errors"]["query"], cursor
    assert client.get(f"/api/wallets/{wallet}", query_string={"after": f"1.{zero}.1"}).get_json()["items"] == []
