"""The loop every background process runs: hold a lease (or stand by), do one step of work, write a heartbeat.

No exception ends the loop: it is logged, reported in the heartbeat that /api/health reads, and the loop carries
on. Only LeaseHeld does, for a process that must not stand by (a second sender on one SQLite data folder)."""
from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod

from ..chain.node import NodeUnavailable
from ..db import Database
from .leases import DbLease, Heartbeat, LeaseHeld, holder_id

log = logging.getLogger(__name__)


class LeasedLoop(ABC):
    kind = "process"

    def __init__(self, config: dict, db: Database, refuse_second: bool = False):
        self.config, self.db, self.refuse_second = config, db, refuse_second
        self.holder = holder_id()
        self.beat = Heartbeat(db, self.kind, self.holder)
        self.lease: DbLease | None = None
        self.problem: str | None = None
        self.tick = 0.1
        self.idle_tick: float | None = None  # the longest wait while steps find nothing to do (doubling from `tick`)
        self._stop = threading.Event()
        self._wake = threading.Event()  # work arrived: step now rather than at the end of the tick

    @abstractmethod
    def lease_name(self) -> str:
        """The job this process competes for (one active holder at a time)."""

    @abstractmethod
    def step(self) -> bool:
        """One unit of work as the active process; True when it made progress (loop again at once)."""

    def on_stop(self) -> None:
        pass

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        """Run the next step at once (any thread may call it)."""
        self._wake.set()

    def run(self) -> None:
        role, wait = None, self.tick
        try:
            while not self._stop.is_set():
                progressed = healthy = False
                try:
                    role = self._claim(first=role is None)
                    if role == "active":
                        progressed = self.step()
                        healthy = self.problem is None
                except LeaseHeld:
                    raise
                except NodeUnavailable as exc:
                    self.problem = str(exc)
                except Exception as exc:
                    log.exception("%s loop failed", self.kind)
                    self.problem = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                try:
                    self.beat.beat(role or "standby", healthy, self.problem)
                except Exception:
                    log.exception("%s heartbeat failed", self.kind)
                if progressed:
                    wait = self.tick
                else:  # healthy idle steps back off: each costs a few queries, which a long drop render does not need
                    woken = self._wake.wait(wait if role == "active" else 1.0)
                    calm = not woken and self.problem is None  # a problem is looked at again at once
                    wait = min(2 * wait, max(self.tick, self.idle_tick or 0)) if calm else self.tick
                self._wake.clear()
        finally:
            self._shutdown()

    def _claim(self, first: bool) -> str:
        if self.lease is None:
            self.lease = DbLease(self.db, self.lease_name(), self.holder, ttl=self.config.get("LEASE_SECONDS", 6.0))
        if self.lease.acquire():
            return "active"
        if first and self.refuse_second:
            # a holder that died (SIGKILL, power cut) keeps its lease until it expires: a process restarted after a
            # crash waits that out; only a holder that renews it all the while is a second process running
            deadline = time.monotonic() + self.lease.ttl + 1
            while time.monotonic() < deadline and not self._stop.wait(0.25):
                if self.lease.acquire():
                    return "active"
            raise LeaseHeld(f"another {self.kind} ({self.lease.current_holder()}) is already running on this "
                            "SQLite data folder: stop it first")
        return "standby"

    def _shutdown(self) -> None:
        self.on_stop()
        try:
            if self.lease:
                self.lease.release()
            self.beat.gone()
        except Exception:
            log.exception("could not release the %s lease", self.kind)

    def start_thread(self) -> threading.Thread:
        """Run in a daemon thread of this process (the embedded, single-process mode)."""
        def target():
            try:
                self.run()
            except LeaseHeld as exc:
                log.error("%s", exc)

        thread = threading.Thread(target=target, name=f"hallmark-{self.kind}", daemon=True)
        thread.start()
        return thread
