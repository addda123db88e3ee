"""A drop rendered on every core: the worker SIGKILLed mid-render leaves no render process behind, and the next
worker resumes from the last stored chunk to the same commitment a single process computes card by card."""
import signal
import time

import psutil
from sqlalchemy import func, select
from web3 import Web3

from hallmark.art.commitment import ContentTree, leaf_hash
from hallmark.chain import artifacts
from hallmark.db import Database
from hallmark.minting.drops import content_for
from hallmark.models import Drop, ItemHash

EDITION = 600


def wait_drop(deck, drop_id, until, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        drop = deck.get(f"/api/drops/{drop_id}").json()
        if until(drop):
            return drop
        assert drop["status"] != "failed", drop
        time.sleep(0.1)
    raise AssertionError(f"drop {drop_id}: {drop}\n{deck.logs()}")


def test_worker_killed_mid_render_resumes_to_the_same_commitment(deck_factory):
    deck = deck_factory(HALLMARK_RENDER_PROCESSES=2)
    first = deck.procs.spawn("worker")
    deck.web(workers=1)
    body = {"slug": "render-kill", "name": "福虎迎春", "symbol": "FUHU", "edition_size": EDITION, "issuer_name": "示例银行"}
    reply = deck.post("/api/drops", "render-kill", json=body)
    assert reply.status_code == 202, reply.text
    drop_id = reply.json()["id"]
    wait_drop(deck, drop_id, lambda d: d["rendered"] >= 60)
    renderers = psutil.Process(first.pid).children(recursive=True)
    assert len(renderers) >= 3  # the forkserver and two render processes
    first.signal(signal.SIGKILL)
    _, alive = psutil.wait_procs(renderers, timeout=15)
    assert not alive, f"render processes outlived the worker: {alive}"
    stopped_at = deck.get(f"/api/drops/{drop_id}").json()
    assert stopped_at["status"] == "rendering" and 0 < stopped_at["rendered"] < EDITION

    deck.procs.spawn("worker")
    live = wait_drop(deck, drop_id, lambda d: d["status"] == "live")
    db = Database(deck.stack.database_url)
    with db.session() as s:
        content = content_for(s.get(Drop, drop_id))
        rows = s.execute(select(ItemHash.serial, ItemHash.image_sha256, ItemHash.metadata_sha256)
                         .where(ItemHash.drop_id == drop_id).order_by(ItemHash.serial)).all()
        assert s.scalar(select(func.count()).select_from(ItemHash).where(ItemHash.drop_id == drop_id)) == EDITION
    db.engine.dispose()
    assert [r.serial for r in rows] == list(range(1, EDITION + 1))
    # the commitment a single process computes card by card, against the chain's
    expected = ContentTree.build([leaf_hash(n, *content.hashes(n)) for n in range(1, EDITION + 1)]).root
    w3 = Web3(Web3.HTTPProvider(deck.stack.chain.url))
    collection = w3.eth.contract(address=live["contract_address"], abi=artifacts.load("HallmarkCollection")["abi"])
    assert collection.functions.contentRoot().call() == expected
    assert live["content_root"] == "0x" + expected.hex() and live["rendered"] == EDITION


def test_the_render_server_starts_with_the_worker_before_it_reaches_its_chain(deck_factory, tmp_path):
    """The render server (the forkserver the render processes come from) imports the renderer and makes the art
    layers for seconds: it starts with the worker process, not once the worker has loaded its deployment and wired
    its sender, so a drop posted as soon as the worker is up does not wait for it. Here the worker has no deployment
    to load at all (started before `make deploy`): its render server runs all the same."""
    deck = deck_factory()
    worker = deck.procs.spawn("worker", HALLMARK_DEPLOYMENT_FILE=str(tmp_path / "not-deployed-yet.json"))
    deadline, servers = time.monotonic() + 60, []
    while not servers and time.monotonic() < deadline:
        assert worker.alive(), worker.output()[-2000:]
        servers = [p for p in psutil.Process(worker.pid).children()
                   if "multiprocessing.forkserver" in " ".join(p.cmdline())]
        time.sleep(0.2)
    assert servers, f"no render server beside the worker\n{worker.output()[-2000:]}"
    assert worker.alive()
