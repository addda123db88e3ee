"""The worker: the one sender of the issuer key on this chain, and everything it drives (mint batches, drop
creation, pause/resume). Any number may run; the one holding the sender lease works, the others stand by and take
over within seconds of its death. On SQLite (one machine, one data folder) a second worker is refused instead.

Every step: check that the deployment is still on the chain, let the confirmer settle what the chain decided,
sign and send the next batches, carry out pause requests, perk redemptions and custodial withdrawals, build new drops.
"""
from __future__ import annotations

import logging
import threading
import time

import psycopg

from ..chain import deployment, keys
from ..chain.contracts import ChainHandles, connect
from ..chain.node import NodeUnavailable
from ..chain.sender import Sender
from ..db import Database
from ..minting.builder import DropBuilder
from ..minting.custody import CustodyService
from ..minting import wake
from ..minting.drops import DropService
from ..minting.queue import MintQueue
from ..minting.redemptions import Redeemer
from ..minting.withdrawals import Withdrawer
from ..models import Drop
from .loop import LeasedLoop

log = logging.getLogger(__name__)
CHAIN_CHECK_SECONDS = 5.0


class Worker(LeasedLoop):
    kind = "worker"

    def __init__(self, config: dict, db: Database, refuse_second: bool | None = None):
        # a second sender on one SQLite data folder is a mistake; on PostgreSQL it is a standby
        super().__init__(config, db, db.is_sqlite if refuse_second is None else refuse_second)
        self.account = keys.load_issuer(config["DATA_DIR"])
        self.tick = config.get("WORKER_TICK_SECONDS", 0.05)
        # new jobs NOTIFY (PostgreSQL) and each send wakes the loop; other work (a drop, a pause, a redemption) waits
        # at most this long once the worker has been idle a while
        self.idle_tick = 0.4
        self._wired = None  # (sender, queue, builder, record, w3) once the chain answered
        self._chain_checked = 0.0
        self._listener: threading.Thread | None = None

    def lease_name(self) -> str:
        return f"sender:{self.config['RPC_URL']}:{self.account.address}"

    def run(self) -> None:
        if not self.db.is_sqlite:
            self._listener = threading.Thread(target=self._listen, name="hallmark-queue-listener", daemon=True)
            self._listener.start()
        super().run()

    def _listen(self) -> None:
        """Step as soon as the web process queues mint items (their NOTIFY), not at the next idle tick. A lost
        connection only costs that: the loop still polls, and the listener connects again."""
        dsn = self.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {wake.QUEUE_CHANNEL}")
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wake()
            except psycopg.Error as exc:
                log.info("queue listener: %s; polling meanwhile", exc)
                self._stop.wait(1.0)

    def on_stop(self) -> None:
        if self._wired:
            self._wired[2].shutdown()
        if self._listener:  # its connection closed before the caller may drop the database
            self._listener.join(5)

    # ------------------------------------------------------------------ work

    def _wire(self):
        if self._wired is None:
            record = deployment.load(self.config["DEPLOYMENT_FILE"])
            w3 = connect(self.config["RPC_URL"], timeout=120)
            c = self.config
            sender = Sender(w3, self.account, self.db, confirmations=c["CONFIRMATIONS"],
                            bump_after=c["FEE_BUMP_SECONDS"], bump_percent=c["FEE_BUMP_PERCENT"],
                            max_fee_wei=c["MAX_FEE_WEI"])
            sender.on_sent = self.wake  # an instamining node answers once it has mined: settle it, fill its place
            sender.start_broadcaster()
            queue = MintQueue(self.db, sender, ChainHandles(w3, record), batch_size=c["MINT_BATCH_SIZE"],
                              claim_window=c["CLAIM_WINDOW_SECONDS"])
            builder = DropBuilder(self.db, sender, queue.handles, c["RENDER_PROCESSES"])
            self.redeemer = Redeemer(self.db, sender, queue.handles)
            self.withdrawer = Withdrawer(self.db, sender, queue.handles, CustodyService(self.db, c["DATA_DIR"]))
            DropService(self.db, queue.handles, c["PUBLIC_BASE_URL"]).adopt(record.drops)
            self._wired = (sender, queue, builder, record, w3)
        return self._wired

    def step(self) -> bool:
        sender, queue, builder, record, w3 = self._wire()
        if time.monotonic() - self._chain_checked > CHAIN_CHECK_SECONDS or self.problem:
            try:
                self.problem = deployment.mismatch(record, w3)
            except Exception as exc:
                raise NodeUnavailable(f"node unreachable: {type(exc).__name__}") from None
            self._chain_checked = time.monotonic()
            if self.problem:
                self.problem = f"chain replaced: {self.problem}; nothing is sent until the contracts are redeployed"
        if self.problem:
            return False
        progressed = False
        for done in sender.poll():
            progressed = True
            if done.purpose.startswith("mint:"):
                queue.settle(done)
            elif done.purpose.startswith("redeem:"):
                self.redeemer.settle(done)
            elif ":pause-state:" in done.purpose and (done.receipt is None or done.receipt.status != 1):
                self._pause_failed(done)
        progressed |= queue.recover()
        progressed |= bool(queue.fill())
        progressed |= builder.sync_pauses()
        progressed |= self.redeemer.sync()
        progressed |= self.withdrawer.sync()
        progressed |= builder.schedule()
        return progressed

    def _pause_failed(self, done) -> None:
        drop_id = int(done.purpose.split(":")[1])
        with self.db.session() as s:
            drop = s.get(Drop, drop_id)
            drop.pause_wanted, drop.error = None, f"pause/resume transaction {done.purpose} did not go through"

