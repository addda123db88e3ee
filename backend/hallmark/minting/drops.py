"""Drops as the web side sees them: requests to create, pause and resume them are recorded here and carried out
by the worker (minting.builder); listed with their progress."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from ..art.commitment import ContentTree, leaf_hash
from ..art.content import DropContent, collection_salt
from ..art.render import RENDER_VERSION, check_item, render_preview
from ..security.files import write_private
from ..models import AirdropJob, Drop, ItemHash, MintItem
from .wake import notify_queue

# the card shows a contract fingerprint: a drop not created yet has no collection, so it shows this one
PLACEHOLDER_CONTRACT = "0x" + "0" * 40


class DropError(Exception):
    def __init__(self, message: str, status: int = 409, field: str | None = None):
        super().__init__(message)
        self.status, self.field = status, field


def content_for(drop: Drop) -> DropContent:
    return DropContent(
        name=drop.name, description=drop.description, issuer=drop.issuer_name, edition_size=drop.edition_size,
        contract_address=drop.contract_address, public_base_url=drop.public_base_url,
        transfer_policy=drop.transfer_policy, holding_period=drop.holding_period, artwork=drop.artwork,
        base_image=drop.base_image, seed=drop.seed, language=drop.language, render_version=drop.render_version,
    )


def card_png(drop: Drop, serial: int, data_dir: Path) -> bytes:
    """An item's card, rendered once and kept under the data folder: served as art, compared in photo checks."""
    cache = data_dir / "art" / drop.contract_address.lower() / f"{serial}.png"
    if cache.exists():
        return cache.read_bytes()
    png = content_for(drop).image(serial)
    write_private(cache, png)  # 0600 in 0700 folders, like everything under the data folder
    return png


def draft_card(data: dict, public_base_url: str, serial: int) -> bytes:
    """A card of a drop not created yet, from its create fields: the console's preview while it is designed, and
    what an approver sees of a drop request. ValueError: an unreadable upload."""
    # (approval requests recorded before drops had a language get the default a created drop gets)
    content = DropContent(
        name=data["name"], description=data["description"], issuer=data["issuer_name"],
        edition_size=data["edition_size"], contract_address=PLACEHOLDER_CONTRACT, public_base_url=public_base_url,
        transfer_policy=data["transfer_policy"], holding_period=data["holding_period"], artwork=data["artwork"],
        base_image=data["base_image"], seed=data["seed"], language=data.get("language", "zh"))
    return render_preview(content.item_spec(serial), size=320)


def drop_stats(db, drop_ids: list[int]) -> dict[int, dict]:
    """Minted count, holders and queued items per drop, for any number of drops in three queries. Queued counts an
    airdrop's rows the worker has not yet made into items (minting.jobs)."""
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
        for drop_id, pending in s.execute(
                select(AirdropJob.drop_id, func.sum(AirdropJob.pending))
                .where(AirdropJob.drop_id.in_(drop_ids), AirdropJob.pending > 0).group_by(AirdropJob.drop_id)):
            stats[drop_id]["queued"] += pending
    return stats


def content_tree(db, drop_id: int) -> ContentTree:
    """The Merkle tree of a drop's rendered items: the content commitment and its proofs."""
    with db.session() as s:
        rows = s.execute(select(ItemHash.serial, ItemHash.image_sha256, ItemHash.metadata_sha256)
                         .where(ItemHash.drop_id == drop_id).order_by(ItemHash.serial)).all()
    return ContentTree.build([leaf_hash(serial, img, meta) for serial, img, meta in rows])


class DropService:
    """The web side of drops: validate and record a request; the worker (minting.builder) does the chain work."""

    def __init__(self, db, handles, public_base_url: str):
        self.db, self.handles = db, handles
        self.public_base_url = public_base_url

    def create(self, data: dict, request_ref: str | None = None) -> Drop:
        with self.db.session() as s:
            if request_ref:  # a retry of a request whose drop was already recorded
                done = s.scalar(select(Drop).where(Drop.request_ref == request_ref))
                if done is not None:
                    return done
            if s.scalar(select(Drop.id).where(Drop.slug == data["slug"])):
                raise DropError(f"a drop with slug '{data['slug']}' already exists", 409, "slug")
        address = self.handles.registry.functions.predictCollectionAddress(collection_salt(data["slug"])).call()
        # (approval requests recorded before drops had a language get the default)
        drop = Drop(**{"language": "zh", **data}, render_version=RENDER_VERSION, contract_address=address,
                    public_base_url=self.public_base_url, status="rendering", request_ref=request_ref)
        if drop.artwork == "image" and not drop.base_image:
            raise DropError("artwork 'image' needs a base_image upload", 422, "base_image")
        try:  # the request's fields and uploaded artwork as the renderer takes them, before anything is stored (not a
            # whole card: the first of a new drop's traits drew its art layers in this process, 0.3 s of the request)
            check_item(content_for(drop).item_spec(1))
        except ValueError as exc:
            raise DropError(str(exc), 422, "base_image" if "base_image" in str(exc) else "artwork") from None
        with self.db.session() as s:
            s.add(drop)
            notify_queue(s)  # the worker starts rendering it now, not at its next idle poll
        return drop

    def tree(self, drop_id: int) -> ContentTree:
        return content_tree(self.db, drop_id)

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
                # records written before Chinese cards name no language: those drops were rendered by version 1
                s.add(Drop(slug=slug, contract_address=info["address"], status="rendering",
                           language=info.get("language", "en"), render_version=info.get("render_version", 1),
                           **{f: info[f] for f in fields}))

    def request_pause(self, drop_id: int, paused: bool, audit_id: int | None = None) -> Drop:
        """Ask the worker to pause (or resume) the collection on chain; `paused` follows once it is mined.
        `audit_id`: the request's audit entry, which the pause transaction links to."""
        with self.db.session() as s:
            drop = s.get(Drop, drop_id, with_for_update=True)
            if drop.status != "live":
                raise DropError(f"drop is {drop.status}, not live", 409, "status")
            drop.pause_wanted = None if drop.paused == paused else paused
            drop.pause_audit_id = audit_id
            return drop
