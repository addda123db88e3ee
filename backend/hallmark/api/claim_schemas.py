"""Schemas of claim codes, claims and custodial wallets (api/claims.py)."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from .openapi import UTCDateTime
from .schemas import Address, FullMatch, Integer, PlainText

ZERO_ADDRESS = "0x" + "0" * 40


class ClaimCodesRequestSchema(Schema):
    count = Integer(required=True, validate=validate.Range(1, 10_000))


class ClaimCodesQuerySchema(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")),
                           metadata={"description": "csv: text/csv with the header code,claim_url"})


class ClaimCodesSchema(Schema):
    batch = fields.String(required=True)
    count = fields.Integer(required=True)
    codes = fields.List(fields.String(), required=True, metadata={
        "description": "shown only in this response: stored hashed"})


CUSTOMER_ID = [FullMatch(r"^\S{1,64}$", error="1-64 characters without spaces."), PlainText()]


class ClaimCreateSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(1, 64))
    # the zero address would revert the whole `airdrop` batch, failing the other claims that share it
    wallet = Address(load_default=None, validate=validate.NoneOf([ZERO_ADDRESS], error="Cannot hold a token."),
                     metadata={"description": "the claimant's own wallet"})
    customer_assertion = fields.String(load_default=None, validate=validate.Length(1, 2048), metadata={
        "description": "instead of a wallet (the bank then keeps the item): a token the bank's own systems signed "
                       "for the customer, `base64url(payload).base64url(HMAC-SHA256)` with the payload "
                       "{sub: customer id, iat, exp (at most 10 minutes later), aud: \"hallmark-claim\"}"})

    @pre_load
    def _no_bare_customer_id(self, data, **kwargs):
        if isinstance(data, dict) and "customer_id" in data:
            raise ValidationError({"customer_id": ["Not accepted: send customer_assertion, a token the bank's "
                                                   "systems signed for the customer."]})
        return data

    @validates_schema
    def _one_recipient(self, data, **kwargs):
        if (data["wallet"] is None) == (data["customer_assertion"] is None):
            message = "Give exactly one of wallet and customer_assertion."
            raise ValidationError({"wallet": [message], "customer_assertion": [message]})


class ClaimSchema(Schema):
    claim_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "queued | sending | minted | failed"})
    drop_id = fields.Integer(required=True)
    drop_slug = fields.String(required=True)
    contract_address = fields.String(required=True)
    wallet = fields.String(required=True, metadata={"description": "the claimant's, or the custodial address"})
    custodial = fields.Boolean(required=True)
    token_id = fields.Integer(required=True, allow_none=True)
    tx_hash = fields.String(required=True, allow_none=True)
    verify_url = fields.String(required=True, allow_none=True)
    error = fields.String(required=True, allow_none=True)
    created_at = UTCDateTime(required=True)


class CustodialQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    customer_id = fields.String(load_default=None, validate=CUSTOMER_ID)


class HeldTokensSchema(Schema):
    drop_id = fields.Integer(required=True)
    slug = fields.String(required=True)
    contract_address = fields.String(required=True)
    token_ids = fields.List(fields.Integer(), required=True)


class CustodialAccountSchema(Schema):
    customer_id = fields.String(required=True)
    address = fields.String(required=True)
    created_at = UTCDateTime(required=True)
    tokens = fields.List(fields.Nested(HeldTokensSchema), required=True)


class CustodialPageSchema(Schema):
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    items = fields.List(fields.Nested(CustodialAccountSchema), required=True)
