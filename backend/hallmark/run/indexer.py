"""The indexer process: follows the chain into the index tables. Any number may run; one is active."""
from __future__ import annotations

from ..chain import deployment
from ..chain.contracts import connect
from ..chain.node import NodeUnavailable
from ..db import Database
from ..indexer.follower import Indexer
from .loop import LeasedLoop


class IndexerLoop(LeasedLoop):
    kind = "indexer"

    def __init__(self, config: dict, db: Database, refuse_second: bool = False):
        super().__init__(config, db, refuse_second)
        self.tick = config["INDEX_POLL_SECONDS"]
        self.record = deployment.load(config["DEPLOYMENT_FILE"])
        self.indexer = Indexer(db, connect(config["RPC_URL"]), self.record.registry, self.record.block_number,
                               confirmations=config["INDEX_CONFIRMATIONS"], page_size=config["INDEX_PAGE_SIZE"])

    def lease_name(self) -> str:
        return f"indexer:{self.record.chain_id}:{self.record.registry}"

    def step(self) -> bool:
        try:
            progressed = self.indexer.step()
        except (ConnectionError, OSError) as exc:
            raise NodeUnavailable(f"node unreachable: {type(exc).__name__}") from None
        self.problem = None
        return progressed
