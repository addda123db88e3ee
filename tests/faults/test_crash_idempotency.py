"""A web worker killed inside a staff write: the same request retried with the same Idempotency-Key returns the
work the first attempt committed, never a second copy of it."""
import os
import signal
import threading
import time

import requests
from sqlalchemy import func, select

from hallmark.db import Database
from hallmark.models import AirdropJob
from hallmark.testing import fresh_addresses


def gunicorn_workers(arbiter_pid: int) -> list[int]:
    children = open(f"/proc/{arbiter_pid}/task/{arbiter_pid}/children").read().split()
    return [int(c) for c in children]


def test_web_worker_killed_inside_a_write_then_retried(pg_url, deck_factory):
    deck = deck_factory(database_url=pg_url, HALLMARK_MINT_BATCH_SIZE=500)
    drop = deck.stack.live_drop(10_000)
    deck.procs.spawn("worker")
    web = deck.web(workers=1)
    recipients = fresh_addresses(b"crash-write", 6_000)
    csv = ("address\n" + "\n".join(recipients)).encode()
    killed = []

    def send():
        try:
            deck.post(f"/api/drops/{drop['id']}/airdrops", "the-key", files={"file": ("r.csv", csv)})
        except requests.RequestException:
            pass

    thread = threading.Thread(target=send)
    thread.start()
    db = Database(pg_url)
    deadline = time.monotonic() + 60
    while not killed and time.monotonic() < deadline:
        with db.session() as s:
            if s.scalar(select(AirdropJob.id).where(AirdropJob.drop_id == drop["id"])):
                for pid in gunicorn_workers(web.pid):  # the work is committed: kill the worker answering
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
        time.sleep(0.002)
    thread.join(30)
    assert killed, "the request never committed its job"
    time.sleep(1)  # gunicorn's arbiter starts a new worker
    deadline = time.monotonic() + 30
    while True:  # the same key: "still processing" until the crashed request's lease runs out, then the job
        retry = deck.post(f"/api/drops/{drop['id']}/airdrops", "the-key", files={"file": ("r.csv", csv)})
        if retry.status_code != 409:
            break
        assert "Retry-After" in retry.headers and time.monotonic() < deadline, (retry.headers, retry.text)
        time.sleep(float(retry.headers["Retry-After"]) / 2)
    assert retry.status_code in (200, 202), retry.text
    with db.session() as s:
        jobs = list(s.scalars(select(AirdropJob.id).where(AirdropJob.drop_id == drop["id"])))
    assert jobs == [retry.json()["id"]]
    again = deck.post(f"/api/drops/{drop['id']}/airdrops", "the-key", files={"file": ("r.csv", csv)})
    assert again.json()["id"] == jobs[0]
    job = deck.wait_job(jobs[0], timeout=600)
    deck.assert_exactly_once(drop, recipients, job)
