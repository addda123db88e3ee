"""`hallmark worker`, `hallmark indexer`, `hallmark web` and `hallmark run`: the processes, one command each."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from .. import config
from ..security.files import open_private, private_dir, write_private

log = logging.getLogger(__name__)
INDEXER_NICENESS = 10


def _loop_process(make_loop, companions=()) -> None:
    """Run a background loop in this process until SIGTERM/SIGINT; one line and exit 1 when it must not run.
    `companions` run beside it as threads, each under its own lease."""
    from .. import create_app
    from .leases import LeaseHeld

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(config.Config(START_WORKERS=False))
    loop = make_loop(app.config, app.extensions["hallmark.db"])
    others = [make(app.config, app.extensions["hallmark.db"].companion()) for make in companions]

    def stop(*_):
        for each in (loop, *others):
            each.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    for other in others:
        other.start_thread()
    try:
        loop.run()
    except LeaseHeld as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


@click.command()
def worker():
    """The sender and mint worker, and the webhook deliverer: one of each active, any others stand by."""
    from ..art.batch import warm_up
    from ..webhooks.delivery import Deliverer
    from .worker import Worker

    # The render server imports the renderer and makes its art layers (seconds) while this process starts, not once
    # it has wired its sender: a drop posted as soon as the worker is up waited for it (1 to 5 s more than on a
    # running worker, measured by bench/drops.py)
    warm_up()
    _loop_process(Worker, companions=(Deliverer,))


@click.command()
def indexer():
    """The chain indexer: one active, any others stand by."""
    from .indexer import IndexerLoop

    # The index follows the chain: nothing waits for it (mints settle from receipts; verdicts take a mint it has not
    # read yet from its receipt). On a machine shared with the worker, the database and the node, it takes the CPU
    # they leave and catches up after.
    os.nice(INDEXER_NICENESS)
    _loop_process(lambda cfg, db: IndexerLoop(cfg, db, refuse_second=db.is_sqlite))


def _note_rate_limits(workers: int) -> None:
    """Say so when several web processes will count rate limits each on its own (no shared storage)."""
    cfg = config.Config()
    if workers > 1 and cfg.RATELIMIT_ENABLED and cfg.RATELIMIT_STORAGE_URI.startswith("memory"):
        click.echo(f"note: rate limits are counted by each of the {workers} web processes on its own; set "
                   "HALLMARK_RATELIMIT_STORAGE_URI=redis://host:6379/0 to share them", err=True)


def gunicorn_command(port: int, workers: int) -> list[str]:
    """The access log writes each request's path without its query string (%(U)s, not %(r)s): no secret a
    link may carry in its query (an old printed claim link's ?code=) lands in a log."""
    return [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--threads", "4", "--worker-class", "hallmark.run.gunicorn_worker.ThreadWorker",  # gthread, JSON errors
            "--timeout", "120", "--graceful-timeout", "20",
            "--access-logfile", "-", "--access-logformat", '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms',
            "hallmark.run.web:create()"]


@click.command()
@click.option("--port", default=5000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes")
def web(port, workers):
    """The web app under gunicorn (no background loops: run `hallmark worker` and `hallmark indexer` too)."""
    _note_rate_limits(workers)
    os.execv(gunicorn_command(port, workers)[0], gunicorn_command(port, workers))


@click.command("run")
@click.option("--port", default=5000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes")
def run_all(port, workers):
    """Everything on one machine: the web app under gunicorn, the worker and the indexer, each its own process,
    restarted if it dies; Ctrl-C (or `make stop`) stops them all."""
    _note_rate_limits(workers)
    data = config.data_dir()
    private_dir(data)
    write_private(data / "app.pid", str(os.getpid()))
    me = [str(Path(sys.executable).parent / "hallmark")]
    specs = {"worker": me + ["worker"], "indexer": me + ["indexer"], "web": gunicorn_command(port, workers)}
    logs = {name: open_private(data / f"{name}.log", "ab") for name in specs}
    children: dict[str, subprocess.Popen] = {}
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def spawn(name: str) -> None:
        out = None if name == "web" else logs[name]
        children[name] = subprocess.Popen(specs[name], stdout=out, stderr=subprocess.STDOUT if out else None)

    for name in specs:
        spawn(name)
    click.echo(f"Hallmark serving at http://127.0.0.1:{port} (gunicorn, {workers} workers), worker and indexer "
               f"running; logs in {data}")
    try:
        while not stopping:
            time.sleep(0.5)
            for name, child in list(children.items()):
                if child.poll() is not None and not stopping:
                    click.echo(f"{name} exited with code {child.returncode}: restarting it", err=True)
                    time.sleep(1)
                    spawn(name)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
        (data / "app.pid").unlink(missing_ok=True)


def register(group: click.Group) -> None:
    for command in (worker, indexer, web, run_all):
        group.add_command(command)
