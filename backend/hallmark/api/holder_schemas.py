"""Public answers about held tokens: proof of holding and wallet lookup (api/verify.py), token metadata
(api/art.py). Bodies the views build themselves (plain dicts): documented with openapi.answers, never dumped
through these schemas."""
from __future__ import annotations

from marshmallow import Schema, fields

from .openapi import UTCDateTime


class ChallengeSchema(Schema):
    message = fields.String(required=True, metadata={"description": "the EIP-4361 message to sign"})
    nonce = fields.String(required=True)
    expires_at = UTCDateTime(required=True)


class ProofSchema(Schema):
    proven = fields.Boolean(required=True)
    holder = fields.String(required=True)
    collection = fields.String(required=True)
    token_id = fields.Integer(required=True)
    checked_at = UTCDateTime(required=True)


class WalletItemSchema(Schema):
    collection = fields.String(required=True)
    token_id = fields.Integer(required=True)
    drop = fields.String(required=True, allow_none=True)
    drop_slug = fields.String(required=True, allow_none=True)
    serial_label = fields.String(required=True)
    image_url = fields.String(required=True, allow_none=True)
    verify_url = fields.String(required=True, allow_none=True)
    acquired_at = UTCDateTime(required=True)
    locked = fields.Boolean(required=True)
    redeemed = fields.Boolean(required=True)


class WalletPageSchema(Schema):
    address = fields.String(required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    items = fields.List(fields.Nested(WalletItemSchema), required=True)
    next = fields.String(required=True, allow_none=True, metadata={"description": (
        "a cursor for the next page (pass it as `after`), null on the last page")})



class TraitSchema(Schema):
    trait_type = fields.String(required=True)
    value = fields.Raw(required=True, metadata={"description": "a string or a number"})
    display_type = fields.String()
    max_value = fields.Integer()


class MetadataSchema(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)
    image = fields.String(required=True)
    external_url = fields.String(required=True)
    attributes = fields.List(fields.Nested(TraitSchema), required=True)
