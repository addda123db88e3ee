"""The root `hallmark` group: every failure is one `error:` line on stderr and exit code 1, never a traceback;
backend log lines go to `<data>/hallmark-cli.log`."""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from .. import config
from ..chain import keys
from ..security.files import open_private

log = logging.getLogger("hallmark.cli")


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
            fail(exc.format_message() + hint)
        except click.ClickException as exc:
            fail(exc.format_message())
        except (click.Abort, KeyboardInterrupt):
            fail("interrupted")
        except Exception as exc:  # noqa: BLE001  (the last line of defence against tracebacks)
            fail(_describe(exc))
        sys.exit(rv if isinstance(rv, int) else 0)


def _describe(exc: Exception) -> str:
    """One line for an exception raised by the backend while a command ran."""
    import requests
    import yaml
    from marshmallow import ValidationError

    from ..chain.deployment import DeploymentMissing
    from ..minting.drops import DropError
    from ..services import ChainUnavailable

    if isinstance(exc, CliError | DropError | keys.IssuerKeyError):
        return str(exc)
    if isinstance(exc, ValidationError):
        return _validation_line(exc.messages)
    if isinstance(exc, DeploymentMissing | ChainUnavailable):
        return f"the chain is not ready: {exc}"
    if isinstance(exc, FileNotFoundError):
        return f"{exc.filename or exc} does not exist"
    if isinstance(exc, yaml.YAMLError):
        return f"not valid YAML ({first_line(exc)})"
    if isinstance(exc, requests.RequestException):
        return f"lost the connection to the chain node ({type(exc).__name__}); the work done so far is kept"
    log.exception("unexpected error")
    return f"unexpected {type(exc).__name__}: {first_line(exc)} (details in {log_file()})"


def first_line(exc: BaseException) -> str:
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


def fail(message: str):
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def log_file() -> Path:
    return config.data_dir() / "hallmark-cli.log"


@click.group(cls=_Group)
def main():
    """Hallmark: digital collectibles for banks."""


class _LogFile(logging.FileHandler):
    """The CLI's log file under the data folder, opened (and its folder made) only when something is logged."""

    def __init__(self):
        super().__init__(log_file(), delay=True)
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
