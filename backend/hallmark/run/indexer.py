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
        self._caught_up_at = float("-inf")  # when a step last found the index at the head
        self._deferred = False  # blocks were left unread for the sender: read them one at a time
        self.record = deployment.load(config["DEPLOYMENT_FILE"])
        self.indexer = Indexer(db, connect(config["RPC_URL"]), self.record.registry, self.record.block_number,
                               confirmations=config["INDEX_CONFIRMATIONS"], page_size=config["INDEX_PAGE_SIZE"])

    def lease_name(self) -> str:
        return f"indexer:{self.record.chain_id}:{self.record.registry}"

    def step(self) -> bool:
        # The node serves log reads on the thread it mines with: reading a 10,000-token airdrop's Transfer logs as
        # they were mined cost Ganache about a tenth more CPU, and the airdrop 83 % of the node's own rate against
        # 97 % with the indexer stopped (A/B, alternate rounds). While the sender has transactions in flight, the
        # index catches up at most every yield_seconds; nothing waits for it. What it left unread it reads a block
        # a page, as when it keeps up: a page of 20 blocks of 1,200 Transfers each grew the indexer by 30 % (soak).
        if time.monotonic() - self._caught_up_at < self.yield_seconds and self._sending():
            self._deferred = True
            return False
        try:
            progressed = self.indexer.step(max_blocks=1 if self._deferred else None)
        except (ConnectionError, OSError) as exc:
            raise NodeUnavailable(f"node unreachable: {type(exc).__name__}") from None
        self.problem = None
        if not progressed:
            self._caught_up_at, self._deferred = time.monotonic(), False
        return progressed

    def _sending(self) -> bool:
        with self.db.session() as s:
            return s.scalar(select(ChainTx.id).where(ChainTx.status == "pending",
                                                     ChainTx.chain_id == self.record.chain_id).limit(1)) is not None
