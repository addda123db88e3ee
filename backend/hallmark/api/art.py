"""Public artwork and metadata: what `tokenURI` points at. Images are rendered once and cached on disk."""
from __future__ import annotations

from flask import Response, current_app
from flask_smorest import Blueprint, abort
from sqlalchemy import func, select

from ..db import get_db
from ..minting.drops import content_for
from ..models import Drop
from ..security.files import write_private
from .openapi import answers
from .schemas import MetadataSchema
from ..access.permissions import public

bp = Blueprint("art", __name__, description="Artwork and metadata (public)")
CACHE = "public, max-age=31536000, immutable"  # an item's bytes never change: they are committed on chain


def _drop_and_serial(address: str, serial: int):
    with get_db().session() as s:
        drop = s.scalar(select(Drop).where(func.lower(Drop.contract_address) == address.lower()))
    if drop is None:
        abort(404, message=f"{address} is not a Hallmark collection")
    if not 1 <= serial <= drop.edition_size:
        abort(404, message=f"serial {serial} is outside 1..{drop.edition_size}")
    return drop


@bp.route("/art/<string:address>/<uint256:serial>.png")
@public
@answers(200, {"type": "string", "format": "binary"}, content_type="image/png")
@bp.response(200, content_type="image/png")
def image(address, serial):
    """The item's PNG card."""
    drop = _drop_and_serial(address, serial)
    cache = current_app.config["DATA_DIR"] / "art" / drop.contract_address.lower() / f"{serial}.png"
    if cache.exists():
        png = cache.read_bytes()
    else:
        png = content_for(drop).image(serial)
        write_private(cache, png)  # 0600 in 0700 folders, like everything under the data folder
    return Response(png, mimetype="image/png", headers={"Cache-Control": CACHE})


@bp.route("/meta/<string:address>/<uint256:serial>")
@public
@answers(200, MetadataSchema)
@bp.response(200, content_type="application/json")
def metadata(address, serial):
    """OpenSea-format metadata JSON, byte for byte what the content commitment hashed."""
    drop = _drop_and_serial(address, serial)
    return Response(content_for(drop).metadata(serial), mimetype="application/json",
                    headers={"Cache-Control": "public, max-age=300"})
