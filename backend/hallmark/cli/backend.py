"""The backend's services in a command's own process, and the progress bar commands show while they wait."""
from __future__ import annotations

import sys

from .. import config, devchain
from ..security.files import private_dir
from .root import CliError

POLL = 0.2  # seconds between progress reads


class Backend:
    """The Flask app's services in this process: the database always, the chain services when asked.

    Workers are not started with the app: a command starts what it needs (the mint worker, the drop builder)
    and stops it when done. Commands that send transactions first make sure no app server or other command
    is sending with the same data folder (two senders would hand out the same nonces)."""

    def __init__(self):
        from .. import create_app

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

        from ..models import Drop

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
        from ..models import Drop

        with self.db.session() as s:
            return s.get(Drop, drop_id)


def _worker_running(db) -> bool:
    """Whether a worker process (e.g. `make run`'s) is active on this database."""
    from datetime import timedelta

    from sqlalchemy import select

    from ..models import ProcessBeat, utcnow

    with db.session() as s:
        return s.scalar(select(ProcessBeat.holder).where(
            ProcessBeat.kind == "worker", ProcessBeat.role == "active",
            ProcessBeat.beat_at > utcnow() - timedelta(seconds=10)).limit(1)) is not None


def progress_bar(**kwargs):
    from tqdm import tqdm

    return tqdm(file=sys.stderr, mininterval=0.5, dynamic_ncols=True, **kwargs)
