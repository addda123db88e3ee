"""Request and answer bodies of the webhooks API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..inputs import MAX_DB_INT
from ..webhooks.events import TYPES
from .openapi import UTCDateTime


class EndpointCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    url = fields.String(required=True, validate=validate.Length(min=1, max=500),
                        metadata={"description": "http(s); private addresses only with HALLMARK_WEBHOOK_ALLOW_PRIVATE=1"})
    events = fields.List(fields.String(validate=validate.OneOf(list(TYPES))), required=True,
                         validate=validate.Length(min=1, max=len(TYPES)))
    drop_ids = fields.List(fields.Integer(validate=validate.Range(min=1, max=MAX_DB_INT)), load_default=None,
                           validate=validate.Length(min=1, max=100),
                           metadata={"description": "only these drops' events; omit for every drop"})


class EndpointSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    drop_ids = fields.List(fields.Integer(), required=True, allow_none=True)
    created_at = UTCDateTime(required=True)
    disabled_at = UTCDateTime(required=True, allow_none=True)
    pending = fields.Integer(required=True)
    delivered = fields.Integer(required=True)
    failed = fields.Integer(required=True)


class EndpointCreatedSchema(EndpointSchema):
    secret = fields.String(required=True, metadata={"description": "the signing secret: shown in this answer only"})


class SecretSchema(Schema):
    id = fields.Integer(required=True)
    secret = fields.String(required=True, metadata={"description": "the new signing secret: shown this once"})


class AttemptSchema(Schema):
    at = UTCDateTime(required=True)
    status_code = fields.Integer(required=True, allow_none=True)
    error = fields.String(required=True, allow_none=True)
    duration_ms = fields.Integer(required=True)


class DeliverySchema(Schema):
    id = fields.Integer(required=True)
    endpoint_id = fields.Integer(required=True)
    event_id = fields.String(required=True, metadata={"description": "Hallmark-Event-Id: the same on every try"})
    type = fields.String(required=True)
    drop_id = fields.Integer(required=True, allow_none=True)
    status = fields.String(required=True, metadata={"description": "pending, delivered or failed"})
    attempts = fields.Integer(required=True, metadata={"description": "tries since it was (re)queued"})
    next_attempt_at = UTCDateTime(required=True, allow_none=True)
    delivered_at = UTCDateTime(required=True, allow_none=True)
    created_at = UTCDateTime(required=True)
    log = fields.List(fields.Nested(AttemptSchema), required=True, metadata={"description": "every try, oldest first"})


class EventTypeSchema(Schema):
    type = fields.String(required=True)
    description = fields.String(required=True)
