"""Custodial customers: what the bank holds for them and withdrawals to their own wallets. Public routes: the
customer is named by the `X-Customer-Assertion` header, a short-lived token the bank's own systems signed
(security.assertions, the one a custodial claim carries), so it reaches neither URLs nor access logs."""
from __future__ import annotations

from flask import current_app, g, request
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from ..access.permissions import public
from ..db import get_db
from ..inputs import UINT256_MAX
from ..minting import holdings
from ..security import assertions
from ..services import get_services
from .idempotency import idempotent
from .openapi import UTCDateTime, add_parameter, errors, link
from .schemas import Address, Integer

bp = Blueprint("custody", __name__, url_prefix="/api/custody",
               description="Custodial customers: holdings and withdrawals to their own wallets")
HEADER = "X-Customer-Assertion"


class WithdrawalCreate(Schema):
    collection = Address(required=True, metadata={"description": "the item's collection (drop contract)"})
    token_id = Integer(required=True, validate=validate.Range(1, UINT256_MAX))
    to = Address(required=True, metadata={"description": "the customer's own wallet (EIP-55 checksum checked "
                                                         "when mixed case)"})


class WithdrawalSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "queued, funding (the bank sends the gas), "
                                                                   "sending (transfer signed), done or failed"})
    collection = fields.String(required=True)
    token_id = fields.Integer(required=True)
    from_address = fields.String(required=True, metadata={"description": "the customer's custodial address"})
    to = fields.String(required=True)
    tx_hash = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = UTCDateTime(required=True)
    done_at = UTCDateTime(allow_none=True)
    holder = fields.String(required=True, metadata={"description": "who holds the item as far as this withdrawal "
                                                                   "knows: `to` once done"})


class HoldingSchema(Schema):
    collection = fields.String(required=True)
    token_id = fields.Integer(required=True)
    drop_id = fields.Integer(required=True)
    drop_name = fields.String(required=True)
    drop_slug = fields.String(required=True)
    serial_label = fields.String(required=True)
    transfer_policy = fields.String(required=True)
    transferable = fields.Boolean(required=True, metadata={"description": "whether it can be withdrawn now"})
    unlocks_at = UTCDateTime(allow_none=True, metadata={"description": "holding-period drops: when it may move"})
    image_url = fields.String(required=True)
    verify_url = fields.String(required=True)
    withdrawal = fields.Nested(WithdrawalSchema, allow_none=True, metadata={"description": "the latest one"})


class HoldingsSchema(Schema):
    address = fields.String(allow_none=True, metadata={"description": "the customer's custodial address"})
    items = fields.List(fields.Nested(HoldingSchema), required=True)


def _customer() -> str:
    token = request.headers.get(HEADER)
    if not token:
        abort(422, message=f"the {HEADER} header is required: open this page from the bank's app",
              errors={"headers": {HEADER: ["Missing data for required field."]}})
    try:
        return assertions.verify(token, assertions.key_for(current_app))
    except assertions.AssertionRefused as exc:
        abort(exc.status, message=str(exc), errors={"headers": {HEADER: [str(exc)]}})


def _assertion_header(view):
    add_parameter(view, {"in": "header", "name": HEADER, "required": True, "schema": {"type": "string"},
                         "description": "the customer assertion the bank's systems signed (as for custodial "
                                        "claims): base64url(payload).base64url(HMAC-SHA256)"})
    return view


def _refused(exc: holdings.WithdrawalRefused):
    field = {"json": {exc.field: [str(exc)]}} if exc.field else None
    abort(exc.status, message=str(exc), **({"errors": field} if field else {}))


@bp.route("/holdings")
@public
@_assertion_header
@errors(403, 422)
@bp.response(200, HoldingsSchema)
def holdings_of_customer():
    """The items the bank holds for the customer, with whether each can be withdrawn now."""
    return holdings.holdings(get_db(), _customer())


@bp.route("/withdrawals", methods=["POST"])
@public
@idempotent()
@_assertion_header
@errors(403, 404, 409, 503)  # 409: soulbound, holding period, paused or already on its way
@link(202, "withdrawal", "/api/custody/withdrawals/{withdrawal_id}", withdrawal_id="$response.body#/id")
@bp.arguments(WithdrawalCreate)
@bp.response(202, WithdrawalSchema)
def create_withdrawal(data):
    """Withdraw an item the bank holds for the customer to their own wallet: the bank pays the gas and signs the
    transfer with the custody key. Poll `/api/custody/withdrawals/<id>` until `status` is `done` or `failed`."""
    customer_id = _customer()
    try:
        result, _ = holdings.request(get_db(), get_services().handles, customer_id, data["collection"],
                                     data["token_id"], data["to"], getattr(g, "request_ref", None))
    except holdings.WithdrawalRefused as exc:
        _refused(exc)
    return result


@bp.route("/withdrawals/<int:withdrawal_id>")
@public
@_assertion_header
@errors(403, 404, 422)
@bp.response(200, WithdrawalSchema)
def withdrawal(withdrawal_id):
    """A withdrawal's progress (only the customer who asked for it sees it)."""
    result = holdings.status(get_db(), _customer(), withdrawal_id)
    if result is None:
        abort(404, message=f"no withdrawal {withdrawal_id} of yours",
              errors={"path": {"withdrawal_id": ["Unknown withdrawal."]}})
    return result
