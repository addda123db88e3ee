"""Waking the worker when work is committed, instead of at its next idle poll."""
from __future__ import annotations

from sqlalchemy import text

QUEUE_CHANNEL = "hallmark_mint_queue"  # the worker LISTENs on it (run/worker.py)


def notify_queue(s) -> None:
    """Wake the worker as this transaction commits (PostgreSQL: NOTIFY, delivered only on commit; it LISTENs),
    instead of at its next idle poll. SQLite has no such thing: the worker polls."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text(f"NOTIFY {QUEUE_CHANNEL}"))
