"""A backend that stops mid-airdrop resumes where it stopped, and nobody gets two tokens; the sender's fences."""
import threading
import time

import pytest
from eth_account import Account
from web3 import Web3

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hallmark.access.keys import create_api_key
from hallmark.access.permissions import KEY_SCOPES
from hallmark.chain import artifacts
from hallmark.chain.contracts import calldata
from hallmark.chain.node import classify
from hallmark.models import ChainTx, MintItem
from hallmark.run.leases import DbLease, LeaseHeld
from hallmark.run.loop import LeasedLoop
from hallmark.run.worker import Worker

from conftest import CI_PORT

W3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{CI_PORT}"))


class Crash(BaseException):
    """Stands in for the process dying at a chosen point."""


@pytest.fixture
def data(deployed_data):
    return deployed_data


def start_job(app, recipients):
    """A live drop built by the app's own worker thread, which then stops; the job is queued for the test's worker."""
    client = app.test_client()
    staff = {"Authorization": "Bearer " + create_api_key(app.extensions["hallmark.db"], "t", scopes=KEY_SCOPES)}
    body = {"slug": f"resume-{time.time_ns()}", "name": "Resume", "symbol": "RSM", "edition_size": 50}
    drop = client.post("/api/drops", json=body, headers={**staff, "Idempotency-Key": body["slug"]}).get_json()
    deadline = time.monotonic() + 60
    while client.get(f"/api/drops/{drop['id']}", headers=staff).get_json()["status"] != "live":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    app.extensions["hallmark.services"].stop()
    job = client.post(f"/api/drops/{drop['id']}/airdrops", json={"recipients": recipients},
                      headers={**staff, "Idempotency-Key": "job"}).get_json()
    return drop, job, staff


def finish(app, job_id, staff):
    client = app.test_client()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}", headers=staff).get_json()
        if job["status"] == "finished":
            return job
        time.sleep(0.1)
    raise AssertionError(job)


def balances(address, recipients):
    coll = W3.eth.contract(address=address, abi=artifacts.load("HallmarkCollection")["abi"])
    return [coll.functions.balanceOf(r).call() for r in recipients], coll.functions.totalMinted().call()


def worker_for(app):
    """The app's worker, driven step by step in this thread (the app itself starts no loops)."""
    worker = Worker(app.config, app.extensions["hallmark.db"])
    assert worker._claim(first=True) == "active"
    return worker


def run_until(worker, app, job_id, staff):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        worker.step()
        job = app.test_client().get(f"/api/jobs/{job_id}", headers=staff).get_json()
        if job["status"] == "finished":
            return job
        time.sleep(0.05)
    raise AssertionError(job)


@pytest.mark.parametrize("crash_point", ["before_broadcast", "before_receipt", "before_settle"])
def test_job_resumes_after_restart_without_minting_twice(app_for, data, crash_point):
    recipients = [Account.create().address for _ in range(40)]
    first = app_for(data, CI_PORT, MINT_BATCH_SIZE=10)
    drop, job, staff = start_job(first, recipients)
    worker = worker_for(first)
    sender, queue = worker._wire()[:2]
    queue.max_in_flight = 1
    assert len(queue.fill()) == 1  # batch 1 is signed and sent...
    while sender.pending_count():
        for done in sender.poll():  # ...and settled
            queue.settle(done)
    # batch 2: the process dies after signing and storing it, before it reaches the node / before its receipt
    if crash_point == "before_broadcast":
        sender.broadcast_soon = lambda tx_id: None  # the process dies before its broadcaster thread sends it
        assert len(queue.fill()) == 1
        del sender.broadcast_soon
    elif crash_point == "before_receipt":
        assert len(queue.fill()) == 1
        assert sender.drain(60)
        sender.poll = lambda: (_ for _ in ()).throw(Crash())
        with pytest.raises(Crash):
            worker.step()
    else:  # the sender records the batch as mined; the process dies before the queue settles its items
        assert len(queue.fill()) == 1
        assert sender.drain(60)
        assert [done.receipt.status for done in sender.poll()] == [1]
        with first.extensions["hallmark.db"].session() as s:
            assert s.scalar(select(ChainTx.status).where(ChainTx.purpose.like("mint:%")).order_by(
                ChainTx.id.desc())) == "mined"
        # a node that no longer has the receipt (a reorg, a pruned node): nothing decided, and no progress either,
        # so the worker's loop waits before asking again instead of spinning
        sender.node.receipt = lambda tx_hash: None
        assert queue.recover() is False
        del sender.node.receipt
    with first.extensions["hallmark.db"].session() as s:
        assert s.scalar(select(func.count()).select_from(MintItem).where(MintItem.status == "sending")) == 10
        assert s.scalar(select(func.count()).select_from(ChainTx).where(ChainTx.purpose.like("mint:%"))) == 2
    minted_on_chain = balances(drop["contract_address"], recipients)[1]
    assert minted_on_chain == (10 if crash_point == "before_broadcast" else 20)
    worker.lease.release()

    second = app_for(data, CI_PORT, MINT_BATCH_SIZE=10)  # the restart: the worker resumes on its own
    try:
        final = finish(second, job["id"], staff)
    finally:
        second.extensions["hallmark.services"].stop()
    assert (final["done"], final["failed"]) == (40, 0)
    assert len(final["transactions"]) == 4
    per_recipient, total = balances(drop["contract_address"], recipients)
    assert per_recipient == [1] * 40 and total == 40


def test_same_purpose_is_never_signed_twice(app):
    app.extensions["hallmark.services"].stop()
    sender = worker_for(app)._wire()[0]
    registry = app.extensions["hallmark.services"].handles.registry
    data = calldata(registry.functions.setMetadataBaseURI("http://127.0.0.1:5000/meta/"))
    with sender.signing() as s:
        first = sender.sign(s, "test:once", registry.address, data, 100_000)
    with sender.signing() as s:
        again = sender.sign(s, "test:once", registry.address, data, 100_000)
    assert (first.id, first.tx_hash, first.nonce) == (again.id, again.tx_hash, again.nonce)


def sent_by_the_worker(app, purpose: str):
    """A wired worker's sender (its broadcaster started up front) and a transaction it signed and sent."""
    app.extensions["hallmark.services"].stop()
    sender = worker_for(app)._wire()[0]
    assert sender._broadcaster is not None and sender._broadcaster.is_alive()
    registry = app.extensions["hallmark.services"].handles.registry
    with sender.signing() as s:
        tx_id = sender.sign(s, purpose, registry.address,
                            calldata(registry.functions.setMetadataBaseURI("http://127.0.0.1:5000/meta/")), 100_000).id
    sender.broadcast_soon(tx_id)
    assert sender.drain(30)
    return sender, tx_id


def test_the_broadcaster_runs_before_the_first_send_and_a_waiter_hears_the_confirmer(app):
    """The wired worker starts the broadcaster thread (with its connection) up front; `wait` (the drop builder's, in
    its own thread) returns the outcome the confirmer records, woken by it."""
    sender, tx_id = sent_by_the_worker(app, "test:wait")
    waited = {}
    waiter = threading.Thread(target=lambda: waited.update(row=sender.wait(tx_id, 30)))
    waiter.start()
    deadline = time.monotonic() + 30
    while waiter.is_alive() and time.monotonic() < deadline:
        sender.poll()
        waiter.join(0.05)
    assert waited["row"].status == "mined" and waited["row"].block_number is not None


def test_a_mined_transaction_is_settled_with_one_call(app):
    """The confirmer asks a mined transaction's receipt and nothing else (confirmations 0): the nonce count, which
    only a missing receipt needs, and the head, which only confirmations need, are not read. Each call to a node
    that mines as it accepts waits behind the block it is mining."""
    sender, tx_id = sent_by_the_worker(app, "test:one-call")
    asked, real = [], sender.w3.provider.make_request
    sender.w3.provider.make_request = lambda method, params: asked.append(method) or real(method, params)
    try:
        assert [done.tx_id for done in sender.poll()] == [tx_id]
    finally:
        sender.w3.provider.make_request = real
    assert asked == ["eth_getTransactionReceipt"]


def test_replaced_batch_goes_back_to_the_queue_and_is_minted_once(app_for, data, stack):
    recipients = [Account.create().address for _ in range(10)]
    app = app_for(data, CI_PORT, MINT_BATCH_SIZE=10)
    drop, job, staff = start_job(app, recipients)
    worker = worker_for(app)
    sender = worker._wire()[0]
    real_send = sender._send
    sender._send = lambda s, attempt: "sent"  # signed and stored, but it never reaches the node...
    worker.step()
    assert sender.drain(60)
    sender._send = real_send
    with app.extensions["hallmark.db"].session() as s:
        stuck = s.scalar(select(ChainTx).where(ChainTx.purpose.like(f"mint:{drop['id']}:%")))
    # ...and another transaction takes its nonce, so it can never be mined
    issuer = stack["issuer"]
    replacement = issuer.sign_transaction({"to": issuer.address, "value": 0, "gas": 21_000, "nonce": stuck.nonce,
                                           "chainId": 1337, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9})
    W3.eth.wait_for_transaction_receipt(W3.eth.send_raw_transaction(replacement.raw_transaction))
    final = run_until(worker, app, job["id"], staff)  # the confirmer sees the nonce taken: the items go back
    with app.extensions["hallmark.db"].session() as s:
        assert s.get(ChainTx, stuck.id).status == "replaced"
    assert (final["done"], final["failed"]) == (10, 0)
    per_recipient, total = balances(drop["contract_address"], recipients)
    assert per_recipient == [1] * 10 and total == 10


def test_concurrent_signers_get_gapless_distinct_nonces_and_a_second_owner_is_fenced(app):
    from concurrent.futures import ThreadPoolExecutor

    app.extensions["hallmark.services"].stop()
    worker = worker_for(app)
    sender = worker._wire()[0]
    registry = app.extensions["hallmark.services"].handles.registry
    data = calldata(registry.functions.setMetadataBaseURI("http://127.0.0.1:5000/meta/"))  # its own value
    start = time.time_ns()

    def sign(n):
        with sender.signing() as s:
            return sender.sign(s, f"test:concurrent:{start}:{n}", registry.address, data, 100_000).nonce

    with ThreadPoolExecutor(8) as pool:
        nonces = sorted(pool.map(sign, range(16)))
    assert nonces == list(range(nonces[0], nonces[0] + 16))  # no gaps, no repeats
    # two senders of one key that read the same next nonce at once (a process that wrongly believes it is still
    # active): the database stores the nonce once, so the second cannot sign over the first
    with pytest.raises(IntegrityError):
        with sender.db.session() as s:
            s.add(ChainTx(purpose=f"test:fenced:{start}", chain_id=sender.chain_id, signer=sender.address,
                          nonce=nonces[0], to_address=registry.address, data=data, gas=100_000, tx_hash=""))
    while sender.pending_count("test:"):
        worker.step()
    with app.extensions["hallmark.db"].session() as s:
        statuses = set(s.scalars(select(ChainTx.status).where(ChainTx.purpose.like(f"test:concurrent:{start}:%"))))
    assert statuses == {"mined"}


@pytest.mark.parametrize("message,meaning", [
    ("already known", "known"), ("Transaction already imported", "known"), ("known transaction: 0xab", "known"),
    ("nonce too low", "nonce_used"),
    ("the tx doesn't have the correct nonce. account has nonce of: 3 tx has nonce of: 1", "nonce_used"),
    ("replacement transaction underpriced", "replacement_underpriced"),
    ("transaction underpriced", "underpriced"), ("max fee per gas less than block base fee", "underpriced"),
    ("insufficient funds for gas * price + value", "refused"),
])
def test_node_refusals_are_classified(message, meaning):
    assert classify(message) == meaning


class _Probe(LeasedLoop):
    kind = "probe"

    def __init__(self, db, name: str):
        super().__init__({"LEASE_SECONDS": 1.0}, db, refuse_second=True)
        self.name = name

    def lease_name(self) -> str:
        return self.name

    def step(self) -> bool:
        return False


def test_a_restart_waits_out_a_dead_holders_lease_and_a_live_holder_is_refused(app):
    """On one SQLite data folder a second worker is refused. A worker restarted right after a crash is not a second
    one: the dead holder's lease (never renewed again) expires and the new process takes it. A holder that renews
    its lease all the while is refused after one lease's length."""
    db = app.extensions["hallmark.db"]
    assert DbLease(db, "probe:dead", "elsewhere:1:dead", ttl=1.0).acquire()  # then never renewed: it crashed
    started = time.monotonic()
    assert _Probe(db, "probe:dead")._claim(first=True) == "active"
    assert time.monotonic() - started < 3

    live, stop = DbLease(db, "probe:live", "elsewhere:2:live", ttl=1.0), threading.Event()
    assert live.acquire()

    def renew():
        while not stop.wait(0.2):
            live.acquire()

    renewer = threading.Thread(target=renew)
    renewer.start()
    try:
        started = time.monotonic()
        with pytest.raises(LeaseHeld, match="already running"):
            _Probe(db, "probe:live")._claim(first=True)
        assert time.monotonic() - started >= 1.0
    finally:
        stop.set()
        renewer.join()
