"""Schemas of maker-checker approvals, and the documented 202 of a write route that waits for one."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .openapi import UTCDateTime, answers

KINDS = ("drop", "airdrop", "mint", "pause", "resume")
STATUSES = ("pending", "approving", "approved", "rejected", "cancelled")


class MakerSchema(Schema):
    kind = fields.String(required=True, metadata={"description": "staff | key"})
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class ApprovalSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": " | ".join(KINDS)})
    drop_id = fields.Integer(required=True, allow_none=True, metadata={"description": "a drop request: once made"})
    status = fields.String(required=True, metadata={
        "description": "pending (error: the last approve could not be carried out) | approving | approved | "
                       "rejected (see reason) | cancelled"})
    maker = fields.Nested(MakerSchema, required=True)
    checker_name = fields.String(required=True, allow_none=True)
    reason = fields.String(required=True, allow_none=True)
    error = fields.String(required=True, allow_none=True)
    summary = fields.Dict(required=True, metadata={
        "description": "what the checker is shown: a drop's settings; an airdrop's recipients, invalid rows, "
                       "duplicates, sha256, gas estimate and room left; a mint's recipient; a drop's pause state"})
    result = fields.Dict(required=True, allow_none=True, metadata={
        "description": "once approved: drop_id, job_id (airdrop) or item_id (mint)"})
    preview_url = fields.String(required=True, allow_none=True, metadata={"description": "drop requests: serial 1"})
    audit_id = fields.Integer(required=True, allow_none=True, metadata={"description": "the request's audit entry"})
    created_at = UTCDateTime(required=True)
    decided_at = UTCDateTime(required=True, allow_none=True)


class PendingSchema(Schema):
    """A write that waits for a second person: 202 with this body and Location: /api/approvals/<id>."""

    approval = fields.Nested(ApprovalSchema, required=True)


class ApprovalQuerySchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    mine = fields.Boolean(load_default=False, truthy={"true"}, falsy={"false"},
                          metadata={"description": "only the caller's own requests"})


class RejectSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 500))


def or_pending(status: int, schema):
    """Decorator: the route's `status` answer is its usual body, or {"approval": ...} when it waits for approval."""
    return answers(status, {"anyOf": [schema, PendingSchema]},
                   "done (or started) at once; or, when approvals are on, the request waiting for approval "
                   "({\"approval\": {...}}, Location: /api/approvals/<id>)")
