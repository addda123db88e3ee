"""Webhooks against a real local receiver and the real chain: signatures a receiver can check, events of a real
drop and airdrop delivered, retries with backoff while the receiver is down, the secret shown once and sealed,
chain events never doubled by a re-scan."""
import json
import time

import pytest
from sqlalchemy import func, select

from hallmark.access.keys import create_api_key
from hallmark.access.models import AuditEntry
from hallmark.access.permissions import KEY_SCOPES
from hallmark.db import Database
from hallmark.indexer.follower import Indexer
from hallmark.webhooks.models import OutboxEvent, WebhookEndpoint

from chainutil import OwnChain, new_addresses
from conftest import CI_PORT, free_port
from webhook_receiver import Receiver


def wait_for(check, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def app(deployed_data, app_for):
    application = app_for(deployed_data, CI_PORT, MINT_BATCH_SIZE=10, CLAIM_WINDOW_SECONDS=0.3,
                          WEBHOOK_ALLOW_PRIVATE=True, WEBHOOK_RETRY_SECONDS=0.4, WEBHOOK_MAX_ATTEMPTS=4,
                          WEBHOOK_TIMEOUT_SECONDS=2)
    yield application
    application.extensions["hallmark.services"].stop()


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def register(client, staff, url, events, **extra):
    reply = client.post("/api/webhooks", json={"name": "partner", "url": url, "events": events, **extra},
                        headers=staff)
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()


def deliveries(client, staff, endpoint_id):
    reply = client.get(f"/api/webhooks/{endpoint_id}/deliveries", headers=staff)
    assert reply.status_code == 200
    return reply.get_json()


def test_drop_and_airdrop_events_arrive_signed(app, client, staff, make_drop, receiver):
    endpoint = register(client, staff, receiver.url, ["drop.live", "job.progress", "job.finished"])
    drop = make_drop(edition_size=40)
    recipients = new_addresses(25)
    reply = client.post(f"/api/drops/{drop['id']}/airdrops", json={"recipients": recipients},
                        headers={**staff, "Idempotency-Key": "wh-job"})
    assert reply.status_code == 202, reply.get_json()
    job = reply.get_json()
    got = wait_for(lambda: [e for e in receiver.events(endpoint["secret"]) if e["type"] == "job.finished"] and
                   receiver.events(endpoint["secret"]), what="job.finished")
    by_type = {}
    for event in got:
        by_type.setdefault(event["type"], []).append(event)
    live = by_type["drop.live"]
    assert [e["data"]["contract_address"] for e in live] == [drop["contract_address"]]
    assert live[0]["drop_id"] == drop["id"] and live[0]["data"]["live_at"].endswith("Z")
    finished = by_type["job.finished"]
    assert len(finished) == 1
    assert finished[0]["data"] | {"job_id": job["id"], "total": 25, "done": 25, "failed": 0} == finished[0]["data"]
    assert finished[0]["data"]["tx_hash"].startswith("0x")
    progress = by_type.get("job.progress", [])
    assert 1 <= len(progress) <= 10  # throttled: three batches of ten, one event per tenth passed at most
    dones = [p["data"]["done"] for p in progress]  # deliveries go out in parallel: no order is promised
    assert len(set(dones)) == len(dones) and all(0 < d < 25 for d in dones)
    # the receiver answers before the deliverer records the outcome: wait until none is pending
    log = wait_for(lambda: (found := deliveries(client, staff, endpoint["id"])) and
                   all(d["status"] != "pending" for d in found) and found, what="every delivery settled")
    assert all(d["status"] == "delivered" and d["attempts"] == 1 and d["log"][0]["status_code"] == 200 for d in log)
    assert len({e["id"] for e in got}) == len(got)


def test_receiver_down_then_up_retries_with_backoff(app, client, staff):
    port = free_port()
    endpoint = register(client, staff, f"http://127.0.0.1:{port}/hook", ["drop.live"])
    ping = client.post(f"/api/webhooks/{endpoint['id']}/ping", headers=staff)
    assert ping.status_code == 202
    # nothing listens: connection refused, logged and retried
    wait_for(lambda: len(deliveries(client, staff, endpoint["id"])[0]["log"]) >= 2, what="two refused attempts")
    failing = Receiver(port, status=500).start()  # up, but answering 500
    try:
        wait_for(lambda: failing.calls, what="a 500")
    finally:
        failing.stop()
    delivery = wait_for(lambda: (d := deliveries(client, staff, endpoint["id"])[0])["status"] == "failed" and d,
                        what="failed after WEBHOOK_MAX_ATTEMPTS")
    log = delivery["log"]
    assert len(log) == 4 and delivery["attempts"] == 4
    assert log[0]["status_code"] is None and "refused" in log[0]["error"].lower()
    assert any(a["status_code"] == 500 for a in log)
    times = [time.mktime(time.strptime(a["at"][:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + a["at"][19:-1])
             for a in log]
    gaps = [b - a for a, b in zip(times, times[1:])]
    # backoff doubling from 0.4 s: each gap at least its delay (a busy machine only adds to one), the last the longest
    assert all(gap >= 0.4 * 2 ** i - 0.05 for i, gap in enumerate(gaps)) and gaps[2] > max(gaps[:2]), gaps
    up = Receiver(port).start()
    try:
        again = client.post(f"/api/webhooks/deliveries/{delivery['id']}/redeliver", headers=staff)
        assert again.status_code == 202
        wait_for(lambda: deliveries(client, staff, endpoint["id"])[0]["status"] == "delivered", what="delivered")
        time.sleep(1)
        assert len(up.calls) == 1
        headers, raw = up.calls[0]
        assert headers["Hallmark-Event-Id"] == delivery["event_id"] == ping.get_json()["event_id"]
        assert json.loads(raw)["type"] == "ping"
        assert len({h["Hallmark-Event-Id"] for h, _ in failing.calls + up.calls}) == 1  # the same id every try
    finally:
        up.stop()


def test_secret_shown_once_sealed_and_rotated(app, client, staff, receiver):
    endpoint = register(client, staff, receiver.url, ["job.finished"])
    secret = endpoint["secret"]
    listed = client.get("/api/webhooks", headers=staff).get_json()
    assert secret not in json.dumps(listed) and "secret" not in listed[0]
    db = app.extensions["hallmark.db"]
    with db.session() as s:
        stored = s.get(WebhookEndpoint, endpoint["id"]).secret
    assert secret not in stored and stored.startswith("sealed:v1:")
    rotated = client.post(f"/api/webhooks/{endpoint['id']}/rotate", headers=staff).get_json()["secret"]
    assert rotated != secret
    client.post(f"/api/webhooks/{endpoint['id']}/ping", headers=staff)
    wait_for(lambda: receiver.calls, what="the ping")
    assert receiver.events(rotated)[0]["type"] == "ping"
    with pytest.raises(AssertionError):
        receiver.events(secret)
    assert client.post(f"/api/webhooks/{endpoint['id']}/disable", headers=staff).get_json()["disabled_at"]
    assert client.post(f"/api/webhooks/{endpoint['id']}/ping", headers=staff).status_code == 409


def test_permissions_and_bad_input(app, client, staff, receiver):
    viewer = {"Authorization": "Bearer " + create_api_key(app.extensions["hallmark.db"], "viewer",
                                                          scopes=("drops.read",))}
    assert client.get("/api/webhooks", headers=viewer).status_code == 403
    body = {"name": "x", "url": receiver.url, "events": ["drop.live"]}
    assert client.post("/api/webhooks", json=body, headers=viewer).status_code == 403
    assert client.post("/api/webhooks", json=body).status_code == 401
    for bad, field in (({"url": "ftp://example.com/x"}, "url"), ({"url": "file:///etc/passwd"}, "url"),
                       ({"events": ["drop.gone"]}, "events"), ({"events": []}, "events"),
                       ({"drop_ids": [0]}, "drop_ids")):
        reply = client.post("/api/webhooks", json={**body, **bad}, headers=staff)
        assert reply.status_code == 422 and field in reply.get_json()["errors"]["json"], reply.get_json()
    assert client.post("/api/webhooks/999999/rotate", headers=staff).status_code == 404
    register(client, staff, receiver.url, ["drop.live"])
    with app.extensions["hallmark.db"].session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "webhook.create")) == 1


def test_private_addresses_refused_by_default(deployed_data, app_for, stack):
    application = app_for(deployed_data, CI_PORT, START_WORKERS=False)
    key = create_api_key(application.extensions["hallmark.db"], "admin", scopes=KEY_SCOPES)
    client = application.test_client()
    for url in ("http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest"):
        reply = client.post("/api/webhooks", json={"name": "x", "url": url, "events": ["drop.live"]},
                            headers={"Authorization": f"Bearer {key}"})
        assert reply.status_code == 422 and "private" in reply.get_json()["errors"]["json"]["url"][0]


def test_indexer_events_not_doubled_by_rescan(tmp_path):
    own = OwnChain(free_port())
    try:
        db = Database(f"sqlite:///{tmp_path / 'index.db'}")
        db.upgrade()
        start = own.deploy_registry()
        coll = own.create_collection(7)
        alice = new_addresses(1)[0]
        own.send(coll.functions.mint(own.account.address))
        own.send(coll.functions.mint(own.account.address))
        own.send(coll.functions.transferFrom(own.account.address, alice, 1))
        own.send(coll.functions.redeem(2))
        indexer = Indexer(db, own.w3, own.registry.address, start)
        indexer.catch_up()

        def stored():
            with db.session() as s:
                return sorted((e.type, e.event_id) for e in s.scalars(select(OutboxEvent)))

        first = stored()
        assert [t for t, _ in first] == ["item.redeemed", "item.transferred"]  # mints are not transfers
        indexer.rewind(start - 1)  # a rebuilt index reads every log again
        indexer.catch_up()
        assert stored() == first
        with db.session() as s:
            payload = json.loads(s.scalar(select(OutboxEvent.payload).where(OutboxEvent.type == "item.transferred")))
        assert payload["to"] == alice and payload["token_id"] == 1 and payload["transferred_at"].endswith("Z")
    finally:
        own.stop()
