"""Wires the chain handles and the services a web process needs; `start` adds the background loops (worker and
indexer) as threads of this process, for the embedded single-process mode and tests."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from flask import current_app

from .chain import deployment
from .chain.contracts import ChainHandles, connect
from .db import Database
from .minting.claims import ClaimService
from .minting.custody import CustodyService
from .minting.drops import DropService
from .verify.ownership import OwnershipProofs
from .verify.verdict import Verifier

log = logging.getLogger(__name__)


class ChainUnavailable(Exception):
    pass


@dataclass
class Services:
    config: dict
    db: Database
    handles: ChainHandles
    drops: DropService
    verifier: Verifier
    proofs: OwnershipProofs
    claims: ClaimService
    loops: list = field(default_factory=list)

    @classmethod
    def build(cls, config: dict, db: Database) -> "Services":
        record = deployment.load(config["DEPLOYMENT_FILE"])
        w3 = connect(config["RPC_URL"])
        problem = deployment.mismatch(record, w3)
        if problem:
            raise deployment.DeploymentMissing(f"{problem} at {config['RPC_URL']}")
        handles = ChainHandles(w3, record)
        drops = DropService(db, handles, config["PUBLIC_BASE_URL"])
        verifier = Verifier(db, handles)
        proofs = OwnershipProofs(db, handles, config["PUBLIC_BASE_URL"], record.chain_id)
        claims = ClaimService(db, CustodyService(db, config["DATA_DIR"]))
        return cls(config, db, handles, drops, verifier, proofs, claims)

    def start(self, worker: bool = True, indexer: bool = True) -> None:
        """Run the worker (with its webhook deliverer) and the indexer as threads of this process (each still takes
        its lease)."""
        from .run.indexer import IndexerLoop
        from .run.worker import Worker
        from .webhooks.delivery import Deliverer

        if worker:
            self.loops += [Worker(self.config, self.db), Deliverer(self.config, self.db)]
        if indexer:
            self.loops.append(IndexerLoop(self.config, self.db))
        self._threads = [loop.start_thread() for loop in self.loops]

    def stop(self) -> None:
        for loop in self.loops:
            loop.stop()
        for thread in getattr(self, "_threads", []):
            thread.join(30)
        self.loops, self._threads = [], []


_retry_lock = threading.Lock()
RETRY_SECONDS = 2.0


def get_services() -> Services:
    """The app's services; when the chain was not reachable at start, they are built on first use after it is
    (tried at most every two seconds), so a web process started before its node heals by itself."""
    app = current_app
    services = app.extensions.get("hallmark.services")
    if services is None:
        with _retry_lock:
            services = app.extensions.get("hallmark.services")
            if services is None and time.monotonic() - app.extensions.get("hallmark.services_tried", 0) > RETRY_SECONDS:
                app.extensions["hallmark.services_tried"] = time.monotonic()
                try:
                    services = Services.build(app.config, app.extensions["hallmark.db"])
                    app.extensions["hallmark.services"] = services
                except Exception as exc:
                    app.extensions["hallmark.services_error"] = str(exc)
    if services is None:
        raise ChainUnavailable(app.extensions.get("hallmark.services_error", "chain services are not running"))
    return services
