"""Verify requests per second under the production server, beside a bare Flask JSON endpoint under the same
gunicorn settings, in the same run.

Starts a throw-away PostgreSQL, a Ganache of its own with the contracts deployed, `hallmark worker`,
`hallmark indexer` and `hallmark web --workers 2` (gunicorn), airdrops 1,000 tokens through the API and waits
until the indexer holds them. Beside it, bench/bare_app.py (bare Flask, a constant JSON on the verify route's
URL shape) runs under the very same gunicorn command line (hallmark.run.commands.gunicorn_command, same
workers, threads, worker class and access log) with only the app swapped. A bounded pool of keep-alive HTTP
clients (http.client, one connection per thread) on loopback then loads each server in turn, alternating rounds:

- verify: GET /api/verify/<contract>/<random minted token id>, every item verified before (steady state);
- bare: GET the same URL shape on the bare app;
- verify, every verdict computed afresh (a random image digest: nothing from the cache).

Every request carries one of 4,096 client addresses, at random (X-Forwarded-For; `hallmark web` believes one
proxy, as behind nginx): the per-address verify limit is checked as in production, never reached.

Prints a Markdown table (also bench/results/serving.md).

    python bench/serving.py [--tokens 1000] [--workers 2] [--clients 16] [--rounds 4] [--seconds 2.5]
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from deck import Deck, client_address, ganache_version, load_average
from hallmark.processes import wait_http
from hallmark.run.commands import gunicorn_command
from hallmark.testing import free_port, fresh_addresses, say

BENCH = Path(__file__).resolve().parent
TARGET_SHARE = 0.70
MAX_SECONDS = 20  # per server: never load one longer than this
WARM_PASSES = 7
CLIENTS = 4096  # distinct client addresses: at ~1,000 requests/s, some 15 a minute each (verify allows 120)


def shown_command(workers: int) -> str:
    command = gunicorn_command(0, workers)
    command[0], command[2], command[-1] = "gunicorn", "127.0.0.1:<port>", "<app>"
    return " ".join(command)


def load(port: int, path, seconds: float, clients: int) -> dict:
    """`clients` threads, each with one keep-alive connection, GET path(rng) back to back for `seconds`."""
    stop = time.monotonic() + seconds
    results = [None] * clients

    def client(n: int) -> None:
        rng = random.Random(n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        ok = errors = size = 0
        latencies = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                conn.request("GET", path(rng), headers={"X-Forwarded-For": client_address(rng.randrange(CLIENTS))})
                reply = conn.getresponse()
                body = reply.read()
            except (http.client.HTTPException, OSError):
                conn.close()  # the server closed a kept-alive connection: open another
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)
            if reply.status == 200:
                ok, size = ok + 1, len(body)
            else:
                errors += 1
            if reply.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        results[n] = (ok, errors, size, latencies)

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies = sorted(x for r in results for x in r[3])
    return {"ok": sum(r[0] for r in results), "errors": sum(r[1] for r in results), "seconds": elapsed,
            "bytes": max(r[2] for r in results), "latencies": latencies}


def warm(port: int, address: str, tokens: int, clients: int, passes: int) -> list[float]:
    """Verify every token `passes` times, each pass shuffled over fresh connections (a kept-alive connection stays
    with one gunicorn worker, and each worker caches its own verdicts): after pass k a (token, worker) pair is
    still cold with a chance of about 2^-k. Returns each pass's seconds."""
    rng, times = random.Random(0), []
    for _ in range(passes):
        order = list(range(1, tokens + 1))
        rng.shuffle(order)
        parts = [order[n::clients] for n in range(clients)]

        def client(part):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for token_id in part:
                conn.request("GET", f"/api/verify/{address}/{token_id}",
                             headers={"X-Forwarded-For": client_address(random.randrange(CLIENTS))})
                reply = conn.getresponse()
                reply.read()
                assert reply.status == 200, reply.status
            conn.close()

        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(part,)) for part in parts]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        times.append(time.monotonic() - started)
    return times


def merge(rounds: list[dict]) -> dict:
    ok, seconds = sum(r["ok"] for r in rounds), sum(r["seconds"] for r in rounds)
    latencies = sorted(x for r in rounds for x in r["latencies"])
    return {"ok": ok, "errors": sum(r["errors"] for r in rounds), "seconds": seconds, "rps": ok / seconds,
            "bytes": max(r["bytes"] for r in rounds), "median_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000, "rounds": [r["ok"] / r["seconds"] for r in rounds]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1000, help="tokens airdropped, then verified at random")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of both servers")
    parser.add_argument("--clients", type=int, default=16, help="concurrent keep-alive HTTP clients")
    parser.add_argument("--rounds", type=int, default=4, help="rounds per server, alternating between them")
    parser.add_argument("--seconds", type=float, default=2.5, help="seconds per round")
    args = parser.parse_args()
    if args.rounds * args.seconds > MAX_SECONDS:
        parser.error(f"at most {MAX_SECONDS} s of load per server")

    loads = [load_average()]
    with tempfile.TemporaryDirectory(prefix="hallmark-bench-") as tmp, Deck(Path(tmp)) as deck:
        stack = deck.stack
        say(f"ganache at {stack.chain.url}; PostgreSQL at {deck.database_url}")
        drop = stack.live_drop(args.tokens, slug="bench-serving")
        deck.start(web_workers=args.workers)
        say(f"airdropping {args.tokens:,} tokens through the API")
        reply = deck.post(f"/api/drops/{drop['id']}/airdrops", "bench-serving",
                          json={"recipients": fresh_addresses(b"bench-serving", args.tokens)})
        reply.raise_for_status()
        while (job := deck.get(f"/api/jobs/{reply.json()['id']}").json())["status"] != "finished":
            time.sleep(0.2)
        assert job["done"] == args.tokens, job
        deck.wait_indexed(drop["contract_address"], args.tokens)

        bare_port = free_port()
        command = gunicorn_command(bare_port, args.workers)
        assert command[-1] == "hallmark.run.web:create()", command
        command[-1] = "bare_app:create()"
        log = deck.tmp / "logs" / "bare.log"
        bare = subprocess.Popen(command, env={**os.environ, **deck.procs.env, "PYTHONPATH": str(BENCH)},
                                stdout=open(log, "ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            wait_http(f"http://127.0.0.1:{bare_port}/api/verify/0x0/1")
            address, tokens = drop["contract_address"], args.tokens
            verify = (deck.web_port, lambda rng: f"/api/verify/{address}/{rng.randint(1, tokens)}")
            plain = (bare_port, lambda rng: f"/api/verify/{address}/{rng.randint(1, tokens)}")
            cold = (deck.web_port, lambda rng: f"/api/verify/{address}/{rng.randint(1, tokens)}"
                                               f"?image_sha256=0x{rng.getrandbits(256):064x}")
            say(f"warming up: every item verified {WARM_PASSES} times, so that every gunicorn worker has seen it")
            warmed = warm(deck.web_port, address, tokens, args.clients, WARM_PASSES)
            say("  passes took " + ", ".join(f"{t:.1f}" for t in warmed) + " s")
            load(*plain, seconds=1, clients=args.clients)
            rounds = {"verify": [], "bare": []}
            for n in range(args.rounds):  # alternating (ABBA...): a slower moment of the machine hits both sides
                pair = (("bare", plain), ("verify", verify))
                for name, target in pair if n % 2 == 0 else pair[::-1]:
                    rounds[name].append(load(*target, seconds=args.seconds, clients=args.clients))
                    say(f"  {name}: {rounds[name][-1]['ok'] / rounds[name][-1]['seconds']:,.0f} requests/s")
            fresh = merge([load(*cold, seconds=args.seconds, clients=args.clients)])
            say(f"  verify, computed afresh: {fresh['rps']:,.0f} requests/s")
        finally:
            os.killpg(bare.pid, 15)
            bare.wait(30)
        for p in deck.procs.running:
            if not p.alive():
                raise RuntimeError(f"{p.kind} died:\n{p.output()[-3000:]}")
        postgres = deck.cluster.bin.parent.name

    ours, base = merge(rounds["verify"]), merge(rounds["bare"])
    share = ours["rps"] / base["rps"]
    errors = ours["errors"] + base["errors"] + fresh["errors"]

    def cell(r):
        return f"{r['rps']:,.0f}/s"

    rows = [
        ("requests per second, each item verified before", cell(ours), cell(base), "-", None),
        ("verify's share of the bare endpoint's rate", f"{share:.0%}", "100%", f"≥ {TARGET_SHARE:.0%}",
         share >= TARGET_SHARE),
        ("latency, median / 99th percentile", f"{ours['median_ms']:.1f} / {ours['p99_ms']:.1f} ms",
         f"{base['median_ms']:.1f} / {base['p99_ms']:.1f} ms", "-", None),
        ("answer size", f"{ours['bytes']:,} bytes", f"{base['bytes']:,} bytes", "-", None),
        ("verify, every verdict computed afresh (random image digest)", cell(fresh), cell(base), "-", None),
        ("non-200 answers or broken connections", f"{ours['errors'] + fresh['errors']}", f"{base['errors']}", "0",
         errors == 0),
    ]
    lines = [
        f"Measured on this machine ({os.cpu_count()} CPUs), the client on the same machine: {args.clients} threads "
        f"with a keep-alive http.client connection each, on loopback, {args.rounds} rounds of {args.seconds:g} s per "
        f"server, alternating (bare, verify, verify, bare, ...; {args.rounds * args.seconds:g} s per server) after a "
        f"warm-up (every item verified {WARM_PASSES} times over fresh connections, as each gunicorn worker caches "
        f"its own verdicts). Both servers: `{shown_command(args.workers)}`; Hallmark's is `hallmark web` on "
        f"PostgreSQL {postgres} with `hallmark worker` and `hallmark indexer` running (idle), {args.tokens:,} "
        f"tokens minted (airdropped through the API on {ganache_version()}) and indexed. Every request comes from "
        f"one of {CLIENTS:,} client addresses at random (X-Forwarded-For; `hallmark web` believing one proxy, as "
        f"behind nginx): the per-address verify limit is checked as in production, never reached. Machine load "
        f"average (1 min) at the start and the end: {loads[0]:.1f} / {load_average():.1f}.",
        "",
        "| measurement | Hallmark verify (`hallmark web`) | bare Flask JSON (bench/bare_app.py) | target | within |",
        "|---|---:|---:|---:|:---:|",
    ]
    for name, a, b, target, ok in rows:
        lines.append(f"| {name} | {a} | {b} | {target} | {'-' if ok is None else 'yes' if ok else 'NO'} |")
    lines += ["", "Rounds (requests/s): verify " + ", ".join(f"{r:,.0f}" for r in ours["rounds"]) + "; bare "
              + ", ".join(f"{r:,.0f}" for r in base["rounds"]) + "."]
    out = "\n".join(lines)
    print(out)
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    (results / "serving.md").write_text(out + "\n")


if __name__ == "__main__":
    main()
