"""Airdrop jobs whose rows the worker queues: the request stores them on the job, the worker turns them into mint
items a batch at a time. Until then they count in the drop's supply and the wallets' holdings, the job reads as
before, and a crash at any point neither loses nor repeats a recipient."""
import time

import pytest
from eth_account import Account
from sqlalchemy import func, select

from hallmark.db import Database
from hallmark.minting import jobs
from hallmark.minting.drops import DropError, drop_stats
from hallmark.models import AirdropJob, ChainTx, Drop, MintItem

from conftest import CI_PORT
from test_resume import Crash, balances, run_until, start_job, worker_for


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    url = (f"sqlite:///{tmp_path / 'hallmark.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    db = Database(url)
    db.upgrade()
    yield db
    db.engine.dispose()


def live_drop(db, edition_size: int) -> int:
    with db.session() as s:
        drop = Drop(slug=f"jobs-{time.time_ns()}", name="Jobs", symbol="JOB", issuer_name="Bank",
                    edition_size=edition_size, transfer_policy="transferable", public_base_url="http://127.0.0.1",
                    status="live", contract_address="0x" + "22" * 20, content_root="0x" + "33" * 32,
                    rendered=edition_size)
        s.add(drop)
        s.flush()
        return drop.id


def queue(db, drop_id: int, n: int) -> int:
    """What the worker does before it signs: queue up to n rows, under the drop's lock."""
    with db.locked_session() as s:
        s.get(Drop, drop_id, with_for_update=True)
        return jobs.expand(s, drop_id, n)


def items(db, job_id: int, status: str = "queued") -> list[tuple[int, str]]:
    with db.session() as s:
        return [tuple(r) for r in s.execute(select(MintItem.row_no, MintItem.recipient).where(
            MintItem.job_id == job_id, MintItem.status == status).order_by(MintItem.id))]


def test_rows_not_yet_queued_count_in_the_supply_and_the_job(database):
    drop_id = live_drop(database, 100)
    good = [(row, Account.create().address) for row in range(2, 32)]
    job_id = jobs.create_job(database, drop_id, good, [{"row": 1, "value": "0xnope", "reason": "not an address"}])
    assert items(database, job_id) == []  # stored on the job, not yet queued
    status = jobs.job_status(database, job_id)
    assert {k: status[k] for k in ("total", "done", "failed", "queued", "status")} == \
        {"total": 31, "done": 0, "failed": 1, "queued": 30, "status": "running"}
    assert status["failures"] == [{"row": 1, "address": "0xnope", "reason": "not an address"}]
    with database.session() as s:
        assert jobs.remaining_supply(s, s.get(Drop, drop_id)) == 70
    assert drop_stats(database, [drop_id])[drop_id]["queued"] == 30  # the console's count includes them
    # a second job cannot take what the first one's unqueued rows hold
    with pytest.raises(DropError, match="71 recipients but only 70"):
        jobs.create_job(database, drop_id, [(n, Account.create().address) for n in range(1, 72)], [])
    second = jobs.create_job(database, drop_id, [(n, Account.create().address) for n in range(1, 71)], [])
    with pytest.raises(DropError, match="sold out"):
        jobs.queue_single(database, drop_id, Account.create().address)
    assert queue(database, drop_id, 35) == 35  # the older job first, then the next one's first rows
    assert items(database, job_id) == good and len(items(database, second)) == 5
    with database.session() as s:
        assert jobs.remaining_supply(s, s.get(Drop, drop_id)) == 0
    assert jobs.job_status(database, job_id)["queued"] == 30
    assert drop_stats(database, [drop_id])[drop_id]["queued"] == 100  # 35 items, 65 rows still on the second job


def test_queueing_is_all_or_nothing_and_each_row_once(database):
    drop_id = live_drop(database, 50)
    good = [(row, Account.create().address) for row in (1, 2, 5, 9, 10, 11, 40)]
    job_id = jobs.create_job(database, drop_id, good, [])
    with pytest.raises(Crash):  # the worker dies inside the transaction that queues rows
        with database.locked_session() as s:
            s.get(Drop, drop_id, with_for_update=True)
            assert jobs.expand(s, drop_id, 4) == 4
            raise Crash()
    assert items(database, job_id) == []
    with database.session() as s:
        assert s.get(AirdropJob, job_id).pending == 7
    assert queue(database, drop_id, 3) == 3
    assert queue(database, drop_id, 10) == 4
    assert queue(database, drop_id, 10) == 0
    assert items(database, job_id) == good  # every row once, in order, with its row number
    with database.session() as s:
        job = s.get(AirdropJob, job_id)
        assert (job.pending, job.recipients) == (0, None)


def test_a_wallets_unqueued_rows_count_as_held(database):
    drop_id = live_drop(database, 10)
    a, b = Account.create().address, Account.create().address
    jobs.create_job(database, drop_id, [(1, a), (2, b), (3, a)], [])
    with database.session() as s:
        assert (jobs.unqueued_to(s, drop_id, a), jobs.unqueued_to(s, drop_id, b)) == (2, 1)
    queue(database, drop_id, 1)  # the first `a` is an item now, counted there
    with database.session() as s:
        assert (jobs.unqueued_to(s, drop_id, a), jobs.unqueued_to(s, drop_id, b)) == (1, 1)
    queue(database, drop_id, 2)
    with database.session() as s:
        assert (jobs.unqueued_to(s, drop_id, a), jobs.unqueued_to(s, drop_id, b)) == (0, 0)


def test_worker_queues_rows_as_it_signs_and_a_crash_between_loses_none(app_for, deployed_data):
    recipients = [Account.create().address for _ in range(25)]
    app = app_for(deployed_data, CI_PORT, MINT_BATCH_SIZE=10)
    drop, job, staff = start_job(app, recipients)
    assert (job["total"], job["queued"], job["done"], job["status"]) == (25, 25, 0, "running")
    db = app.extensions["hallmark.db"]
    worker = worker_for(app)
    sender, mint_queue = worker._wire()[:2]
    sender.sign = lambda *args, **kwargs: (_ for _ in ()).throw(Crash())  # dies after queueing, before signing
    with pytest.raises(Crash):
        mint_queue.fill()
    del sender.sign
    assert items(db, job["id"]) == []
    mint_queue.max_in_flight = 1
    tx_id, = mint_queue.fill()  # the remainder first: its rows become items already in the signed batch
    with db.session() as s:
        assert s.get(AirdropJob, job["id"]).pending == 20
        assert s.execute(select(MintItem.row_no, MintItem.status, MintItem.tx_id).where(
            MintItem.job_id == job["id"]).order_by(MintItem.id)).all() == [(n, "sending", tx_id) for n in range(1, 6)]
    final = run_until(worker, app, job["id"], staff)
    worker.lease.release()
    assert (final["done"], final["failed"], final["queued"]) == (25, 0, 0)
    with db.session() as s:
        sizes = list(s.scalars(select(func.count(MintItem.id)).join(ChainTx, ChainTx.id == MintItem.tx_id)
                               .where(MintItem.job_id == job["id"]).group_by(ChainTx.nonce).order_by(ChainTx.nonce)))
    assert sizes == [5, 10, 10]
    per_recipient, total = balances(drop["contract_address"], recipients)
    assert per_recipient == [1] * 25 and total == 25
