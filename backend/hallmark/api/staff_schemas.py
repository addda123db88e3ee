"""Schemas of sign-in, the signed-in account, staff accounts and API keys (api/staff.py)."""
from __future__ import annotations

from datetime import timezone

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from ..access.accounts import PASSWORD_MAX
from ..access.permissions import KEY_SCOPES, PERMISSIONS, ROLES
from .openapi import UTCDateTime
from .schemas import Integer, PlainText

ROLE = validate.OneOf(list(ROLES))
SECRET = {"load_only": True, "validate": validate.Length(max=PASSWORD_MAX)}


class SignInSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, **SECRET)
    totp = fields.String(load_default=None, validate=validate.Length(max=10),
                         metadata={"description": "the authenticator's code, when the account has one"})


class MeSchema(Schema):
    kind = fields.String(required=True, metadata={"description": "staff (a console session) or key"})
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True)
    permissions = fields.List(fields.String(), required=True)
    second_factor = fields.Boolean(required=True, metadata={"description": "this session gave a TOTP code"})
    totp = fields.Boolean(required=True, metadata={"description": "the account has a second factor enrolled"})
    csrf = fields.String(required=True, allow_none=True,
                         metadata={"description": "send as X-CSRF-Token with every write of this session"})


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, **SECRET)
    new_password = fields.String(required=True, **SECRET)


class TotpStartSchema(Schema):
    secret = fields.String(required=True, metadata={"description": "shown this once"})
    uri = fields.String(required=True, metadata={"description": "otpauth:// URI for authenticator apps"})
    qr_svg = fields.String(required=True, metadata={"description": "the URI as an SVG QR code"})


class TotpConfirmSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=10))


class StaffSchema(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True)
    totp = fields.Boolean(required=True)
    disabled = fields.Boolean(required=True)
    locked_until = UTCDateTime(required=True, allow_none=True)
    failed_logins = fields.Integer(required=True)
    created_at = UTCDateTime(required=True)
    last_login_at = UTCDateTime(required=True, allow_none=True)


class StaffCreatedSchema(StaffSchema):
    password = fields.String(required=True, metadata={"description": "the initial password, shown this once"})


class StaffCreateSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    role = fields.String(required=True, validate=ROLE)
    display_name = fields.String(load_default="", validate=[validate.Length(max=100), PlainText()])


class StaffChangeSchema(Schema):
    role = fields.String(validate=ROLE)
    disabled = fields.Boolean()
    unlock = fields.Boolean(metadata={"description": "true: clear failed sign-ins and the lock"})
    reset_totp = fields.Boolean(metadata={"description": "true: remove the second factor (a lost phone)"})

    @validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one of role, disabled, unlock, reset_totp", "_schema")


class KeySchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True, metadata={"description": "the key's first characters"})
    role = fields.String(required=True)
    scopes = fields.List(fields.String(), required=True)
    drop_ids = fields.List(fields.Integer(), required=True, allow_none=True, metadata={"description": "null: all"})
    created_at = UTCDateTime(required=True)
    expires_at = UTCDateTime(required=True, allow_none=True)
    last_used_at = UTCDateTime(required=True, allow_none=True)
    revoked_at = UTCDateTime(required=True, allow_none=True)


class KeyCreatedSchema(KeySchema):
    key = fields.String(required=True, metadata={"description": "the key, shown this once"})


class KeyCreateSchema(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), PlainText()])
    role = fields.String(load_default=None, validate=ROLE, metadata={"description": "scopes from this role"})
    scopes = fields.List(fields.String(validate=validate.OneOf(KEY_SCOPES)), load_default=None,
                         validate=validate.Length(min=1, max=len(PERMISSIONS)))
    drop_ids = fields.List(Integer(validate=validate.Range(min=1, max=2**31 - 1)), load_default=None,
                           validate=validate.Length(min=1, max=1000))
    expires_at = fields.AwareDateTime(load_default=None)

    @validates_schema
    def _role_or_scopes(self, data, **kwargs):
        if (data.get("role") is None) == (data.get("scopes") is None):
            raise ValidationError("give either a role or scopes", "scopes")

    @post_load
    def _naive_utc(self, data, **kwargs):
        if data["expires_at"] is not None:  # stored as naive UTC
            data["expires_at"] = data["expires_at"].astimezone(timezone.utc).replace(tzinfo=None)
        data["name"] = data["name"].strip()
        return data
