"""Claim burst: 2,000 claims at once through gunicorn with 4 workers (PostgreSQL, every process its own), beside
the same number of single `mint` transactions sent straight to the node.

Starts a throw-away PostgreSQL, a Ganache of its own with the contracts deployed, and `hallmark worker`,
`hallmark indexer` and `hallmark web --workers 4` (gunicorn). Claim codes come from
POST /api/drops/<id>/claim-codes (with an Idempotency-Key); a thread pool then POSTs every claim to /api/claims
at once, each to a distinct fresh wallet and from a client address of its own (X-Forwarded-For, the server
believing one proxy: the per-address claim limit is checked as in production, never reached). Reports the rate
claims were accepted, the time until every item was minted, the gas per item (the mint transactions' receipts:
gas used / items) and any non-2xx answer, and reads the chain back (every claimant exactly one item). Also a lone
claim, POST to minted.

Baseline, in the same run: what one transaction per claim costs even with no backend at all, the same number of
single `mint(to)` transactions, signed beforehand by a separate funded key and sent straight to a fresh collection
on the same Ganache, until the last receipt. Prints a Markdown table (also bench/results/claims.md).

    python bench/claims.py [--claims 2000] [--threads 32]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import func, select

from deck import (CpuMeter, Deck, Direct, client_address, fmt_cpu, ganache_version, load_average, publish,
                  results_table)
from hallmark.config import Config
from hallmark.models import ChainTx, Claim, MintItem
from hallmark.testing import fresh_addresses, say

TARGET_GAS, TARGET_LONE_SECONDS = 50_000, 2.0
WEB_WORKERS = 4
CODES_PER_REQUEST = 10_000


def claim_codes(deck: Deck, drop_id: int, count: int) -> list[str]:
    codes = []
    while len(codes) < count:
        n = min(CODES_PER_REQUEST, count - len(codes))
        reply = deck.post(f"/api/drops/{drop_id}/claim-codes", f"bench-codes-{len(codes)}", json={"count": n})
        if reply.status_code != 201:
            raise RuntimeError(f"claim codes refused: {reply.status_code} {reply.text[:300]}")
        codes += reply.json()["codes"]
    return codes


def lone_claim(deck: Deck, code: str, wallet: str) -> tuple[float, str]:
    """Seconds from POST to minted for a claim without company, and its transaction."""
    started = time.monotonic()
    reply = requests.post(f"{deck.base}/api/claims", json={"code": code, "wallet": wallet}, timeout=60,
                          headers={"X-Forwarded-For": client_address(2**24 - 1)})
    if reply.status_code != 202:
        raise RuntimeError(f"lone claim refused: {reply.status_code} {reply.text[:300]}")
    while (status := requests.get(f"{deck.base}/api/claims/{reply.json()['claim_id']}", timeout=60).json())[
            "status"] != "minted":
        if status["status"] == "failed" or time.monotonic() - started > 60:
            raise RuntimeError(f"lone claim: {status}")
        time.sleep(0.02)
    return time.monotonic() - started, status["tx_hash"]


def burst(deck: Deck, codes: list[str], wallets: list[str], threads: int) -> dict:
    """Every claim POSTed at once by `threads` keep-alive clients; their answers and the time until the last."""
    local = threading.local()

    def claim(i):
        if not hasattr(local, "http"):
            local.http = requests.Session()
        try:
            reply = local.http.post(f"{deck.base}/api/claims", json={"code": codes[i], "wallet": wallets[i]},
                                    headers={"X-Forwarded-For": client_address(i)}, timeout=120)
        except requests.RequestException as exc:
            return None, f"{type(exc).__name__}: {exc}"
        if not 200 <= reply.status_code < 300:
            return reply.status_code, reply.text[:200]
        return reply.status_code, reply.json()["claim_id"]

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        answers = list(pool.map(claim, range(len(codes))))
    accepted = time.monotonic() - started
    bad = [(status, detail) for status, detail in answers if status is None or not 200 <= status < 300]
    return {"started": started, "accepted": accepted, "bad": bad,
            "claim_ids": [detail for status, detail in answers if status is not None and 200 <= status < 300]}


def wait_minted(deck: Deck, claim_ids: list[str], timeout: float = 600) -> dict[str, int]:
    """Block until none of the claims' items is queued or sending; their items' statuses."""
    deadline = time.monotonic() + timeout
    item_ids = select(Claim.item_id).where(Claim.public_id.in_(claim_ids))
    while True:
        with deck.db.session() as s:
            counts = dict(s.execute(select(MintItem.status, func.count()).where(MintItem.id.in_(item_ids))
                                    .group_by(MintItem.status)).all())
        if not counts.get("queued") and not counts.get("sending"):
            return counts
        if time.monotonic() > deadline:
            raise TimeoutError(f"claims still open after {timeout} s: {counts}\n{deck.logs()}")
        time.sleep(0.05)


def claim_transactions(deck: Deck, claim_ids: list[str]) -> list[str]:
    with deck.db.session() as s:
        return list(s.scalars(select(ChainTx.tx_hash).where(ChainTx.id.in_(
            select(MintItem.tx_id).join(Claim, Claim.item_id == MintItem.id)
            .where(Claim.public_id.in_(claim_ids)))).order_by(ChainTx.nonce)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=32, help="concurrent HTTP clients")
    args = parser.parse_args()
    n = args.claims
    window = Config().CLAIM_WINDOW_SECONDS

    start_load = load_average()
    with tempfile.TemporaryDirectory(prefix="hallmark-bench-") as tmp, Deck(Path(tmp)) as deck:
        stack = deck.stack
        say(f"ganache at {stack.chain.url}; PostgreSQL at {deck.database_url}")
        direct = Direct(stack)
        drop = stack.live_drop(n + 1, slug="bench-claims")
        deck.start(web_workers=WEB_WORKERS)
        say(f"worker, indexer and gunicorn ({WEB_WORKERS} workers) at {deck.base}")
        codes = claim_codes(deck, drop["id"], n + 1)

        lone_wallet = fresh_addresses(b"bench-lone-claim", 1)[0]
        lone_seconds, lone_tx = lone_claim(deck, codes.pop(), lone_wallet)
        lone_gas = stack.w3.eth.get_transaction_receipt(lone_tx).gasUsed
        say(f"a lone claim: minted {lone_seconds:.2f} s after its POST, {lone_gas:,} gas")

        wallets = fresh_addresses(b"bench-claim", n)
        say(f"burst: {n:,} claims from {args.threads} threads")
        meter = CpuMeter({"Ganache": stack.chain.process.pid, **deck.pids()})
        meter.start()
        result = burst(deck, codes, wallets, args.threads)
        cpu_accepting = meter.stop()
        say(f"  answered in {result['accepted']:.1f} s; {len(result['bad'])} not 2xx")
        counts = wait_minted(deck, result["claim_ids"])
        minted_after = time.monotonic() - result["started"]
        say(f"  all minted {minted_after:.1f} s after the first POST: {counts}")
        txs = claim_transactions(deck, result["claim_ids"])
        receipts = [stack.w3.eth.get_transaction_receipt(h) for h in txs]
        gas = sum(r.gasUsed for r in receipts)
        with deck.db.session() as s:  # the sender's own record of the same transactions
            recorded = s.scalar(select(func.sum(ChainTx.gas_used)).where(ChainTx.tx_hash.in_(txs)))
        minted = stack.mints(drop["contract_address"])
        once = sum(1 for w in wallets if minted.get(w) == 1)
        extra = sum(minted.values()) - n - 1  # anything beyond the burst and the lone claim

        deck.wait_indexed(drop["contract_address"], n + 1)  # the processes idle again before the baseline
        say(f"baseline: {n:,} single mint transactions straight to Ganache")
        base_wallets = fresh_addresses(b"bench-claim-direct", n)
        coll = direct.collection("single-mints", n)
        base = direct.send(direct.mints(coll, base_wallets), in_flight=64)
        base_minted = stack.mints(coll.address)
        base_once = sum(1 for w in base_wallets if base_minted.get(w) == 1)
        say(f"  {base['seconds']:.1f} s, {base['gas'] / n:,.0f} gas per item")
        for p in deck.procs.running:
            if not p.alive():
                raise RuntimeError(f"{p.kind} died:\n{p.output()[-3000:]}")
        postgres = deck.cluster.bin.parent.name

    per_item = gas / n
    rows = [
        (f"{n:,} claims accepted (claims/s, all answered)", f"{n / result['accepted']:,.0f}/s "
         f"({result['accepted']:.1f} s)", "-", "-", None),
        ("non-2xx answers (and failed requests)", f"{len(result['bad'])}", "-", "0", not result["bad"]),
        ("from the first claim until every item minted", f"{minted_after:.1f} s", f"{base['seconds']:.1f} s",
         "-", None),
        ("claimants ending with exactly one item (read from the chain)", f"{once:,} / {n:,}",
         f"{base_once:,} / {n:,}", "all", once == n and extra == 0 and base_once == n),
        ("gas per item (mint transactions' gas used / items)", f"{per_item:,.0f}", f"{base['gas'] / n:,.0f}",
         f"≤ {TARGET_GAS:,}", per_item <= TARGET_GAS),
        ("mint transactions", f"{len(txs)}", f"{base['transactions']:,}", "-", None),
        ("CPU time while the claims were being accepted", fmt_cpu(cpu_accepting, result["accepted"]), "-", "-",
         None),
        ("a lone claim, POST to minted", f"{lone_seconds:.2f} s ({lone_gas:,} gas)", "-",
         f"≤ {TARGET_LONE_SECONDS} s", lone_seconds <= TARGET_LONE_SECONDS),
    ]
    lines = [
        f"Measured on {ganache_version()} (instamine) on this machine ({os.cpu_count()} CPUs), PostgreSQL {postgres}, "
        f"every process its own: `hallmark worker`, `hallmark indexer`, `hallmark web --workers {WEB_WORKERS}` "
        f"(gunicorn, 4 threads each); claim window {window:g} s; {args.threads} client threads on the same machine. "
        f"Machine load average (1 min) at the start and the end: {start_load:.1f} / {load_average():.1f}.",
        "",
        *results_table("Hallmark", "baseline: one `mint` transaction per claim, straight to Ganache", rows),
    ]
    lines += [
        "",
        f"Baseline: {n:,} single `mint(to)` transactions to distinct fresh wallets, signed beforehand by a separate "
        f"funded key (fixed gas and fee cap) and sent to a fresh collection of the same implementation on the same "
        f"Ganache, up to 64 unconfirmed at a time, until the last receipt: the floor for one transaction per claim "
        f"with no HTTP, database or signing cost at all. Measured right after the burst, with the processes idle. "
        f"Gas per item from the chain's receipts (the sender's ChainTx rows agree: {recorded or 0:,} in all).",
    ]
    if result["bad"]:
        lines.append(f"First refusals: {result['bad'][:3]}")
    publish("claims", "\n".join(lines))


if __name__ == "__main__":
    main()
