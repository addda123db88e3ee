"""A backend that stops mid-airdrop resumes where it stopped, and nobody gets two tokens."""
import time

import pytest
from eth_account import Account
from web3 import Web3

from hallmark.api.auth import create_api_key
from hallmark.chain import artifacts
from hallmark.models import ChainTx, MintItem
from sqlalchemy import func, select

from conftest import CI_PORT

W3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{CI_PORT}"))


class Crash(BaseException):
    """Stands in for the process dying at a chosen point."""


@pytest.fixture
def data(deployed_data):
    return deployed_data


def start_job(app, recipients):
    client = app.test_client()
    staff = {"Authorization": "Bearer " + create_api_key(app.extensions["hallmark.db"], "t", "marketing")}
    body = {"slug": f"resume-{time.time_ns()}", "name": "Resume", "symbol": "RSM", "edition_size": 50}
    drop = client.post("/api/drops", json=body, headers={**staff, "Idempotency-Key": body["slug"]}).get_json()
    deadline = time.monotonic() + 60
    while client.get(f"/api/drops/{drop['id']}", headers=staff).get_json()["status"] != "live":
        assert time.monotonic() < deadline
        time.sleep(0.1)
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


@pytest.mark.parametrize("crash_point", ["before_broadcast", "before_receipt"])
def test_job_resumes_after_restart_without_minting_twice(app_for, data, crash_point):
    recipients = [Account.create().address for _ in range(40)]
    first = app_for(data, CI_PORT, MINT_BATCH_SIZE=10, START_WORKERS=False)
    services = first.extensions["hallmark.services"]
    drop, job, staff = start_job(first, recipients)

    assert services.minter.process_once()  # batch 1 goes through
    # batch 2: the process dies after signing and storing it, before it reaches the node / before its receipt
    if crash_point == "before_broadcast":
        services.sender._broadcast = lambda row, attempts=5: (_ for _ in ()).throw(Crash())
    else:
        services.sender.wait = lambda row: (_ for _ in ()).throw(Crash())
    with pytest.raises(Crash):
        services.minter.process_once()
    services.drops.shutdown()
    with first.extensions["hallmark.db"].session() as s:
        assert s.scalar(select(func.count()).select_from(MintItem).where(MintItem.status == "sending")) == 10
        assert s.scalar(select(func.count()).select_from(ChainTx).where(ChainTx.purpose.like("mint:%"))) == 2
    minted_on_chain = balances(drop["contract_address"], recipients)[1]
    assert minted_on_chain == (10 if crash_point == "before_broadcast" else 20)

    second = app_for(data, CI_PORT, MINT_BATCH_SIZE=10)  # the restart: workers resume on their own
    try:
        final = finish(second, job["id"], staff)
    finally:
        second.extensions["hallmark.services"].stop()
    assert (final["done"], final["failed"]) == (40, 0)
    assert len(final["transactions"]) == 4
    per_recipient, total = balances(drop["contract_address"], recipients)
    assert per_recipient == [1] * 40 and total == 40


def test_same_purpose_is_never_signed_twice(app):
    services = app.extensions["hallmark.services"]
    registry = services.handles.registry
    call = registry.functions.setMetadataBaseURI("http://127.0.0.1:5000/meta/")
    first = services.sender.submit("test:once", call, 100_000)
    again = services.sender.submit("test:once", call, 100_000)
    assert first.tx_hash == again.tx_hash and first.nonce == again.nonce
    assert services.sender.wait(again).status == 1


def test_replaced_batch_goes_back_to_the_queue_and_is_minted_once(app_for, data, stack):
    recipients = [Account.create().address for _ in range(10)]
    app = app_for(data, CI_PORT, MINT_BATCH_SIZE=10, START_WORKERS=False)
    services = app.extensions["hallmark.services"]
    drop, job, staff = start_job(app, recipients)
    sender = services.sender
    real_broadcast = sender._broadcast
    sender._broadcast = lambda row, attempts=5: None  # signed and stored, but it never reaches the node...
    sender.receipt_timeout = 0.5
    assert services.minter.process_once()  # no receipt comes: its items stay "sending"
    sender._broadcast, sender.receipt_timeout = real_broadcast, 120
    with app.extensions["hallmark.db"].session() as s:
        stuck = s.scalar(select(ChainTx).where(ChainTx.purpose.like(f"mint:{drop['id']}:%")))
    # ...and another transaction takes its nonce, so it can never be mined
    issuer = stack["issuer"]
    replacement = issuer.sign_transaction({"to": issuer.address, "value": 0, "gas": 21_000, "nonce": stuck.nonce,
                                           "chainId": 1337, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9})
    W3.eth.wait_for_transaction_receipt(W3.eth.send_raw_transaction(replacement.raw_transaction))
    sender._nonce = None  # the node moved on; the sender re-reads its nonce
    services.minter.resume()  # finds the batch dropped and puts its items back in the queue
    assert services.minter.process_once()
    final = finish(app, job["id"], staff)
    services.stop()
    assert (final["done"], final["failed"]) == (10, 0)
    per_recipient, total = balances(drop["contract_address"], recipients)
    assert per_recipient == [1] * 10 and total == 10


def test_concurrent_senders_get_distinct_nonces(app):
    from concurrent.futures import ThreadPoolExecutor
    services = app.extensions["hallmark.services"]
    registry = services.handles.registry
    start = time.time_ns()

    def send(n):
        call = registry.functions.setMetadataBaseURI("http://127.0.0.1:5000/meta/")  # the registry's own value
        row = services.sender.submit(f"test:concurrent:{start}:{n}", call, 100_000)
        return row.nonce, services.sender.wait(row).status

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(send, range(16)))
    nonces = sorted(n for n, _ in results)
    assert nonces == list(range(nonces[0], nonces[0] + 16))  # no gaps, no repeats
    assert all(status == 1 for _, status in results)
