"""Drops: created in the background (render every item, commit to them, create the collection through
the registry), listed with their progress, paused and resumed on chain."""
from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from ..art.commitment import ContentTree, leaf_hash
from ..art.content import DropContent, collection_salt, policy_index
from ..chain.sender import SendError
from ..models import Drop, ItemHash, MintItem

log = logging.getLogger(__name__)
CREATE_GAS = 700_000


class DropError(Exception):
    def __init__(self, message: str, status: int = 409, field: str | None = None):
        super().__init__(message)
        self.status, self.field = status, field


def content_for(drop: Drop) -> DropContent:
    return DropContent(
        name=drop.name, description=drop.description, issuer=drop.issuer_name, edition_size=drop.edition_size,
        contract_address=drop.contract_address, public_base_url=drop.public_base_url,
        transfer_policy=drop.transfer_policy, holding_period=drop.holding_period, artwork=drop.artwork,
        base_image=drop.base_image, seed=drop.seed,
    )


def drop_stats(db, drop_ids: list[int]) -> dict[int, dict]:
    """Minted count, holders and queued items per drop, for any number of drops in two queries."""
    stats = {i: {"minted": 0, "holders": 0, "queued": 0} for i in drop_ids}
    with db.session() as s:
        for drop_id, status, count in s.execute(
                select(MintItem.drop_id, MintItem.status, func.count()).where(MintItem.drop_id.in_(drop_ids))
                .group_by(MintItem.drop_id, MintItem.status)):
            if status == "minted":
                stats[drop_id]["minted"] = count
            elif status in ("queued", "sending"):
                stats[drop_id]["queued"] += count
        for drop_id, holders in s.execute(
                select(MintItem.drop_id, func.count(func.distinct(MintItem.recipient)))
                .where(MintItem.drop_id.in_(drop_ids), MintItem.status == "minted").group_by(MintItem.drop_id)):
            stats[drop_id]["holders"] = holders
    return stats


class DropService:
    def __init__(self, db, sender, handles, public_base_url: str):
        self.db, self.sender, self.handles = db, sender, handles
        self.public_base_url = public_base_url
        self._builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hallmark-drop-builder")
        self._stopping = threading.Event()

    def create(self, data: dict) -> Drop:
        with self.db.session() as s:
            if s.scalar(select(Drop.id).where(Drop.slug == data["slug"])):
                raise DropError(f"a drop with slug '{data['slug']}' already exists", 409, "slug")
        address = self.handles.registry.functions.predictCollectionAddress(collection_salt(data["slug"])).call()
        drop = Drop(**data, contract_address=address, public_base_url=self.public_base_url, status="rendering")
        if drop.artwork == "image" and not drop.base_image:
            raise DropError("artwork 'image' needs a base_image upload", 422, "base_image")
        try:  # rendering the first item checks the uploaded artwork before anything is stored
            content_for(drop).image(1)
        except ValueError as exc:
            raise DropError(str(exc), 422, "base_image" if "base_image" in str(exc) else "artwork") from None
        with self.db.session() as s:
            s.add(drop)
        self._builder.submit(self._build, drop.id)
        return drop

    def adopt(self, record_drops: dict) -> None:
        """Take in drops created with the brownie scripts (listed in the deployment record) so their artwork and
        metadata are served too; their content is re-rendered and must match the on-chain commitment."""
        fields = ("name", "symbol", "description", "issuer_name", "edition_size", "transfer_policy",
                  "holding_period", "royalty_bps", "artwork", "seed", "public_base_url")
        with self.db.session() as s:
            known = {a.lower() for a in s.scalars(select(Drop.contract_address))}
            slugs = set(s.scalars(select(Drop.slug)))
            for slug, info in record_drops.items():
                if info["address"].lower() in known or slug in slugs or not all(f in info for f in fields):
                    continue
                s.add(Drop(slug=slug, contract_address=info["address"], status="rendering",
                           **{f: info[f] for f in fields}))

    def resume_unfinished(self) -> None:
        with self.db.session() as s:
            ids = list(s.scalars(select(Drop.id).where(Drop.status.in_(("rendering", "deploying")))))
        for drop_id in ids:
            self._builder.submit(self._build, drop_id)

    def shutdown(self) -> None:
        self._stopping.set()
        self._builder.shutdown(wait=True, cancel_futures=True)

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

    def _render(self, drop_id: int) -> None:
        with self.db.session() as s:
            drop = s.get(Drop, drop_id)
            if drop.status != "rendering":
                return
            content = content_for(drop)
            done = s.scalar(select(func.count()).select_from(ItemHash).where(ItemHash.drop_id == drop_id))
        batch = []
        for serial in range(done + 1, content.edition_size + 1):  # resumes after a restart
            if self._stopping.is_set():
                return
            image, meta, phash_card, phash_qr = content.record(serial)
            batch.append(ItemHash(drop_id=drop_id, serial=serial, image_sha256=image, metadata_sha256=meta,
                                  phash_card=phash_card, phash_qr=phash_qr))
            if len(batch) == 100 or serial == content.edition_size:
                with self.db.session() as s:
                    s.add_all(batch)
                    s.get(Drop, drop_id).rendered = serial
                batch = []
        with self.db.session() as s:
            drop = s.get(Drop, drop_id)
            drop.content_root = "0x" + self.tree(drop_id).root.hex()
            drop.status = "deploying"

    def tree(self, drop_id: int) -> ContentTree:
        with self.db.session() as s:
            rows = s.execute(select(ItemHash.serial, ItemHash.image_sha256, ItemHash.metadata_sha256)
                             .where(ItemHash.drop_id == drop_id).order_by(ItemHash.serial)).all()
        return ContentTree.build([leaf_hash(serial, img, meta) for serial, img, meta in rows])

    def _deploy(self, drop_id: int) -> None:
        with self.db.session() as s:
            drop = s.get(Drop, drop_id)
            issuer = self.sender.address
            config = (
                drop.name, drop.symbol, "", drop.edition_size, policy_index(drop.transfer_policy),
                drop.holding_period, issuer, drop.royalty_bps, bytes.fromhex(drop.content_root[2:]), issuer, issuer,
            )
            salt = collection_salt(drop.slug)
        if self.handles.registry.functions.isOfficial(drop.contract_address).call():
            on_chain = "0x" + self.handles.collection(drop.contract_address).functions.contentRoot().call().hex()
            if on_chain != drop.content_root:
                raise DropError(f"rendered content {drop.content_root} does not match the on-chain commitment {on_chain}")
        else:
            call = self.handles.registry.functions.createCollection(config, salt)

            def remember(session, tx):
                session.get(Drop, drop_id).create_tx_id = tx.id

            row = self.sender.submit(f"drop:{drop_id}:create", call, CREATE_GAS, remember)
            receipt = self.sender.wait(row)
            if receipt is None or receipt.status != 1:
                raise SendError("the registry refused to create the collection")
        with self.db.session() as s:
            s.get(Drop, drop_id).status = "live"

    def set_paused(self, drop_id: int, paused: bool) -> Drop:
        with self.db.session() as s:
            drop = s.get(Drop, drop_id)
            if drop.status != "live":
                raise DropError(f"drop is {drop.status}, not live", 409, "status")
            address = drop.contract_address
        collection = self.handles.collection(address)
        if collection.functions.paused().call() != paused:
            call = collection.functions.pause() if paused else collection.functions.unpause()
            row = self.sender.submit(f"drop:{drop_id}:{'pause' if paused else 'unpause'}:{uuid.uuid4().hex}",
                                     call, 100_000)
            receipt = self.sender.wait(row)
            if receipt is None or receipt.status != 1:
                raise DropError("the pause transaction failed on chain", 502)
        with self.db.session() as s:
            drop = s.get(Drop, drop_id)
            drop.paused = paused
        return drop
