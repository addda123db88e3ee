"""Perk redemption at a branch: look an item up from its verify URL, redeem it on chain, follow the redemption."""
from __future__ import annotations

import re
import time

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema
from sqlalchemy import select

from ..access.permissions import require_drop, requires
from ..db import get_db
from ..inputs import UINT256_MAX, AddressError, checked_address, hidden_character
from ..minting import redemptions
from ..models import Drop
from .drops import refuse_if_chain_replaced
from .idempotency import idempotent
from .openapi import UTCDateTime, errors, link
from .schemas import Address, Integer

bp = Blueprint("redemptions", __name__, url_prefix="/api", description="Perk redemption at branches (staff)")
WAIT_SECONDS = 10
VERIFY_PATH = re.compile(r"/v/(0x[0-9a-fA-F]{40})/(\d{1,78})(?:[/?#]|$)")
BARE_CODE = re.compile(r"(0x[0-9a-fA-F]{40})[/#:](\d{1,78})")
NOT_A_CODE = "Not an item's verify URL: expected .../v/<contract>/<serial> (or <contract>/<serial>)."


class _ItemRef(Schema):
    """An item named by its verify URL (what its QR code holds) or by contract and token id."""

    url = fields.String(validate=validate.Length(1, 500), metadata={
        "description": "the item's verify URL, e.g. https://bank.example/v/0x.../7, or /v/<contract>/<serial>"})
    contract = Address()

    @validates_schema
    def _one_way(self, data, **kwargs):
        if "url" in data:
            _parse(data["url"])
        elif "contract" not in data or "token_id" not in data:
            raise ValidationError("Give the item's verify URL, or contract and token_id.", field_name="url")

    @post_load
    def _resolve(self, data, **kwargs):
        if "url" in data:
            data["contract"], data["token_id"] = _parse(data["url"])
        return data


def _parse(url: str) -> tuple[str, int]:
    text = url.strip()
    match = VERIFY_PATH.search(text) or BARE_CODE.fullmatch(text)
    if match is None:
        raise ValidationError(NOT_A_CODE, field_name="url")
    token_id = int(match.group(2))
    if not 1 <= token_id <= UINT256_MAX:
        raise ValidationError("The serial is not a token id (1 to 2**256 - 1).", field_name="url")
    try:
        return checked_address(match.group(1)), token_id
    except AddressError as exc:
        raise ValidationError(f"The contract address: {exc}.", field_name="url") from None


class LookupQuery(_ItemRef):
    token_id = fields.Integer(validate=validate.Range(1, UINT256_MAX))


class RedemptionCreate(_ItemRef):
    token_id = Integer(validate=validate.Range(1, UINT256_MAX))
    note = fields.String(load_default="", validate=validate.Length(0, 200), metadata={
        "description": "for the ledger: the branch and the perk handed over"})

    @validates_schema
    def _visible(self, data, **kwargs):
        if (hidden := hidden_character(data.get("note", ""))) is not None:
            raise ValidationError(f"Contains an invisible or direction-changing character ({hidden}).", "note")


class RedemptionQuery(Schema):
    drop_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))


class RedemptionSchema(Schema):
    id = fields.Integer(required=True)
    drop_id = fields.Integer(required=True)
    token_id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "queued, sending, redeemed or failed"})
    error = fields.String(allow_none=True, metadata={"description": "why it failed, e.g. AlreadyRedeemed"})
    note = fields.String()
    staff_id = fields.Integer(allow_none=True)
    tx_hash = fields.String(allow_none=True)
    created_at = UTCDateTime()
    redeemed_at = UTCDateTime(allow_none=True)


class ItemDropSchema(Schema):
    id = fields.Integer()
    slug = fields.String()
    name = fields.String()
    paused = fields.Boolean()


class ItemSchema(Schema):
    drop = fields.Nested(ItemDropSchema)
    contract = fields.String()
    token_id = fields.Integer()
    serial_label = fields.String()
    holder = fields.String(allow_none=True, metadata={"description": "the current holder (None once burned)"})
    indexed = fields.Boolean(metadata={"description": "false until the index has seen the mint (seconds)"})
    burned = fields.Boolean()
    redeemed = fields.Boolean(metadata={"description": "from the index: the chain's Redeemed event"})
    redeemed_at = UTCDateTime(allow_none=True)
    redeemed_tx = fields.String(allow_none=True)
    image_url = fields.String()
    verify_url = fields.String()
    last_redemption = fields.Nested(RedemptionSchema, allow_none=True)


def _item(contract: str, token_id: int) -> dict:
    with get_db().session() as s:
        drop_id = s.scalar(select(Drop.id).where(Drop.contract_address == contract))
    if drop_id is not None:
        require_drop(drop_id)
    try:
        return redemptions.item(get_db(), contract, token_id)
    except redemptions.RedemptionRefused as exc:
        abort(exc.status, message=str(exc))


@bp.route("/items/lookup")
@requires("perks.redeem")
@errors(404)
@bp.arguments(LookupQuery, location="query")
@bp.response(200, ItemSchema)
def lookup(query):
    """The item behind a verify URL (`url`) or `contract` and `token_id`: drop, serial, holder, whether its perk
    was redeemed, its image: what branch staff check before they redeem."""
    return _item(query["contract"], query["token_id"])


@bp.route("/redemptions")
class Redemptions(MethodView):
    @requires("drops.read")
    @bp.arguments(RedemptionQuery, location="query")
    @bp.response(200, RedemptionSchema(many=True))
    def get(self, query):
        """The newest 200 redemptions, of one drop with `drop_id`."""
        if "drop_id" in query:
            require_drop(query["drop_id"])
        return redemptions.listing(get_db(), query.get("drop_id"), g.principal.may_see_drop)

    @requires("perks.redeem")
    @idempotent()
    @errors(404, 409, 503)
    @link((200, 202), "redemption", "/api/redemptions/{redemption_id}", redemption_id="$response.body#/id")
    @bp.arguments(RedemptionCreate)
    @bp.response(200, RedemptionSchema)
    @bp.alt_response(202, schema=RedemptionSchema, description="still on its way: poll /api/redemptions/<id>")
    def post(self, data):
        """Redeem an item's perk on chain (`redeem(tokenId)`, signed by the bank's worker). Refused (409) when it
        was already redeemed, is being redeemed, was burned or its drop is paused. Waits up to 10 s: 200 once the
        chain decided (`redeemed`, or `failed` with the contract's reason), else 202."""
        item = _item(data["contract"], data["token_id"])
        refuse_if_chain_replaced()
        try:
            row = redemptions.request(get_db(), item["drop"]["id"], data["token_id"], g.principal, data["note"],
                                      g.request_ref)
        except redemptions.RedemptionRefused as exc:
            abort(exc.status, message=str(exc), errors={"json": {"url" if "url" in data else "token_id": [str(exc)]}})
        deadline = time.monotonic() + WAIT_SECONDS
        while (result := redemptions.status(get_db(), row.id))["status"] in redemptions.ACTIVE \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        return result, (202 if result["status"] in redemptions.ACTIVE else 200)


@bp.route("/redemptions/<int:redemption_id>")
@requires("drops.read")
@errors(404)
@bp.response(200, RedemptionSchema)
def redemption(redemption_id):
    """One redemption: queued, sending, redeemed (with its transaction) or failed (with the reason)."""
    result = redemptions.status(get_db(), redemption_id)
    if result is None:
        abort(404, message=f"no redemption {redemption_id}")
    require_drop(result["drop_id"])
    return result
