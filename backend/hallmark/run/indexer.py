"""The indexer process: follows the chain into the index tables. Any number may run; one is active."""
from __future__ import annotations

import time

from sqlalchemy import select

from ..chain import deployment
from ..chain.contracts import connect
from ..chain.node import NodeUnavailable
from ..db import Database
from ..indexer.follower import Indexer
from ..models import ChainTx
from .loop import LeasedLoop


class IndexerLoop(LeasedLoop):
    kind = "indexer"

    def __init__(self, config: dict, db: Database, refuse_second: bool = False):
        super().__init__(config, db, refuse_second)
        self.tick = config["INDEX_POLL_SECONDS"]
        self.yield_seconds = config["INDEX_YIELD_SECONDS"]
        self._last_read = float("-inf")
        self.record = deployment.load(config["DEPLOYMENT_FILE"])
        self.indexer = Indexer(db, connect(config["RPC_URL"]), self.record.registry, self.record.block_number,
                               confirmations=config["INDEX_CONFIRMATIONS"], page_size=config["INDEX_PAGE_SIZE"])

    def lease_name(self) -> str:
        return f"indexer:{self.record.chain_id}:{self.record.registry}"

    def step(self) -> bool:
        # The node serves log reads on the thread it mines with: reading a 10,000-token airdrop's Transfer logs as
        # they were mined cost Ganache about a tenth more CPU, and the airdrop 83 % of the node's own rate against
        # 97 % with the indexer stopped (A/B, alternate rounds). While the sender has transactions in flight, the
        # index reads at most every yield_seconds and catches up once they are mined: nothing waits for it.
        if time.monotonic() - self._last_read < self.yield_seconds and self._sending():
            return False
        self._last_read = time.monotonic()
        try:
            progressed = self.indexer.step()
        except (ConnectionError, OSError) as exc:
            raise NodeUnavailable(f"node unreachable: {type(exc).__name__}") from None
        self.problem = None
        return progressed

    def _sending(self) -> bool:
        with self.db.session() as s:
            return s.scalar(select(ChainTx.id).where(ChainTx.status == "pending",
                                                     ChainTx.chain_id == self.record.chain_id).limit(1)) is not None
