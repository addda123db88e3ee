"""Wires the chain, the sender and the workers for one app instance (started by create_app)."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app

from .chain import deployment, keys
from .chain.contracts import ChainHandles, connect
from .chain.sender import Sender
from .db import Database
from .indexer.follower import Indexer
from .minting.claims import ClaimService
from .minting.custody import CustodyService
from .minting.drops import DropService
from .minting.queue import MintWorker
from .verify.ownership import OwnershipProofs
from .verify.verdict import Verifier

log = logging.getLogger(__name__)


class ChainUnavailable(Exception):
    pass


@dataclass
class Services:
    db: Database
    handles: ChainHandles
    sender: Sender
    minter: MintWorker
    drops: DropService
    indexer: Indexer
    verifier: Verifier
    proofs: OwnershipProofs
    claims: ClaimService

    @classmethod
    def build(cls, config: dict, db: Database) -> "Services":
        record = deployment.load(config["DEPLOYMENT_FILE"])
        w3 = connect(config["RPC_URL"])
        problem = deployment.mismatch(record, w3)
        if problem:
            raise deployment.DeploymentMissing(f"{problem} at {config['RPC_URL']}")
        handles = ChainHandles(w3, record)
        sender = Sender(w3, keys.load_issuer(config["DATA_DIR"]), db, confirmations=config["CONFIRMATIONS"])
        minter = MintWorker(db, sender, handles, batch_size=config["MINT_BATCH_SIZE"],
                            claim_window=config["CLAIM_WINDOW_SECONDS"])
        drops = DropService(db, sender, handles, config["PUBLIC_BASE_URL"])
        indexer = Indexer(db, connect(config["RPC_URL"]), record.registry, record.block_number,
                          confirmations=config["INDEX_CONFIRMATIONS"], page_size=config["INDEX_PAGE_SIZE"],
                          poll_interval=config["INDEX_POLL_SECONDS"])
        verifier = Verifier(db, handles)
        proofs = OwnershipProofs(db, handles, config["PUBLIC_BASE_URL"], record.chain_id)
        claims = ClaimService(db, minter, CustodyService(db, config["DATA_DIR"]))
        return cls(db, handles, sender, minter, drops, indexer, verifier, proofs, claims)

    def start(self) -> None:
        self.drops.adopt(self.handles.record.drops)
        self.minter.start()
        self.drops.resume_unfinished()
        self.indexer.start()

    def stop(self) -> None:
        self.drops.shutdown()
        self.minter.stop()
        self.indexer.stop()


def get_services() -> Services:
    services = current_app.extensions.get("hallmark.services")
    if services is None:
        raise ChainUnavailable(current_app.extensions.get("hallmark.services_error", "chain services are not running"))
    return services
