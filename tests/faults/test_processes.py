"""Process supervision as an operator sees it: a second sender on SQLite is refused, health tells a dead or stuck
worker, and a replaced chain is reported instead of queuing work that cannot land."""
import signal
import subprocess
import time

from hallmark.processes import BIN


def wait_for(predicate, timeout, deck, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"{what} within {timeout} s\n{deck.logs()}")


def test_second_worker_on_sqlite_is_refused(deck_factory):
    deck = deck_factory()
    deck.procs.spawn("worker")
    deck.web(workers=1)
    wait_for(lambda: deck.get("/api/health").json()["processes"]["worker"]["alive"], 30, deck, "worker active")
    second = subprocess.run([str(BIN / "hallmark"), "worker"], env={**deck.procs.env, "PATH": str(BIN)},
                            capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: another worker") and "SQLite" in lines[0]
    assert "Traceback" not in second.stderr + second.stdout


def test_health_reports_dead_worker_and_node_outage(pg_url, deck_factory):
    deck = deck_factory(database_url=pg_url)
    worker = deck.procs.spawn("worker")
    deck.procs.spawn("indexer")
    deck.web(workers=1)
    healthy = wait_for(lambda: (r := deck.get("/api/health")).status_code == 200 and r.json(), 30, deck, "healthy")
    assert healthy["processes"]["worker"]["alive"] and healthy["processes"]["indexer"]["blocks_behind"] == 0
    deck.stack.stop_node(signal.SIGKILL)
    down = wait_for(lambda: deck.get("/api/health").json()["processes"]["worker"]["problem"], 15, deck, "problem")
    assert "unreachable" in down and deck.get("/api/health").status_code == 503
    unknown = deck.get("/api/verify/0x" + "ab" * 20 + "/1")  # a verdict that needs the node: decided by nothing
    assert unknown.status_code == 503 and "node did not answer" in unknown.json()["message"]
    assert worker.alive()  # it survives the outage
    deck.stack.start_node()
    wait_for(lambda: deck.get("/api/health").status_code == 200, 30, deck, "healthy again")
    worker.signal(signal.SIGKILL)
    dead = wait_for(lambda: (r := deck.get("/api/health")).status_code == 503 and r.json(), 20, deck, "503")
    assert dead["processes"]["worker"]["alive"] is False


def test_replaced_chain_is_reported_and_new_mints_refused(pg_url, deck_factory):
    deck = deck_factory(database_url=pg_url)
    drop = deck.stack.live_drop(100)
    deck.procs.spawn("worker")
    deck.procs.spawn("indexer")
    deck.web(workers=1)
    wait_for(lambda: deck.get("/api/health").status_code == 200, 30, deck, "healthy")
    deck.stack.stop_node()
    deck.stack.chain_db = None  # a fresh, empty chain on the same address
    deck.stack.start_node()
    # while the node restarts the worker may report it unreachable first; then it must find the chain replaced
    wait_for(lambda: "chain replaced" in (deck.get("/api/health").json()["processes"]["worker"]["problem"] or ""),
             20, deck, "the replaced chain reported")
    reply = deck.post(f"/api/drops/{drop['id']}/mint", "after-reset", json={"to": "0x" + "12" * 20})
    assert reply.status_code == 503 and "chain replaced" in reply.json()["message"]
    listed = deck.get("/api/drops").json()[0]
    assert "chain replaced" in listed["chain_problem"]
