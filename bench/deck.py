"""What the process benchmarks share: a deck of real processes and a direct sender for their baselines.

`Deck`: a throw-away PostgreSQL (hallmark.devdb), a Ganache of its own with the contracts deployed
(hallmark.testing.LocalStack), and the real `hallmark worker`, `hallmark indexer` and `hallmark web` (gunicorn)
processes started on them (hallmark.processes), driven over HTTP with a staff API key, as tests/faults does.

`Direct`: the baselines' own funded key, with a registry of its own (the bank's indexer never sees its
collections), signing transactions beforehand and sending them straight to the node, no backend at all.
"""
from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import requests
from eth_account import Account
from eth_utils import keccak
from sqlalchemy import func, select
from web3 import Web3

from hallmark import devchain, devdb
from hallmark.access.keys import create_api_key
from hallmark.access.permissions import KEY_SCOPES
from hallmark.chain import artifacts
from hallmark.db import Database
from hallmark.minting.gas import batch_limit  # the worker's gas limit for a batch
from hallmark.models import IndexedToken
from hallmark.processes import Processes
from hallmark.testing import LocalStack, free_port

MAX_IN_FLIGHT = 4  # the worker's pipelining (MintQueue.max_in_flight)


def ganache_version() -> str:
    out = subprocess.run([devchain.node_bin("ganache"), "--version"], capture_output=True, text=True, timeout=30).stdout
    return out.split("(")[0].strip() or "ganache"


def load_average() -> float:
    """The machine's 1-minute load average: how much else competed for its cores during a run."""
    return os.getloadavg()[0]


def _stat_cpu(pid: int) -> tuple[int, float]:
    """(parent pid, CPU seconds of the process and of its children it has waited for) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> float | None:
    """CPU seconds used by a process and all its descendants (gunicorn's workers, PostgreSQL's backends)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = _stat_cpu(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    if root not in stats:
        return None
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += stats[pid][1]
        todo += children.get(pid, [])
    return total


class CpuMeter:
    """CPU seconds of each named process tree between start() and stop()."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids

    def start(self):
        self.before = {name: tree_cpu(pid) for name, pid in self.pids.items()}

    def stop(self) -> dict[str, float | None]:
        after = {name: tree_cpu(pid) for name, pid in self.pids.items()}
        return {name: None if after[name] is None or self.before[name] is None else after[name] - self.before[name]
                for name in self.pids}


def fmt_cpu(cpu: dict, seconds: float) -> str:
    parts = [f"{name} {value:.1f} s" for name, value in cpu.items() if value is not None]
    return ", ".join(parts) + f" (of {seconds:.1f} s wall, {os.cpu_count()} cores)" if parts else "n/a"


def results_table(ours: str, baseline: str, rows) -> list[str]:
    """Markdown lines of (measurement, ours, baseline, target, within) rows; within None prints '-'."""
    lines = [f"| measurement | {ours} | {baseline} | target | within |", "|---|---:|---:|---:|:---:|"]
    for name, mine, theirs, target, ok in rows:
        lines.append(f"| {name} | {mine} | {theirs} | {target} | {'-' if ok is None else 'yes' if ok else 'NO'} |")
    return lines


def client_address(n: int) -> str:
    """The n-th of 2^24 client addresses, for X-Forwarded-For."""
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


class Deck:
    """PostgreSQL + Ganache + the real processes, stopped (and removed) on exit. `env`: HALLMARK_* settings.

    The web server believes one reverse proxy's X-Forwarded-For (HALLMARK_TRUSTED_PROXIES=1), as behind nginx:
    public requests that carry a client address of their own (client_address) are held to the per-address rate
    limits as in production, without a benchmark whose whole load comes from one machine reaching them.
    `chain_db`: Ganache keeps its chain in that folder (on disk, as a real node does) instead of in memory."""

    def __init__(self, tmp: Path, chain_db: Path | None = None, **env):
        self.tmp, self.env = Path(tmp), {"HALLMARK_TRUSTED_PROXIES": 1, **env}
        self.chain_db = chain_db
        self.cluster = self.stack = self.procs = None

    def __enter__(self) -> "Deck":
        try:
            self.cluster = devdb.start(self.tmp / "postgres")
            self.database_url = self.cluster.create_database("bench")
            self.stack = LocalStack(self.tmp / "data", chain_db=self.chain_db,
                                    database_url=self.database_url).__enter__()
            self.db = Database(self.database_url)
            self.db.upgrade()
            self.staff = {"Authorization": "Bearer " + create_api_key(self.db, "bench", scopes=KEY_SCOPES)}
            self.procs = Processes(self.stack.env(**self.env), self.tmp / "logs")
            self.http = requests.Session()
            self.web_port = free_port()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.procs is not None:
            self.procs.stop_all()
        if self.stack is not None:
            self.db.engine.dispose()
            self.stack.__exit__(None, None, None)
        if self.cluster is not None:
            self.cluster.stop()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start(self, web_workers: int) -> None:
        """The worker, the indexer and gunicorn with `web_workers` workers; returns once the worker and the
        indexer hold their leases (so no measurement includes their start)."""
        self.procs.spawn("worker")
        self.procs.spawn("indexer")
        self.procs.spawn("web", "--workers", str(web_workers), port=self.web_port)
        deadline = time.monotonic() + 60
        while True:
            processes = self.get("/api/health").json()["processes"]
            if processes["worker"]["alive"] and processes["indexer"]["alive"]:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker/indexer not up: {processes}\n{self.logs()}")
            time.sleep(0.2)

    def pids(self) -> dict[str, int]:
        """The backend's process trees, for CpuMeter: each kind's first process, and the PostgreSQL server."""
        pids = {}
        for p in self.procs.running:
            pids.setdefault(p.kind, p.pid)
        pids["PostgreSQL"] = int((self.cluster.dir / "data" / "postmaster.pid").read_text().split()[0])
        return pids

    def post(self, path: str, key: str | None = None, **kwargs) -> requests.Response:
        headers = {**self.staff, "Idempotency-Key": key or uuid.uuid4().hex}
        return self.http.post(self.base + path, headers=headers, timeout=120, **kwargs)

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base + path, headers=self.staff, timeout=60)

    def logs(self) -> str:
        return "\n".join(f"--- {p.kind} {p.pid}\n{p.output()[-3000:]}" for p in self.procs.running)

    def indexed(self, collection: str) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.count()).select_from(IndexedToken).where(IndexedToken.collection == collection))

    def wait_indexed(self, collection: str, count: int, timeout: float = 300) -> float:
        """Seconds until the indexer holds `count` tokens of `collection`."""
        started, deadline = time.monotonic(), time.monotonic() + timeout
        while self.indexed(collection) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"fewer than {count} tokens indexed after {timeout} s\n{self.logs()}")
            time.sleep(0.1)
        return time.monotonic() - started


class Direct:
    """A separate funded key with a registry of its own, sending presigned transactions straight to the node."""

    def __init__(self, stack: LocalStack, ether: int = 10_000):
        self.url, self.w3 = stack.chain.url, stack.w3
        self.key = Account.create()
        self.w3.eth.wait_for_transaction_receipt(devchain.fund(self.url, self.key.address, ether))
        self.chain_id = self.w3.eth.chain_id
        self.abi = artifacts.load("HallmarkCollection")["abi"]
        data = artifacts.load("HallmarkRegistry")
        factory = self.w3.eth.contract(abi=data["abi"], bytecode=data["bytecode"])
        receipt = self._send_now(factory.constructor(stack.record.implementation, self.key.address,
                                                     "http://127.0.0.1:5000/meta/"), 8_000_000)
        self.registry = self.w3.eth.contract(address=receipt["contractAddress"], abi=data["abi"])

    def _send_now(self, call, gas: int):
        tx = call.build_transaction({"from": self.key.address, "gas": gas, "chainId": self.chain_id,
                                     "nonce": self.w3.eth.get_transaction_count(self.key.address)})
        receipt = self.w3.eth.wait_for_transaction_receipt(
            self.w3.eth.send_raw_transaction(self.key.sign_transaction(tx).raw_transaction))
        if receipt["status"] != 1:
            raise RuntimeError("baseline set-up transaction reverted")
        return receipt

    def collection(self, name: str, supply: int):
        """A fresh collection (same implementation, same configuration as a bench drop) minted by this key."""
        salt = keccak(text=f"bench-direct-{name}-{time.time_ns()}")
        me = self.key.address
        config = (name, "BASE", "", supply, 0, 0, me, 0, b"\x11" * 32, me, me)
        self._send_now(self.registry.functions.createCollection(config, salt), 1_000_000)
        address = self.registry.functions.predictCollectionAddress(salt).call()
        return self.w3.eth.contract(address=address, abi=self.abi)

    def sign(self, calls: list[tuple[object, int]]) -> list[bytes]:
        """Sign (call, gas limit) pairs with consecutive nonces, at a fee cap well above the base fee (full
        blocks raise it 7 % each), so none is priced out while the others run."""
        nonce = self.w3.eth.get_transaction_count(self.key.address)
        fee = 20 * self.w3.eth.get_block("latest")["baseFeePerGas"] + 10**9
        raws = []
        for call, gas in calls:
            tx = call.build_transaction({"from": self.key.address, "nonce": nonce, "gas": gas, "chainId": self.chain_id,
                                         "maxFeePerGas": fee, "maxPriorityFeePerGas": 10**9})
            raws.append(self.key.sign_transaction(tx).raw_transaction)
            nonce += 1
        return raws

    def airdrops(self, coll, batches: list[list[str]]) -> list[bytes]:
        return self.sign([(coll.functions.airdrop(b), batch_limit(len(b))) for b in batches])

    def mints(self, coll, recipients: list[str]) -> list[bytes]:
        return self.sign([(coll.functions.mint(to), 200_000) for to in recipients])

    def send(self, raws: list[bytes], in_flight: int = MAX_IN_FLIGHT) -> dict:
        """Broadcast in nonce order with at most `in_flight` unconfirmed (as the worker does), until the last
        receipt; receipts read raw (web3's formatting of a 500-log receipt costs more than the call)."""
        pending: list[str] = []
        gas = 0
        started = time.perf_counter()

        def settle_oldest():
            nonlocal gas
            tx_hash = pending.pop(0)
            while (receipt := devchain.rpc(self.url, "eth_getTransactionReceipt", [tx_hash], timeout=60)) is None:
                time.sleep(0.005)
            if receipt["status"] != "0x1":
                raise RuntimeError(f"direct transaction {tx_hash} reverted")
            gas += int(receipt["gasUsed"], 16)

        for raw in raws:
            while len(pending) >= in_flight:
                settle_oldest()
            pending.append(devchain.rpc(self.url, "eth_sendRawTransaction", [Web3.to_hex(raw)], timeout=60))
        while pending:
            settle_oldest()
        return {"seconds": time.perf_counter() - started, "transactions": len(raws), "gas": gas}


def chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def publish(name: str, table: str) -> None:
    """Print a benchmark's table and keep it as bench/results/<name>.md."""
    print(table)
    results = Path(__file__).resolve().parent / "results"
    results.mkdir(exist_ok=True)
    (results / f"{name}.md").write_text(table + "\n")


__all__ = ["CpuMeter", "Deck", "Direct", "chunks", "client_address", "fmt_cpu", "ganache_version", "load_average",
           "publish", "results_table", "tree_cpu"]
