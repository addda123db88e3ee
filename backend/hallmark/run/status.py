"""What the background processes say about themselves (their heartbeats) and the queue, for /api/health and the
staff views: alive or dead, active or standby, last progress, problem, queued items and the age of the oldest."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from ..db import Database
from ..models import IndexCursor, MintItem, ProcessBeat, utcnow


def _iso(value) -> str | None:
    return value.isoformat() + "Z" if value else None


def processes(db: Database, dead_after: float, stalled_after: float, head: int | None = None) -> dict:
    now = utcnow()
    with db.session() as s:
        beats = list(s.scalars(select(ProcessBeat).order_by(ProcessBeat.started_at)))
        queued, oldest = s.execute(select(func.count(), func.min(MintItem.created_at))
                                   .where(MintItem.status.in_(("queued", "sending")))).one()
        cursor = s.scalar(select(func.max(IndexCursor.last_block)))
    report = {}
    for kind in ("worker", "indexer"):
        alive = [b for b in beats if b.kind == kind and (now - b.beat_at).total_seconds() <= dead_after]
        active = next((b for b in alive if b.role == "active"), None)
        entry = {"alive": active is not None, "standby": sum(1 for b in alive if b.role != "active"),
                 "last_beat": _iso(active.beat_at) if active else None,
                 "last_progress": _iso(active.progress_at) if active else None,
                 "problem": active.problem if active else None, "stalled": False}
        if active is not None:
            entry["stalled"] = (now - active.progress_at).total_seconds() > stalled_after
        report[kind] = entry
    report["worker"].update(queued_items=queued, oldest_queued_seconds=round((now - oldest).total_seconds(), 1)
                            if oldest else None)
    report["indexer"].update(indexed_block=cursor,
                             blocks_behind=(head - cursor) if head is not None and cursor is not None else None)
    report["ok"] = all(report[k]["alive"] and not report[k]["stalled"] for k in ("worker", "indexer"))
    return report


def worker_problem(db: Database, dead_after: float = 15) -> str | None:
    """The active worker's problem (node unreachable, chain replaced), or that no worker runs: for staff views and
    for refusing new work that could not be sent."""
    with db.session() as s:
        beat = s.scalar(select(ProcessBeat).where(ProcessBeat.kind == "worker", ProcessBeat.role == "active",
                                                  ProcessBeat.beat_at > utcnow() - timedelta(seconds=dead_after)))
    if beat is None:
        return "no worker is running: queued items wait until one starts"
    return beat.problem
