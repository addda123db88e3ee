"""`hallmark audit verify` and `hallmark audit head`, and the audit entries of operators' CLI actions."""
from __future__ import annotations

import getpass
import sys
from typing import Any

import click
from sqlalchemy import select

from .. import config, models
from ..db import Database, private_sqlite_file
from . import audit
from .models import AuditEntry


def cli_actor() -> audit.Actor:
    """Whoever runs the command on the server: the operating system's user name is all the CLI knows."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        name = "unknown"
    return audit.Actor("cli", None, name[:100], "operator")


def record_cli(db: Database, action: str, object_type: str, object_id: Any, *, after: Any = None,
               link: str | None = None) -> None:
    """Audit a CLI action once it is done; the row of model `link` (e.g. "Drop") gets the entry as its audit_id,
    so the transactions it causes point back to it. The services commit the action itself in their own
    transaction: the command records it right after, before it starts sending."""
    with db.session() as s:
        entry = audit.record(s, action, object_type, object_id, after=after, actor=cli_actor())
        if link is not None:
            row = s.get(getattr(models, link), object_id)
            if row is not None and row.audit_id is None:
                row.audit_id = entry.id


def _database() -> Database:
    url = config.Config().DATABASE_URL
    private_sqlite_file(url)
    db = Database(url)
    db.upgrade()  # an empty trail is a trail: a fresh data folder verifies as intact with 0 entries
    return db


@click.group("audit")
def audit_group():
    """The audit trail: check its hash chain, print its head."""


@audit_group.command("verify")
@click.option("--head", "head", metavar="HASH", help="a head published earlier: also detects a removed tail")
def verify_command(head):
    """Recompute the whole hash chain; exit 1 naming the first broken entry."""
    with _database().session() as s:
        verdict = audit.verify(s, head.strip().lower() if head else None)
    if verdict.ok:
        click.echo(f"audit trail intact: {verdict.entries} entries, head {verdict.head}")
        return
    click.echo(f"audit trail broken: {verdict.problem}")
    sys.exit(1)


@audit_group.command("head")
def head_command():
    """Print the newest entry's hash (alone, for scripts): publish or store it elsewhere, and `verify --head` then
    detects entries removed from the end."""
    with _database().session() as s:
        head = s.scalar(select(AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1))
    click.echo(head or audit.GENESIS)


def register(group: click.Group) -> None:
    group.add_command(audit_group)
