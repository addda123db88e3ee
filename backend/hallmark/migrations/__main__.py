"""python -m hallmark.migrations check [URL] | upgrade [URL] | current [URL] | revision MESSAGE [--empty]

check     models vs schema: with no URL, a scratch SQLite database migrated to head (do the revisions produce
          the models?); with a URL, that database (is it at head, and does it match?). Exit 1 on drift.
upgrade   migrate the database (default: HALLMARK_DATABASE_URL / the data folder's SQLite) to head.
current   the database's revision, and head.
revision  autogenerate the next revision after a models.py change (as scripts/dev/new_migration.py).
"""
from __future__ import annotations

import argparse
import sys
import tempfile

from sqlalchemy import create_engine

from . import current, drift, head, new_revision, upgrade


def _engine(url: str | None):
    from ..config import Config
    from ..db import Database, private_sqlite_file

    url = url or Config().DATABASE_URL
    private_sqlite_file(url)
    return Database(url).engine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hallmark.migrations", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("check", "upgrade", "current"):
        sub.add_parser(name).add_argument("url", nargs="?", help="SQLAlchemy database URL")
    rev = sub.add_parser("revision")
    rev.add_argument("message")
    rev.add_argument("--empty", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "revision":
        path = new_revision(args.message, empty=args.empty)
        print(f"wrote {path}" if path else f"no change: the models match revision {head()}")
        return 0 if path else 1
    if args.command == "check" and not args.url:
        with tempfile.TemporaryDirectory(prefix="hallmark-check-") as tmp:
            engine = create_engine(f"sqlite:///{tmp}/scratch.db")
            upgrade(engine)
            with engine.connect() as conn:
                diffs = drift(conn)
            engine.dispose()
        where = f"the revisions up to {head()}"
    else:
        engine = _engine(args.url)
        if args.command == "upgrade":
            upgrade(engine)
        with engine.connect() as conn:
            rev = current(conn)
            diffs = drift(conn) if args.command != "current" else []
        where = f"the database (at {rev or 'no revision'}, head {head()})"
        if args.command == "current":
            print(f"{rev or 'no revision'} (head {head()})")
            return 0
    for diff in diffs:
        print(diff)
    print(f"{where}: {'no drift' if not diffs else f'{len(diffs)} differences from the models'}")
    return 1 if diffs or (args.command == "check" and args.url and rev != head()) else 0


if __name__ == "__main__":
    sys.exit(main())
