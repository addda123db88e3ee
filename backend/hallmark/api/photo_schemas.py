"""Answers of the checks that read a picture or a link: the image check by perceptual hash, the verify-by-code
answer and the image check of a picture whose QR code names an item."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .verdict_schemas import VerdictSchema


# Bodies the views build themselves (verdicts cached as JSON bytes, plain dicts): documented with openapi.answers,
# never dumped through these schemas.
class ImageAlternativeSchema(Schema):
    collection = fields.String(required=True)
    token_id = fields.Integer(required=True)


class ImageMatchSchema(Schema):
    match = fields.String(required=True, validate=validate.OneOf(("exact", "near", "none")))
    detail = fields.String(required=True)
    collection = fields.String()
    token_id = fields.Integer()
    distance = fields.Integer(metadata={"description": "differing bits of the card's perceptual hash"})
    alternatives = fields.List(fields.Nested(ImageAlternativeSchema))
    item = fields.Nested(VerdictSchema, metadata={"description": "the matched item's verdict"})


class LinkWarningSchema(Schema):
    warning = fields.String(required=True, validate=validate.OneOf(("foreign_host",)), metadata={
        "description": "foreign_host: the link's host is not the bank's verify address: possible phishing, even "
                       "when the contract and serial it names are official"})
    host = fields.String(required=True, metadata={"description": "the host the link points to"})
    expected_host = fields.String(required=True, metadata={"description": "the bank's verify host"})
    detail = fields.String(required=True)


WARNINGS = {"description": "problems with the link itself, apart from the item's verdict; empty or absent: none"}


class CodeVerdictSchema(VerdictSchema):
    warnings = fields.List(fields.Nested(LinkWarningSchema), metadata=WARNINGS)


class QrSchema(Schema):
    text = fields.String(required=True, metadata={"description": "what the QR code in the picture says"})


class PhotoDropSchema(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)


class PhotoMatchSchema(ImageMatchSchema):
    match = fields.String(required=True, validate=validate.OneOf(("exact", "qr", "near", "none")), metadata={
        "description": "exact: the genuine file; qr: the card's QR code names the item (see picture); near: looks "
                       "like an item (no readable QR code); none"})
    qr = fields.Nested(QrSchema)
    picture = fields.String(validate=validate.OneOf(("matches", "differs")), metadata={
        "description": "the card in the picture against the genuine card of the item its QR code names; absent "
                       "when the item is not the bank's"})
    difference = fields.Float(metadata={"description": "the largest mean block difference (0-255)"})
    difference_at = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "x, y: where in the card (its own pixels) the picture differs most"})
    drop = fields.Nested(PhotoDropSchema)
    serial_label = fields.String()
    warnings = fields.List(fields.Nested(LinkWarningSchema), metadata=WARNINGS)
