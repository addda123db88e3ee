"""Answers of the operations views: drop activity (api/stats.py) and health (api/health.py).
Bodies the views build themselves (plain dicts): documented with openapi.answers, never dumped through these
schemas."""
from __future__ import annotations

from marshmallow import Schema, fields

from .openapi import UTCDateTime


class ActivityBucketSchema(Schema):
    t = UTCDateTime(required=True, metadata={"description": "the bucket's start"})
    airdrop = fields.Integer(required=True)
    single = fields.Integer(required=True)
    claim = fields.Integer(required=True)
    redeemed = fields.Integer(required=True)


class ActivityTotalsSchema(Schema):
    minted = fields.Integer(required=True)
    redeemed = fields.Integer(required=True)
    airdrop = fields.Integer(required=True)
    single = fields.Integer(required=True)
    claim = fields.Integer(required=True)


class ActivitySchema(Schema):
    bucket_seconds = fields.Integer(required=True)
    series = fields.List(fields.Nested(ActivityBucketSchema), required=True)
    totals = fields.Nested(ActivityTotalsSchema, required=True)
    redemption_rate = fields.Float(required=True, metadata={"description": "redeemed / minted"})


class ProcessHealthSchema(Schema):
    alive = fields.Boolean(required=True)
    standby = fields.Integer(required=True)
    last_beat = UTCDateTime(required=True, allow_none=True)
    last_progress = UTCDateTime(required=True, allow_none=True)
    problem = fields.String(required=True, allow_none=True)
    stalled = fields.Boolean(required=True)
    queued_items = fields.Integer(metadata={"description": "worker"})
    oldest_queued_seconds = fields.Float(allow_none=True, metadata={"description": "worker"})
    indexed_block = fields.Integer(allow_none=True, metadata={"description": "indexer"})
    blocks_behind = fields.Integer(allow_none=True, metadata={"description": "indexer"})


class ProcessesHealthSchema(Schema):
    ok = fields.Boolean(required=True)
    worker = fields.Nested(ProcessHealthSchema, required=True)
    indexer = fields.Nested(ProcessHealthSchema, required=True)


class HealthSchema(Schema):
    ok = fields.Boolean(required=True)
    rpc_url = fields.String(metadata={"description": "the node this process reads"})
    chain_id = fields.Integer(required=True, allow_none=True)
    block_number = fields.Integer(required=True, allow_none=True)
    registry = fields.String(required=True, allow_none=True)
    error = fields.String(metadata={"description": "why the chain side is not ok"})
    drops = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "the deployment record's drops: name -> address"})
    processes = fields.Nested(ProcessesHealthSchema, required=True)
