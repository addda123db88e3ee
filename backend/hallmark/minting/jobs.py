"""Airdrop jobs and single mints: rows become queued mint items, the mint worker sends them.

A job's valid rows are stored on its row in one short transaction (the request is answered at once) and queued
as mint items by the worker, a batch's worth at a time as it signs (`expand`): its first transaction goes out
within milliseconds and the rest are queued while the node mines. Until queued they count in the drop's supply
(`remaining_supply`) and in each wallet's holdings (`unqueued_to`); `pending` and the rows it leaves change in
one transaction, so a crash at any point neither loses nor repeats a row."""
from __future__ import annotations

import csv
import io

from sqlalchemy import func, select, update

from ..db import insert_rows
from ..models import AirdropJob, ChainTx, Drop, MintItem, iso_utc, utcnow
from ..inputs import AddressError, checked_address
from .drops import DropError
from .wake import notify_queue

MAX_ROWS = 100_000
MAX_CELL = 200  # characters: an address has 42; csv's own limit (128 KB) would raise, a 500
# a row not yet queued, in AirdropJob.recipients: its number (6 digits: at most MAX_ROWS + 1), a tab, its checksum
# address, a newline. Fixed width, so the rows from the k-th on are a substring, read without parsing the rest
LINE = 50


def parse_recipients(text: str) -> tuple[list[tuple[int, str]], list[dict]]:
    """CSV text (first column, optional header; LF, CRLF or CR line endings, a BOM, quoted fields) ->
    ([(row, checksum address)], [{row, value, reason}]). Reads at most MAX_ROWS + 1 rows: more is refused anyway."""
    # newline="": csv splits the lines itself, so a bare CR ends a row and a quoted field may hold a line break
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    cells, unreadable = [], []
    for row_no in range(1, MAX_ROWS + 2):
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a cell past csv's field size limit: this row only, the reader goes on
            unreadable.append({"row": row_no, "value": "", "reason": f"not a readable CSV row ({exc})"})
            continue
        cells.append((row_no, row[0] if row else ""))
    good, bad = check_recipients(cells)
    return good, sorted(bad + unreadable, key=lambda b: b["row"])


def check_recipients(cells) -> tuple[list[tuple[int, str]], list[dict]]:
    """[(row, cell)] -> ([(row, checksum address)], [{row, value, reason}]); blank, comment (#) and header rows
    are skipped. Mixed-case addresses must match their checksum: a typo is reported, not minted."""
    good, bad = [], []
    for row_no, cell in cells:
        cell = cell.strip()
        if not cell or cell.startswith("#"):
            continue
        if row_no == 1 and cell.lower() in ("address", "wallet", "recipient"):
            continue
        if len(cell) > MAX_CELL:
            bad.append({"row": row_no, "value": cell[:100], "reason": f"longer than {MAX_CELL} characters"})
            continue
        try:
            address = checked_address(cell)
        except AddressError as exc:
            bad.append({"row": row_no, "value": cell[:100], "reason": str(exc)})
            continue
        if int(address, 16) == 0:
            bad.append({"row": row_no, "value": cell, "reason": "the zero address cannot hold tokens"})
        else:
            good.append((row_no, address))
    return good, bad


def remaining_supply(session, drop: Drop) -> int:
    taken = session.scalar(select(func.count()).select_from(MintItem).where(
        MintItem.drop_id == drop.id, MintItem.status.in_(("queued", "sending", "minted"))))
    return drop.edition_size - taken - unqueued(session, drop.id)


def unqueued(s, drop_id: int) -> int:
    """The drop's airdrop rows not yet queued as mint items."""
    return s.scalar(select(func.coalesce(func.sum(AirdropJob.pending), 0)).where(
        AirdropJob.pending > 0, AirdropJob.drop_id == drop_id))


def _rest():
    """A job's rows not yet queued: the tail of its recipients text."""
    r = AirdropJob.recipients
    return func.substr(r, func.length(r) - AirdropJob.pending * LINE + 1)


def unqueued_to(s, drop_id: int, wallet: str) -> int:
    """How many of the drop's airdrop rows not yet queued go to `wallet` (a checksum address, as stored)."""
    rest = _rest()
    removed = func.length(rest) - func.length(func.replace(rest, wallet, ""))  # the characters of its occurrences
    return s.scalar(select(func.coalesce(func.sum(removed), 0)).where(
        AirdropJob.pending > 0, AirdropJob.drop_id == drop_id)) // len(wallet)


def expand(s, drop_id: int, n: int) -> int:
    """Queue up to `n` of the drop's rows not yet queued, in the caller's transaction; returns how many."""
    picked = next_rows(s, drop_id, n)
    queue_rows(s, drop_id, picked)
    return sum(len(rows) for _, rows in picked)


def next_rows(s, drop_id: int, n: int) -> list[tuple]:
    """Up to `n` of the drop's rows not yet queued, oldest job first: [(job, [(row, address)])], the jobs locked
    (the caller holds the drop's row lock too, as every writer of its supply does)."""
    picked, count = [], 0
    for job in s.execute(select(AirdropJob.id, AirdropJob.pending, AirdropJob.audit_id, AirdropJob.created_at)
                         .where(AirdropJob.pending > 0, AirdropJob.drop_id == drop_id)
                         .order_by(AirdropJob.id).with_for_update()).all():
        if count >= n:
            break
        take = min(job.pending, n - count)
        text = s.scalar(select(func.substr(_rest(), 1, take * LINE)).where(AirdropJob.id == job.id))
        picked.append((job, [(int(text[i:i + 6]), text[i + 7:i + LINE - 1]) for i in range(0, len(text), LINE)]))
        count += take
    return picked


def queue_rows(s, drop_id: int, picked: list[tuple], **values) -> None:
    """Make rows from `next_rows` mint items (queued, unless `values` say otherwise) and take them off their jobs,
    in the caller's transaction: both or neither, so no row is lost or queued twice."""
    for job, rows in picked:
        _insert_items(s, rows, {"drop_id": drop_id, "source": "airdrop", "job_id": job.id, "status": "queued",
                                "audit_id": job.audit_id, "created_at": job.created_at, **values})
        left = job.pending - len(rows)
        s.execute(update(AirdropJob).where(AirdropJob.id == job.id).values(
            pending=left, **({} if left else {"recipients": None})))


def live_drop(session, drop_id: int) -> Drop:
    drop = session.get(Drop, drop_id, with_for_update=True)  # its supply is counted and taken under this lock
    if drop is None:
        raise DropError(f"no drop {drop_id}", 404, "drop_id")
    if drop.status != "live":
        raise DropError(f"drop '{drop.slug}' is {drop.status}, not live yet", 409, "drop_id")
    return drop


def create_job(db, drop_id: int, good: list[tuple[int, str]], bad: list[dict], request_ref: str | None = None,
               audit_id: int | None = None) -> int:
    """Queue a job's rows; a request_ref seen before returns the job that request already created. `audit_id`: the
    audit entry that caused it (an approval's decision)."""
    if not good and not bad:
        raise DropError("no recipients given", 422, "recipients")
    if len(good) + len(bad) > MAX_ROWS:
        raise DropError(f"at most {MAX_ROWS} rows per job", 422, "recipients")
    with db.locked_session() as s:
        if request_ref and (done := s.scalar(select(AirdropJob.id).where(AirdropJob.request_ref == request_ref))):
            return done
        drop = live_drop(s, drop_id)
        remaining = remaining_supply(s, drop)
        if len(good) > remaining:
            raise DropError(f"{len(good)} recipients but only {remaining} items of the drop remain", 409, "recipients")
        now = utcnow()
        job = AirdropJob(drop_id=drop_id, total=len(good) + len(bad), failed=len(bad), started_at=now,
                         request_ref=request_ref, audit_id=audit_id, created_at=now, pending=len(good),
                         recipients="".join([f"{line:06d}\t{address}\n" for line, address in good]) or None)
        s.add(job)
        s.flush()
        # the bad rows are items from the start: the job's failures are read from its items
        common = {"drop_id": drop_id, "source": "airdrop", "job_id": job.id, "status": "failed", "audit_id": audit_id,
                  "created_at": now}
        _insert_items(s, [], common, [{"row_no": b["row"], "recipient": b["value"][:42], "error": b["reason"]}
                                      for b in bad])
        notify_queue(s)
        return job.id


def _insert_items(s, good: list[tuple[int, str]], common: dict, others: list[dict] = ()) -> None:
    """Insert items in bulk, in the session's transaction: (row, address) pairs and `others` ({row_no, recipient,
    error}), all with the values in `common`. On PostgreSQL the pairs go to COPY as one block of text (checksummed
    hex and numbers need no escaping; db.insert_rows' row-by-row write is 7 times slower); `others` (any text), and
    everything on SQLite, through db.insert_rows."""
    rest = [{**common, **other} for other in others]
    if s.get_bind().dialect.name != "postgresql":
        insert_rows(s, MintItem.__table__,
                    [{**common, "row_no": line, "recipient": address, "error": None} for line, address in good] + rest)
        return
    if good:
        columns = list(common)
        fixed = "\t".join("\\N" if common[c] is None else str(common[c]) for c in columns)
        cursor = s.connection().connection.cursor()
        with cursor.copy(f"COPY {MintItem.__tablename__} (row_no, recipient, error, {', '.join(columns)}) "
                         "FROM STDIN") as copy:
            copy.write("".join([f"{line}\t{address}\t\\N\t{fixed}\n" for line, address in good]))
    insert_rows(s, MintItem.__table__, rest)


def queue_single(db, drop_id: int, recipient: str, request_ref: str | None = None, audit_id: int | None = None) -> int:
    """Queue one mint; a request_ref seen before returns the item that request already queued."""
    with db.locked_session() as s:
        if request_ref and (done := s.scalar(select(MintItem.id).where(MintItem.request_ref == request_ref))):
            return done
        drop = live_drop(s, drop_id)
        if remaining_supply(s, drop) < 1:
            raise DropError("the edition is sold out", 409, "drop_id")
        item = MintItem(drop_id=drop_id, recipient=recipient, source="single", request_ref=request_ref,
                        audit_id=audit_id)
        s.add(item)
        s.flush()
        notify_queue(s)
        return item.id


def job_status(db, job_id: int) -> dict | None:
    """A job's progress, from its counters (no count over its items): failures and transactions read by index."""
    with db.session() as s:
        job = s.get(AirdropJob, job_id)
        if job is None:
            return None
        failures = [{"row": r, "address": a, "reason": e} for r, a, e in s.execute(
            select(MintItem.row_no, MintItem.recipient, MintItem.error)
            .where(MintItem.job_id == job_id, MintItem.status == "failed").order_by(MintItem.row_no).limit(1000))
        ] if job.failed else []
        txs = s.execute(select(ChainTx.tx_hash, ChainTx.status, ChainTx.gas_used).where(ChainTx.id.in_(
            select(MintItem.tx_id).where(MintItem.job_id == job_id).distinct())).order_by(ChainTx.nonce)).all()
        finished = job.minted + job.failed == job.total
        ended = job.finished_at
        if finished and ended is None:  # ended without a settled batch (all rows invalid, or sold out at signing)
            ended = s.scalar(select(func.max(MintItem.minted_at)).where(MintItem.job_id == job_id))
    done, failed = job.minted, job.failed
    elapsed = ((ended if finished and ended else utcnow()) - job.started_at).total_seconds()
    return {
        "id": job.id, "drop_id": job.drop_id, "total": job.total, "done": done, "failed": failed,
        "queued": job.total - done - failed,
        "status": "finished" if finished else "running",
        "tokens_per_second": round(done / elapsed, 1) if elapsed > 0 and done else 0.0,
        "failures": failures,
        "transactions": [{"hash": h, "status": st, "gas_used": g} for h, st, g in txs],
        "created_at": iso_utc(job.created_at),
    }
