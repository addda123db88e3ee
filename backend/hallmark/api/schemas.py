"""Request and response schemas: one declaration validates requests and documents them in /openapi.json.

Here: the field types every schema module shares, and drops, minting and airdrops (api/drops.py). Beside it:
claim_schemas (claims, custody), holder_schemas (wallets, proofs, metadata), ops_schemas (activity, health),
photo_, verdict_, staff_, approval_ and webhook_schemas."""
from __future__ import annotations

import base64
import binascii
from datetime import timezone

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from ..art.cardfont import LANGUAGES
from ..art.content import POLICY_NAMES
from ..inputs import AddressError, checked_address, hidden_character
from .cardtext import CardGlyphs
from .openapi import UTCDateTime

MAX_BASE_IMAGE = 5 * 1024 * 1024


class Address(fields.String):
    """An Ethereum address, returned checksummed: all-lowercase, all-uppercase or with a matching EIP-55 checksum."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        try:
            value = checked_address(value)
        except AddressError as exc:
            raise ValidationError(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
        if int(value, 16) == 0:
            raise ValidationError("The zero address cannot hold tokens.")
        return value


class FullMatch(validate.Regexp):
    """validate.Regexp on the whole value: its re.match lets `$` match before a final line break ("FUHU\n")."""

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class Integer(fields.Integer):
    """A JSON integer: "5" and 5.5 are refused, not read as 5."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)


class Number(fields.Float):
    """A JSON number: "5" is refused, not read as 5."""

    def _validated(self, value):
        if isinstance(value, str):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class PlainText(validate.Validator):
    """Text that shows what it is: no control characters and no invisible or direction-changing ones (a U+202E
    would make a name read backwards on a card or a verify page)."""

    def __init__(self, allow: str = ""):
        self.allow = allow  # e.g. line breaks in a description

    def __call__(self, value: str) -> str:
        if (found := hidden_character(value, self.allow)) is not None:
            raise ValidationError(f"Must not contain control, invisible or bidirectional characters ({found}).")
        return value


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
    slug = fields.String(required=True, validate=FullMatch(r"^[a-z0-9][a-z0-9-]{2,63}$", error=(
        "3-64 characters: lower-case letters, digits and dashes.")))
    name = fields.String(required=True, validate=[validate.Length(1, 100), PlainText(), CardGlyphs()])
    symbol = fields.String(required=True, validate=FullMatch(r"^[A-Z0-9]{1,16}$", error=(
        "1-16 upper-case letters or digits.")))
    description = fields.String(load_default="", validate=[
        validate.Length(max=2000), PlainText(allow="\n\t"), CardGlyphs()])
    issuer_name = fields.String(load_default="Demo Bank", validate=[validate.Length(1, 100), PlainText(), CardGlyphs()])
    language = fields.String(load_default="zh", validate=validate.OneOf(LANGUAGES),
                             metadata={"description": "of the card labels: zh (default) or en"})
    edition_size = Integer(required=True, validate=validate.Range(1, 100_000))
    transfer_policy = fields.String(load_default="transferable", validate=validate.OneOf(POLICY_NAMES))
    holding_period_days = Number(load_default=0, validate=validate.Range(0, 3650))
    royalty_bps = Integer(load_default=0, validate=validate.Range(0, 10_000))
    artwork = fields.String(load_default="fuhu", validate=validate.OneOf(("fuhu", "image")))
    base_image = Base64Image(load_default=None, metadata={"description": "base64 PNG/JPEG when artwork is 'image'"})
    seed = fields.String(load_default="", validate=[validate.Length(max=64), PlainText()])
    claim_start = fields.AwareDateTime(load_default=None)
    claim_end = fields.AwareDateTime(load_default=None)
    per_wallet_limit = Integer(load_default=1, validate=validate.Range(1, 1000))

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


# Response schemas: `required` = always present, `allow_none` = may be null (so /openapi.json says exactly that)
class DropSchema(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    symbol = fields.String(required=True)
    description = fields.String(required=True)
    issuer_name = fields.String(required=True)
    edition_size = fields.Integer(required=True)
    transfer_policy = fields.String(required=True)
    holding_period = fields.Integer(required=True, metadata={"description": "seconds"})
    royalty_bps = fields.Integer(required=True)
    artwork = fields.String(required=True)
    language = fields.String(required=True, metadata={"description": "of the card labels: zh | en"})
    render_version = fields.Integer(required=True, metadata={
        "description": "card renderer: 1 for drops made before Chinese cards, 2 since, 3 (the same card, drawn "
                       "faster) for new drops"})
    claim_start = UTCDateTime(required=True, allow_none=True)
    claim_end = UTCDateTime(required=True, allow_none=True)
    per_wallet_limit = fields.Integer(required=True)
    contract_address = fields.String(required=True, metadata={"description": "predicted when the drop is created"})
    content_root = fields.String(required=True, allow_none=True, metadata={"description": "once rendered"})
    status = fields.String(required=True, metadata={"description": "rendering | deploying | live | failed"})
    rendered = fields.Integer(required=True, metadata={"description": "items rendered and hashed so far"})
    paused = fields.Boolean(required=True)
    error = fields.String(required=True, allow_none=True)
    created_at = UTCDateTime(required=True)
    minted = fields.Integer(required=True)
    holders = fields.Integer(required=True)
    queued = fields.Integer(required=True)
    pause_wanted = fields.Boolean(required=True, allow_none=True, metadata={
        "description": "a pause/resume on its way to the chain"})
    chain_problem = fields.String(required=True, allow_none=True, metadata={
        "description": "why queued work is not being sent now (node unreachable, chain replaced, no worker)"})


class MintSchema(Schema):
    to = Address(required=True)


class MintResultSchema(Schema):
    item_id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "queued | sending | minted | failed"})
    token_id = fields.Integer(required=True, allow_none=True)
    tx_hash = fields.String(required=True, allow_none=True)
    error = fields.String(required=True, allow_none=True)


class Strings(fields.List):
    """A list of strings: one made of strings only is taken as it is (marshmallow's item by item pass took 0.1 s
    for 10,000 recipients), any other gets marshmallow's checks and errors per item."""

    def __init__(self, **kwargs):
        super().__init__(fields.String(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, list) and all(type(item) is str for item in value):
            return value
        return super()._deserialize(value, attr, data, **kwargs)


class AirdropSchema(Schema):
    recipients = Strings(required=True, validate=validate.Length(1, 100_000))


class AirdropQuerySchema(Schema):
    dry_run = fields.Boolean(load_default=False, truthy={"true"}, falsy={"false"})  # not "yes", "on", "1"...


class RowFailureSchema(Schema):
    row = fields.Integer(required=True, allow_none=True, metadata={"description": "CSV line or list position"})
    address = fields.String(required=True, allow_none=True, metadata={"description": "the row as given"})
    reason = fields.String(required=True, allow_none=True)


class JobTransactionSchema(Schema):
    hash = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "pending | mined | reverted | replaced"})
    gas_used = fields.Integer(required=True, allow_none=True)


class JobSchema(Schema):
    id = fields.Integer(required=True)
    drop_id = fields.Integer(required=True)
    total = fields.Integer(required=True)
    done = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    queued = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "running | finished"})
    tokens_per_second = fields.Float(required=True)
    failures = fields.List(fields.Nested(RowFailureSchema), required=True, metadata={
        "description": "the first 1000 failed rows"})
    transactions = fields.List(fields.Nested(JobTransactionSchema), required=True)
    created_at = UTCDateTime(required=True)
    blocked = fields.String(allow_none=True, metadata={
        "description": "while running: why the job's queued items are not being sent now (node unreachable, "
                       "chain replaced)"})


class InvalidRowSchema(Schema):
    row = fields.Integer(required=True, metadata={"description": "CSV line or list position"})
    value = fields.String(required=True, metadata={"description": "the row as given (first 100 characters)"})
    reason = fields.String(required=True)


class RowReportSchema(Schema):
    valid = fields.Integer(required=True)
    invalid = fields.List(fields.Nested(InvalidRowSchema), required=True)
