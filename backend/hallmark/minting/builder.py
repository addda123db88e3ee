"""The worker side of drops: render every item, commit to them, create the collection through the registry, and
carry out pause/resume requests on chain. Runs only in the process that holds the sender lease."""
from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, insert, select

from ..access import audit
from ..art.batch import RenderPool, warm_up
from ..art.content import collection_salt, policy_index
from ..chain.contracts import calldata
from ..chain.sender import Sender
from ..models import ChainTx, Drop, ItemHash
from ..webhooks import sources as webhook_sources
from .drops import DropError, content_for, content_tree

log = logging.getLogger(__name__)
CREATE_GAS, PAUSE_GAS = 700_000, 100_000
DEPLOY_TIMEOUT = 600


class DropBuilder:
    def __init__(self, db, sender: Sender, handles, render_processes: int = 0):
        self.db, self.sender, self.handles = db, sender, handles
        self.render_processes = render_processes  # 0: one a core
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hallmark-drop-builder")
        self._queued: set[int] = set()
        self._guard = threading.Lock()
        self._stopping = threading.Event()
        self._pool.submit(warm_up)  # the render processes of the first drop then start at once

    def shutdown(self) -> None:
        self._stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def schedule(self) -> bool:
        """Start building every drop that waits for it (new ones, and those a restart interrupted)."""
        with self.db.session() as s:
            ids = list(s.scalars(select(Drop.id).where(Drop.status.in_(("rendering", "deploying")))))
        started = False
        with self._guard:
            for drop_id in ids:
                if drop_id not in self._queued:
                    self._queued.add(drop_id)
                    self._pool.submit(self._build, drop_id)
                    started = True
        return started

    def _build(self, drop_id: int) -> None:
        try:
            self._render(drop_id)
            if not self._stopping.is_set():
                self._deploy(drop_id)
        except Exception as exc:  # recorded on the drop for staff to see
            log.exception("building drop %s failed", drop_id)
            with self.db.session() as s:
                drop = s.get(Drop, drop_id)
                drop.status, drop.error = "failed", str(exc).splitlines()[0][:500]
                audit.record(s, "drop.failed", "drop", drop_id, after={"error": drop.error}, actor=audit.SYSTEM)
        finally:
            with self._guard:
                self._queued.discard(drop_id)

    def _render(self, drop_id: int) -> None:
        with self.db.session() as s:
            drop = s.get(Drop, drop_id)
            if drop.status != "rendering":
                return
            content = content_for(drop)
            done = s.scalar(select(func.count()).select_from(ItemHash).where(ItemHash.drop_id == drop_id))
        if done < content.edition_size:  # resumes after a restart
            with RenderPool(content, self.render_processes) as pool:
                for chunk in pool.records(done + 1, content.edition_size):
                    if self._stopping.is_set():
                        return
                    with self.db.session() as s:
                        s.execute(insert(ItemHash), [{"drop_id": drop_id, **r._asdict()} for r in chunk])
                        s.get(Drop, drop_id).rendered = chunk[-1].serial
        with self.db.session() as s:
            drop = s.get(Drop, drop_id)
            drop.content_root = "0x" + content_tree(self.db, drop_id).root.hex()
            drop.status = "deploying"

    def _deploy(self, drop_id: int) -> None:
        with self.db.session() as s:
            drop = s.get(Drop, drop_id)
        registry = self.handles.registry
        if registry.functions.isOfficial(drop.contract_address).call():
            on_chain = "0x" + self.handles.collection(drop.contract_address).functions.contentRoot().call().hex()
            if on_chain != drop.content_root:
                raise DropError(f"rendered content {drop.content_root} does not match the on-chain commitment {on_chain}")
        else:
            issuer = self.sender.address
            config = (drop.name, drop.symbol, "", drop.edition_size, policy_index(drop.transfer_policy),
                      drop.holding_period, issuer, drop.royalty_bps, bytes.fromhex(drop.content_root[2:]), issuer, issuer)
            call = registry.functions.createCollection(config, collection_salt(drop.slug))
            with self.sender.signing() as s:
                row = self.sender.sign(s, f"drop:{drop_id}:create", registry.address, calldata(call), CREATE_GAS,
                                       audit_id=drop.audit_id)
                s.get(Drop, drop_id).create_tx_id = row.id
                tx_id = row.id
            self.sender.broadcast(tx_id)
            row = self.sender.wait(tx_id, DEPLOY_TIMEOUT)
            if row.status != "mined":
                raise DropError(f"creating the collection: transaction {row.tx_hash} is {row.status}")
        with self.db.session() as s:
            drop = s.get(Drop, drop_id)
            drop.status = "live"
            audit.record(s, "drop.live", "drop", drop_id, actor=audit.SYSTEM,
                         after={"contract_address": drop.contract_address, "content_root": drop.content_root,
                                "create_tx_id": drop.create_tx_id})
            webhook_sources.drop_live(s, drop)

    def sync_pauses(self) -> bool:
        """Carry out staff's pause/resume requests on chain; True when something was sent or settled."""
        with self.db.session() as s:
            wanted = list(s.execute(select(Drop.id, Drop.contract_address, Drop.pause_wanted, Drop.pause_audit_id)
                                    .where(Drop.status == "live", Drop.pause_wanted.is_not(None))))
        acted = False
        for drop_id, address, paused, cause in wanted:
            prefix = f"drop:{drop_id}:pause-state:"
            with self.db.session() as s:
                if s.scalar(select(ChainTx.id).where(ChainTx.purpose.like(f"{prefix}%"), ChainTx.status == "pending")):
                    continue  # one in flight: the confirmer settles it
            collection = self.handles.collection(address)
            if collection.functions.paused().call() == paused:
                with self.db.session() as s:
                    drop = s.get(Drop, drop_id)
                    before = drop.paused
                    drop.paused, drop.pause_wanted = paused, None
                    audit.record(s, "drop.paused" if paused else "drop.resumed", "drop", drop_id,
                                 before={"paused": before}, after={"paused": paused, "request": cause},
                                 actor=audit.SYSTEM)
                acted = True
                continue
            call = collection.functions.pause() if paused else collection.functions.unpause()
            with self.sender.signing() as s:
                tx_id = self.sender.sign(s, f"{prefix}{paused}:{uuid.uuid4().hex}", address, calldata(call), PAUSE_GAS,
                                         audit_id=cause).id
            self.sender.broadcast(tx_id)
            acted = True
        return acted
