"""Several processes of every kind on PostgreSQL: one active sender per key, standbys that take over when it is
killed, and nothing doubled."""
import signal
import time

import requests
from sqlalchemy import func, select

from hallmark.db import Database
from hallmark.models import ChainTx, MintItem, ProcessBeat
from hallmark.security import assertions
from hallmark.testing import fresh_addresses


def active(deck, kind):
    return deck.get("/api/health").json()["processes"][kind]


def test_active_sender_killed_mid_batch_standby_takes_over(pg_url, deck_factory):
    deck = deck_factory(database_url=pg_url)
    drop = deck.stack.live_drop(1000)
    first = deck.procs.spawn("worker")
    deck.procs.spawn("indexer")
    deck.web()
    deadline = time.monotonic() + 30
    while not active(deck, "worker")["alive"]:
        assert time.monotonic() < deadline, deck.logs()
        time.sleep(0.2)
    standby = deck.procs.spawn("worker")
    recipients = fresh_addresses(b"failover", 600)
    job_id = deck.post(f"/api/drops/{drop['id']}/airdrops", "job-1", json={"recipients": recipients}).json()["id"]
    deck.wait_job(job_id, until=lambda j: j["done"] >= 75)
    first.signal(signal.SIGKILL)
    killed_at = time.monotonic()
    while not active(deck, "worker")["alive"] or active(deck, "worker")["standby"]:
        assert time.monotonic() - killed_at < 20, deck.logs()
        time.sleep(0.2)
    job = deck.wait_job(job_id)
    deck.assert_exactly_once(drop, recipients, job)
    db = Database(pg_url)
    with db.session() as s:
        holders = set(s.scalars(select(ProcessBeat.holder).where(ProcessBeat.kind == "worker")))
        nonces = list(s.scalars(select(ChainTx.nonce)))
    assert len(nonces) == len(set(nonces))
    assert any(str(standby.pid) in h for h in holders)


def test_two_of_every_kind(pg_url, deck_factory):
    """Two workers, two indexers and a web server with four workers at once: an airdrop, single mints through
    every web worker and a burst of claims (to wallets and custodial customers) all land exactly once."""
    deck = deck_factory(database_url=pg_url, HALLMARK_CLAIM_WINDOW_SECONDS="0.3")
    drop = deck.stack.live_drop(2000)
    for kind in ("worker", "worker", "indexer", "indexer"):
        deck.procs.spawn(kind)
    deck.web(workers=4)
    deadline = time.monotonic() + 60  # both of each kind report in: one active, one standing by
    while not all((p := active(deck, kind))["alive"] and p["standby"] == 1 for kind in ("worker", "indexer")):
        assert time.monotonic() < deadline, deck.logs()
        time.sleep(0.3)
    airdropped = fresh_addresses(b"two-airdrop", 400)
    job_id = deck.post(f"/api/drops/{drop['id']}/airdrops", "job", json={"recipients": airdropped}).json()["id"]
    singles = fresh_addresses(b"two-single", 20)
    codes = deck.post(f"/api/drops/{drop['id']}/claim-codes", "codes", json={"count": 60}).json()["codes"]
    wallets = fresh_addresses(b"two-claim", 40)

    import concurrent.futures as cf

    def mint(i):
        return deck.post(f"/api/drops/{drop['id']}/mint", f"single-{i}", json={"to": singles[i]}).status_code

    key = assertions.load_key(None, deck.stack.data)  # the bank's signer shares the web processes' key file

    def claim(i):
        body = {"code": codes[i], "wallet": wallets[i]} if i < 40 else {
            "code": codes[i], "customer_assertion": assertions.sign(f"c-{i}", key)}
        return requests.post(deck.base + "/api/claims", json=body, timeout=60).status_code

    with cf.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(mint, range(20))) + list(pool.map(claim, range(60)))
    assert all(code in (200, 202) for code in statuses), statuses
    job = deck.wait_job(job_id)
    db = Database(pg_url)
    deadline = time.monotonic() + 120
    while True:
        with db.session() as s:
            open_items = s.scalar(select(func.count()).select_from(MintItem).where(
                MintItem.status.in_(("queued", "sending"))))
        if not open_items:
            break
        assert time.monotonic() < deadline, deck.logs()
        time.sleep(0.3)
    with db.session() as s:
        custodial = set(s.scalars(select(MintItem.recipient).where(MintItem.source == "claim"))) - set(wallets)
        failed = s.scalar(select(func.count()).select_from(MintItem).where(MintItem.status == "failed"))
        nonces = list(s.scalars(select(ChainTx.nonce)))
        beats = {(b.kind, b.role) for b in s.scalars(select(ProcessBeat))}
    assert failed == 0 and len(custodial) == 20
    assert len(nonces) == len(set(nonces))
    assert {("worker", "active"), ("worker", "standby"), ("indexer", "active"), ("indexer", "standby")} <= beats
    minted = deck.stack.mints(drop["contract_address"])
    everyone = airdropped + singles + wallets + sorted(custodial)
    assert all(minted[a] == 1 for a in everyone), {a: minted[a] for a in everyone if minted[a] != 1}
    assert sum(minted.values()) == len(everyone)
    assert job["done"] == 400 and job["failed"] == 0
