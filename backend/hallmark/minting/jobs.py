"""Airdrop jobs and single mints: rows become queued mint items, the mint worker sends them."""
from __future__ import annotations

import csv
import io

from sqlalchemy import func, insert, select

from ..models import AirdropJob, ChainTx, Drop, MintItem, iso_utc, utcnow
from ..inputs import AddressError, checked_address
from .drops import DropError
from .wake import notify_queue

MAX_ROWS = 100_000
MAX_CELL = 200  # characters: an address has 42; csv's own limit (128 KB) would raise, a 500


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
    return drop.edition_size - taken


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
        job = AirdropJob(drop_id=drop_id, total=len(good) + len(bad), failed=len(bad), started_at=utcnow(),
                         request_ref=request_ref, audit_id=audit_id)
        s.add(job)
        s.flush()
        now = utcnow()
        rows = [{"drop_id": drop_id, "recipient": b["value"][:42], "source": "airdrop", "job_id": job.id,
                 "row_no": b["row"], "status": "failed", "error": b["reason"], "audit_id": audit_id,
                 "created_at": now} for b in bad]
        common = {"drop_id": drop_id, "source": "airdrop", "job_id": job.id, "status": "queued", "error": None,
                  "audit_id": audit_id, "created_at": now}
        _insert_items(s, good, common, rows)
        notify_queue(s)
        return job.id


def _insert_items(s, good: list[tuple[int, str]], common: dict, others: list[dict]) -> None:
    """Insert a job's items in bulk, in the session's transaction: `good` (row, address) pairs sharing the values
    in `common`, and `others`, complete rows. On PostgreSQL through COPY: an executemany is one INSERT per row on
    the server (about 2 s for 10,000), and the worker can send nothing before the job commits; the good rows go as
    one block of text (checksummed hex and numbers need no escaping): 8 ms for 10,000, psycopg's write_row 60.
    SQLite's executemany is a C loop already."""
    if s.get_bind().dialect.name != "postgresql":
        rows = [{**common, "row_no": line, "recipient": address} for line, address in good] + others
        if rows:
            s.execute(insert(MintItem.__table__), rows)
        return
    columns = list(common)
    fixed = "\t".join("\\N" if common[c] is None else str(common[c]) for c in columns)
    cursor = s.connection().connection.cursor()
    with cursor.copy(f"COPY {MintItem.__tablename__} (row_no, recipient, {', '.join(columns)}) FROM STDIN") as copy:
        copy.write("".join([f"{line}\t{address}\t{fixed}\n" for line, address in good]))
        for row in others:
            copy.write_row([row["row_no"], row["recipient"]] + [row[c] for c in columns])


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
