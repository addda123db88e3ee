"""Claim burst: 500 claims with distinct codes within about 10 seconds through the public HTTP endpoint.

Checks that every claimant ends with exactly one item, reports the gas per claimed item (all claim
transactions' gas / items) beside a lone claim's transaction (the no-coalescing baseline), and the time from
the first claim to the last confirmed item. Prints a Markdown table (also bench/results/claims.md).

    python bench/claims.py [--claims 500] [--spread 10]
"""
from __future__ import annotations

import argparse
import logging
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from eth_account import Account
from sqlalchemy import select
from werkzeug.serving import make_server

from hallmark.api.auth import create_api_key
from hallmark.chain import artifacts
from hallmark.models import ChainTx, Claim, MintItem
from hallmark.testing import LocalStack, free_port, say

TARGET_GAS, TARGET_LONE_SECONDS = 50_000, 2.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=500)
    parser.add_argument("--spread", type=float, default=10.0, help="seconds over which the claims arrive")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    with tempfile.TemporaryDirectory() as tmp, LocalStack(Path(tmp)) as stack:
        port = free_port()
        app = stack.app(PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
        server = make_server("127.0.0.1", port, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{port}"
        client = app.test_client()
        staff = {"Authorization": "Bearer " + create_api_key(app.extensions["hallmark.db"], "bench", "admin")}
        drop = stack.create_drop(client, staff, edition=args.claims + 10)
        codes = client.post(f"/api/drops/{drop['id']}/claim-codes", json={"count": args.claims + 1},
                            headers={**staff, "Idempotency-Key": "codes"}).get_json()["codes"]

        # a lone claim first: how fast, and what one claim costs without company
        lone_wallet = Account.create().address
        started = time.monotonic()
        lone = requests.post(f"{base}/api/claims", json={"code": codes.pop(), "wallet": lone_wallet}).json()
        while (status := requests.get(f"{base}/api/claims/{lone['claim_id']}").json())["status"] != "minted":
            time.sleep(0.02)
        lone_seconds = time.monotonic() - started
        lone_gas = stack.w3.eth.get_transaction_receipt(status["tx_hash"]).gasUsed

        wallets = [Account.create().address for _ in codes]
        say(f"{len(codes)} claims over {args.spread:.0f} s")
        start = time.monotonic()

        def claim(i):
            time.sleep(max(0.0, start + args.spread * i / len(codes) - time.monotonic()))
            reply = requests.post(f"{base}/api/claims", json={"code": codes[i], "wallet": wallets[i]}, timeout=30)
            assert reply.status_code == 202, reply.text
            return reply.json()["claim_id"]

        with ThreadPoolExecutor(32) as pool:
            claim_ids = list(pool.map(claim, range(len(codes))))
        accepted = time.monotonic() - start
        db = app.extensions["hallmark.db"]
        while True:
            with db.session() as s:
                open_items = s.scalar(select(MintItem.id).join(Claim, Claim.item_id == MintItem.id)
                                      .where(Claim.public_id.in_(claim_ids), MintItem.status.in_(("queued", "sending")))
                                      .limit(1))
            if open_items is None:
                break
            time.sleep(0.1)
        finished = time.monotonic() - start
        with db.session() as s:
            txs = s.execute(select(ChainTx.gas_used).where(ChainTx.id.in_(
                select(MintItem.tx_id).join(Claim, Claim.item_id == MintItem.id).where(
                    Claim.public_id.in_(claim_ids))))).scalars().all()
        collection = stack.w3.eth.contract(address=drop["contract_address"],
                                           abi=artifacts.load("HallmarkCollection")["abi"])
        balances = [collection.functions.balanceOf(w).call() for w in wallets]
        app.extensions["hallmark.services"].stop()
        server.shutdown()

    exactly_one = sum(1 for b in balances if b == 1)
    per_item = sum(txs) / len(codes)
    rows = [
        ("claimants ending with exactly one item", f"{exactly_one} / {len(codes)}", "-", "all",
         exactly_one == len(codes)),
        ("gas per claimed item (average)", f"{per_item:,.0f}", f"{lone_gas:,} (a lone claim's tx)",
         f"<= {TARGET_GAS:,}", per_item <= TARGET_GAS),
        ("claim transactions for the burst", f"{len(txs)}", f"{len(codes)} (one per claim)", "-", None),
        ("a lone claim, POST to minted", f"{lone_seconds:.2f} s", "-", f"<= {TARGET_LONE_SECONDS} s",
         lone_seconds <= TARGET_LONE_SECONDS),
        ("burst: claims accepted / all minted", f"{accepted:.1f} s / {finished:.1f} s", "-", "~10 s", None),
    ]
    table = ["| measurement | Hallmark | baseline | target | within |", "|---|---:|---:|---:|:---:|"]
    table += [f"| {a} | {b} | {c} | {d} | {'-' if e is None else 'yes' if e else 'NO'} |" for a, b, c, d, e in rows]
    out = "\n".join(table)
    print(out)
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / "claims.md").write_text(out + "\n")


if __name__ == "__main__":
    main()
