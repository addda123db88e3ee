"""The node stops mid-airdrop (SIGKILL or SIGTERM, for 3 s or 10 s) and restarts on its data: every recipient
ends with exactly one token, and the job's report equals the chain."""
import signal
import time

import pytest

from hallmark.testing import fresh_addresses


@pytest.mark.parametrize("sig,down", [(signal.SIGKILL, 3), (signal.SIGTERM, 10)], ids=["kill-3s", "term-10s"])
def test_node_outage_mid_airdrop(pg_url, deck_factory, sig, down):
    deck = deck_factory(database_url=pg_url)
    drop = deck.stack.live_drop(1000)
    deck.procs.spawn("worker")
    deck.procs.spawn("indexer")
    deck.web()
    recipients = fresh_addresses(f"outage-{sig}".encode(), 600)
    reply = deck.post(f"/api/drops/{drop['id']}/airdrops", "job-1", json={"recipients": recipients})
    assert reply.status_code == 202, reply.text
    job_id = reply.json()["id"]
    at_stop = deck.wait_job(job_id, until=lambda j: j["done"] >= 100)
    deck.stack.stop_node(sig)
    assert at_stop["done"] < len(recipients)  # the outage comes mid-airdrop
    time.sleep(down)
    during = deck.get("/api/health")
    assert during.status_code == 503
    deck.stack.start_node()
    job = deck.wait_job(job_id)
    deck.assert_exactly_once(drop, recipients, job)
    assert all(p.alive() for p in deck.procs.running), deck.logs()
