"""The audit trail: a hash chain that concurrent appenders never fork, tampering found by `verify` (API and CLI),
the API's filters, CSV and permission, and the worker's system entries on the real chain."""
from __future__ import annotations

import csv
import io
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from hallmark.access import audit
from hallmark.access.models import AuditEntry
from hallmark.api.schemas import DropCreateSchema
from hallmark.db import Database
from hallmark.models import ChainTx, Drop
from staffutil import bare_app, code, make_user, sign_in

ALICE = audit.Actor("staff", 7, "alice", "marketing")
HALLMARK = Path(sys.executable).parent / "hallmark"


def database(url: str) -> Database:
    db = Database(url)
    db.upgrade()
    return db


def append(db: Database, n: int, action: str = "drop.create.request", actor=ALICE) -> None:
    for i in range(n):
        with db.session() as s:
            audit.record(s, action, "drop", i, after={"名称": f"福虎 {i}"}, actor=actor)


def assert_one_chain(db: Database, expected: int) -> None:
    with db.session() as s:
        rows = s.execute(select(AuditEntry.seq, AuditEntry.prev_hash, AuditEntry.entry_hash)
                         .order_by(AuditEntry.seq)).all()
        verdict = audit.verify(s)
    assert [r.seq for r in rows] == list(range(1, expected + 1))
    assert all(b.prev_hash == a.entry_hash for a, b in zip(rows, rows[1:]))
    assert rows[0].prev_hash == audit.GENESIS
    assert verdict.ok and verdict.entries == expected and verdict.head == rows[-1].entry_hash


@pytest.fixture
def sqlite_db(tmp_path):
    return database(f"sqlite:///{tmp_path / 'hallmark.db'}")


def test_entries_are_chained_and_verify(sqlite_db):
    append(sqlite_db, 5)
    assert_one_chain(sqlite_db, 5)


def concurrent(db: Database, threads: int, each: int) -> list[BaseException]:
    failures: list[BaseException] = []

    def work():
        try:
            append(db, each)
        except BaseException as exc:  # noqa: BLE001  reported by the test
            failures.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return failures


def test_concurrent_appends_from_threads_never_fork_sqlite(sqlite_db):
    assert concurrent(sqlite_db, threads=6, each=15) == []
    assert_one_chain(sqlite_db, 90)


def test_concurrent_appends_from_several_connections_never_fork_postgres(pg_url):
    databases = [database(pg_url)] + [Database(pg_url) for _ in range(3)]  # separate engines: separate pools
    failures: list[BaseException] = []
    workers = [threading.Thread(target=lambda d=d: failures.extend(concurrent(d, threads=3, each=10)))
               for d in databases]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert failures == []
    assert_one_chain(databases[0], 4 * 3 * 10)


def verdict_after(db: Database, sql: str, head: str | None = None, **params) -> audit.Verdict:
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)
    with db.session() as s:
        return audit.verify(s, head)


def test_an_edited_entry_is_named(sqlite_db):
    append(sqlite_db, 6)
    verdict = verdict_after(sqlite_db, "UPDATE audit_entries SET actor_name = 'mallory' WHERE seq = 4")
    assert not verdict.ok and verdict.seq == 4 and verdict.entries == 3
    assert "entry 4 was altered" in verdict.problem


def test_a_deleted_middle_entry_is_a_gap(sqlite_db):
    append(sqlite_db, 6)
    verdict = verdict_after(sqlite_db, "DELETE FROM audit_entries WHERE seq = 3")
    assert not verdict.ok and verdict.seq == 3 and "entry 3 is missing" in verdict.problem


def test_a_removed_tail_is_caught_against_the_published_head(sqlite_db):
    append(sqlite_db, 6)
    with sqlite_db.session() as s:
        head = audit.verify(s).head
    verdict = verdict_after(sqlite_db, "DELETE FROM audit_entries WHERE seq >= 5", head)
    assert not verdict.ok and "published head" in verdict.problem
    with sqlite_db.session() as s:
        assert audit.verify(s).ok  # without the head, a shorter chain looks whole: that is why heads are published


def test_a_forged_entry_is_caught(sqlite_db):
    append(sqlite_db, 4)
    forged = {"seq": 5, "at": "2026-01-01 00:00:00", "kind": "staff", "name": "mallory", "role": "admin",
              "action": "staff.create", "prev": "f" * 64, "hash": "e" * 64}
    verdict = verdict_after(sqlite_db, "INSERT INTO audit_entries (seq, at, actor_kind, actor_name, role, action, "
                            "object_type, object_id, prev_hash, entry_hash) VALUES (:seq, :at, :kind, :name, :role, "
                            ":action, '', '', :prev, :hash)", **forged)
    assert not verdict.ok and verdict.seq == 5 and "does not link" in verdict.problem


def hallmark(data: Path, *args: str) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "HALLMARK_DATA_DIR": str(data)}
    env.pop("HALLMARK_DATABASE_URL", None)
    return subprocess.run([str(HALLMARK), *args], env=env, capture_output=True, text=True, timeout=120)


def test_cli_verify_and_head(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    db = database(f"sqlite:///{data / 'hallmark.db'}")
    append(db, 3)
    head = hallmark(data, "audit", "head")
    assert head.returncode == 0 and len(head.stdout.strip()) == 64
    ok = hallmark(data, "audit", "verify", "--head", head.stdout.strip())
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == f"audit trail intact: 3 entries, head {head.stdout.strip()}"

    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET after = '{}' WHERE seq = 2"))
    broken = hallmark(data, "audit", "verify")
    assert broken.returncode == 1
    assert broken.stdout.strip() == "audit trail broken: entry 2 was altered after it was written"


# ---------------------------------------------------------------------------------------------------- the API


@pytest.fixture
def bare(tmp_path):
    return bare_app(tmp_path)


def seed(app) -> int:
    """Six entries after those already there (signing in is audited too); returns how many came before."""
    db = app.extensions["hallmark.db"]
    with db.session() as s:
        before = s.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) or 0
    append(db, 3)
    append(db, 2, action="drop.live", actor=audit.SYSTEM)
    append(db, 1, action="staff.create", actor=audit.Actor("staff", 1, "root", "admin"))
    return before


def client_as(app, role: str):
    secret = make_user(app, role, role, totp=role == "admin")
    client = app.test_client()
    sign_in(client, role, totp=code(secret) if secret else None)
    return client


@pytest.mark.parametrize("role, status", [("marketing", 403), ("viewer", 403), ("approver", 200), ("admin", 200)])
def test_only_auditors_and_admins_read_the_trail(bare, role, status):
    client = client_as(bare, role)
    seed(bare)
    for url in ("/api/audit", "/api/audit.csv", "/api/audit/verify", "/api/audit/1"):
        assert client.get(url).status_code == status, url
    assert bare.test_client().get("/api/audit").status_code == 401


def test_filters_and_pages(bare):
    client = client_as(bare, "approver")
    n = seed(bare)

    def seqs(query):
        return [e["seq"] - n for e in client.get(f"/api/audit?{query}").get_json()["entries"]]

    page = client.get("/api/audit?limit=2").get_json()
    assert [e["seq"] - n for e in page["entries"]] == [6, 5] and page["next"] == n + 5
    assert seqs(f"limit=2&before={page['next']}") == [4, 3]
    system = client.get("/api/audit?actor=worker").get_json()["entries"]
    assert [(e["seq"] - n, e["actor_kind"], e["action"]) for e in system] == [(5, "system", "drop.live"),
                                                                             (4, "system", "drop.live")]
    assert seqs("action=drop") == [5, 4, 3, 2, 1]
    assert seqs("action=drop.live") == [5, 4]
    assert seqs("object_type=drop&object_id=1") == [5, 2]
    assert seqs("since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z") == []
    assert len(seqs("since=2000-01-01T08:00:00%2B08:00")) == n + 6


@pytest.mark.parametrize("query, field", [("limit=0", "limit"), ("limit=201", "limit"), ("before=x", "before"),
                                          ("since=yesterday", "since"), ("since=2024-01-01T00:00:00", "since"),
                                          ("since=2024-02-01T00:00:00Z&until=2024-01-01T00:00:00Z", "until")])
def test_bad_filters_name_the_field(bare, query, field):
    reply = client_as(bare, "approver").get(f"/api/audit?{query}")
    assert reply.status_code == 422
    assert field in reply.get_json()["errors"]["query"]


def test_csv_export(bare):
    client = client_as(bare, "approver")
    seed(bare)
    reply = client.get("/api/audit.csv?action=drop.create.request")
    assert reply.status_code == 200 and reply.mimetype == "text/csv"
    body = reply.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body[1:])))
    assert len(rows) == 3 and int(rows[2]["seq"]) - int(rows[0]["seq"]) == 2
    assert rows[0]["after"] == '{"名称": "福虎 0"}' and rows[0]["actor_name"] == "alice"
    assert rows[1]["prev_hash"] == rows[0]["entry_hash"] and len(rows[2]["entry_hash"]) == 64


def test_verify_endpoint_reports_the_break(bare):
    client = client_as(bare, "admin")
    n = seed(bare)
    intact = client.get("/api/audit/verify").get_json()
    assert intact["ok"] and intact["problem"] is None and intact["entries"] == n + 6
    db = bare.extensions["hallmark.db"]
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET role = 'admin' WHERE seq = :seq"), {"seq": n + 2})
    broken = client.get("/api/audit/verify").get_json()
    assert broken == {"ok": False, "entries": n + 1, "head": broken["head"], "seq": n + 2,
                      "problem": f"entry {n + 2} was altered after it was written"}
    assert client.get("/api/audit/999").status_code == 404


# ---------------------------------------------------------------------------------------------------- on chain


def wait_for(check, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_system_entries_and_transactions_link_back(app):
    """A drop approved by a checker goes live: the worker records it, its creation transaction carries the
    approval's entry; a pause request's transaction links to its entry too."""
    db, services = app.extensions["hallmark.db"], app.extensions["hallmark.services"]
    checker = audit.Actor("staff", 3, "checker", "approver")
    with db.session() as s:
        approved = audit.record(s, "drop.approve", "approval", 1, actor=checker).id
    data = DropCreateSchema().load({"slug": f"audit-{time.time_ns()}", "name": "审计", "symbol": "AUD",
                                    "edition_size": 3})
    drop_id = services.drops.create({**data, "audit_id": approved}).id

    def entries(action):
        with db.session() as s:
            return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))

    live = wait_for(lambda: entries("drop.live"))
    assert [(e.actor_kind, e.object_id) for e in live] == [("system", str(drop_id))]
    with db.session() as s:
        drop = s.get(Drop, drop_id)
        create_tx = s.get(ChainTx, drop.create_tx_id)
    assert drop.status == "live" and create_tx.audit_id == approved
    sent, mined = entries("chain_tx.sent")[0], entries("chain_tx.mined")[0]
    assert sent.object_id == mined.object_id == str(create_tx.id) and sent.seq < mined.seq < live[0].seq

    with db.session() as s:
        asked = audit.record(s, "pause.approve", "approval", 2, actor=checker).id
    services.drops.request_pause(drop_id, True, audit_id=asked)
    paused = wait_for(lambda: entries("drop.paused"))
    assert [(e.actor_kind, e.after) for e in paused] == [("system", f'{{"paused": true, "request": {asked}}}')]
    with db.session() as s:
        pause_tx = s.scalar(select(ChainTx).where(ChainTx.purpose.like(f"drop:{drop_id}:pause-state:%")))
    assert pause_tx.audit_id == asked

    detail = client_as(app, "approver").get(f"/api/audit/{_seq(db, asked)}").get_json()
    assert [(t["id"], t["via"], t["status"]) for t in detail["transactions"]] == [(pause_tx.id, "chain_tx", "mined")]
    with db.session() as s:
        assert audit.verify(s).ok


def _seq(db: Database, entry_id: int) -> int:
    with db.session() as s:
        return s.get(AuditEntry, entry_id).seq
