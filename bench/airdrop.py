"""Airdrop throughput: 1,000 distinct recipients through the HTTP API until every token is confirmed, beside a
naive brownie loop of one mint transaction per token (and the same loop in web3.py), in the same run and chain.

Starts its own Ganache on an unused port, deploys the contracts with a fresh funded issuer key into a temporary
data folder, serves the real backend (mint worker, indexer and all) over a real HTTP server in a thread, and
prints a Markdown table (also written to bench/results/airdrop.md). Registers nothing globally: no brownie
networks, no files outside a temporary folder and bench/results.

    python bench/airdrop.py [--recipients 1000] [--runs 2] [--naive 200]

Each run airdrops to fresh addresses, then sends the same batches straight to the node without the backend
(the node's own ceiling on this machine, measured right after, so both see the same conditions). The table
gives the median run; every run is listed under it.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from eth_account import Account
from eth_utils import keccak
from web3 import Web3
from werkzeug.serving import make_server

from hallmark import devchain
from hallmark.api.auth import create_api_key
from hallmark.chain import artifacts
from hallmark.config import ROOT, Config
from hallmark.testing import LocalStack, fresh_addresses, say

NETWORK = "bench-airdrop"
TARGET_RATE, TARGET_SPEEDUP = 250, 10


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), to show how much of a run the node itself used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def naive_loop(url: str, minter, collection_address: str, n: int) -> dict:
    """What a first script does: for each token, build the transaction (web3 estimates gas and looks up fees),
    sign it locally, send it, wait for its receipt; then the next."""
    w3 = Web3(Web3.HTTPProvider(url))
    coll = w3.eth.contract(address=collection_address, abi=artifacts.load("HallmarkCollection")["abi"])
    nonce = w3.eth.get_transaction_count(minter.address)
    gas = []
    started = time.perf_counter()
    for to in fresh_addresses(b"bench-naive", n):
        tx = coll.functions.mint(to).build_transaction({"from": minter.address, "nonce": nonce})
        receipt = w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(minter.sign_transaction(tx).raw_transaction))
        if receipt.status != 1:
            raise RuntimeError("naive mint reverted")
        gas.append(receipt.gasUsed)
        nonce += 1
    elapsed = time.perf_counter() - started
    assert coll.functions.totalMinted().call() == n
    return {"n": n, "seconds": elapsed, "rate": n / elapsed, "gas_per_token": statistics.mean(gas)}


def brownie_loop(url: str, minter, collection_address: str, n: int, workdir: Path) -> dict:
    """The naive brownie loop: `collection.mint(to, {"from": account})` per token, each waiting for its
    confirmation. Runs in a child process (brownie keeps global state) that connects brownie to this run's chain
    through an in-memory network entry: nothing is registered in ~/.brownie."""
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--brownie-loop", url, collection_address, str(n)],
        env={**os.environ, "BENCH_BROWNIE_KEY": Web3.to_hex(minter.key)}, cwd=workdir,
        capture_output=True, text=True, timeout=3600)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"brownie loop failed: {(proc.stderr.strip().splitlines() or ['no output'])[-1]}")
    return json.loads(lines[-1])


def _brownie_loop_child(url: str, collection_address: str, n: str) -> None:
    from urllib.parse import urlparse

    from brownie import Contract, accounts, network
    from brownie._config import CONFIG

    host = urlparse(url)
    CONFIG.networks["hallmark-bench"] = {
        "id": "hallmark-bench", "name": "hallmark-bench", "cmd": "ganache",
        "host": f"{host.scheme}://{host.hostname}", "cmd_settings": {"port": host.port},
    }
    CONFIG.settings["networks"]["development"]["gas_price"] = "auto"  # as brownie-config.yaml sets for hallmark nets
    network.connect("hallmark-bench")  # attaches to the running chain
    account = accounts.add(os.environ["BENCH_BROWNIE_KEY"])
    coll = Contract.from_abi("HallmarkCollection", collection_address, artifacts.load("HallmarkCollection")["abi"])
    gas = []
    started = time.perf_counter()
    for to in fresh_addresses(b"bench-brownie", int(n)):
        gas.append(coll.mint(to, {"from": account}).gas_used)
    elapsed = time.perf_counter() - started
    print(json.dumps({"n": int(n), "seconds": elapsed, "rate": int(n) / elapsed,
                      "gas_per_token": statistics.mean(gas)}))


def hallmark_airdrop(api: str, headers: dict, drop_id: int, recipients: list[str], poll: float,
                     node_pid: int) -> dict:
    """POST the recipients to the API, then poll the job until every token is confirmed."""
    http = requests.Session()
    n, node_cpu = len(recipients), cpu_seconds(node_pid)
    started = time.perf_counter()
    reply = http.post(f"{api}/api/drops/{drop_id}/airdrops", json={"recipients": recipients},
                      headers={**headers, "Idempotency-Key": f"bench-{time.time_ns()}"})
    accepted = time.perf_counter() - started
    if reply.status_code != 202:
        raise RuntimeError(f"airdrop refused: {reply.status_code} {reply.text}")
    job_id = reply.json()["id"]
    while True:
        job = http.get(f"{api}/api/jobs/{job_id}", headers=headers).json()
        if job["done"] + job["failed"] >= n:
            break
        time.sleep(poll)
    elapsed = time.perf_counter() - started
    if job["failed"]:
        raise RuntimeError(f"{job['failed']} tokens failed: {job['failures'][:3]}")
    node = cpu_seconds(node_pid)
    return {"n": n, "seconds": elapsed, "rate": n / elapsed, "accepted": accepted,
            "gas_per_token": sum(t["gas_used"] or 0 for t in job["transactions"]) / n,
            "transactions": len(job["transactions"]), "node_cpu": None if node is None else node - node_cpu}


def direct_batches(url: str, minter, collection_address: str, recipients: list[str], batch: int,
                   node_pid: int) -> dict:
    """The node's own ceiling: the same batched `airdrop` transactions sent straight to it, no backend (signed
    beforehand with fixed gas and fees; receipts read raw)."""
    w3 = Web3(Web3.HTTPProvider(url))
    coll = w3.eth.contract(address=collection_address, abi=artifacts.load("HallmarkCollection")["abi"])
    nonce, chain_id = w3.eth.get_transaction_count(minter.address), w3.eth.chain_id
    fee = 2 * w3.eth.get_block("latest")["baseFeePerGas"] + 10**9
    raws = []
    for i in range(0, len(recipients), batch):
        part = recipients[i:i + batch]
        tx = coll.functions.airdrop(part).build_transaction({
            "from": minter.address, "nonce": nonce, "gas": 150_000 + 56_000 * len(part), "chainId": chain_id,
            "maxFeePerGas": fee, "maxPriorityFeePerGas": 10**9})
        raws.append(minter.sign_transaction(tx).raw_transaction)
        nonce += 1
    node_cpu = cpu_seconds(node_pid)
    started = time.perf_counter()
    for raw in raws:
        tx_hash = Web3.to_hex(w3.eth.send_raw_transaction(raw))
        while (receipt := devchain.rpc(url, "eth_getTransactionReceipt", [tx_hash])) is None:
            time.sleep(0.005)
        if receipt["status"] != "0x1":
            raise RuntimeError("direct airdrop reverted")
    elapsed = time.perf_counter() - started
    node = cpu_seconds(node_pid)
    return {"n": len(recipients), "seconds": elapsed, "rate": len(recipients) / elapsed,
            "node_cpu": None if node is None else node - node_cpu}


def median_run(runs: list[tuple[dict, dict]]) -> tuple[dict, dict]:
    ordered = sorted(runs, key=lambda r: r[0]["rate"])
    return ordered[(len(ordered) - 1) // 2]  # the lower middle one when even: never flatters


def table(brownie: dict, web3_loop: dict, runs: list[tuple[dict, dict]], batch: int) -> str:
    ours, direct = median_run(runs)
    n, speedup = ours["n"], ours["rate"] / brownie["rate"]
    cpu = "n/a" if ours["node_cpu"] is None else f"{ours['node_cpu']:.2f} s of {ours['seconds']:.2f} s"
    rows = [
        (f"{n:,} recipients via the HTTP API until all confirmed (tokens/s)", f"{ours['rate']:,.0f}",
         f"{brownie['rate']:,.1f}", f"≥ {TARGET_RATE}", ours["rate"] >= TARGET_RATE),
        ("speed-up over the naive brownie loop", f"{speedup:,.1f}×", "1×", f"≥ {TARGET_SPEEDUP}×",
         speedup >= TARGET_SPEEDUP),
        (f"speed-up over a naive web3.py loop ({web3_loop['rate']:,.1f} tokens/s)",
         f"{ours['rate'] / web3_loop['rate']:,.1f}×", "-", "-", None),
        (f"wall time for {n:,} tokens (s)", f"{ours['seconds']:.2f}",
         f"{n / brownie['rate']:.1f} (projected from {brownie['n']})", "-", None),
        ("transactions", f"{ours['transactions']} (batches of {batch})", f"{n:,} (projected)", "-", None),
        ("gas per token", f"{ours['gas_per_token']:,.0f}", f"{brownie['gas_per_token']:,.0f}", "-", None),
        ("Ganache CPU time during the run", cpu, "-", "-", None),
        (f"reference: the same {ours['transactions']} batches sent straight to Ganache, no backend (tokens/s)",
         f"{direct['rate']:,.0f}", "-", "-", None),
    ]
    lines = ["| measurement | Hallmark | naive brownie loop | target | within |", "|---|---:|---:|---:|:---:|"]
    for name, ours_v, base_v, target, ok in rows:
        lines.append(f"| {name} | {ours_v} | {base_v} | {target} | {'-' if ok is None else ('yes' if ok else 'NO')} |")
    lines += [
        "",
        f"Naive brownie loop: `collection.mint(to, {{'from': account}})` per token, each waiting for its confirmation "
        f"(brownie 1.22, local signing, gas price auto). Naive web3.py loop: build (gas estimate, fee lookup), sign "
        f"locally, send, wait for the receipt. Both loops' rates are measured on {brownie['n']} tokens, enough for "
        f"a steady rate; their 1,000-token figures are projected.",
        "Runs (Hallmark / straight to Ganache, tokens/s): "
        + "; ".join(f"{o['rate']:,.0f} / {d['rate']:,.0f}" for o, d in runs)
        + ". The table shows the median run (the lower middle one of an even count).",
    ]
    return "\n".join(lines)


def ganache_version() -> str:
    out = subprocess.run([devchain.node_bin("ganache"), "--version"], capture_output=True, text=True, timeout=30).stdout
    return out.split("(")[0].strip() or "ganache"


def main():
    if sys.argv[1:2] == ["--brownie-loop"]:
        return _brownie_loop_child(*sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=2, help="airdrops of --recipients each (median reported)")
    parser.add_argument("--naive", type=int, default=200, help="tokens each naive loop mints, one by one")
    parser.add_argument("--edition", type=int, default=2000, help="edition size of the benchmark drop")
    parser.add_argument("--batch", type=int, default=Config().MINT_BATCH_SIZE, help="mint worker batch size")
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between job polls")
    args = parser.parse_args()
    if args.edition < args.runs * args.recipients:
        parser.error(f"--edition must be at least --runs × --recipients ({args.runs * args.recipients})")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="hallmark-bench-") as tmp, LocalStack(Path(tmp) / "data") as stack:
        chain, server, app = stack.chain, None, None
        try:
            say(f"ganache at {chain.url}; data in {stack.data}")
            minter = Account.create()  # the baselines' own key: the issuer's nonces are the backend's
            stack.w3.eth.wait_for_transaction_receipt(devchain.fund(chain.url, minter.address, 10_000))
            registry = stack.w3.eth.contract(address=stack.record.registry,
                                             abi=artifacts.load("HallmarkRegistry")["abi"])
            # the baselines' collections: the same contracts, minted by `minter`
            baseline = {}
            supplies = {"brownie": args.naive, "web3": args.naive, "direct": args.runs * args.recipients}
            for name, supply in supplies.items():
                salt = keccak(text=f"bench-{name}")
                stack.w3.eth.wait_for_transaction_receipt(registry.functions.createCollection(
                    (name, name.upper(), "", supply, 0, 0, stack.issuer.address, 0, b"\x11" * 32,
                     stack.issuer.address, minter.address), salt).transact({"from": stack.issuer.address}))
                baseline[name] = registry.functions.predictCollectionAddress(salt).call()

            app = stack.app(MINT_BATCH_SIZE=args.batch, CONFIRMATIONS=0)
            if "hallmark.services" not in app.extensions:
                raise RuntimeError(app.extensions.get("hallmark.services_error"))
            server = make_server("127.0.0.1", 0, app, threaded=True)
            threading.Thread(target=server.serve_forever, name="bench-http", daemon=True).start()
            api = f"http://127.0.0.1:{server.server_port}"
            headers = {"Authorization": "Bearer " + create_api_key(app.extensions["hallmark.db"], "bench", "marketing")}

            say(f"backend at {api}; creating a drop of {args.edition} through the API (renders every item first)")
            body = {"slug": "bench-airdrop", "name": "Bench", "symbol": "BENCH", "edition_size": args.edition}
            reply = requests.post(f"{api}/api/drops", json=body, headers={**headers, "Idempotency-Key": "bench-drop"})
            reply.raise_for_status()
            drop = reply.json()
            while drop["status"] in ("rendering", "deploying"):
                time.sleep(2)
                drop = requests.get(f"{api}/api/drops/{drop['id']}", headers=headers).json()
                say(f"  drop {drop['status']}: {drop['rendered']}/{args.edition} rendered")
            if drop["status"] != "live":
                raise RuntimeError(f"drop {drop['status']}: {drop.get('error')}")

            say(f"naive loops: {args.naive} mint transactions each, one at a time")
            brownie = brownie_loop(chain.url, minter, baseline["brownie"], args.naive, Path(tmp))
            say(f"  brownie {brownie['rate']:.1f} tokens/s")
            web3_loop = naive_loop(chain.url, minter, baseline["web3"], args.naive)
            say(f"  web3.py {web3_loop['rate']:.1f} tokens/s")

            coll = stack.w3.eth.contract(address=drop["contract_address"],
                                         abi=artifacts.load("HallmarkCollection")["abi"])
            runs = []
            for run in range(args.runs):
                recipients = fresh_addresses(b"bench-airdrop" + run.to_bytes(2, "big"), args.recipients)
                ours = hallmark_airdrop(api, headers, drop["id"], recipients, args.poll, chain.process.pid)
                direct = direct_batches(chain.url, minter, baseline["direct"],
                                        fresh_addresses(b"bench-direct" + run.to_bytes(2, "big"), args.recipients),
                                        args.batch, chain.process.pid)
                say(f"run {run + 1}: Hallmark {ours['rate']:.0f} tokens/s ({ours['seconds']:.2f} s, 202 after "
                    f"{ours['accepted'] * 1000:.0f} ms); straight to Ganache {direct['rate']:.0f} tokens/s")
                assert all(coll.functions.balanceOf(r).call() == 1 for r in recipients), "a recipient lacks a token"
                runs.append((ours, direct))
            assert coll.functions.totalMinted().call() == args.runs * args.recipients
        finally:
            if server is not None:
                server.shutdown()
            if app is not None and "hallmark.services" in app.extensions:
                app.extensions["hallmark.services"].stop()

    out = (f"Measured on {ganache_version()} (instamine, 30M block gas limit) on this machine "
           f"({os.cpu_count()} CPUs), the backend in-process behind a threaded werkzeug HTTP server, SQLite, "
           f"mint worker batch size {args.batch}, confirmations 0.\n\n" + table(brownie, web3_loop, runs, args.batch))
    print(out)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "airdrop.md").write_text(out + "\n")


if __name__ == "__main__":
    main()
