"""Leases and heartbeats in the database: how several processes agree on which one is active.

A lease names one job (the sender of a key on a chain, the indexer of a registry). Its holder renews it every
loop; when the holder dies the lease expires and a standby takes it over within `ttl` seconds. The database is
the referee, so it works across machines on PostgreSQL; the sender adds a second fence (a nonce can be stored
once per key and chain), so even a holder that wakes after losing its lease cannot double a transaction.
"""
from __future__ import annotations

import os
import secrets
import socket
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from ..db import Database
from ..models import Lease, ProcessBeat, utcnow


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class LeaseHeld(Exception):
    """Another live process holds the lease."""


class DbLease:
    def __init__(self, db: Database, name: str, holder: str, ttl: float = 6.0):
        self.db, self.name, self.holder, self.ttl = db, name, holder, ttl

    def acquire(self) -> bool:
        """Take or renew the lease; False while another live holder has it."""
        now = utcnow()
        until = now + timedelta(seconds=self.ttl)
        with self.db.session() as s:
            taken = s.execute(update(Lease).where(
                Lease.name == self.name, or_(Lease.holder == self.holder, Lease.expires_at < now))
                .values(holder=self.holder, expires_at=until)).rowcount
            if taken:
                return True
            if s.get(Lease, self.name) is not None:
                return False
        try:
            with self.db.session() as s:
                s.add(Lease(name=self.name, holder=self.holder, acquired_at=now, expires_at=until))
            return True
        except IntegrityError:  # another process inserted it first
            return False

    def current_holder(self) -> str | None:
        with self.db.session() as s:
            row = s.get(Lease, self.name)
            return row.holder if row is not None and row.expires_at >= utcnow() else None

    def release(self) -> None:
        with self.db.session() as s:
            s.execute(update(Lease).where(Lease.name == self.name, Lease.holder == self.holder)
                      .values(expires_at=utcnow() - timedelta(seconds=1)))


class Heartbeat:
    """This process's row in `process_beats`, written at most once a second."""

    def __init__(self, db: Database, kind: str, holder: str):
        self.db, self.kind, self.holder = db, kind, holder
        self._written = None

    def beat(self, role: str, healthy: bool, problem: str | None) -> None:
        """`healthy`: the last step ran without a problem (progress_at moves on)."""
        now = utcnow()
        if self._written and (now - self._written).total_seconds() < 1:
            return
        with self.db.session() as s:
            row = s.get(ProcessBeat, self.holder)
            if row is None:
                row = ProcessBeat(holder=self.holder, kind=self.kind, pid=os.getpid(), started_at=now,
                                  progress_at=now)
                s.add(row)
            row.role, row.beat_at, row.problem = role, now, problem
            if healthy or role != "active":
                row.progress_at = now
        self._written = now

    def gone(self) -> None:
        with self.db.session() as s:
            row = s.get(ProcessBeat, self.holder)
            if row is not None:
                s.delete(row)
