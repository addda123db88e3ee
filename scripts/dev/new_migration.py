#!/usr/bin/env python3
"""Autogenerate the next schema migration after a change to backend/hallmark/models.py.

    .venv/bin/python scripts/dev/new_migration.py "add drops.banner_url"

The models are compared with a scratch SQLite database migrated to the current head; the difference is
written to backend/hallmark/migrations/versions/<next number>_<message>.py as batch operations, which run on
SQLite and PostgreSQL alike. Read it before committing: autogenerate sees a rename as a drop plus an add,
and cannot write data migrations (`--empty` gives a blank revision to fill in by hand). Then
`.venv/bin/python -m hallmark.migrations check` must report no drift, and the app applies the revision at
its next start.
"""
import argparse
import sys

from hallmark import migrations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("message", help="what the revision does (also its file name)")
    parser.add_argument("--empty", action="store_true", help="write a revision even when the models match head")
    args = parser.parse_args()
    path = migrations.new_revision(args.message, empty=args.empty)
    if path is None:
        print(f"no change: the models match revision {migrations.head()} (use --empty for a data migration)")
        return 1
    print(f"wrote {path}\nreview it, then: .venv/bin/python -m hallmark.migrations check")
    return 0


if __name__ == "__main__":
    sys.exit(main())
