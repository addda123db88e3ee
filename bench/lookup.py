"""Read-side benchmark: wallet lookup beside its baseline in the same run.

Wallet lookup for a wallet holding 1,000 items among 1,000,000 indexed tokens, on SQLite and on PostgreSQL: median
time inside the server (the Flask request, from routing to JSON) of one page of 100 and of walking every page by
number and by cursor, beside the same answer computed from the chain alone (Transfer logs to the wallet, then
ownerOf for each candidate). The wallet's items are real (minted and indexed); the other tokens are synthetic index
rows. Verify throughput under the production server: bench/serving.py.

    python bench/lookup.py [--indexed 1000000] [--held 1000] [--no-postgres]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from eth_utils import to_checksum_address
from sqlalchemy import insert, select
from web3 import Web3

from deck import load_average
from hallmark import devdb
from hallmark.access.keys import create_api_key
from hallmark.access.permissions import KEY_SCOPES
from hallmark.chain import artifacts
from hallmark.config import ROOT
from hallmark.indexer.follower import CREATED, TRANSFER
from hallmark.models import Drop, IndexedCollection, IndexedToken
from hallmark.testing import LocalStack, fresh_addresses, say


TARGET_LOOKUP_MS = 5.0


def fill_index(db, indexed: int, already: int, chunk: int = 50_000) -> None:
    """Synthetic index rows up to `indexed` tokens in 20 collections (the real ones stay as indexed), 20 to a
    holder. A million rows in well under a minute: plain tuples through the driver's executemany in chunks of one
    transaction, constants converted once by the column types, holders in key order so the wallet index grows at
    its end (random keys would touch a page of it per row)."""
    n, now = indexed - already, datetime.utcnow()
    collections = fresh_addresses(b"coll", 20)
    holders = sorted(fresh_addresses(b"holder", -(-n // 20)))
    table = IndexedToken.__table__
    columns = ["collection", "token_id", "owner", "minted_block", "minted_tx", "minted_at", "acquired_at",
               "acquired_block", "burned"]
    with db.engine.begin() as conn:
        conn.execute(insert(IndexedCollection.__table__), [
            {"address": c, "name": f"Drop {i}", "symbol": "D", "max_supply": 100_000, "transfer_policy": 0,
             "content_root": "0x" + "00" * 32, "block_number": 1, "tx_hash": "0x" + "00" * 32, "created_at": now,
             "paused": False} for i, c in enumerate(collections)])
        dialect = conn.dialect

        def stored(column: str, value):
            process = table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
            return process(value) if process else value

        at, tx, no = stored("minted_at", now), "0x" + "00" * 32, stored("burned", False)
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
        for start in range(0, n, chunk):
            conn.exec_driver_sql(sql, [
                (collections[i % 20], i // 20 + 1, holders[i // 20], 1 + i // 1000, tx, at, at, 1 + i // 1000, no)
                for i in range(start, min(n, start + chunk))])
    if db.engine.dialect.name == "postgresql":  # what autovacuum does after such a load: statistics, visibility
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM ANALYZE {table.name}")


def copy_real_rows(source, target) -> None:
    """The real drop, its collection and tokens as the SQLite app indexed them, into the PostgreSQL database (the
    chain is the same; the references to that app's transactions and audit entries stay behind)."""
    with source.engine.connect() as src, target.engine.begin() as dst:
        for model in (Drop, IndexedCollection, IndexedToken):
            rows = [dict(row) for row in src.execute(select(model.__table__)).mappings()]
            if model is Drop:
                rows = [{**row, "create_tx_id": None, "pause_audit_id": None, "audit_id": None} for row in rows]
            dst.execute(insert(model.__table__), rows)


def lookup_in_server(app, wallet: str, held: int, runs: int = 200) -> tuple[float, float, float]:
    """Median ms of one page (100 items), of walking every page by number and by cursor, through the Flask app in
    process (the test client: routing, the query, the JSON)."""
    client = app.test_client()

    def get(query: str) -> dict:
        reply = client.get(f"/api/wallets/{wallet}?per_page=100{query}")
        assert reply.status_code == 200 and reply.get_json()["total"] == held
        return reply.get_json()

    def timed(walk) -> float:
        t = time.perf_counter()
        walk()
        return (time.perf_counter() - t) * 1000

    def by_number():
        for n in range(1, -(-held // 100) + 1):
            get(f"&page={n}")

    def by_cursor():
        after = get("")["next"]
        while after:
            after = get(f"&after={after}")["next"]

    for _ in range(20):  # warm-up: the pool's connection, the statement caches
        get("")
    page = statistics.median(timed(lambda: get("")) for _ in range(runs))
    walks = max(5, runs // 20)
    return (page, statistics.median(timed(by_number) for _ in range(walks)),
            statistics.median(timed(by_cursor) for _ in range(walks)))


def lookup_from_chain(w3: Web3, registry: str, wallet: str, held: int, runs: int = 3) -> float:
    """The same holdings from the chain alone: logs of transfers to the wallet, then ownerOf for each."""
    abi = artifacts.load("HallmarkCollection")["abi"]
    wallet_topic = "0x" + "00" * 12 + wallet[2:].lower()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        collections = [to_checksum_address("0x" + e["topics"][1].hex()[-40:]) for e in w3.eth.get_logs(
            {"fromBlock": 0, "toBlock": "latest", "address": registry, "topics": [CREATED]})]
        logs = w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest", "address": collections,
                                "topics": [TRANSFER, None, wallet_topic]})
        found = []
        for entry in logs:
            token_id = int.from_bytes(entry["topics"][3], "big")
            if w3.eth.contract(address=entry["address"], abi=abi).functions.ownerOf(token_id).call() == wallet:
                found.append((entry["address"], token_id))
        assert len(found) == held, len(found)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indexed", type=int, default=1_000_000)
    parser.add_argument("--held", type=int, default=1000)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()

    results, fills = {}, {}
    with tempfile.TemporaryDirectory() as tmp, LocalStack(Path(tmp) / "data") as bench:
        app = bench.app()
        client, staff = app.test_client(), {"Authorization": "Bearer " + create_api_key(
            app.extensions["hallmark.db"], "bench", scopes=KEY_SCOPES)}
        drop = bench.create_drop(client, staff, edition=args.held + 100)
        wallet = fresh_addresses(b"wallet", 1)[0]
        say(f"minting {args.held} items to the wallet and 100 to others")
        bench.airdrop(client, staff, drop, [wallet] * args.held + fresh_addresses(b"other", 100))
        bench.wait_indexed(app, args.held + 100)
        app.extensions["hallmark.services"].stop()
        apps = {"SQLite": app}
        cluster = None if args.no_postgres else devdb.start(Path(tmp) / "postgres")
        try:
            if cluster:
                bench.database_url = cluster.create_database("lookup")  # the app made next stores there
                apps["PostgreSQL"] = bench.app(START_WORKERS=False)
                copy_real_rows(app.extensions["hallmark.db"], apps["PostgreSQL"].extensions["hallmark.db"])
            for name, each in apps.items():
                say(f"{name}: filling the index up to {args.indexed:,} tokens")
                t = time.perf_counter()
                fill_index(each.extensions["hallmark.db"], args.indexed, args.held + 100)
                fills[name] = time.perf_counter() - t
                say(f"{name}: measuring wallet lookups")
                results[name] = lookup_in_server(each, wallet, args.held)
            chain_ms = lookup_from_chain(bench.w3, bench.record.registry, wallet, args.held)
        finally:
            for each in apps.values():
                each.extensions["hallmark.db"].engine.dispose()
            if cluster:
                cluster.stop()

    pages = -(-args.held // 100)
    rows = []
    for name, (page_ms, number_ms, cursor_ms) in results.items():
        rows += [
            (f"{name}: wallet lookup, 1 page of 100 (median, in server)", f"{page_ms:.2f} ms",
             f"{chain_ms:.0f} ms (from chain)", f"<= {TARGET_LOOKUP_MS} ms", page_ms <= TARGET_LOOKUP_MS),
            (f"{name}: all {args.held:,} items, {pages} pages by number (median)", f"{number_ms:.1f} ms",
             f"{chain_ms:.0f} ms (from chain)", "-", None),
            (f"{name}: all {args.held:,} items, {pages} pages by cursor (median)", f"{cursor_ms:.1f} ms",
             f"{chain_ms:.0f} ms (from chain)", "-", None),
        ]
    table = ["| measurement | Hallmark | baseline | target | within |", "|---|---:|---:|---:|:---:|"]
    table += [f"| {a} | {b} | {c} | {d} | {'-' if e is None else 'yes' if e else 'NO'} |" for a, b, c, d, e in rows]
    table.append(f"\n{args.indexed:,} tokens indexed, {args.held:,} held by the wallet; the chain baseline scans a "
                 f"chain holding only the {args.held + 100:,} real tokens. Index filled in "
                 + ", ".join(f"{seconds:.0f} s ({name})" for name, seconds in fills.items())
                 + f". Load average (1 min) at the end: {load_average():.1f} on {os.cpu_count()} cores. "
                 "Verify throughput: bench/results/serving.md.")
    out = "\n".join(table)
    print(out)
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "lookup.md").write_text(out + "\n")


if __name__ == "__main__":
    main()
