"""`hallmark apikey create|revoke` and `hallmark staff create-admin|demo`: the first admin and the partner keys
an operator makes on the server; everything else is done by admins in the console."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
import segno
from sqlalchemy import select

from .. import config
from ..models import ApiKey, utcnow
from ..security.files import create_once, open_private, private_dir
from . import accounts, audit, keys
from .audit_commands import cli_actor
from .models import StaffUser
from .permissions import KEY_SCOPES, ROLES

DEMO_ROLES = ("marketing", "approver", "branch", "viewer", "admin")  # one account each, named after the role


def _app():
    from .. import create_app

    private_dir(config.data_dir())
    return create_app(config.Config(START_WORKERS=False))


def _refuse(error: accounts.AccountError | ValueError):
    field = getattr(error, "field", None)
    raise click.ClickException(f"{field}: {error}" if field else str(error))


# ---------------------------------------------------------------------------------------------- API keys


@click.group()
def apikey():
    """Partner API keys for the HTTP API (admins also make them in the console)."""


@apikey.command("create")
@click.option("--name", required=True, help="who or what uses the key")
@click.option("--role", type=click.Choice(list(ROLES)), help="the key's scopes: this role's (a key never approves "
                                                             "nor manages staff or keys)")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(KEY_SCOPES), help="a permission (repeatable)")
@click.option("--drop", "drops", multiple=True, type=click.IntRange(1), help="limit the key to this drop id "
                                                                             "(repeatable)")
@click.option("--expires-days", type=click.IntRange(1, 3650), help="the key stops working after this many days")
@click.option("--out", "out", metavar="FILE", help="write the key to this new file (mode 600) instead of printing it")
def apikey_create(name, role, scopes, drops, expires_days, out):
    """Create an API key; it is shown (or written) once and only its hash is kept."""
    from ..inputs import hidden_character

    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise click.ClickException("name: 1-100 characters")
    if found := hidden_character(name):  # the name is shown in staff views and logs
        raise click.ClickException(f"name: no control, invisible or bidirectional characters ({found})")
    if bool(role) == bool(scopes):
        raise click.UsageError("give either --role or --scope")
    out_path = Path(out) if out else None
    if out_path is not None and out_path.exists():
        raise click.ClickException(f"{out} already exists: not overwritten")
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    with _app().extensions["hallmark.db"].session() as s:
        row, key = keys.add_key(s, name, role, scopes=list(scopes) or None, drop_ids=list(drops) or None,
                                expires_at=expires_at)
        audit.record(s, "key.create", "api_key", row.id, actor=cli_actor(), after={
            "name": name, "prefix": row.prefix, "scopes": row.scopes, "drop_ids": row.drop_ids,
            "expires_at": expires_at})
    what = role or "custom"
    if out_path is None:
        click.echo(f"API key '{name}' ({what}) created; it is shown only this once:")
        click.echo(key)
    elif not _write_new(out_path, key + "\n"):
        raise click.ClickException(f"API key '{name}' was created but {out} could not be written; revoke it "
                                   f"(`hallmark apikey revoke {row.prefix}`) and create another one")
    else:
        click.echo(f"API key '{name}' ({what}) written to {out} (mode 600)")


@apikey.command("revoke")
@click.argument("prefix")
def apikey_revoke(prefix):
    """Revoke the key starting with PREFIX (as the console's list shows it)."""
    with _app().extensions["hallmark.db"].session() as s:
        found = list(s.scalars(select(ApiKey).where(ApiKey.prefix.startswith(prefix.strip(), autoescape=True))))
        if len(found) != 1:
            raise click.ClickException(f"{len(found)} keys start with '{prefix}': give the whole prefix")
        row = keys.revoke(s, found[0].id)
        audit.record(s, "key.revoke", "api_key", row.id, actor=cli_actor(), after={"name": row.name})
    click.echo(f"API key '{row.name}' ({row.prefix}...) revoked")


def _write_new(path: Path, text: str) -> bool:
    try:
        return create_once(path, text)
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------- staff


@click.group()
def staff():
    """Staff accounts: the first admin, and the demo's accounts."""


@staff.command("create-admin")
@click.option("--username", required=True)
@click.option("--password-file", type=click.File("r"), help="read the password from this file's first line")
def create_admin(username, password_file):
    """Create an admin account with a second factor: scan the QR code with an authenticator app."""
    if password_file:
        password = password_file.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    app = _app()
    from ..security.sealing import sealer_for

    try:
        with app.extensions["hallmark.db"].session() as s:
            user = accounts.create_user(s, username, "admin", password)
            secret, uri = accounts.start_totp(s, user, sealer_for(app))
            user.totp_last_step = 0  # enrolled now: the operator scans the code before the first sign-in
            audit.record(s, "staff.create", "staff", user.id, actor=cli_actor(),
                         after={"username": user.username, "role": "admin", "totp": True})
    except accounts.AccountError as exc:
        _refuse(exc)
    click.echo(f"admin '{user.username}' created. Add it to an authenticator app (the code is asked at sign-in):")
    segno.make(uri, error="m").terminal(compact=True)
    click.echo(uri)


@staff.command("demo")
@click.option("--out", required=True, metavar="FILE", help="where the new accounts' passwords are added (mode 600)")
def demo(out):
    """The demo's accounts, one per role (marketing, approver, branch, viewer, admin), with random passwords
    written to FILE; the admin's TOTP secret too. Accounts that exist are left as they are."""
    app = _app()
    from ..security.sealing import sealer_for

    lines = []
    with app.extensions["hallmark.db"].session() as s:
        for role in DEMO_ROLES:
            if s.scalar(select(StaffUser.id).where(StaffUser.username == role)) is not None:
                continue
            password = accounts.new_password()
            user = accounts.create_user(s, role, role, password, display_name=f"demo {role}")
            line = f"{role}  password: {password}"
            if role == "admin":
                secret, uri = accounts.start_totp(s, user, sealer_for(app))
                user.totp_last_step = 0
                line += f"  totp secret: {secret}  ({uri})"
            audit.record(s, "staff.create", "staff", user.id, actor=cli_actor(),
                         after={"username": role, "role": role, "demo": True})
            lines.append(line)
        if lines:  # written before the accounts commit: a failed write leaves no account without its password
            with open_private(Path(out), "a") as fh:
                fh.write("\n".join(lines) + "\n")
    if lines:
        click.echo(f"{len(lines)} demo accounts created; their passwords are in {out}")
    else:
        click.echo(f"the demo accounts exist already (passwords in {out})")


def register(group: click.Group) -> None:
    group.add_command(apikey)
    group.add_command(staff)
