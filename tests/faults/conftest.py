"""Fault tests: real Ganache/Anvil nodes, a real PostgreSQL, the real `hallmark` processes killed with real
signals. Every test reads the outcome back from the chain."""
from __future__ import annotations

import time

import pytest
import requests

from hallmark.access.keys import create_api_key
from hallmark.access.permissions import KEY_SCOPES
from hallmark.db import Database
from hallmark.processes import Processes
from hallmark.testing import LocalStack, free_port


class Deck:
    """A stack, its processes and an HTTP client for one test."""

    def __init__(self, stack: LocalStack, procs: Processes):
        self.stack, self.procs = stack, procs
        self.web_port = free_port()
        db = Database(stack.database_url)
        db.upgrade()
        self.staff = {"Authorization": "Bearer " + create_api_key(db, "faults", scopes=KEY_SCOPES)}
        db.engine.dispose()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def web(self, workers: int = 2):
        return self.procs.spawn("web", "--workers", str(workers), port=self.web_port)

    def post(self, path: str, key: str, **kwargs) -> requests.Response:
        return requests.post(self.base + path, headers={**self.staff, "Idempotency-Key": key}, timeout=60, **kwargs)

    def get(self, path: str) -> requests.Response:
        return requests.get(self.base + path, headers=self.staff, timeout=30)

    def wait_job(self, job_id: int, timeout: float = 240, until=None) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                job = self.get(f"/api/jobs/{job_id}").json()
            except requests.RequestException:
                job = None
            if job and (until(job) if until else job["status"] == "finished"):
                return job
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} did not get there in {timeout} s: {job}\n" + self.logs())

    def logs(self) -> str:
        return "\n".join(f"--- {p.kind} {p.pid}\n{p.output()[-4000:]}" for p in self.procs.running)

    def assert_exactly_once(self, drop: dict, recipients: list[str], job: dict) -> None:
        """Every recipient holds exactly one token of the drop, nobody else got one, and the job says so."""
        minted = self.stack.mints(drop["contract_address"])
        doubled = {a: n for a, n in minted.items() if n > 1}
        missing = [a for a in recipients if minted.get(a, 0) == 0]
        assert not doubled, f"{len(doubled)} recipients got more than one token"
        assert not missing, f"{len(missing)} recipients got no token"
        assert sum(minted.values()) == len(recipients)
        assert (job["done"], job["failed"], job["status"]) == (len(recipients), 0, "finished")


def make_deck(tmp_path, database_url=None, node="ganache", chain_db=True, block_time=0, **env):
    stack = LocalStack(tmp_path / "data", node=node, chain_db=(tmp_path / "chain") if chain_db else None,
                       block_time=block_time, database_url=database_url)
    stack.__enter__()
    defaults = {"HALLMARK_MINT_BATCH_SIZE": 25, "HALLMARK_LEASE_SECONDS": 3, "HALLMARK_HEALTH_DEAD_SECONDS": 6,
                "HALLMARK_HEALTH_STALLED_SECONDS": 20, "HALLMARK_IDEMPOTENCY_LEASE_SECONDS": 3}
    procs = Processes(stack.env(**{**defaults, **env}), tmp_path / "logs")
    return Deck(stack, procs)


@pytest.fixture
def deck_factory(tmp_path):
    made = []

    def make(**kwargs):
        deck = make_deck(tmp_path / f"deck{len(made)}", **kwargs)
        made.append(deck)
        return deck

    yield make
    for deck in made:
        deck.procs.stop_all()
        deck.stack.__exit__(None, None, None)
