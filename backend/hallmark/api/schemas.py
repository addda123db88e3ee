"""Request and response schemas: one declaration validates requests and documents them in /openapi.json."""
from __future__ import annotations

import base64
import binascii
from datetime import timezone

from eth_utils import is_address, to_checksum_address
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from ..art.content import POLICY_NAMES

MAX_BASE_IMAGE = 5 * 1024 * 1024


class Address(fields.String):
    """An Ethereum address, returned checksummed."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if not is_address(value):
            raise ValidationError("Not a valid Ethereum address.")
        if int(value, 16) == 0:
            raise ValidationError("The zero address cannot hold tokens.")
        return to_checksum_address(value)


class Base64Image(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        try:
            raw = base64.b64decode(value.split(",", 1)[-1], validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("Not valid base64 image data.") from None
        if len(raw) > MAX_BASE_IMAGE:
            raise ValidationError(f"Image larger than {MAX_BASE_IMAGE // (1024 * 1024)} MB.")
        return raw


class DropCreateSchema(Schema):
    slug = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{2,63}$", error=(
        "3-64 characters: lower-case letters, digits and dashes.")))
    name = fields.String(required=True, validate=validate.Length(1, 100))
    symbol = fields.String(required=True, validate=validate.Regexp(r"^[A-Z0-9]{1,16}$", error=(
        "1-16 upper-case letters or digits.")))
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    issuer_name = fields.String(load_default="Demo Bank", validate=validate.Length(1, 100))
    edition_size = fields.Integer(required=True, validate=validate.Range(1, 100_000))
    transfer_policy = fields.String(load_default="transferable", validate=validate.OneOf(POLICY_NAMES))
    holding_period_days = fields.Float(load_default=0, validate=validate.Range(0, 3650))
    royalty_bps = fields.Integer(load_default=0, validate=validate.Range(0, 10_000))
    artwork = fields.String(load_default="fuhu", validate=validate.OneOf(("fuhu", "image")))
    base_image = Base64Image(load_default=None, metadata={"description": "base64 PNG/JPEG when artwork is 'image'"})
    seed = fields.String(load_default="", validate=validate.Length(max=64))
    claim_start = fields.AwareDateTime(load_default=None)
    claim_end = fields.AwareDateTime(load_default=None)
    per_wallet_limit = fields.Integer(load_default=1, validate=validate.Range(1, 1000))

    @validates_schema
    def _consistent(self, data, **kwargs):
        if data["transfer_policy"] == "holding_period" and not data["holding_period_days"]:
            raise ValidationError("Required (above 0) for a holding_period drop.", "holding_period_days")
        if data["transfer_policy"] != "holding_period" and data["holding_period_days"]:
            raise ValidationError("Only for a holding_period drop.", "holding_period_days")
        if data["artwork"] == "image" and not data.get("base_image"):
            raise ValidationError("Required when artwork is 'image'.", "base_image")
        if data.get("claim_start") and data.get("claim_end") and data["claim_end"] <= data["claim_start"]:
            raise ValidationError("Must be after claim_start.", "claim_end")

    @post_load
    def _to_model_fields(self, data, **kwargs):
        data["holding_period"] = int(data.pop("holding_period_days") * 86400)
        for key in ("claim_start", "claim_end"):
            if data.get(key):  # stored as naive UTC
                data[key] = data[key].astimezone(timezone.utc).replace(tzinfo=None)
        data["seed"] = data["seed"] or data["slug"]
        return data


class DropSchema(Schema):
    id = fields.Integer()
    slug = fields.String()
    name = fields.String()
    symbol = fields.String()
    description = fields.String()
    issuer_name = fields.String()
    edition_size = fields.Integer()
    transfer_policy = fields.String()
    holding_period = fields.Integer(metadata={"description": "seconds"})
    royalty_bps = fields.Integer()
    artwork = fields.String()
    claim_start = fields.DateTime()
    claim_end = fields.DateTime()
    per_wallet_limit = fields.Integer()
    contract_address = fields.String()
    content_root = fields.String()
    status = fields.String(metadata={"description": "rendering | deploying | live | failed"})
    rendered = fields.Integer(metadata={"description": "items rendered and hashed so far"})
    paused = fields.Boolean()
    error = fields.String()
    created_at = fields.DateTime()
    minted = fields.Integer()
    holders = fields.Integer()
    queued = fields.Integer()
    pause_wanted = fields.Boolean(allow_none=True, metadata={"description": "a pause/resume on its way to the chain"})
    chain_problem = fields.String(allow_none=True, metadata={
        "description": "why queued work is not being sent now (node unreachable, chain replaced, no worker)"})


class MintSchema(Schema):
    to = Address(required=True)


class MintResultSchema(Schema):
    item_id = fields.Integer()
    status = fields.String()
    token_id = fields.Integer(allow_none=True)
    tx_hash = fields.String(allow_none=True)
    error = fields.String(allow_none=True)


class AirdropSchema(Schema):
    recipients = fields.List(fields.String(), required=True, validate=validate.Length(1, 100_000))


class AirdropQuerySchema(Schema):
    dry_run = fields.Boolean(load_default=False)


class JobSchema(Schema):
    id = fields.Integer()
    drop_id = fields.Integer()
    total = fields.Integer()
    done = fields.Integer()
    failed = fields.Integer()
    queued = fields.Integer()
    status = fields.String()
    tokens_per_second = fields.Float()
    failures = fields.List(fields.Dict())
    transactions = fields.List(fields.Dict())
    created_at = fields.String()
    blocked = fields.String(allow_none=True, metadata={
        "description": "why the job's queued items are not being sent now (node unreachable, chain replaced)"})


class RowReportSchema(Schema):
    valid = fields.Integer()
    invalid = fields.List(fields.Dict())


ZERO_ADDRESS = "0x" + "0" * 40


class ClaimCodesRequestSchema(Schema):
    count = fields.Integer(required=True, validate=validate.Range(1, 10_000))


class ClaimCodesQuerySchema(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")),
                           metadata={"description": "csv: text/csv with the header code,claim_url"})


class ClaimCodesSchema(Schema):
    batch = fields.String()
    count = fields.Integer()
    codes = fields.List(fields.String(), metadata={"description": "shown only in this response: stored hashed"})


class ClaimCreateSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(1, 64))
    # the zero address would revert the whole `airdrop` batch, failing the other claims that share it
    wallet = Address(load_default=None, validate=validate.NoneOf([ZERO_ADDRESS], error="Cannot hold a token."),
                     metadata={"description": "the claimant's own wallet"})
    customer_id = fields.String(load_default=None, validate=validate.Regexp(r"^\S{1,64}$", error=(
        "1-64 characters without spaces.")), metadata={"description": "instead of a wallet: the bank keeps the item"})

    @validates_schema
    def _one_recipient(self, data, **kwargs):
        if (data["wallet"] is None) == (data["customer_id"] is None):
            message = "Give exactly one of wallet and customer_id."
            raise ValidationError({"wallet": [message], "customer_id": [message]})


class ClaimSchema(Schema):
    claim_id = fields.String()
    status = fields.String(metadata={"description": "queued | sending | minted | failed"})
    drop_id = fields.Integer()
    drop_slug = fields.String()
    contract_address = fields.String()
    wallet = fields.String()
    custodial = fields.Boolean()
    token_id = fields.Integer(allow_none=True)
    tx_hash = fields.String(allow_none=True)
    verify_url = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()


class CustodialQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    customer_id = fields.String(load_default=None)


class HeldTokensSchema(Schema):
    drop_id = fields.Integer()
    slug = fields.String()
    contract_address = fields.String()
    token_ids = fields.List(fields.Integer())


class CustodialAccountSchema(Schema):
    customer_id = fields.String()
    address = fields.String()
    created_at = fields.DateTime()
    tokens = fields.List(fields.Nested(HeldTokensSchema))


class CustodialPageSchema(Schema):
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    items = fields.List(fields.Nested(CustodialAccountSchema))
