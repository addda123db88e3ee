"""Drop creation: from the API request until the collection is live on chain, beside the renderer it replaced.

Starts a throw-away PostgreSQL, a Ganache of its own with the contracts deployed and the real `hallmark worker` and
`hallmark web` processes (deck.Deck). For each edition size, POST /api/drops and read the drop's row until it is live:
every card rendered (the current render version, on every core), hashed and fingerprinted, stored, the Merkle root
committed, and the collection created through the registry. The clock runs from the POST to `live`. The first drop
after the worker starts also waits for its render server to start (importing the renderer, and reading the tiger
layers from build/art, or drawing them when no earlier start on this install stored them: the table says which), so
the smallest edition is measured twice in each of `--rounds` rounds: first on a freshly started worker (its first
drop, posted once it is the active sender), then on the running one; the median round of each is shown, as this
shared machine's speed drifts from minute to minute. Larger editions run once, on the last round's worker.

The baseline, in the same run: the renderer as it was before this round (render version 2, one process, the same
drop's cards), timed over the first `--baseline` serials and scaled to the edition (rendering was ~98% of the old
path's time; its storage and deploy are not counted, which flatters the baseline).

Afterwards the chain is read back: the collection's on-chain contentRoot is the drop's, and a sample of cards
re-rendered in this process hash to the stored leaves. Prints a Markdown table (also bench/results/drops.md).

    python bench/drops.py [--items 3000 100000] [--baseline 500] [--rounds 3]
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import select
from web3 import Web3

from deck import CpuMeter, Deck, fmt_cpu, load_average, publish
from hallmark.art import layercache
from hallmark.art.render import RENDER_VERSION
from hallmark.chain import artifacts
from hallmark.minting.drops import content_for
from hallmark.models import Drop, ItemHash, ProcessBeat
from hallmark.testing import say

TARGETS = {3_000: 10.0, 100_000: 600.0}  # seconds from request to live (issue 12); aim for 180 at 100,000
SAMPLE = 20  # cards re-rendered here to check the stored hashes


def create(deck: Deck, items: int) -> dict:
    body = {"slug": f"bench-{items}-{time.time_ns()}", "name": "福虎迎春", "symbol": "FUHU", "edition_size": items,
            "issuer_name": "示例银行", "seed": "bench"}
    started = time.perf_counter()
    reply = deck.post("/api/drops", json=body)
    if reply.status_code != 202:
        raise RuntimeError(f"drop refused: {reply.status_code} {reply.text[:500]}")
    drop_id, last_report, rendered_at = reply.json()["id"], 0.0, None
    # the clock stops when the drop's row says live, read every 20 ms (a primary-key read; an API poll every 0.1 s
    # added 50 ms on average and would take the render processes' CPU if made faster); then the API is asked once
    while True:
        with deck.db.session() as s:
            status, rendered = s.execute(select(Drop.status, Drop.rendered).where(Drop.id == drop_id)).one()
        if rendered_at is None and status != "rendering":
            rendered_at = time.perf_counter() - started
        if status in ("live", "failed"):
            break
        if time.perf_counter() - last_report > 30:
            last_report = time.perf_counter()
            say(f"  {rendered or 0:,} of {items:,} rendered, {last_report - started:.0f} s")
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    drop = deck.get(f"/api/drops/{drop_id}").json()
    if drop["status"] != "live":
        raise RuntimeError(f"drop failed: {drop.get('error')}\n{deck.logs()}")
    return {"id": drop_id, "seconds": elapsed, "rendered": rendered_at, "address": drop["contract_address"],
            "root": drop["content_root"]}


def baseline(deck: Deck, drop_id: int, serials: int) -> float:
    """Seconds a card for the old path: version 2 rendered, hashed and fingerprinted one after another."""
    with deck.db.session() as s:
        content = dataclasses.replace(content_for(s.get(Drop, drop_id)), render_version=2)
    content.record(1)  # fonts, sprites and layer caches loaded, as in a long run
    started = time.perf_counter()
    for serial in range(2, serials + 2):
        content.record(serial)
    return (time.perf_counter() - started) / serials


def check(deck: Deck, made: dict) -> bool:
    """The chain's contentRoot is the drop's, and sampled cards re-rendered here hash as stored."""
    w3 = Web3(Web3.HTTPProvider(deck.stack.chain.url))
    coll = w3.eth.contract(address=made["address"], abi=artifacts.load("HallmarkCollection")["abi"])
    if "0x" + coll.functions.contentRoot().call().hex() != made["root"]:
        return False
    with deck.db.session() as s:
        drop = s.get(Drop, made["id"])
        content = content_for(drop)
        serials = random.Random(made["id"]).sample(range(1, drop.edition_size + 1), min(SAMPLE, drop.edition_size))
        stored = {row.serial: row for row in s.scalars(
            select(ItemHash).where(ItemHash.drop_id == drop.id, ItemHash.serial.in_(serials)))}
    return drop.render_version == RENDER_VERSION and all(
        content.record(n) == (stored[n].image_sha256, stored[n].metadata_sha256, stored[n].phash_card,
                              stored[n].phash_qr) for n in serials)


def start_worker(deck: Deck, previous=None):
    """A fresh `hallmark worker` (the previous one stopped first), once it is the active sender: as soon as a bank's
    staff could post a drop to it."""
    if previous is not None:
        previous.stop()
        deck.procs.running.remove(previous)
    worker = deck.procs.spawn("worker")
    deadline = time.monotonic() + 60
    while True:
        with deck.db.session() as s:
            if s.scalar(select(ProcessBeat.role).where(ProcessBeat.pid == worker.pid, ProcessBeat.kind == "worker",
                                                       ProcessBeat.problem.is_(None))) == "active":
                return worker
        if time.monotonic() > deadline:
            raise RuntimeError(f"worker not up\n{deck.logs()}")
        time.sleep(0.05)


def measure(deck: Deck, items: int, when: str, baseline_serials: int) -> dict:
    say(f"Hallmark: a drop of {items:,} items ({when}), from POST /api/drops to live")
    meter = CpuMeter({"worker": deck.pids()["worker"], "PostgreSQL": deck.pids()["PostgreSQL"]})
    meter.start()
    made = create(deck, items)
    made["cpu"] = meter.stop()
    say(f"  live after {made['seconds']:.1f} s")
    made["per_card"] = baseline(deck, made["id"], min(baseline_serials, items))
    say(f"  baseline: {made['per_card'] * 1000:.1f} ms a card, {made['per_card'] * items:.0f} s for {items:,}")
    made["ok"] = check(deck, made)
    return made


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[3_000, 100_000])
    parser.add_argument("--baseline", type=int, default=500, help="serials the old renderer is timed over")
    parser.add_argument("--rounds", type=int, default=3,
                        help="worker starts: the smallest edition is timed right after each, then on the running worker")
    args = parser.parse_args()
    start_load = load_average()
    small = min(args.items)
    firsts, runnings, larger = [], [], []
    with tempfile.TemporaryDirectory(prefix="hallmark-bench-") as tmp, Deck(Path(tmp)) as deck:
        layers = "art layers read from build/art" if layercache.path().exists() else "art layers drawn: none stored"
        deck.procs.spawn("web", "--workers", "1", port=deck.web_port)
        worker = None
        for r in range(1, args.rounds + 1):
            worker = start_worker(deck, worker)
            firsts.append(measure(deck, small, f"round {r}, first drop after the worker started", args.baseline))
            runnings.append(measure(deck, small, f"round {r}, worker running", args.baseline))
        for items in sorted(set(args.items) - {small}):
            larger.append((items, measure(deck, items, "worker running", args.baseline)))
    end_load = load_average()

    def median(runs: list[dict]) -> dict:
        return sorted(runs, key=lambda made: made["seconds"])[len(runs) // 2]

    def each(runs: list[dict]) -> str:
        return f"the median of {len(runs)}: " + " / ".join(f"{made['seconds']:.1f}" for made in runs) + " s"

    rows = [(small, f"first drop after the worker started ({layers}; {each(firsts)})", median(firsts)),
            (small, f"worker running ({each(runnings)})", median(runnings))]
    rows += [(items, "worker running", made) for items, made in larger]
    lines = ["| drop | Hallmark: request to live | baseline: version 2 cards, one process | speed-up | target "
             "| within | chain check |", "|---|---:|---:|---:|---:|:---:|:---:|"]
    for items, when, made in rows:
        target, per_card = TARGETS.get(items), made["per_card"]
        lines.append(
            f"| {items:,} items, {when} | {made['seconds']:.1f} s ({items / made['seconds']:,.0f} cards/s; "
            f"all rendered after {made['rendered']:.1f} s) "
            f"| {per_card * items:,.0f} s ({per_card * 1000:.1f} ms a card) "
            f"| {per_card * items / made['seconds']:.1f}x "
            f"| {f'<= {target:.0f} s' if target else '-'} "
            f"| {('YES' if made['seconds'] <= target else 'NO') if target else '-'} "
            f"| {'root and sample OK' if all(m['ok'] for m in firsts + runnings + [made]) else 'MISMATCH'} |")
    lines.append("")
    lines.append("CPU during each Hallmark creation shown: " + "; ".join(
        f"{items:,}: {fmt_cpu(made['cpu'], made['seconds'])}" for items, _, made in rows))
    lines.append(f"Baseline timed over the first {args.baseline:,} serials of each drop (fewer for smaller drops), "
                 f"right after it, and scaled to the edition; it leaves out storing and deploying. Each of "
                 f"{args.rounds} rounds starts a fresh worker. Render processes: one a core. "
                 f"Load average {start_load:.2f} before, {end_load:.2f} after.")
    publish("drops", "\n".join(lines))


if __name__ == "__main__":
    main()
