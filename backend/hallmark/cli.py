"""The `hallmark` command: the local chain, deployment, drops, minting, airdrops, claim codes and API keys.

Everything except `chain` and `deploy` goes through the backend's service layer (the same code the HTTP API
calls): the command builds the app with `create_app()`, queues work, and runs the app's own mint worker and
drop builder in this process until the work is done. The command never signs a transaction itself.

Every failure is one line on stderr starting with `error:` and exit code 1, never a traceback (details of
unexpected errors go to `<data>/hallmark-cli.log`).
"""
from __future__ import annotations

import csv
import logging
import os
import sys
import time
from datetime import date, datetime
from pathlib import Path

import click

from . import config, devchain
from .chain import keys
from .access.audit_commands import record_cli, register as register_audit
from .access.commands import register as register_access
from .demo.commands import register as register_demo
from .run.commands import register as register_processes
from .security.commands import register as register_security
from .security.files import open_private, private_dir

log = logging.getLogger("hallmark.cli")
POLL = 0.2  # seconds between progress reads
STALL_SECONDS = 180  # an airdrop that makes no progress for this long is reported, not waited on forever


class CliError(Exception):
    """A failure to report as one `error:` line."""


class _Group(click.Group):
    """Runs the command tree with one-line errors: usage errors, known failures and unexpected ones alike."""

    def main(self, args=None, prog_name=None, **extra):
        # whatever this process and its children (gunicorn, the worker, ganache) create is the owner's alone: keys,
        # the database, the chain, logs, caches
        os.umask(0o077)
        _log_to_file()
        try:
            rv = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
            sys.exit(0)
        except click.UsageError as exc:
            hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
            _fail(exc.format_message() + hint)
        except click.ClickException as exc:
            _fail(exc.format_message())
        except (click.Abort, KeyboardInterrupt):
            _fail("interrupted")
        except Exception as exc:  # noqa: BLE001  (the last line of defence against tracebacks)
            _fail(_describe(exc))
        sys.exit(rv if isinstance(rv, int) else 0)


def _describe(exc: Exception) -> str:
    """One line for an exception raised by the backend while a command ran."""
    import requests
    import yaml
    from marshmallow import ValidationError

    from .chain.deployment import DeploymentMissing
    from .chain.sender import SendError
    from .minting.drops import DropError
    from .services import ChainUnavailable

    if isinstance(exc, CliError | DropError | SendError | keys.IssuerKeyError):
        return str(exc)
    if isinstance(exc, ValidationError):
        return _validation_line(exc.messages)
    if isinstance(exc, DeploymentMissing | ChainUnavailable):
        return f"the chain is not ready: {exc}"
    if isinstance(exc, FileNotFoundError):
        return f"{exc.filename or exc} does not exist"
    if isinstance(exc, yaml.YAMLError):
        return f"not valid YAML ({_first_line(exc)})"
    if isinstance(exc, requests.RequestException):
        return f"lost the connection to the chain node ({type(exc).__name__}); the work done so far is kept"
    log.exception("unexpected error")
    return f"unexpected {type(exc).__name__}: {_first_line(exc)} (details in {_log_file()})"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__


def _validation_line(messages) -> str:
    """marshmallow's {field: [message, ...]} as `field: message; other: message`."""
    if not isinstance(messages, dict):
        return str(messages[0] if isinstance(messages, list) and messages else messages)
    parts = []
    for field, value in messages.items():
        while isinstance(value, dict):  # nested (e.g. list items): name the inner key too
            inner_key, value = next(iter(value.items()))
            field = f"{field}.{inner_key}"
        message = value[0] if isinstance(value, list) and value else value
        parts.append(str(message) if field == "_schema" else f"{field}: {message}")
    return "; ".join(parts)


def _fail(message: str):
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _log_file() -> Path:
    return config.data_dir() / "hallmark-cli.log"


@click.group(cls=_Group)
def main():
    """Hallmark: digital collectibles for banks."""


# ====================================================================== the local chain


@main.group()
def chain():
    """The local Ganache chain of `make run` (persistent, under the data folder)."""


@chain.command("up")
@click.option("--port", default=8545, show_default=True)
def chain_up(port):
    """Start the chain if it is not running, and make sure the issuer key exists and has gas money."""
    data = config.data_dir()
    try:
        click.echo(devchain.up(data, port))
    except RuntimeError as exc:
        _fail(str(exc))
    issuer = keys.create_dev_keystore(data / "keys")
    url = f"http://127.0.0.1:{port}"
    balance = int(devchain.rpc(url, "eth_getBalance", [issuer.address, "latest"]), 16)
    if balance < 100 * 10**18:
        devchain.fund(url, issuer.address, 10_000)
        click.echo(f"issuer {issuer.address} funded with 10000 ETH from the dev faucet")
    else:
        click.echo(f"issuer {issuer.address} has {balance / 10**18:.0f} ETH")


@chain.command("down")
def chain_down():
    """Stop the chain; its data stays on disk for the next `chain up`."""
    click.echo(devchain.down(config.data_dir()))


@chain.command("status")
@click.option("--port", default=8545, show_default=True)
def chain_status(port):
    """Whether the chain answers, with its chain id and block number."""
    url = f"http://127.0.0.1:{port}"
    if not devchain.is_up(url):
        _fail(f"no chain answers at {url}")
    block = int(devchain.rpc(url, "eth_blockNumber"), 16)
    click.echo(f"chain {int(devchain.rpc(url, 'eth_chainId'), 16)} at {url}, block {block}")


# ====================================================================== deploy (the brownie script)


@main.command()
@click.option("--network", default=lambda: config.Config().NETWORK, show_default="$HALLMARK_NETWORK or hallmark-local",
              help="brownie network to deploy on")
def deploy(network):
    """Deploy the registry and the collection implementation (scripts/deploy.py, as `brownie run` would).

    Deploys nothing when the network's deployment record still matches the chain."""
    url = _brownie_network_url(network)
    if url and not devchain.is_up(url):
        # brownie would start a throwaway Ganache, deploy there and record contracts that vanish with it
        _fail(f"no chain answers at {url} (brownie network '{network}'): start it first, e.g. `hallmark chain up`")
    _run_deploy_script(network)


def _run_deploy_script(network: str) -> None:
    """scripts/deploy.py's main() in this process, through hallmark.chain.brownie_runner: not `brownie run`, which
    imports a script under a module name made of its absolute path and so fails from any path with a dot in it."""
    try:
        import brownie  # noqa: F401

        from .chain import brownie_runner
    except ImportError:
        _fail("brownie is not installed: run `make setup`")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), str(config.ROOT / "node_modules" / ".bin"),
                                          os.environ.get("PATH", "")])
    try:
        brownie_runner.run_script("scripts/deploy.py", network=network)
    except SystemExit as exc:  # the script's own one-line failure (scripts.common.fail)
        if exc.code not in (None, 0):
            _fail(f"deploy on '{network}' failed: {str(exc.code).removeprefix('error:').strip()}")
    except Exception as exc:  # noqa: BLE001
        log.exception("deploy on %s failed", network)
        _fail(f"deploy on '{network}' failed: {_first_line(exc)} (details in {_log_file()})")


def _brownie_network_url(network: str) -> str | None:
    """The URL of a development network brownie would launch a chain for; None for live networks."""
    import yaml

    path = Path.home() / ".brownie" / "network-config.yaml"
    try:
        networks = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        _fail(f"brownie has no networks registered ({path} is missing): run `make setup`")
    for entry in networks.get("development") or []:
        if entry.get("id") == network:
            port = (entry.get("cmd_settings") or {}).get("port")
            return f"{entry.get('host', 'http://127.0.0.1')}:{port}" if port else entry.get("host")
    known = [n.get("id") for n in networks.get("development") or []]
    known += [n.get("id") for group in networks.get("live") or [] for n in group.get("networks") or []]
    if network not in known:
        _fail(f"unknown brownie network '{network}' (hallmark networks: "
              f"{', '.join(n for n in known if str(n).startswith('hallmark')) or 'none'}; `make setup` registers them)")
    return None


# ====================================================================== the backend in this process


class Backend:
    """The Flask app's services in this process: the database always, the chain services when asked.

    Workers are not started with the app: a command starts what it needs (the mint worker, the drop builder)
    and stops it when done. Commands that send transactions first make sure no app server or other command
    is sending with the same data folder (two senders would hand out the same nonces)."""

    def __init__(self):
        from . import create_app

        private_dir(config.data_dir())
        self.app = create_app(config.Config(START_WORKERS=False))
        self.db = self.app.extensions["hallmark.db"]
        self._services = None
        self._worker_started = False

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc):
        if self._services is not None:
            self._services.stop()  # stops this command's worker if it runs; an interrupted drop build resumes later

    @property
    def services(self):
        """The chain services, or a one-line error saying what is missing."""
        if self._services is not None:
            return self._services
        services = self.app.extensions.get("hallmark.services")
        url, network = self.app.config["RPC_URL"], self.app.config["NETWORK"]
        if services is None:
            if not devchain.is_up(url):
                raise CliError(f"no chain answers at {url}: start it (`hallmark chain up`) or set HALLMARK_RPC_URL")
            reason = self.app.extensions.get("hallmark.services_error", "chain services are not available")
            raise CliError(f"the chain is not ready: {reason} (`hallmark deploy --network {network}`)")
        self._services = services
        return services

    def sending(self):
        """The chain services, with a worker to send for them: the running app's (`make run`) when there is one,
        else one started in this process until the command ends."""
        services = self.services
        if not self._worker_started and not _worker_running(self.db):
            services.start(worker=True, indexer=False)
            self._worker_started = True
        return services

    def drop(self, ref: str):
        """A drop by slug (or numeric id); a one-line error naming the known drops otherwise."""
        from sqlalchemy import select

        from .models import Drop

        with self.db.session() as s:
            drop = s.scalar(select(Drop).where(Drop.slug == ref))
            if drop is None and ref.isdigit():
                drop = s.get(Drop, int(ref))
            if drop is None:
                slugs = list(s.scalars(select(Drop.slug).order_by(Drop.id).limit(11)))
        if drop is None:
            known = ", ".join(slugs[:10]) + (", ..." if len(slugs) > 10 else "") if slugs else "none yet"
            raise CliError(f"unknown drop '{ref}' (known drops: {known})")
        return drop

    def refresh(self, drop_id: int):
        from .models import Drop

        with self.db.session() as s:
            return s.get(Drop, drop_id)


class _LogFile(logging.FileHandler):
    """The CLI's log file under the data folder, opened (and its folder made) only when something is logged."""

    def __init__(self):
        super().__init__(_log_file(), delay=True)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def _open(self):
        return open_private(Path(self.baseFilename), "a")


def _log_to_file() -> None:
    """Backend log lines and Python warnings go to a file, not the terminal: the terminal gets progress and
    one-line errors."""
    root = logging.getLogger()
    if any(isinstance(h, _LogFile) for h in root.handlers):
        return
    root.addHandler(_LogFile())
    root.setLevel(logging.INFO)
    for noisy in ("urllib3", "web3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.captureWarnings(True)


def _worker_running(db) -> bool:
    """Whether a worker process (e.g. `make run`'s) is active on this database."""
    from datetime import timedelta

    from sqlalchemy import select

    from .models import ProcessBeat, utcnow

    with db.session() as s:
        return s.scalar(select(ProcessBeat.holder).where(
            ProcessBeat.kind == "worker", ProcessBeat.role == "active",
            ProcessBeat.beat_at > utcnow() - timedelta(seconds=10)).limit(1)) is not None


def _bar(**kwargs):
    from tqdm import tqdm

    return tqdm(file=sys.stderr, mininterval=0.5, dynamic_ncols=True, **kwargs)


# ====================================================================== drops


@main.group()
def drop():
    """Drops: create one from a spec file, list them."""


SPEC_STRINGS = ("slug", "name", "symbol", "description", "issuer_name", "seed")
COMPARED = ("name", "symbol", "description", "issuer_name", "edition_size", "transfer_policy", "holding_period",
            "royalty_bps", "artwork", "seed", "per_wallet_limit", "language")


def load_spec(path: str) -> dict:
    """A drop spec (YAML, as in drops/fuhu-demo.yaml) checked by the API's own schema, as model fields."""
    import yaml

    from .api.schemas import DropCreateSchema

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
    from .minting.drops import drop_stats

    with Backend() as backend:
        existing = _find_slug(backend.db, data["slug"])
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
                _remember_in_record(backend, existing)
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
        drop = _wait_live(backend, drop_id)
        click.echo(_drop_line(drop, 0))
        _remember_in_record(backend, drop)


RECORD_FIELDS = ("name", "symbol", "description", "issuer_name", "edition_size", "transfer_policy", "holding_period",
                 "royalty_bps", "artwork", "seed", "public_base_url", "language", "render_version")


def _find_slug(db, slug: str):
    from sqlalchemy import select

    from .models import Drop

    with db.session() as s:
        return s.scalar(select(Drop).where(Drop.slug == slug))


def _wait_live(backend: Backend, drop_id: int):
    drop = backend.refresh(drop_id)
    with _bar(total=drop.edition_size, desc="rendering", unit="item") as bar:
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


def _remember_in_record(backend: Backend, drop) -> None:
    """List a live drop in the deployment record too (as scripts/create_drop.py does), so the brownie scripts,
    /api/health and an app with another database know it by slug."""
    from .chain import deployment

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

    from .minting.drops import drop_stats
    from .models import Drop

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


# ====================================================================== minting


@main.command()
@click.argument("drop_ref", metavar="DROP")
@click.argument("address")
@click.option("--timeout", default=120, show_default=True, help="seconds to wait for the transaction")
def mint(drop_ref, address, timeout):
    """Mint the drop's next serial to ADDRESS (DROP is its slug or id)."""
    from marshmallow import ValidationError

    from .api.schemas import MintSchema
    from .minting import jobs
    from .minting.queue import wait_until_idle

    try:
        to = MintSchema().load({"to": address})["to"]
    except ValidationError as exc:
        raise CliError(f"address: {exc.messages['to'][0]}") from None
    with Backend() as backend:
        drop = backend.drop(drop_ref)
        item_id = jobs.queue_single(backend.db, drop.id, to)
        record_cli(backend.db, "mint.create", "mint_item", item_id, after={"drop_id": drop.id, "to": to},
                   link="MintItem")
        backend.sending()
        if not wait_until_idle(backend.db, [item_id], timeout):
            raise CliError(f"not minted within {timeout} s (mint {item_id} stays queued and is sent by the next "
                           "mint worker: the app server or another hallmark command)")
        item, tx_hash = _mint_item(backend.db, item_id)
    if item.status != "minted":
        raise CliError(f"mint to {to} failed: {item.error}")
    click.echo(f"minted {drop.slug} #{item.token_id} to {to} (tx {tx_hash})")


def _mint_item(db, item_id: int):
    from .models import ChainTx, MintItem

    with db.session() as s:
        item = s.get(MintItem, item_id)
        tx = s.get(ChainTx, item.tx_id) if item.tx_id else None
    return item, (tx.tx_hash if tx else None)


@main.command()
@click.argument("drop_ref", metavar="DROP")
@click.argument("csv_file", metavar="FILE.csv")
def airdrop(drop_ref, csv_file):
    """Mint one item of DROP to every address in a CSV file (first column; a header row is allowed).

    Rows that are not addresses are reported with their line number and skipped; the other rows are minted in
    batched transactions by the mint worker, with a progress bar until every one is confirmed."""
    from .minting import jobs

    path = Path(csv_file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CliError(f"CSV file {csv_file} does not exist") from None
    except UnicodeDecodeError:
        raise CliError(f"CSV file {csv_file} is not UTF-8 text") from None
    except OSError as exc:
        raise CliError(f"cannot read CSV file {csv_file}: {exc.strerror}") from None
    good, bad = jobs.parse_recipients(text)
    for row in bad:
        click.echo(f"{csv_file} line {row['row']}: '{row['value']}' skipped: {row['reason']}")
    if not good:
        raise CliError(f"{csv_file} has no valid addresses" + (f" ({len(bad)} bad rows listed above)" if bad else ""))

    with Backend() as backend:
        drop = backend.drop(drop_ref)
        job_id = jobs.create_job(backend.db, drop.id, good, bad)
        record_cli(backend.db, "airdrop.create", "airdrop_job", job_id, link="AirdropJob",
                   after={"drop_id": drop.id, "recipients": len(good), "bad_rows": len(bad), "file": csv_file})
        backend.sending()
        click.echo(f"airdrop job {job_id}: {len(good)} recipients of '{drop.slug}'"
                   + (f", {len(bad)} bad rows skipped" if bad else ""))
        status = _follow_job(backend, job_id, len(good))
    chain_failures = [f for f in status["failures"] if f["row"] not in {b["row"] for b in bad}]
    for f in chain_failures:
        click.echo(f"{csv_file} line {f['row']}: {f['address']} not minted: {f['reason']}")
    gas = sum(t["gas_used"] or 0 for t in status["transactions"])
    click.echo(f"job {job_id} finished: {status['done']} minted, {status['failed']} not minted, "
               f"{len(status['transactions'])} transactions, {status['tokens_per_second']} tokens/s"
               + (f", {gas / status['done']:,.0f} gas per token" if status["done"] else ""))
    if status["failed"]:
        raise CliError(f"{status['failed']} of {status['total']} rows of {csv_file} were not minted (lines listed "
                       f"above); the other {status['done']} were, so do not send the whole file again")


def _follow_job(backend: Backend, job_id: int, valid: int) -> dict:
    from .minting import jobs

    status = jobs.job_status(backend.db, job_id)
    last_change, last_seen = time.monotonic(), None
    with _bar(total=valid, desc="minting", unit="token") as bar:
        try:
            while status["status"] != "finished":
                time.sleep(POLL)
                status = jobs.job_status(backend.db, job_id)
                progress = (status["done"], status["failed"], len(status["transactions"]))
                if progress != last_seen:
                    last_seen, last_change = progress, time.monotonic()
                    bar.update(status["done"] - bar.n)
                elif time.monotonic() - last_change > STALL_SECONDS:
                    raise CliError(f"job {job_id} made no progress for {STALL_SECONDS} s ({status['done']} of "
                                   f"{valid} minted; is the chain up?): the rest stays queued and is sent by the "
                                   f"next mint worker, see `GET /api/jobs/{job_id}`")
        except KeyboardInterrupt:
            raise CliError(f"interrupted: job {job_id} has {status['done']} of {valid} minted; the rest stays queued "
                           "and is sent by the next mint worker (the app server or another hallmark command)") from None
        bar.update(status["done"] - bar.n)
    return status


# ====================================================================== claim codes


@main.command("claim-codes")
@click.argument("drop_ref", metavar="DROP")
@click.option("--count", required=True, type=click.IntRange(1, 100_000), help="how many codes")
@click.option("--out", "out", required=True, metavar="FILE.csv", help="new CSV file for the codes (code,claim_url)")
def claim_codes(drop_ref, count, out):
    """Generate claim codes for DROP and export them as CSV (code,claim_url).

    Codes are stored only as hashes: this file is the one copy, so it is created with mode 600 and an
    existing file is never overwritten."""
    out_path = Path(out)
    if out_path.exists():
        raise CliError(f"{out} already exists: claim codes are shown only once, so it is never overwritten")
    with Backend() as backend:
        drop = backend.drop(drop_ref)
        try:
            from .minting import claims
            generate = claims.generate_codes
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.minting.claims":
                raise
            raise CliError("claim codes are not available in this version (no hallmark.minting.claims)") from None
        except AttributeError:
            raise CliError("claim codes are not available in this version (no claims.generate_codes)") from None
        base = backend.app.config["PUBLIC_BASE_URL"].rstrip("/")
        try:
            fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileNotFoundError:
            raise CliError(f"cannot create {out}: its folder does not exist") from None
        except OSError as exc:
            raise CliError(f"cannot create {out}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "w", newline="") as fh:
                result = generate(backend.db, drop.id, count)
                if isinstance(result, dict):  # {"batch", "count", "codes"}
                    batch, codes = result["batch"], result["codes"]
                else:  # (batch, codes)
                    batch, codes = result
                writer = csv.writer(fh)
                writer.writerow(["code", "claim_url"])
                writer.writerows([code, claims.claim_link(base, code)] for code in codes)
        except BaseException:
            out_path.unlink(missing_ok=True)
            raise
        record_cli(backend.db, "claim_codes.create", "drop", drop.id, after={"batch": batch, "count": len(codes)})
    click.echo(f"{len(codes)} claim codes for '{drop.slug}' (batch {batch}) written to {out} (mode 600): "
               "keep it secret, the codes are not shown again")


# ====================================================================== the processes (web, worker, indexer, run)

register_processes(main)
register_security(main)
register_access(main)
register_audit(main)
register_demo(main)
