"""SQLAlchemy 2 engine and sessions, bound to the app as an extension (flaskr's `init_app` style)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask import Flask, current_app
from sqlalchemy import create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    pass


class Database:
    def __init__(self, url: str):
        is_sqlite = url.startswith("sqlite")
        self.engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False} if is_sqlite else {},
            pool_pre_ping=not is_sqlite,
        )
        if is_sqlite:
            @event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(conn, _record):
                # WAL lets the web threads read while a worker writes
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def create_all(self) -> None:
        from . import models  # noqa: F401  (registers the tables)

        Base.metadata.create_all(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on error."""
        with self.sessions() as s:
            try:
                yield s
                s.commit()
            except Exception:
                s.rollback()
                raise


def init_app(app: Flask) -> Database:
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db = Database(url)
    db.create_all()
    app.extensions["hallmark.db"] = db
    return db


def get_db() -> Database:
    return current_app.extensions["hallmark.db"]
