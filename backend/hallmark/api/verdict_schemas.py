"""The verify answer's schema (the verdict vocabulary, its words in Chinese and English, and the item's facts):
built by verify/verdict.py and cached as JSON bytes, so documented with openapi.answers, never dumped through."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..verify.vocabulary import REASONS, VERDICTS
from .openapi import UTCDateTime


class WordsSchema(Schema):
    zh = fields.String(required=True)
    en = fields.String(required=True)


class HeadlineSchema(Schema):
    title = fields.String(required=True)
    sub = fields.String(required=True, metadata={"description": "the sentence under the title"})


class VerdictTextSchema(Schema):
    zh = fields.Nested(HeadlineSchema, required=True)
    en = fields.Nested(HeadlineSchema, required=True)


class ImitatesSchema(Schema):
    address = fields.String(required=True)
    name = fields.String(required=True)
    symbol = fields.String(required=True, allow_none=True)
    slug = fields.String(allow_none=True, metadata={"description": "null for an official drop made elsewhere"})
    matched_by = fields.String(required=True, validate=validate.OneOf(("name", "symbol")))


class CheckSchema(Schema):
    check = fields.String(required=True, metadata={"description": "registry | lookalike | token | content"})
    ok = fields.Boolean(required=True, allow_none=True, metadata={
        "description": "true: passed; false: speaks against the item being a genuine, existing item; null: could not "
                       "be decided"})
    code = fields.String(required=True, validate=validate.OneOf(REASONS), metadata={
        "description": "the reason in the vocabulary: " + ", ".join(REASONS)})
    params = fields.Dict(required=True, metadata={"description": "what the words name: id, size, name"})
    detail = fields.String(required=True, metadata={"description": "in English, for logs"})
    text = fields.Nested(WordsSchema, required=True, metadata={"description": "the reason in Chinese and English"})


class VerdictCollectionSchema(Schema):
    address = fields.String(required=True)
    official = fields.Boolean(required=True, metadata={"description": "created by the bank's registry"})
    contract = fields.Boolean(required=True, metadata={"description": "there is contract code at the address"})
    name = fields.String(allow_none=True)
    symbol = fields.String(allow_none=True)
    edition_size = fields.Integer()
    created_at = UTCDateTime(allow_none=True)
    content_root = fields.String(allow_none=True)
    paused = fields.Boolean()


class VerdictDropSchema(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    issuer = fields.String(required=True)
    description = fields.String(required=True)


class MintedSchema(Schema):
    tx = fields.String(required=True, allow_none=True)
    block = fields.Integer(required=True, allow_none=True)
    at = UTCDateTime(required=True, allow_none=True)


class TransferSchema(Schema):
    from_ = fields.String(required=True, data_key="from")
    to = fields.String(required=True)
    tx = fields.String(required=True)
    block = fields.Integer(required=True)
    at = UTCDateTime(required=True, allow_none=True)
    kind = fields.String(required=True, metadata={"description": "mint | transfer | burn"})


class PolicySchema(Schema):
    name = fields.String(required=True, metadata={"description": "transferable | soulbound | holding_period"})
    locked = fields.Boolean(required=True)
    holding_period = fields.Integer(metadata={"description": "seconds"})
    unlocks_at = UTCDateTime(allow_none=True)


class ContentProofSchema(Schema):
    root = fields.String(required=True)
    image_sha256 = fields.String(required=True)
    metadata_sha256 = fields.String(required=True)
    proof = fields.List(fields.String(), required=True, metadata={"description": "Merkle proof of the item's leaf"})


class VerdictSchema(Schema):
    verdict = fields.String(required=True, validate=validate.OneOf(VERDICTS), metadata={
        "description": "; ".join(f"`{code}`: {meaning}" for code, meaning in VERDICTS.items())})
    verdict_text = fields.Nested(VerdictTextSchema, required=True, metadata={
        "description": "the verdict as the verify page says it, in Chinese and English"})
    reasons = fields.List(fields.Nested(CheckSchema), required=True)
    collection = fields.Nested(VerdictCollectionSchema, required=True)
    imitates = fields.Nested(ImitatesSchema, metadata={"description": "lookalike: the official drop it imitates"})
    token_id = fields.Integer(required=True)
    serial_label = fields.String(allow_none=True)
    drop = fields.Nested(VerdictDropSchema)
    image_url = fields.String(metadata={"description": "minted items only: unminted art is not public"})
    metadata_url = fields.String(metadata={"description": "minted items only"})
    verify_url = fields.String()
    owner = fields.String(allow_none=True, metadata={"description": "null once burned"})
    burned = fields.Boolean()
    minted = fields.Nested(MintedSchema)
    acquired_at = UTCDateTime(allow_none=True)
    redeemed = fields.Boolean()
    redeemed_at = UTCDateTime(allow_none=True)
    history = fields.List(fields.Nested(TransferSchema))
    policy = fields.Nested(PolicySchema)
    content = fields.Nested(ContentProofSchema)
