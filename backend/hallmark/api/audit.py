"""The audit trail for auditors and admins: search it, export it as CSV, check its hash chain, and see the chain
transactions an entry caused."""
from __future__ import annotations

import csv
import io
import json
from datetime import timezone

from flask import Response, stream_with_context
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import or_, select

from ..access import audit
from ..access.models import AuditEntry
from ..access.permissions import requires
from ..db import get_db
from ..models import AirdropJob, ChainTx, Drop, MintItem
from .openapi import UTCDateTime, answers, errors

bp = Blueprint("audit", __name__, url_prefix="/api", description="The audit trail (auditors, admins)")
BOM = "\ufeff"  # Excel reads UTF-8 as the local code page without it: Chinese names would be garbled
CSV_COLUMNS = ("seq", "at", "actor_kind", "actor_id", "actor_name", "role", "action", "object_type", "object_id",
               "before", "after", "request_id", "client", "prev_hash", "entry_hash")
EXPORT_PAGE = 1000


class AuditQuerySchema(Schema):
    actor = fields.String(validate=validate.Length(max=100), metadata={"description": "the actor's name"})
    action = fields.String(validate=validate.Length(max=40),
                           metadata={"description": "an action (drop.live), or its start (drop: every drop.*)"})
    object_type = fields.String(validate=validate.Length(max=20))
    object_id = fields.String(validate=validate.Length(max=80))
    since = fields.AwareDateTime(metadata={"description": "from this time on (ISO 8601 with its zone)"})
    until = fields.AwareDateTime(metadata={"description": "before this time"})

    @validates_schema
    def _period(self, data, **_):
        if "since" in data and "until" in data and data["since"] >= data["until"]:
            raise ValidationError("must be after since", "until")


class AuditPageQuerySchema(AuditQuerySchema):
    before = fields.Integer(validate=validate.Range(min=1), metadata={
        "description": "the cursor: entries numbered below this (the previous page's `next`)"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class AuditEntrySchema(Schema):
    seq = fields.Integer(required=True)
    at = UTCDateTime(required=True)
    actor_kind = fields.String(required=True)
    actor_id = fields.Integer(required=True, allow_none=True)
    actor_name = fields.String(required=True)
    role = fields.String(required=True)
    action = fields.String(required=True)
    object_type = fields.String(required=True)
    object_id = fields.String(required=True)
    before = fields.Raw(required=True, allow_none=True)
    after = fields.Raw(required=True, allow_none=True)
    request_id = fields.String(required=True, allow_none=True)
    client = fields.String(required=True, allow_none=True)
    prev_hash = fields.String(required=True)
    entry_hash = fields.String(required=True)


class AuditPageSchema(Schema):
    entries = fields.List(fields.Nested(AuditEntrySchema), required=True)
    next = fields.Integer(required=True, allow_none=True, metadata={"description": "`before` of the next page"})


class LinkedTxSchema(Schema):
    id = fields.Integer(required=True)
    purpose = fields.String(required=True)
    tx_hash = fields.String(required=True)
    status = fields.String(required=True)
    block_number = fields.Integer(required=True, allow_none=True)
    via = fields.String(required=True, metadata={"description": "chain_tx, drop, airdrop_job or mint_item"})


class AuditDetailSchema(AuditEntrySchema):
    transactions = fields.List(fields.Nested(LinkedTxSchema), required=True)


class AuditVerdictSchema(Schema):
    ok = fields.Boolean(required=True)
    entries = fields.Integer(required=True, metadata={"description": "entries checked before any break"})
    head = fields.String(required=True, metadata={"description": "the hash of the last intact entry"})
    problem = fields.String(required=True, allow_none=True)
    seq = fields.Integer(required=True, allow_none=True, metadata={"description": "where the chain breaks"})


def _filtered(query, args: dict):
    if args.get("actor"):
        query = query.where(AuditEntry.actor_name == args["actor"])
    if args.get("action"):
        action = args["action"].rstrip(".")
        query = query.where(or_(AuditEntry.action == action, AuditEntry.action.like(f"{action}.%")))
    for name in ("object_type", "object_id"):
        if args.get(name):
            query = query.where(getattr(AuditEntry, name) == args[name])
    if "since" in args:  # stored times are naive UTC
        query = query.where(AuditEntry.at >= args["since"].astimezone(timezone.utc).replace(tzinfo=None))
    if "until" in args:
        query = query.where(AuditEntry.at < args["until"].astimezone(timezone.utc).replace(tzinfo=None))
    return query


@bp.route("/audit")
@requires("audit.read")
@bp.arguments(AuditPageQuerySchema, location="query")
@bp.response(200, AuditPageSchema)
def audit_list(args):
    """Entries newest first, a page at a time: pass the answer's `next` as `before` for the next page."""
    query = _filtered(select(AuditEntry), args)
    if "before" in args:
        query = query.where(AuditEntry.seq < args["before"])
    with get_db().session() as s:
        rows = list(s.scalars(query.order_by(AuditEntry.seq.desc()).limit(args["limit"] + 1)))
    more = len(rows) > args["limit"]
    rows = rows[:args["limit"]]
    return {"entries": [audit.view(r) for r in rows], "next": rows[-1].seq if more else None}


@bp.route("/audit.csv")
@requires("audit.read")
@bp.arguments(AuditQuerySchema, location="query")
@answers(200, {"type": "string", "description": (
    "UTF-8 with a byte order mark; header " + ",".join(CSV_COLUMNS) + ", then one entry a line, oldest first")},
    content_type="text/csv")
@bp.response(200)
def audit_csv(args):
    """The entries matching the filters, oldest first, with their hashes: a copy anyone can re-check."""
    query = _filtered(select(AuditEntry), args).order_by(AuditEntry.seq)
    return Response(stream_with_context(_csv_lines(query)), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"'})


def _csv_lines(query):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write(BOM)
    writer.writerow(CSV_COLUMNS)
    after = 0
    while True:  # a page per read: a long trail is never held in memory
        with get_db().session() as s:
            rows = list(s.scalars(query.where(AuditEntry.seq > after).limit(EXPORT_PAGE)))
        for row in rows:
            entry = audit.view(row)
            writer.writerow([_cell(entry[c]) for c in CSV_COLUMNS])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(rows) < EXPORT_PAGE:
            return
        after = rows[-1].seq


def _cell(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "" if value is None else value


@bp.route("/audit/verify")
@requires("audit.read")
@bp.response(200, AuditVerdictSchema)
def audit_verify():
    """Recompute the whole hash chain now; `ok` false names the first broken entry."""
    with get_db().session() as s:
        verdict = audit.verify(s)
    return {"ok": verdict.ok, "entries": verdict.entries, "head": verdict.head, "problem": verdict.problem,
            "seq": verdict.seq}


@bp.route("/audit/<int:seq>")
@requires("audit.read")
@errors(404)
@bp.response(200, AuditDetailSchema)
def audit_entry(seq):
    """One entry and the chain transactions it caused: signed for it directly (a drop's creation, a pause), or
    for the drop, airdrop job or mint it made (batched mints link through their items)."""
    with get_db().session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.seq == seq))
        if entry is None:
            abort(404, message=f"no audit entry {seq}")
        sources = (
            ("chain_tx", select(ChainTx.id).where(ChainTx.audit_id == entry.id)),
            ("drop", select(Drop.create_tx_id).where(Drop.audit_id == entry.id)),
            ("airdrop_job", select(MintItem.tx_id).join(AirdropJob, AirdropJob.id == MintItem.job_id)
             .where(AirdropJob.audit_id == entry.id)),
            ("mint_item", select(MintItem.tx_id).where(MintItem.audit_id == entry.id)),
        )
        via: dict[int, str] = {}
        for name, ids in sources:
            for tx_id in s.scalars(ids.distinct()):
                if tx_id is not None:
                    via.setdefault(tx_id, name)
        txs = list(s.scalars(select(ChainTx).where(ChainTx.id.in_(via)).order_by(ChainTx.nonce))) if via else []
    return {**audit.view(entry), "transactions": [
        {"id": t.id, "purpose": t.purpose, "tx_hash": t.tx_hash, "status": t.status, "block_number": t.block_number,
         "via": via[t.id]} for t in txs]}
