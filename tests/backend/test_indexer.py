"""The indexer against real Ganache chains: catching up, paging, resuming, rewinding on reorgs and resets."""
import time

import pytest
from sqlalchemy import func, select

from hallmark.chain.deployment import Deployment
from hallmark.db import Database
from hallmark.indexer.follower import Indexer
from hallmark.models import ChainTx, IndexCursor, IndexedCollection, IndexedToken, IndexedTransfer
from hallmark.run.indexer import IndexerLoop

from chainutil import OwnChain, new_addresses
from conftest import free_port


@pytest.fixture
def own():
    chain = OwnChain(free_port())
    yield chain
    chain.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """The index on SQLite, and on PostgreSQL (where its rows go in through COPY)."""
    url = f"sqlite:///{tmp_path / 'index.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    database = Database(url)
    database.upgrade()
    yield database
    database.engine.dispose()  # before the database is dropped


def count(db, model, *where):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def owners(db, collection):
    with db.session() as s:
        return dict(s.execute(select(IndexedToken.token_id, IndexedToken.owner)
                              .where(IndexedToken.collection == collection.address)).all())


def test_catches_up_pages_and_resumes(own, db):
    start = own.deploy_registry()
    coll = own.create_collection(1)
    holders = new_addresses(25)
    for i in range(0, 25, 5):  # five blocks with five mints each
        own.send(coll.functions.airdrop(holders[i:i + 5]))
    lookalike = own.deploy("HallmarkCollection")[0]  # not created by the registry: never indexed

    indexer = Indexer(db, own.w3, own.registry.address, start, page_size=2)
    indexer.catch_up()
    assert count(db, IndexedCollection) == 1
    assert owners(db, coll) == {i + 1: h for i, h in enumerate(holders)}
    assert count(db, IndexedTransfer) == 25
    assert count(db, IndexedToken, IndexedToken.collection == lookalike.address) == 0

    # transfers, redemption and a burn move the index on
    alice = new_addresses(1)[0]
    own.send(coll.functions.mint(own.account.address))
    own.send(coll.functions.transferFrom(own.account.address, alice, 26))
    own.send(coll.functions.redeem(3))

    # a second indexer on the same database resumes from the cursor: nothing is indexed twice
    again = Indexer(db, own.w3, own.registry.address, start)
    again.catch_up()
    assert count(db, IndexedTransfer) == 27
    with db.session() as s:
        token = s.get(IndexedToken, (coll.address, 26))
        assert token.owner == alice and token.minted_block < token.acquired_block
        assert s.get(IndexedToken, (coll.address, 3)).redeemed_at is not None


def test_node_that_caps_log_ranges(own, db):
    start = own.deploy_registry()
    coll = own.create_collection(1)
    for holder in new_addresses(6):
        own.send(coll.functions.mint(holder))

    class CappedIndexer(Indexer):
        def _rpc(self, method, params):
            if method == "eth_getLogs":
                span = int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16)
                if span > 2:
                    raise RuntimeError("eth_getLogs: block range too large, max 3 blocks")
            return super()._rpc(method, params)

    indexer = CappedIndexer(db, own.w3, own.registry.address, start, page_size=1000)
    indexer.catch_up()
    assert indexer.page_size <= 3
    assert count(db, IndexedToken) == 6


def test_rewinds_on_reorg(own, db):
    start = own.deploy_registry()
    coll = own.create_collection(1)
    first = new_addresses(3)
    own.send(coll.functions.airdrop(first))
    indexer = Indexer(db, own.w3, own.registry.address, start)
    indexer.catch_up()
    snapshot = own.w3.provider.make_request("evm_snapshot", [])["result"]
    orphaned = new_addresses(4)
    own.send(coll.functions.airdrop(orphaned))
    indexer.catch_up()
    assert count(db, IndexedToken) == 7

    # the last block is replaced by a different one (another history from the snapshot on)
    own.w3.provider.make_request("evm_revert", [snapshot])
    replacement = new_addresses(2)
    own.send(coll.functions.airdrop(replacement))
    own.send(coll.functions.mint(replacement[0]))
    indexer.catch_up()
    assert owners(db, coll) == {1: first[0], 2: first[1], 3: first[2], 4: replacement[0], 5: replacement[1],
                                6: replacement[0]}
    with db.session() as s:
        assert s.scalar(select(IndexCursor.rewinds)) == 1


def test_starts_over_when_the_chain_is_replaced(db):
    port = free_port()
    chain = OwnChain(port)
    try:
        start = chain.deploy_registry()
        coll = chain.create_collection(1)
        chain.send(coll.functions.airdrop(new_addresses(5)))
        indexer = Indexer(db, chain.w3, chain.registry.address, start)
        indexer.catch_up()
        assert count(db, IndexedToken) == 5
    finally:
        chain.stop()

    # a fresh chain on the same port: same deployer, so the same registry address, but another history
    chain = OwnChain(port)
    try:
        chain.deploy_registry()
        coll = chain.create_collection(1)
        holder = new_addresses(1)[0]
        chain.send(coll.functions.mint(holder))
        indexer.catch_up()
        assert owners(db, coll) == {1: holder}
        assert count(db, IndexedTransfer) == 1
    finally:
        chain.stop()


def test_indexer_process_yields_to_the_sender_while_it_has_transactions_in_flight(own, db, tmp_path):
    """The node serves log reads on the thread it mines with: while the issuer key has a transaction pending on
    this chain, the indexer process catches up at most every INDEX_YIELD_SECONDS, reading what it left a block a
    page (memory as when it keeps up); with none pending, at once."""
    start = own.deploy_registry()
    coll = own.create_collection(1)
    record = Deployment(network="own", chain_id=own.w3.eth.chain_id, registry=own.registry.address,
                        implementation="0x", block_number=start, issuer=own.account.address, artifacts="",
                        block_hash=own.w3.to_hex(own.w3.eth.get_block(start).hash))
    record.save(tmp_path / "own.json")
    loop = IndexerLoop({"DEPLOYMENT_FILE": tmp_path / "own.json", "RPC_URL": own.chain.url, "INDEX_POLL_SECONDS": 0.1,
                        "INDEX_YIELD_SECONDS": 1.5, "INDEX_CONFIRMATIONS": 0, "INDEX_PAGE_SIZE": 2000}, db)
    while loop.step():
        pass
    with db.session() as s:
        pending = ChainTx(purpose="mint:1:in-flight", chain_id=record.chain_id, signer=own.account.address, nonce=10**6,
                          to_address=coll.address, data=b"", gas=21_000, value=0, tx_hash="0x" + "ab" * 32)
        s.add(pending)
    first, second, third = new_addresses(3)
    yielding_from = time.monotonic()
    own.send(coll.functions.airdrop([first]))
    own.send(coll.functions.airdrop([second]))  # a block each
    while time.monotonic() - yielding_from < 1.0:
        assert loop.step() is False
        assert count(db, IndexedToken, IndexedToken.owner == first) == 0  # not read while the sender is busy
        time.sleep(0.1)
    cursor = loop.indexer.cursor()
    while not loop.step():  # read again once INDEX_YIELD_SECONDS have passed, still in flight
        assert time.monotonic() - yielding_from < 3
        time.sleep(0.1)
    assert loop.indexer.cursor() == cursor + 1  # one block a page
    while loop.step():
        pass
    assert count(db, IndexedToken, IndexedToken.owner.in_([first, second])) == 2

    own.send(coll.functions.airdrop([third]))
    assert loop.step() is False  # caught up just now: yields again
    with db.session() as s:
        s.get(ChainTx, pending.id).status = "mined"
    assert loop.step() is True  # nothing in flight: at once
    assert count(db, IndexedToken, IndexedToken.owner == third) == 1


def test_app_indexes_a_confirmed_transfer_within_two_seconds(app, make_drop, client, staff):
    drop = make_drop()
    holder = new_addresses(1)[0]
    reply = client.post(f"/api/drops/{drop['id']}/mint", json={"to": holder},
                        headers={**staff, "Idempotency-Key": f"m-{time.time_ns()}"})
    assert reply.get_json()["status"] == "minted"
    confirmed = time.monotonic()
    db = app.extensions["hallmark.db"]
    while count(db, IndexedToken, IndexedToken.owner == holder) == 0:
        assert time.monotonic() - confirmed < 2, "not indexed within 2 s"
        time.sleep(0.05)
