"""Artwork and metadata: what `tokenURI` points at, public for minted items only (the art of a serial nobody holds
would otherwise "match exactly" in an image check); staff preview any serial of a drop. Images are rendered once and
cached on disk."""
from __future__ import annotations

from flask import Response, current_app
from flask_smorest import Blueprint, abort
from sqlalchemy import func, select

from ..db import get_db
from ..minting.drops import card_png, content_for
from ..models import Drop, IndexedToken, MintItem
from .drops import load_drop
from .openapi import answers
from .holder_schemas import MetadataSchema
from ..access.permissions import public, requires

bp = Blueprint("art", __name__, description="Artwork and metadata (public)")
CACHE = "public, max-age=31536000, immutable"  # an item's bytes never change: they are committed on chain


def _drop_and_serial(address: str, serial: int):
    """The drop of a minted item (burned ones included: their page still shows the card), else 404."""
    with get_db().session() as s:
        drop = s.scalar(select(Drop).where(func.lower(Drop.contract_address) == address.lower()))
        # the index, or the sender's own record of the receipt's Transfer log: the index may lag a fresh mint
        minted = drop is not None and 1 <= serial <= drop.edition_size and (
            s.get(IndexedToken, (drop.contract_address, serial)) is not None
            or s.scalar(select(MintItem.id).where(MintItem.drop_id == drop.id, MintItem.token_id == serial,
                                                  MintItem.status == "minted")) is not None)
    if drop is None:
        abort(404, message=f"{address} is not a Hallmark collection")
    if not 1 <= serial <= drop.edition_size:
        abort(404, message=f"serial {serial} is outside 1..{drop.edition_size}",
              errors={"path": {"serial": [f"Outside 1..{drop.edition_size}."]}})
    if not minted:
        abort(404, message=f"serial {serial} has not been issued: its art is not public",
              errors={"path": {"serial": ["Not issued yet."]}})
    return drop


def _card(drop: Drop, serial: int) -> bytes:
    return card_png(drop, serial, current_app.config["DATA_DIR"])


@bp.route("/art/<string:address>/<uint256:serial>.png")
@public
@answers(200, {"type": "string", "format": "binary"}, content_type="image/png")
@bp.response(200, content_type="image/png")
def image(address, serial):
    """The item's PNG card (minted items only)."""
    drop = _drop_and_serial(address, serial)
    return Response(_card(drop, serial), mimetype="image/png", headers={"Cache-Control": CACHE})


@bp.route("/api/drops/<int:drop_id>/art/<int:serial>.png")
@requires("drops.read")
@answers(200, {"type": "string", "format": "binary"}, content_type="image/png")
@bp.response(200, content_type="image/png")
def staff_card(drop_id, serial):
    """Any serial's card of a drop, minted or not: the staff preview (never cached by a shared cache)."""
    drop = load_drop(drop_id)
    if not 1 <= serial <= drop.edition_size:
        abort(404, message=f"serial {serial} is outside 1..{drop.edition_size}",
              errors={"path": {"serial": [f"Outside 1..{drop.edition_size}."]}})
    return Response(_card(drop, serial), mimetype="image/png", headers={"Cache-Control": "private, max-age=3600"})


@bp.route("/meta/<string:address>/<uint256:serial>")
@public
@answers(200, MetadataSchema)
@bp.response(200, content_type="application/json")
def metadata(address, serial):
    """OpenSea-format metadata JSON, byte for byte what the content commitment hashed (minted items only)."""
    drop = _drop_and_serial(address, serial)
    return Response(content_for(drop).metadata(serial), mimetype="application/json",
                    headers={"Cache-Control": "public, max-age=300"})
