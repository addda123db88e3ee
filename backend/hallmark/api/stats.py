"""Console helpers (staff): artwork previews while a drop is being designed, and a drop's activity over time."""
from __future__ import annotations

import base64
from collections import Counter
from datetime import datetime, timedelta

from flask import current_app
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from ..art.render import format_serial
from ..db import get_db
from ..minting.drops import PLACEHOLDER_CONTRACT, draft_card
from ..models import IndexedToken, MintItem, utcnow
from ..access.permissions import requires
from .drops import load_drop
from .openapi import answers
from .ops_schemas import ActivitySchema
from .schemas import DropCreateSchema, Integer

bp = Blueprint("stats", __name__, url_prefix="/api", description="Console previews and drop activity (staff)")
SOURCES = ("airdrop", "single", "claim")
BUCKETS = (60, 300, 900, 3600, 6 * 3600, 86400)  # seconds; the smallest that keeps a chart readable is used
MAX_BUCKETS = 240
MIN_BUCKETS = 12  # a new drop's chart still reads as a timeline, not one wide bar
EPOCH = datetime(1970, 1, 1)  # the database keeps naive UTC


class PreviewRequestSchema(DropCreateSchema):
    """The create fields, with slug and symbol optional: the cards do not show them (the slug seeds the artwork)."""
    slug = fields.String(load_default="preview", validate=DropCreateSchema._declared_fields["slug"].validate)
    symbol = fields.String(load_default="PREVIEW", validate=DropCreateSchema._declared_fields["symbol"].validate)
    serials = fields.List(Integer(validate=validate.Range(min=1)), load_default=lambda: [1],
                          validate=validate.Length(1, 4), metadata={"description": "up to 4 serials to render"})

    @validates_schema
    def _serials_in_edition(self, data, **kwargs):
        outside = [n for n in data.get("serials", []) if n > data.get("edition_size", n)]
        if outside:
            raise ValidationError(f"Serial {outside[0]} is outside the edition.", "serials")


class PreviewItemSchema(Schema):
    serial = fields.Integer()
    serial_label = fields.String()
    image = fields.String(metadata={"description": "data:image/png;base64 URL"})


class PreviewResponseSchema(Schema):
    contract_address = fields.String(metadata={"description": "the placeholder shown on the cards"})
    items = fields.List(fields.Nested(PreviewItemSchema))


class ActivityQuery(Schema):
    bucket = fields.Integer(load_default=None, validate=validate.OneOf(BUCKETS),
                            metadata={"description": "bucket width in seconds (default: chosen from the drop's age)"})


@bp.route("/drops/preview", methods=["POST"])
@requires("drops.create")
@bp.arguments(PreviewRequestSchema)
@bp.response(200, PreviewResponseSchema)
def preview(data):
    """Render a few cards of a drop that is not created yet (nothing is stored and nothing is sent on chain)."""
    items = []
    for serial in data["serials"]:
        try:
            png = draft_card(data, current_app.config["PUBLIC_BASE_URL"], serial)
        except ValueError as exc:  # an unreadable upload
            abort(422, message=str(exc), errors={"json": {"base_image": [str(exc)]}})
        items.append({"serial": serial, "serial_label": format_serial(serial, data["edition_size"]),
                      "image": "data:image/png;base64," + base64.b64encode(png).decode()})
    return {"contract_address": PLACEHOLDER_CONTRACT, "items": items}


@bp.route("/drops/<int:drop_id>/activity")
@requires("drops.read")
@answers(200, ActivitySchema)
@bp.arguments(ActivityQuery, location="query")
@bp.response(200)
def activity(query, drop_id):
    """Items minted per time bucket by source (airdrop, single, claim) and redemptions, since the drop was
    created; totals and the redemption rate (redeemed / minted)."""
    drop = load_drop(drop_id)
    with get_db().session() as s:
        mints = s.execute(select(MintItem.source, MintItem.minted_at).where(
            MintItem.drop_id == drop_id, MintItem.status == "minted", MintItem.minted_at.is_not(None))).all()
        redeemed = list(s.scalars(select(IndexedToken.redeemed_at).where(
            IndexedToken.collection == drop.contract_address, IndexedToken.redeemed_at.is_not(None))))
    now = utcnow()
    width = query["bucket"] or next(
        (b for b in BUCKETS if (now - drop.created_at).total_seconds() / b <= MAX_BUCKETS), BUCKETS[-1])
    last = _seconds(now) // width
    # buckets on clock boundaries, from the drop's creation (or MIN_BUCKETS back) to now
    first = max(min(_seconds(drop.created_at) // width, last - MIN_BUCKETS + 1), last - MAX_BUCKETS + 1)
    count = last - first + 1

    def bucket(when: datetime) -> int:  # anything older than the chart folds into its first bucket
        return max(0, min(count - 1, _seconds(when) // width - first))

    minted = Counter((source, bucket(when)) for source, when in mints)
    redemptions = Counter(bucket(when) for when in redeemed)
    series = [{"t": (EPOCH + timedelta(seconds=width * (first + i))).isoformat() + "Z",
               **{source: minted[source, i] for source in SOURCES}, "redeemed": redemptions[i]}
              for i in range(count)]
    by_source = Counter(source for source, _ in mints)
    return {"bucket_seconds": width, "series": series,
            "totals": {"minted": len(mints), "redeemed": len(redeemed), **{s: by_source[s] for s in SOURCES}},
            "redemption_rate": round(len(redeemed) / len(mints), 4) if mints else 0.0}


def _seconds(when: datetime) -> int:
    return int((when - EPOCH).total_seconds())
