"""Soak: an airdrop of 100,000 recipients through the HTTP API, read back from the chain, every process's memory
sampled throughout.

Starts a throw-away PostgreSQL, a Ganache of its own with the contracts deployed, and the real processes a bank
runs (`hallmark worker`, `hallmark indexer`, `hallmark web --workers 2` under gunicorn), as bench/airdrop.py does.
Then:

- creates a drop with an edition of `--recipients` items: through the API, rendering every card (`--drop api`,
  timed), or straight through the registry without artwork (`--drop prebuilt`, as bench/airdrop.py does);
- POSTs the recipients to /api/drops/<id>/airdrops (100,000 is the API's cap per request; `--requests` splits
  them) and polls the jobs until every item is confirmed, then waits for the indexer to hold every token;
- samples the memory of every process every `--interval` seconds (bench/memory.py): RSS of the worker, the
  indexer, the gunicorn arbiter and each of its workers and the Ganache node (its chain on disk, as `make run`
  keeps it, or in memory with `--chain memory`), and at warm-up, each mark and the end the node's RSS and V8 heap
  after a full garbage collection; PostgreSQL's heap (anonymous private memory) per process it serves and the
  shared buffer cache (PSS). The baseline is each process idle before the POST; warm-up ends when 10% of the
  tokens are confirmed; growth is the end against warm-up;
- reads the chain back (`Transfer` logs from the zero address, fetched in block ranges): lost recipients (no
  token), doubled ones (more than one) and token ids minted twice; then checks the database (each minted item's
  token id and recipient) and the index (each token's owner) against the chain.

Prints a Markdown table (also bench/results/soak.md). Everything lives in a temporary folder.

    python bench/soak.py [--recipients 100000] [--drop api|prebuilt] [--chain disk|memory] [--requests 1]
                         [--interval 2]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from eth_utils import keccak
from sqlalchemy import select, text

from deck import MAX_IN_FLIGHT, Deck, Direct, chunks, ganache_version, load_average, publish
from hallmark import devchain
from hallmark.config import Config
from hallmark.models import IndexedToken, MintItem
from hallmark.testing import fresh_addresses, say
from memory import AFTER_GC, MB, PG_PARTS, PG_SHARED, AppMemory, MemorySampler, NodeHeap, NodeMemory

TARGET_GROWTH = 0.10  # memory at the end at most 10% above the warm-up's
WARMUP = 0.10  # share of the tokens confirmed before memory is taken as warmed up
WEB_WORKERS = 2
MARKS = (0.25, 0.50, 0.75)  # progress points shown between warm-up and the end
LOG_BLOCKS = 20  # blocks per eth_getLogs call: at most 24,000 Transfer logs per answer
TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
ZERO_TOPIC = "0x" + "00" * 32
CHAIN = {"disk": "the chain on disk (--database.dbPath, as `make run` keeps it)", "memory": "the chain in memory"}
NODE_ALONE = "Ganache, the same batches sent straight to it (baseline: no backend)"


def create_drop(deck: Deck, edition: int, timeout: float) -> dict:
    """A drop through the API, every card rendered, hashed and committed to: polled until live."""
    slug = f"soak-{time.time_ns()}"
    reply = deck.post("/api/drops", json={"slug": slug, "name": "Fuhu Soak", "symbol": "SOAK",
                                         "edition_size": edition})
    if reply.status_code != 202:
        raise RuntimeError(f"drop refused: {reply.status_code} {reply.text[:500]}")
    drop, started, last_said = reply.json(), time.monotonic(), 0.0
    while drop["status"] not in ("live", "failed"):
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"drop not live after {timeout:.0f} s: {drop['rendered']:,} of {edition:,} rendered")
        if time.monotonic() - last_said > 30:
            last_said = time.monotonic()
            say(f"  {drop['status']}: {drop['rendered']:,} of {edition:,} rendered after {last_said - started:.0f} s")
        time.sleep(1)
        drop = deck.get(f"/api/drops/{drop['id']}").json()
    if drop["status"] != "live":
        raise RuntimeError(f"drop failed: {drop}\n{deck.logs()}")
    return {**drop, "seconds": time.monotonic() - started}


def airdrop(deck: Deck, drop_id: int, recipients: list[str], requests_n: int, sampler: MemorySampler,
            poll: float, timeout: float) -> dict:
    """POST the recipients in `requests_n` parts, then poll the jobs until every item is confirmed or failed."""
    n, jobs = len(recipients), []
    started = time.monotonic()
    for part in chunks(recipients, -(-n // requests_n)):
        reply = deck.post(f"/api/drops/{drop_id}/airdrops", json={"recipients": part})
        if reply.status_code != 202:
            raise RuntimeError(f"airdrop refused: {reply.status_code} {reply.text[:500]}")
        jobs.append(reply.json()["id"])
    accepted = time.monotonic() - started
    last_said = 0.0
    while True:
        states = [deck.get(f"/api/jobs/{job}").json() for job in jobs]
        done, failed = sum(j["done"] for j in states), sum(j["failed"] for j in states)
        sampler.progress = done
        if done + failed >= n:
            break
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{done:,} of {n:,} confirmed after {timeout:.0f} s\n{deck.logs()}")
        if time.monotonic() - last_said > 15:
            last_said = time.monotonic()
            say(f"  {done:,} of {n:,} confirmed after {last_said - started:.0f} s")
        time.sleep(poll)
    seconds = time.monotonic() - started
    return {"jobs": jobs, "done": done, "failed": failed, "seconds": seconds, "accepted": accepted,
            "transactions": len({t["hash"] for j in states for t in j["transactions"]})}


def node_baseline(stack, heap: NodeHeap, n: int, batch: int, interval: float) -> tuple:
    """The node alone: the same number and size of airdrop transactions signed by a separate key and sent straight
    to a fresh collection on the same Ganache, at most four unconfirmed at a time, its memory sampled throughout."""
    direct = Direct(stack)
    coll = direct.collection("soak-direct", n)
    batches = chunks(fresh_addresses(b"bench-soak-direct", n), batch)
    raws = direct.airdrops(coll, batches)
    measure = NodeMemory(NODE_ALONE, heap)
    sampler = MemorySampler(measure, interval, checkpoints(n))
    idle = {**measure.rss(), **measure.settled()}
    sampler.start()
    started = time.monotonic()
    for part, sizes in zip(chunks(raws, 2 * MAX_IN_FLIGHT), chunks(batches, 2 * MAX_IN_FLIGHT)):
        direct.send(part)
        sampler.progress += sum(map(len, sizes))
    seconds = time.monotonic() - started
    end = sampler.finish()
    if coll.functions.totalMinted().call() != n:
        raise RuntimeError("the node's own airdrop did not mint every token")
    return sampler, idle, end, seconds


def checkpoints(n: int) -> list[int]:
    """Tokens confirmed at warm-up and at each mark: where the settled figures are taken."""
    return [int(share * n) for share in (WARMUP, *MARKS)]


def chain_mints(url: str, collection: str) -> list[tuple[str, int]]:
    """(recipient, token id) of every Transfer from the zero address, read in block ranges straight over RPC."""
    latest = int(devchain.rpc(url, "eth_blockNumber"), 16)
    mints = []
    for start in range(0, latest + 1, LOG_BLOCKS):
        logs = devchain.rpc(url, "eth_getLogs", [{
            "address": collection, "fromBlock": hex(start), "toBlock": hex(min(start + LOG_BLOCKS - 1, latest)),
            "topics": [TRANSFER, ZERO_TOPIC]}], timeout=300)
        mints += [("0x" + log["topics"][2][-40:], int(log["topics"][3], 16)) for log in logs]
    return mints


def audit(deck: Deck, collection: str, jobs: list[int], recipients: list[str], mints: list[tuple[str, int]]) -> dict:
    """Lost, doubled and stray tokens on chain; the database's and the index's agreement with the chain."""
    wanted = {r.lower() for r in recipients}
    per_holder = Counter(to for to, _ in mints)
    per_token = Counter(token for _, token in mints)
    owner = {token: to for to, token in mints}
    with deck.db.session() as s:
        items = s.execute(select(MintItem.recipient, MintItem.token_id, MintItem.status)
                          .where(MintItem.job_id.in_(jobs))).all()
        indexed = s.execute(select(IndexedToken.token_id, IndexedToken.owner)
                            .where(IndexedToken.collection == collection)).all()
    minted = [(r, t) for r, t, status in items if status == "minted"]
    return {
        "tokens": len(mints),
        "lost": sum(1 for r in wanted if per_holder[r] == 0),
        "doubled": sum(1 for r in wanted if per_holder[r] > 1),
        "ids twice": sum(1 for c in per_token.values() if c > 1),
        "strays": sum(c for to, c in per_holder.items() if to not in wanted),
        "db items": len(items),
        "db minted": len(minted),
        "db agree": sum(1 for r, t in minted if owner.get(t) == r.lower()),
        "db ids distinct": len({t for _, t in minted}),
        "indexed": len(indexed),
        "index agree": sum(1 for t, o in indexed if owner.get(int(t)) == o.lower()),
    }


def memory_rows(sampler: MemorySampler, idle: dict[str, int], end_settled: dict[str, int], n: int,
                shm: int) -> list[tuple]:
    """Per figure: idle, at warm-up, at each mark, at the end, the most seen, growth from warm-up to the end, the
    target and whether it is met. RSS figures are the first sample at or past each point; settled ones (the node
    after a full collection) are taken when the point is first reached. PostgreSQL's shared pages are its buffer
    cache filling with the new rows: held to the fixed size of PostgreSQL's shared memory (`shm`), not to the
    growth target. Judged against the target: the totals, and the node after a full collection; its single RSS
    samples land anywhere on the sawtooth of V8's uncollected garbage, and each part of PostgreSQL is a few MB, so
    those are shown beside them unjudged. Each node's settled figures follow its RSS row."""
    shown_only = {*PG_PARTS.values(), "Ganache", NODE_ALONE}

    def sampled(share):
        return next((m for _, done, m in sampler.samples if done >= share * n), sampler.samples[-1][2])

    def settled(share):
        return sampler.settled.get(int(share * n), end_settled)

    rows = []
    for at, end in ((sampled, sampler.samples[-1][2]), (settled, end_settled)):
        warm = at(WARMUP)
        for name in end:
            if name not in warm or not warm[name]:
                continue  # a web worker that was replaced during the run has no warm-up figure of its own
            mids = [at(s).get(name) for s in MARKS]
            peak = max(v for v in (warm[name], *mids, end[name],
                                   *(m.get(name, 0) for _, _, m in sampler.samples)) if v is not None)
            growth = end[name] / warm[name] - 1
            if name == PG_SHARED:
                target, ok = f"≤ {mb(shm)} (shared_memory_size)", peak <= shm
            elif name in shown_only:
                target, ok = "-", None
            else:
                target, ok = f"≤ +{TARGET_GROWTH:.0%}", round(growth, 3) <= TARGET_GROWTH  # as printed
            row = (name, idle.get(name), warm[name], mids, end[name], peak, growth, target, ok)
            node = name.split(AFTER_GC)[0]
            after = [i for i, r in enumerate(rows) if r[0].startswith(node)] if AFTER_GC in name else []
            rows.insert(after[-1] + 1 if after else len(rows), row)
    return rows


def mb(value: int | None) -> str:
    return "-" if value is None else f"{value / MB:,.0f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--drop", choices=("api", "prebuilt"), default="api",
                        help="api: POST /api/drops, every card rendered (timed); prebuilt: registry only, no art")
    parser.add_argument("--chain", choices=("memory", "disk"), default="disk",
                        help="where Ganache keeps the chain: in memory (its default) or in a folder (--database.dbPath)")
    parser.add_argument("--requests", type=int, default=1, help="airdrop requests the recipients are split into")
    parser.add_argument("--batch", type=int, default=Config().MINT_BATCH_SIZE, help="mint worker batch size")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between memory samples")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between job polls")
    parser.add_argument("--timeout", type=float, default=3600, help="most seconds for the drop and for the airdrop")
    args = parser.parse_args()
    n = args.recipients
    start_load = load_average()

    with tempfile.TemporaryDirectory(prefix="hallmark-soak-") as tmp, \
            Deck(Path(tmp), chain_db=Path(tmp) / "chain" if args.chain == "disk" else None,
                 HALLMARK_MINT_BATCH_SIZE=args.batch, HALLMARK_CONFIRMATIONS=0) as deck:
        stack = deck.stack
        say(f"ganache at {stack.chain.url}; PostgreSQL at {deck.database_url}")
        if args.drop == "prebuilt":
            drop = {**stack.live_drop(n, slug="bench-soak"), "seconds": None}
        deck.start(web_workers=WEB_WORKERS)
        say(f"worker, indexer and gunicorn ({WEB_WORKERS} workers) at {deck.base}")
        if args.drop == "api":
            say(f"creating a drop of {n:,} through the API (rendering every card)")
            drop = create_drop(deck, n, args.timeout)
            say(f"  live after {drop['seconds']:.0f} s ({drop['seconds'] / n * 1000:.1f} ms per item)")
        heap = NodeHeap(stack.chain.process.pid)
        measure = AppMemory(deck, stack.chain.process.pid, heap)
        sampler = MemorySampler(measure, args.interval, checkpoints(n))
        idle = {**measure.rss(), **measure.settled()}
        recipients = fresh_addresses(b"bench-soak", n)
        say(f"airdrop: {n:,} recipients through the HTTP API in {args.requests} request(s)")
        sampler.start()
        ours = airdrop(deck, drop["id"], recipients, args.requests, sampler, args.poll, args.timeout)
        say(f"  {ours['done']:,} confirmed, {ours['failed']:,} failed in {ours['seconds']:.0f} s "
            f"({ours['done'] / ours['seconds']:,.0f} tokens/s)")
        index_lag = deck.wait_indexed(drop["contract_address"], ours["done"], timeout=args.timeout)
        end = sampler.finish()  # the end: every token confirmed and indexed
        say("reading the chain back")
        read_started = time.monotonic()
        mints = chain_mints(stack.chain.url, drop["contract_address"])
        read_seconds = time.monotonic() - read_started
        found = audit(deck, drop["contract_address"], ours["jobs"], recipients, mints)
        for p in deck.procs.running:
            if not p.alive():
                raise RuntimeError(f"{p.kind} died:\n{p.output()[-3000:]}")
        with deck.db.engine.connect() as conn:  # shared buffers and the rest of PostgreSQL's fixed shared memory
            shm = conn.scalar(text("SELECT pg_size_bytes(current_setting('shared_memory_size'))"))
        memory = memory_rows(sampler, idle, end, n, shm)
        say(f"the node's own: {n:,} tokens in the same batches straight to Ganache")
        node_sampler, node_idle, node_end, node_seconds = node_baseline(stack, heap, n, args.batch, args.interval)
        memory += memory_rows(node_sampler, node_idle, node_end, n, shm)
        samples = len(sampler.samples)
        postgres = deck.cluster.bin.parent.name

    rate = ours["done"] / ours["seconds"]
    made = ("prebuilt through the registry, no artwork" if drop["seconds"] is None else
            f"{drop['seconds']:,.0f} s through the API ({drop['seconds'] / n * 1000:.1f} ms per item)")
    rows = [
        ("drop of the same edition created", made, "-", None),
        ("recipients posted", f"{n:,} in {args.requests} request(s), 202 after {ours['accepted']:.1f} s", "-", None),
        ("confirmed (jobs' `done`)", f"{ours['done']:,}", f"{n:,}", ours["done"] == n),
        ("failed (jobs' `failed`)", f"{ours['failed']:,}", "0", ours["failed"] == 0),
        ("tokens minted on chain (Transfer from 0x0)", f"{found['tokens']:,}", f"{n:,}", found["tokens"] == n),
        ("lost: recipients without a token on chain", f"{found['lost']:,}", "0", found["lost"] == 0),
        ("doubled: recipients with more than one token", f"{found['doubled']:,}", "0", found["doubled"] == 0),
        ("token ids minted twice", f"{found['ids twice']:,}", "0", found["ids twice"] == 0),
        ("tokens to addresses not in the list", f"{found['strays']:,}", "0", found["strays"] == 0),
        ("database: minted items whose token id and recipient match the chain",
         f"{found['db agree']:,} of {found['db minted']:,} ({found['db items']:,} items, "
         f"{found['db ids distinct']:,} distinct ids)", f"{n:,}", found["db agree"] == found["db minted"] == n),
        ("index: tokens whose owner matches the chain", f"{found['index agree']:,} of {found['indexed']:,}",
         f"{n:,}", found["index agree"] == found["indexed"] == n),
        ("tokens/s, POST to the last confirmation", f"{rate:,.0f} ({ours['seconds']:,.1f} s, "
         f"{ours['transactions']} transactions)", "-", None),
        ("the node's own rate: the same batches straight to Ganache, after (tokens/s)",
         f"{n / node_seconds:,.0f} ({node_seconds:,.1f} s)", "-", None),
        ("every token indexed, after the last confirmation", f"{index_lag:.1f} s", "-", None),
        ("chain read back (eth_getLogs)", f"{read_seconds:.1f} s", "-", None),
    ]
    lines = [
        f"Measured on {ganache_version()} (instamine, {CHAIN[args.chain]}) on this machine ({os.cpu_count()} CPUs), "
        f"PostgreSQL {postgres}, every process its own: `hallmark worker`, `hallmark indexer`, `hallmark web "
        f"--workers {WEB_WORKERS}` (gunicorn); mint batch size {args.batch}, confirmations 0. Machine load average "
        f"(1 min) at the start and the end: {start_load:.1f} / {load_average():.1f}.",
        "",
        "| measurement | Hallmark (HTTP API, all processes, read from the chain) | target | within |",
        "|---|---:|---:|:---:|",
    ]
    lines += [f"| {name} | {value} | {target} | {'-' if ok is None else ('yes' if ok else 'NO')} |"
              for name, value, target, ok in rows]
    marks = " | ".join(f"at {s:.0%}" for s in MARKS)
    lines += [
        "",
        f"Memory (MB; {samples} samples every {args.interval:g} s; baseline: idle before the POST; warm-up: "
        f"{WARMUP:.0%} of the tokens confirmed; growth: the end against warm-up):",
        "",
        f"| process | idle (baseline) | warm-up ({WARMUP:.0%}) | {marks} | end | max | growth | target | within |",
        "|---|" + "---:|" * (6 + len(MARKS)) + ":---:|",
    ]
    for name, idle_v, warm, mids, end, peak, growth, target, ok in memory:
        lines.append(f"| {name} | {mb(idle_v)} | {mb(warm)} | {' | '.join(mb(v) for v in mids)} | {mb(end)} | "
                     f"{mb(peak)} | {growth:+.1%} | {target} | {'-' if ok is None else ('yes' if ok else 'NO')} |")
    lines += [
        "",
        "RSS of each process (its children with it for the worker, the indexer and Ganache), sampled as it runs: "
        "single samples of the node land anywhere on the sawtooth of V8's uncollected garbage, so the node is "
        "judged after a full garbage collection, forced through Node's inspector when each point is first reached "
        "(the process's RSS, and V8's heap in use plus the external memory its objects hold). PostgreSQL: the heap "
        "of each process (the anonymous private pages it alone holds: caches, plans, sorts; the executable's pages "
        "are left out, counted private or shared as backends come and go), by the process each backend serves "
        "(the app's total is judged), and its shared mappings (PSS: the buffer cache filling with the new rows up "
        "to its fixed size). Baseline rows: after the Hallmark airdrop, the same number and size of "
        f"`airdrop(address[])` transactions signed by a separate key and sent straight to a fresh collection on the "
        f"same Ganache, at most {MAX_IN_FLIGHT} unconfirmed at a time, the node's memory sampled as it went: what "
        "the node itself does with that many more tokens, with no backend.",
    ]
    publish("soak", "\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
