"""Schema migrations (Alembic), configured in code: no alembic.ini, so they run from any folder and from an
installed package.

- `upgrade(engine)` brings a database to the newest revision; every process runs it at start (`db.init_app`),
  one at a time: PostgreSQL takes an advisory lock, SQLite a write lock (`BEGIN IMMEDIATE`) on its one file.
  A database made by the versions before migrations (`create_all`: the tables, no `alembic_version`) is
  checked against the first revision and adopted (stamped), not created again.
- `drift(connection)` lists what differs between the models and a database (alembic's `compare_metadata`).
- `new_revision(message)` autogenerates the next revision (`scripts/dev/new_migration.py "message"`).

`python -m hallmark.migrations check|upgrade|current|revision` gives the same from a shell.
"""
from __future__ import annotations

import logging
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, inspect, text

HERE = Path(__file__).resolve().parent
BASELINE = "0001"  # the schema `create_all` made before migrations existed
# pg_advisory_lock key of the migration step (any bigint; the same in every Hallmark process)
PG_LOCK_KEY = 0x4A11_3A2C_0001

log = logging.getLogger(__name__)


class SchemaError(RuntimeError):
    """The database cannot be brought to the models' schema safely: nothing was changed."""


def config(connection: Connection | None = None, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def head() -> str:
    return script_directory().get_current_head()


def current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def drift(connection: Connection) -> list:
    """Differences between the models and this database, as alembic's autogenerate sees them (empty: none)."""
    from .. import models  # noqa: F401  (registers the tables)
    from ..db import Base

    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


# ------------------------------------------------------------------------------------------------ upgrade

def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to `revision`, adopting a pre-migration database first. Safe to call from several
    processes at once: they queue on a lock, the first migrates, the others find nothing to do."""
    with _locked(engine) as conn:
        _adopt_legacy(conn)
        before = current(conn)
        command.upgrade(config(conn), revision)
        after = current(conn)
        if before != after:
            log.info("database schema migrated from %s to %s", before or "empty", after)


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A connection inside one transaction that holds the migration lock; committed if the block succeeds."""
    dialect = engine.dialect.name
    with engine.connect() as conn:
        if dialect == "postgresql":
            # DDL is transactional on PostgreSQL: the whole upgrade commits or not at all, and the lock
            # (transaction-scoped) goes with the commit or the rollback, or with the connection if we die
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
            yield conn
            conn.commit()
        elif dialect == "sqlite":
            # SQLite's table copies (batch mode) need foreign keys off, which only takes effect outside a
            # transaction. Then BEGIN IMMEDIATE takes the write lock now (waiting up to the busy timeout),
            # so a second process waits here instead of migrating alongside.
            foreign_keys = conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                yield conn
                problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise SchemaError(f"migration left rows with dangling foreign keys: {problems[:5]}")
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            finally:
                conn.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
                conn.commit()
        else:
            with conn.begin():
                yield conn


def _adopt_legacy(conn: Connection) -> None:
    """A database `create_all` made (tables, no alembic_version) is stamped at the baseline revision, after
    checking it has every table and column the baseline has; anything less is refused, nothing is touched."""
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" in tables or not tables:
        return  # migrated already, or empty: the normal upgrade handles it
    baseline = baseline_schema()
    if not tables & baseline.keys():
        return  # only others' tables: ours are created next to them
    inspector = inspect(conn)
    missing = [t for t in sorted(baseline) if t not in tables]
    missing += [f"{t}.{c}" for t in sorted(baseline.keys() & tables)
                for c in sorted(baseline[t] - {col["name"] for col in inspector.get_columns(t)})]
    if missing:
        raise SchemaError("the database predates migrations but lacks part of their baseline "
                          f"(revision {BASELINE}): missing {', '.join(missing)}; it was not changed")
    log.info("adopting a database created before migrations: stamping revision %s", BASELINE)
    command.stamp(config(conn), BASELINE)


_baseline: dict[str, set[str]] | None = None


def baseline_schema() -> dict[str, set[str]]:
    """Tables and columns of the baseline revision, read from a scratch in-memory database migrated to it."""
    global _baseline
    if _baseline is None:
        engine = create_engine("sqlite://")
        quiet = logging.getLogger("alembic.runtime.migration")  # not to be mistaken for the real database's
        level = quiet.level
        quiet.setLevel(logging.WARNING)
        try:
            with engine.begin() as conn:
                command.upgrade(config(conn), BASELINE)
                inspector = inspect(conn)
                _baseline = {t: {c["name"] for c in inspector.get_columns(t)}
                             for t in inspector.get_table_names() if t != "alembic_version"}
        finally:
            quiet.setLevel(level)
            engine.dispose()
    return _baseline


# ---------------------------------------------------------------------------------------- new revisions

def next_revision_id() -> str:
    numbered = [int(s.revision) for s in script_directory().walk_revisions() if re.fullmatch(r"\d+", s.revision)]
    return f"{max(numbered, default=0) + 1:04d}"


def new_revision(message: str, empty: bool = False) -> Path | None:
    """Autogenerate the next revision from the models' difference with a scratch SQLite database migrated to
    head. Returns the new file, or None when the models match head (unless `empty`: a blank revision for a
    hand-written data migration). Review the file: autogenerate cannot see renames, for one."""
    with tempfile.TemporaryDirectory(prefix="hallmark-migrate-") as tmp:
        engine = create_engine(f"sqlite:///{tmp}/scratch.db")
        upgrade(engine)
        made: list = []

        def skip_if_empty(_context, _revision, directives):
            if not empty and directives[0].upgrade_ops.is_empty():
                directives[:] = []

        with engine.begin() as conn:
            script = command.revision(config(conn), message, autogenerate=True, rev_id=next_revision_id(),
                                      process_revision_directives=skip_if_empty)
            made = [s for s in (script if isinstance(script, list) else [script]) if s is not None]
        engine.dispose()
    return Path(made[0].path) if made else None
