"""Memory of a deck's processes while a benchmark runs (bench/soak.py).

- `MemorySampler`: every `interval` seconds the RSS of every process (`AppMemory`), with the progress beside it;
  at each checkpoint (idle, shares of the work, the end) also a settled figure (`AppMemory.settled`).
- `NodeHeap`: a Node process's memory after a full garbage collection, through Node's inspector (opened on the
  running process with SIGUSR1): V8 collects its old generation only now and then, so a single RSS sample of
  Ganache lands anywhere on a sawtooth of garbage; after a forced full collection what remains is what it holds.
- PostgreSQL: each process's anonymous private memory (its heap: caches, plans, sorts), attributed to the process
  each backend serves (read from the client port in the backend's title). File-backed pages are left out: the
  postgres executable's pages count as "private" to whichever process alone maps them at that instant, so they
  jump by megabytes as backends start and end without any allocation.
"""
from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import psutil
import requests
from websockets.sync.client import connect

MB = 1024 * 1024
INSPECTOR = "http://127.0.0.1:9229/json/list"  # where SIGUSR1 opens a Node process's inspector
PG_KINDS = ("worker", "indexer", "web", "benchmark", "server")
PG_ROW = "PostgreSQL, {} (heap of {})"
PG_WHOSE = {"worker": "the worker's connections", "indexer": "the indexer's connection",
            "web": "the web workers' connections", "benchmark": "this benchmark's own connection",
            "server": "postmaster, checkpointer, writers, autovacuum"}
PG_PARTS = {kind: PG_ROW.format(kind, PG_WHOSE[kind]) for kind in PG_KINDS}
PG_APP = "PostgreSQL, all the app's connections and the server (heap)"
PG_SHARED = "PostgreSQL, shared (PSS of shared mappings: the buffer cache in use)"
CLIENT_PORT = re.compile(r"\((\d+)\)")


class MemorySampler(threading.Thread):
    """Every `interval` seconds: `measure.rss()` ({name: bytes}) with the progress (work done) beside it; when the
    progress first reaches each of `checkpoints` (units of work), `measure.settled()` too, kept in `settled`."""

    def __init__(self, measure, interval: float, checkpoints: list[int]):
        super().__init__(daemon=True)
        self.measure, self.interval, self.progress, self.samples = measure, interval, 0, []
        self.checkpoints, self.settled = sorted(checkpoints), {}
        self.halt = threading.Event()

    def sample(self) -> None:
        done = self.progress
        self.samples.append((time.monotonic(), done, self.measure.rss()))
        reached = [c for c in self.checkpoints if c <= done and c not in self.settled]
        if reached:  # one settled figure for every checkpoint passed since the last sample
            figure = self.measure.settled()
            self.settled.update(dict.fromkeys(reached, figure))

    def run(self) -> None:
        while not self.halt.wait(self.interval):
            self.sample()

    def finish(self) -> dict[str, int]:
        """Stop; the last sample and the settled figure at the end."""
        self.halt.set()
        self.join()
        self.sample()
        return self.measure.settled()


class NodeHeap:
    """Full garbage collections and memory figures of a running Node process, through its inspector (a connection
    for each question: an idle one is dropped while the node is busy)."""

    def __init__(self, pid: int):
        self.pid = pid
        os.kill(pid, signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.url = requests.get(INSPECTOR, timeout=1).json()[0]["webSocketDebuggerUrl"]
                break
            except (requests.RequestException, ValueError, IndexError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"node {pid} opened no inspector at {INSPECTOR}")
                time.sleep(0.1)
        if self._ask("process.pid") != pid:
            raise RuntimeError(f"the inspector at {INSPECTOR} is another Node process's (port taken?)")

    def _ask(self, expression: str, collect: bool = False):
        """`expression`'s value, after a full collection if `collect`."""
        calls = [("HeapProfiler.collectGarbage", {})] if collect else []
        calls.append(("Runtime.evaluate", {"expression": expression, "returnByValue": True}))
        with connect(self.url, max_size=None, open_timeout=30, ping_interval=None) as ws:
            for n, (method, params) in enumerate(calls):
                ws.send(json.dumps({"id": n, "method": method, "params": params}))
                while (reply := json.loads(ws.recv(timeout=120))).get("id") != n:
                    continue  # an event, not our answer
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]["result"]["value"]

    def collected(self) -> dict[str, int]:
        """After a full collection: the process's RSS and V8's heap in use (`process.memoryUsage()`)."""
        usage = self._ask("process.memoryUsage()", collect=True)
        return {"rss": usage["rss"], "heap": usage["heapUsed"], "external": usage["external"]}


class AppMemory:
    """The memory of every process of a deck and of the node, by name: `rss()` sampled as it runs, `settled()`
    (the node after a full collection) at checkpoints."""

    def __init__(self, deck, node_pid: int, node: NodeHeap):
        self.roots = {p.kind: psutil.Process(p.pid) for p in deck.procs.running}
        self.node, self.heap = psutil.Process(node_pid), node
        self.postgres = psutil.Process(deck.pids()["PostgreSQL"])
        self.pg_port = deck.cluster.port
        self.web_names: dict[int, str] = {}  # gunicorn worker pid -> "web worker N", numbered as first seen
        self.serves: dict[int, str] = {}  # backend pid -> the kind of process it serves

    def rss(self) -> dict[str, int]:
        out = {"worker": tree_rss(self.roots["worker"]), "indexer": tree_rss(self.roots["indexer"]),
               "gunicorn arbiter": rss(self.roots["web"]), "Ganache": tree_rss(self.node)}
        for child in sorted(self.roots["web"].children(), key=lambda c: c.pid):
            name = self.web_names.setdefault(child.pid, f"web worker {len(self.web_names) + 1}")
            out[name] = rss(child)
        heaps, shared = dict.fromkeys(PG_KINDS, 0), 0
        for p in [self.postgres, *self.postgres.children()]:
            heap, pss = pg_memory(p.pid)
            heaps[self._serves(p)] += heap
            shared += pss
        out.update({PG_PARTS[kind]: heaps[kind] for kind in PG_KINDS})
        out[PG_APP] = sum(heaps[kind] for kind in PG_KINDS if kind != "benchmark")
        out[PG_SHARED] = shared
        return out

    def settled(self) -> dict[str, int]:
        return node_settled("Ganache", self.heap)

    def _serves(self, backend: psutil.Process) -> str:
        if backend.pid not in self.serves:
            try:
                port = CLIENT_PORT.search(" ".join(backend.cmdline()))
            except psutil.Error:
                return "server"
            if not port:
                return "server"  # no client: the postmaster and its auxiliary processes
            self.serves[backend.pid] = self._client_kind(int(port.group(1)))
        return self.serves[backend.pid]

    def _client_kind(self, port: int) -> str:
        client = next((c.pid for c in psutil.net_connections("tcp")
                       if c.laddr and c.laddr.port == port and c.raddr and c.raddr.port == self.pg_port), None)
        for kind, root in self.roots.items():
            if client is not None and client in {root.pid, *(c.pid for c in root.children(recursive=True))}:
                return kind
        return "benchmark"


class NodeMemory:
    """One Node process alone, as AppMemory measures Ganache, under `name`."""

    def __init__(self, name: str, heap: NodeHeap):
        self.name, self.heap, self.node = name, heap, psutil.Process(heap.pid)

    def rss(self) -> dict[str, int]:
        return {self.name: tree_rss(self.node)}

    def settled(self) -> dict[str, int]:
        return node_settled(self.name, self.heap)


AFTER_GC = ", after a full GC"


def node_settled(name: str, heap: NodeHeap) -> dict[str, int]:
    after = heap.collected()
    return {f"{name}{AFTER_GC} (RSS)": after["rss"],
            f"{name}{AFTER_GC} (V8 heap in use + external)": after["heap"] + after["external"]}


def rss(p: psutil.Process) -> int:
    try:
        return p.memory_info().rss
    except psutil.Error:  # a process that ended between listing and reading
        return 0


def tree_rss(p: psutil.Process) -> int:
    return rss(p) + sum(rss(c) for c in p.children(recursive=True))


def pg_memory(pid: int) -> tuple[int, int]:
    """(heap, shared) bytes of a PostgreSQL process from /proc/<pid>/smaps: the pages of its anonymous private
    mappings that it alone holds (USS of its heap: a page it still shares copy-on-write with the postmaster is the
    postmaster's, so a backend starting or ending moves nothing), and its PSS in shared mappings (the shared
    buffers: summed over processes, each page counted once however many map it). File-backed pages are left out."""
    private = shared = 0
    kind = ""
    try:
        lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
    except OSError:  # a backend that ended between listing and reading
        return 0, 0
    for line in lines:
        head = line.split()
        if len(head) > 1 and "-" in head[0] and len(head[1]) == 4:  # a mapping: range, perms (rw-p), offset, ...
            anonymous = len(head) < 6 or not head[5].startswith("/")
            kind = "shared" if head[1][3] == "s" else "heap" if anonymous else ""
        elif kind == "shared" and head[0] == "Pss:":
            shared += int(head[1]) * 1024
        elif kind == "heap" and head[0] in ("Private_Clean:", "Private_Dirty:"):
            private += int(head[1]) * 1024
    return private, shared
