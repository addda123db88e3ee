"""SQLAlchemy 2 engine and sessions, bound to the app as an extension (flaskr's `init_app` style).

SQLite (one file, the embedded default) or PostgreSQL (`postgresql+psycopg://...`, to scale out); the schema
comes from the Alembic revisions in `hallmark.migrations`, applied at start by `Database.upgrade()`.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg
from flask import Flask, current_app
from sqlalchemy import Engine, Table, create_engine, event, insert, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    pass


def _sqlite_pragmas(conn, _record) -> None:
    # WAL lets the web processes read while a worker writes
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")


MAX_PREPARED_PARAMS = 100


class _PostgresCursor(psycopg.Cursor):
    """psycopg's cursor, preparing no statement with more than MAX_PREPARED_PARAMS parameters. psycopg prepares a
    statement on its connection once it has run 5 times; a batch's `id IN (...)` of 1,200 parameters then keeps
    about 1.4 MB of parse trees and plans in every connection that ran it (pg_backend_memory_contexts), one such
    statement per batch length seen, while preparing saves little for a statement that size."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        if prepare is None and params is not None and len(params) > MAX_PREPARED_PARAMS:
            prepare = False
        return super().execute(query, params, prepare=prepare, binary=binary)


class Database:
    def __init__(self, url: str):
        is_sqlite = url.startswith("sqlite")
        self.engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False} if is_sqlite else
            {"cursor_factory": _PostgresCursor},
            pool_pre_ping=not is_sqlite,
            # the connection returned last is taken first: a process's steady work keeps reusing the same few
            # connections, and one opened at a peak of its threads stays small instead of each filling its
            # own caches and plans with every statement
            pool_use_lifo=True,
        )
        if is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.is_sqlite = is_sqlite
        # Locked units of work (claims, queue picks, signing) must not interleave. PostgreSQL takes row locks
        # (SELECT ... FOR UPDATE in the callers); SQLite has none, so these sessions start with BEGIN IMMEDIATE,
        # taking the database's one write lock up front instead of failing to upgrade a read lock later.
        self.locked_sessions = self.sessions
        if is_sqlite:
            locking = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False,
                                                       "isolation_level": None})
            event.listen(locking, "connect", _sqlite_pragmas)

            @event.listens_for(locking, "begin")
            def _begin_immediate(conn):
                conn.exec_driver_sql("BEGIN IMMEDIATE")

            self.locked_sessions = sessionmaker(locking, expire_on_commit=False)

    def companion(self) -> "Database":
        """The same database through a pool of its own, for a thread that runs beside this one for the life of
        the process (the broadcaster, the webhook deliverer). Each PostgreSQL connection keeps the catalog
        entries and plans of every statement it has run: threads taking turns on one pool's connections make
        each of them learn every thread's statements, so a process's connections keep growing for long after
        warm-up (the soak measured 8 MB at 10 % of an airdrop, 13 MB at 75 %). One thread's connections stop
        growing once it has run each of its own statements. SQLite keeps no such state per connection."""
        return self if self.is_sqlite else Database(self.engine.url.render_as_string(hide_password=False))

    def upgrade(self) -> None:
        """`alembic upgrade head`, one process at a time; a database made by `create_all` (the versions before
        migrations) is adopted. See `hallmark.migrations`."""
        from . import migrations

        migrations.upgrade(self.engine)

    def session(self):
        """A unit of work: committed on success, rolled back on error."""
        return _unit_of_work(self.sessions)

    def locked_session(self):
        """A unit of work that serialises with every other locked one on the rows it locks (all of them on
        SQLite): for read-check-write sequences such as taking a drop's supply."""
        return _unit_of_work(self.locked_sessions)


@contextmanager
def _unit_of_work(sessions: sessionmaker) -> Iterator[Session]:
    with sessions() as s:
        try:
            yield s
            s.commit()
        except Exception:
            s.rollback()
            raise


def insert_rows(s: Session, table: Table, rows: list[dict]) -> None:
    """Plain rows (each with the same keys) into `table`, in bulk, in the session's transaction: COPY on PostgreSQL,
    where an executemany is one INSERT per row on the server (the indexer's 20,000 rows of a 10,000-token airdrop
    took the server 0.39 s that way), an executemany elsewhere (SQLite's is a C loop). No Python-side defaults."""
    if not rows:
        return
    if s.get_bind().dialect.name != "postgresql":
        s.execute(insert(table), rows)
        return
    columns = list(rows[0])
    with s.connection().connection.cursor().copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def check_schema(engine: Engine) -> list:
    """What differs between the models and this database's schema (alembic's compare_metadata); empty when
    the database is migrated to head and the revisions match the models."""
    from . import migrations

    with engine.connect() as conn:
        return migrations.drift(conn)


def private_sqlite_file(url: str) -> None:
    """An SQLite database file readable by its owner only (0600; SQLite gives its -wal and -shm files the
    same mode), in folders the owner alone can enter (0700) when they are created here. Folders that exist
    already are left as they are (the file could live in /tmp)."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:") \
            or parsed.query.get("mode") == "memory":
        return
    path = Path(name)
    missing = [d for d in (path.parent, *path.parent.parents) if not d.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # another process made it just now
            continue
        folder.chmod(0o700)  # whatever the umask
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


def init_app(app: Flask) -> Database:
    url = app.config["DATABASE_URL"]
    private_sqlite_file(url)
    db = Database(url)
    db.upgrade()
    app.extensions["hallmark.db"] = db
    return db


def get_db() -> Database:
    return current_app.extensions["hallmark.db"]
