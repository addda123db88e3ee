"""Webhook deliveries survive the worker's death: events pending while the receiver is down, the worker process
SIGKILLed, the receiver back, a new worker started, and exactly the pending events arrive."""
import json
import signal
import sys
import time
from pathlib import Path

import requests

from hallmark.testing import fresh_addresses, free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from webhook_receiver import Receiver  # noqa: E402  (the same real receiver as the backend tests)


def test_pending_deliveries_arrive_after_worker_killed(deck_factory):
    deck = deck_factory(HALLMARK_WEBHOOK_ALLOW_PRIVATE="1", HALLMARK_WEBHOOK_RETRY_SECONDS="0.5",
                        HALLMARK_WEBHOOK_MAX_ATTEMPTS="40", HALLMARK_WEBHOOK_TIMEOUT_SECONDS="2")
    drop = deck.stack.live_drop(100)
    worker = deck.procs.spawn("worker")
    deck.web()
    port = free_port()
    endpoint = requests.post(deck.base + "/api/webhooks", headers=deck.staff, timeout=30, json={
        "name": "partner", "url": f"http://127.0.0.1:{port}/hook", "events": ["job.progress", "job.finished"]}).json()
    job_id = deck.post(f"/api/drops/{drop['id']}/airdrops", "wh-job",
                       json={"recipients": fresh_addresses(b"webhooks", 60)}).json()["id"]
    deck.wait_job(job_id)

    def log():
        return requests.get(f"{deck.base}/api/webhooks/{endpoint['id']}/deliveries", headers=deck.staff,
                            timeout=30).json()

    def all_tried(deliveries):
        return any(d["type"] == "job.finished" for d in deliveries) and all(d["log"] for d in deliveries)

    # The job's last event fanned out to this endpoint and every event tried at least once against the closed port.
    # The deliverer fans events out in its own cycle, after the job's row says finished: until job.finished is
    # there, the progress events alone may already all have been tried.
    deadline = time.monotonic() + 60
    while not all_tried(pending := log()):
        assert time.monotonic() < deadline, (pending, deck.logs())
        time.sleep(0.3)
    assert all(d["status"] == "pending" and "refused" in d["log"][0]["error"].lower() for d in pending)
    worker.signal(signal.SIGKILL)
    receiver = Receiver(port).start()
    try:
        deck.procs.spawn("worker")
        deadline = time.monotonic() + 90
        while any(d["status"] != "delivered" for d in log()):
            assert time.monotonic() < deadline, deck.logs()
            time.sleep(0.5)
        arrived = [json.loads(raw)["id"] for _, raw in receiver.calls]
        assert set(arrived) == {d["event_id"] for d in pending}  # exactly the pending ones, each at least once
        assert receiver.events(endpoint["secret"])  # and signed with the secret shown at creation
    finally:
        receiver.stop()
