"""`hallmark drop create|list`: a drop from a spec file, built in this process with a progress bar."""
from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import click

from ..access.audit_commands import record_cli
from .backend import POLL, Backend, progress_bar
from .root import CliError, main


@main.group()
def drop():
    """Drops: create one from a spec file, list them."""


SPEC_STRINGS = ("slug", "name", "symbol", "description", "issuer_name", "seed")
COMPARED = ("name", "symbol", "description", "issuer_name", "edition_size", "transfer_policy", "holding_period",
            "royalty_bps", "artwork", "seed", "per_wallet_limit", "language")


def load_spec(path: str) -> dict:
    """A drop spec (YAML, as in drops/fuhu-demo.yaml) checked by the API's own schema, as model fields."""
    import yaml

    from ..api.schemas import DropCreateSchema

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"drop spec {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read drop spec {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise CliError(f"drop spec {path} is not valid YAML ({where}{getattr(exc, 'problem', None) or exc})") from None
    if not isinstance(raw, dict):
        raise CliError(f"drop spec {path} must be a mapping of fields (slug, name, symbol, edition_size, ...)")
    spec = {}
    for key, value in raw.items():
        key = str(key)
        if isinstance(value, datetime | date):  # YAML reads unquoted timestamps as dates; the schema wants ISO text
            value = value.isoformat()
        elif key in SPEC_STRINGS and isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)  # `seed: 2022`
        spec[key] = value
    return DropCreateSchema().load(spec)  # ValidationError -> `error: field: message`


def _drop_line(drop, minted: int | None = None) -> str:
    state = drop.status + (" (paused)" if drop.paused else "")
    progress = f"{minted}/{drop.edition_size} minted" if minted is not None else f"edition {drop.edition_size}"
    return f"drop '{drop.slug}' (id {drop.id}): {state}, {progress}, collection {drop.contract_address}"


@drop.command("create")
@click.option("--spec", "spec_path", required=True, metavar="FILE", help="drop spec (YAML), e.g. drops/fuhu-demo.yaml")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="render and create the collection now, with a progress bar, until the drop is live")
def drop_create(spec_path, wait):
    """Create a drop from a spec file: render every item, commit to them, create its collection on chain.

    Idempotent: when a drop with the spec's slug exists, it is shown and nothing is created. With --no-wait
    the drop is only recorded; the app server builds it when it starts (or run this command again)."""
    data = load_spec(spec_path)
    from ..minting.drops import drop_stats

    with Backend() as backend:
        existing = find_slug(backend.db, data["slug"])
        if existing is not None:
            differs = [f for f in COMPARED if getattr(existing, f) != data.get(f)]
            if existing.status == "failed":
                raise CliError(f"drop '{existing.slug}' exists but failed: {existing.error}")
            click.echo(_drop_line(existing, drop_stats(backend.db, [existing.id])[existing.id]["minted"])
                       if existing.status == "live" else _drop_line(existing))
            if differs:
                click.echo(f"note: {spec_path} differs from the existing drop in {', '.join(differs)}; "
                           "nothing was changed (a drop cannot be edited once created)")
            if existing.status == "live":
                remember_in_record(backend, existing)
                return
            if not wait:
                click.echo("not finished yet: the app server finishes it when it starts, or run this without --no-wait")
                return
            backend.sending()
            click.echo("resuming where it stopped")
            drop_id = existing.id
        else:
            created = backend.services.drops.create(data)
            drop_id = created.id
            record_cli(backend.db, "drop.create", "drop", drop_id, link="Drop",
                       after={"slug": created.slug, "edition_size": created.edition_size, "spec": spec_path})
            click.echo(f"drop '{created.slug}' (id {created.id}) recorded; "
                       f"its collection will be {created.contract_address}")
            if not wait:
                click.echo("not waiting: the worker builds it when it runs (or run this command again)")
                return
            backend.sending()
        drop = wait_live(backend, drop_id)
        click.echo(_drop_line(drop, 0))
        remember_in_record(backend, drop)


RECORD_FIELDS = ("name", "symbol", "description", "issuer_name", "edition_size", "transfer_policy", "holding_period",
                 "royalty_bps", "artwork", "seed", "public_base_url", "language", "render_version")


def find_slug(db, slug: str):
    from sqlalchemy import select

    from ..models import Drop

    with db.session() as s:
        return s.scalar(select(Drop).where(Drop.slug == slug))


def wait_live(backend: Backend, drop_id: int):
    drop = backend.refresh(drop_id)
    with progress_bar(total=drop.edition_size, desc="rendering", unit="item") as bar:
        try:
            while drop.status in ("rendering", "deploying"):
                if drop.rendered > bar.n:
                    bar.update(drop.rendered - bar.n)
                if drop.status == "deploying" and bar.desc != "deploying":
                    bar.update(drop.edition_size - bar.n)
                    bar.set_description("deploying")
                time.sleep(POLL)
                drop = backend.refresh(drop_id)
        except KeyboardInterrupt:
            raise CliError(f"interrupted: drop '{drop.slug}' is {drop.status}; run the same command again to finish "
                           "it (or start the app server, which resumes it)") from None
        if drop.status == "live":
            bar.update(drop.edition_size - bar.n)
            bar.set_description("live")
    if drop.status != "live":
        raise CliError(f"drop '{drop.slug}' {drop.status}: {drop.error or 'no reason recorded'}")
    return drop


def remember_in_record(backend: Backend, drop) -> None:
    """List a live drop in the deployment record too (as scripts/create_drop.py does), so the brownie scripts,
    /api/health and an app with another database know it by slug."""
    from ..chain import deployment

    path = Path(backend.app.config["DEPLOYMENT_FILE"])
    try:
        record = deployment.load(path)
    except deployment.DeploymentMissing:
        return
    entry = {"address": drop.contract_address, **{f: getattr(drop, f) for f in RECORD_FIELDS}}
    if record.drops.get(drop.slug) != entry:
        record.drops[drop.slug] = entry
        record.save(path)


@drop.command("list")
def drop_list():
    """Every drop with its status, minted count and collection address."""
    from sqlalchemy import select

    from ..minting.drops import drop_stats
    from ..models import Drop

    with Backend() as backend:
        with backend.db.session() as s:
            drops = list(s.scalars(select(Drop).order_by(Drop.id)))
        stats = drop_stats(backend.db, [d.id for d in drops])
    if not drops:
        click.echo("no drops yet: create one with `hallmark drop create --spec drops/fuhu-demo.yaml`")
        return
    rows = [("id", "slug", "status", "minted/edition", "contract")]
    for d in drops:
        status = d.status + (" (paused)" if d.paused else "")
        if d.status == "rendering":
            status += f" ({d.rendered} rendered)"
        rows.append((str(d.id), d.slug, status, f"{stats[d.id]['minted']}/{d.edition_size}", d.contract_address))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(cell.rjust(w) if i in (0, 3) else cell.ljust(w)
                             for i, (cell, w) in enumerate(zip(r, widths))).rstrip())

