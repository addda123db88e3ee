"""Maker-checker: a drop, an airdrop, a single mint or a pause/resume waits, as an Approval, for a different staff
member with approvals.decide (config APPROVALS lists which kinds; airdrops under APPROVAL_AIRDROP_MIN recipients go
straight). Approving calls the very services the direct path calls, with the request ref "approval:<id>", so a
retried or concurrent approve never does the work twice; the created rows carry the decision's audit entry id.

If carrying it out fails (the drop is not live, the edition is full, the chain is unavailable) nothing was done:
the services commit nothing when they refuse. The request then goes back to pending with `error` set, and an
"<kind>.approve_failed" entry is recorded: a checker may approve it again once the cause is gone, or reject it."""
from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from datetime import datetime, timedelta

from flask import g, jsonify
from flask_smorest import abort
from sqlalchemy import and_, or_, select, update

from ..db import get_db
from ..minting import jobs
from ..minting.drops import DropError
from ..minting.gas import airdrop_gas
from ..models import Drop, iso_utc, utcnow
from ..services import get_services
from . import audit
from .models import Approval
from .permissions import Principal

GROUPS = {"drop": "drop", "airdrop": "airdrop", "mint": "mint", "pause": "pause", "resume": "pause"}
# an approve that died half-way (a crashed process) may be taken over after this long; the ref makes it safe
APPROVING_LEASE = timedelta(seconds=120)
MAX_LISTED_ROWS = 1000  # invalid rows shown in a summary (the count is always whole)
DROP_SETTINGS = ("slug", "name", "symbol", "description", "issuer_name", "edition_size", "transfer_policy",
                 "holding_period", "royalty_bps", "artwork", "seed", "claim_start", "claim_end", "per_wallet_limit")


def needs_approval(kind: str, config, recipients: int | None = None) -> bool:
    if GROUPS[kind] not in config["APPROVALS"]:
        return False
    return not (kind == "airdrop" and recipients is not None and recipients < config["APPROVAL_AIRDROP_MIN"])


def submit(s, kind: str, drop_id: int | None, payload: dict, attachment: bytes | None, summary: dict,
           principal: Principal, request_ref: str | None) -> Approval:
    """Record the request and its "<kind>.request" audit entry in session `s`; a request_ref seen before (a retried
    request that crashed after committing) returns the approval it made."""
    if request_ref and (done := s.scalar(select(Approval).where(Approval.request_ref == request_ref))):
        return done
    approval = Approval(kind=kind, drop_id=drop_id, payload=json.dumps(payload, default=_iso), attachment=attachment,
                        summary=json.dumps(summary, ensure_ascii=False, default=_iso), maker_kind=principal.kind,
                        maker_id=principal.id, maker_name=principal.name, request_ref=request_ref)
    s.add(approval)
    s.flush()
    entry = audit.record(s, f"{kind}.request", "approval", approval.id,
                         after={"kind": kind, "drop_id": drop_id, "summary": _audited(summary)})
    approval.audit_id = entry.id
    return approval


def pending_response(kind: str, drop_id: int | None, payload: dict, summary: dict, attachment: bytes | None = None):
    """The write routes' answer when the request waits for approval: 202 {"approval": {...}} and its Location."""
    with get_db().session() as s:
        approval = submit(s, kind, drop_id, payload, attachment, summary, g.principal, getattr(g, "request_ref", None))
        body = view(approval)
    response = jsonify({"approval": body})
    response.status_code = 202
    response.headers["Location"] = f"/api/approvals/{body['id']}"
    return response


def _decidable(s, approval_id: int, checker: Principal, lock: bool = True) -> Approval:
    approval = s.get(Approval, approval_id, with_for_update=lock)
    if approval is None:
        abort(404, message=f"no approval {approval_id}")
    if checker.kind != "staff":
        abort(403, message="an API key cannot decide approvals: a staff member must")
    if approval.maker_kind == "staff" and approval.maker_id == checker.id:
        abort(403, message="you made this request: a different person must approve or reject it")
    if approval.status == "approving" and approval.decided_at and approval.decided_at < utcnow() - APPROVING_LEASE:
        return approval  # an approve that died half-way: taken over, the request ref keeps it from doubling
    if approval.status != "pending":
        by = f" by {approval.checker_name}" if approval.checker_name else ""
        abort(409, message=f"approval {approval_id} is already {approval.status}{by}")
    return approval


def approve(approval_id: int, checker: Principal) -> Approval:
    db = get_db()
    with db.session() as s:
        approval = _decidable(s, approval_id, checker)
        claimed = s.execute(update(Approval).where(Approval.id == approval_id, or_(
            Approval.status == "pending",
            and_(Approval.status == "approving", Approval.decided_at < utcnow() - APPROVING_LEASE))).values(
            status="approving", decided_at=utcnow(), checker_id=checker.id, checker_name=checker.name)).rowcount
        if claimed != 1:
            abort(409, message=f"approval {approval_id} is being decided by someone else")
        kind, drop_id = approval.kind, approval.drop_id
        payload, attachment = json.loads(approval.payload), approval.attachment
        entry = audit.record(s, f"{kind}.approve", "approval", approval_id, before={"status": "pending"},
                             after={"status": "approved"})
        entry_id = entry.id
    try:
        result = _carry_out(kind, drop_id, payload, attachment, f"approval:{approval_id}", entry_id)
    except Exception as exc:
        with db.session() as s:
            approval = s.get(Approval, approval_id)
            approval.status, approval.decided_at, approval.error = "pending", None, str(exc)[:500]
            approval.checker_id = approval.checker_name = None
            audit.record(s, f"{kind}.approve_failed", "approval", approval_id, after={"error": approval.error})
        raise
    with db.session() as s:
        approval = s.get(Approval, approval_id)
        approval.status, approval.result, approval.error = "approved", json.dumps(result), None
        approval.drop_id = result.get("drop_id", drop_id)
        return approval


def _carry_out(kind: str, drop_id: int | None, payload: dict, attachment: bytes | None, ref: str,
               audit_id: int) -> dict:
    db = get_db()
    if kind == "drop":
        data = {**payload, "base_image": attachment, "audit_id": audit_id}
        for key in ("claim_start", "claim_end"):
            data[key] = datetime.fromisoformat(data[key]) if data.get(key) else None
        return {"drop_id": get_services().drops.create(data, ref).id}
    if kind == "airdrop":
        good = [tuple(row) for row in payload["good"]]
        return {"drop_id": drop_id, "job_id": jobs.create_job(db, drop_id, good, payload["bad"], ref, audit_id)}
    if kind == "mint":
        return {"drop_id": drop_id, "item_id": jobs.queue_single(db, drop_id, payload["to"], ref, audit_id)}
    get_services().drops.request_pause(drop_id, kind == "pause")
    return {"drop_id": drop_id, "paused": kind == "pause"}


def reject(approval_id: int, checker: Principal, reason: str) -> Approval:
    if not reason.strip():
        abort(422, message="say why it is rejected", errors={"json": {"reason": ["A reason is required."]}})
    with get_db().session() as s:
        approval = _decidable(s, approval_id, checker)
        approval.status, approval.reason, approval.decided_at = "rejected", reason.strip(), utcnow()
        approval.checker_id, approval.checker_name = checker.id, checker.name
        audit.record(s, f"{approval.kind}.reject", "approval", approval_id, before={"status": "pending"},
                     after={"status": "rejected", "reason": approval.reason})
        return approval


def cancel(approval_id: int, maker: Principal) -> Approval:
    """The maker withdraws their own pending request."""
    with get_db().session() as s:
        approval = s.get(Approval, approval_id, with_for_update=True)
        if approval is None:
            abort(404, message=f"no approval {approval_id}")
        if (approval.maker_kind, approval.maker_id) != (maker.kind, maker.id):
            abort(403, message="only the person who made a request may cancel it")
        if approval.status != "pending":
            abort(409, message=f"approval {approval_id} is already {approval.status}")
        approval.status, approval.decided_at = "cancelled", utcnow()
        audit.record(s, f"{approval.kind}.cancel", "approval", approval_id, before={"status": "pending"},
                     after={"status": "cancelled"})
        return approval


def view(approval: Approval) -> dict:
    return {"id": approval.id, "kind": approval.kind, "drop_id": approval.drop_id, "status": approval.status,
            "maker": {"kind": approval.maker_kind, "id": approval.maker_id, "name": approval.maker_name},
            "checker_name": approval.checker_name, "reason": approval.reason, "error": approval.error,
            "summary": json.loads(approval.summary),
            "result": json.loads(approval.result) if approval.result else None,
            "preview_url": f"/api/approvals/{approval.id}/preview.png" if approval.kind == "drop" else None,
            "audit_id": approval.audit_id, "created_at": iso_utc(approval.created_at),
            "decided_at": iso_utc(approval.decided_at)}


# What the checker sees, computed when the request is made

def drop_summary(data: dict) -> dict:
    return {"settings": {key: data.get(key) for key in DROP_SETTINGS},
            "base_image_bytes": len(data["base_image"]) if data.get("base_image") else 0}


def drop_brief(drop: Drop) -> dict:
    return {"id": drop.id, "slug": drop.slug, "name": drop.name, "status": drop.status, "paused": drop.paused,
            "edition_size": drop.edition_size}


def checked_live(drop_id: int, wanted: int) -> tuple[Drop, int]:
    """The direct path's checks, made when the request is made too (again when approved): the drop is live and
    has room for `wanted` more items. Returns the drop and its room left."""
    with get_db().session() as s:
        drop = jobs.live_drop(s, drop_id)
        room = jobs.remaining_supply(s, drop)
    if wanted > room:
        raise DropError(f"{wanted} recipients but only {room} items of the drop remain", 409, "recipients")
    return drop, room


def airdrop_summary(drop: Drop, room: int, good: list, bad: list, digest: str, batch_size: int) -> dict:
    counts = Counter(address for _, address in good)
    transactions = math.ceil(len(good) / batch_size) if good else 0
    return {"drop": drop_brief(drop), "recipients": len(good), "invalid": len(bad),
            "invalid_rows": bad[:MAX_LISTED_ROWS], "duplicates": sum(n - 1 for n in counts.values() if n > 1),
            "sha256": digest, "room_left": room, "room_after": room - len(good),
            "gas": airdrop_gas(len(good), transactions)}  # batches hold MINT_BATCH_SIZE recipients


def recipients_digest(csv_bytes: bytes | None, recipients: list | None) -> str:
    """SHA-256 of the uploaded CSV's bytes, or of the JSON list in canonical form (compact, in order)."""
    data = csv_bytes if csv_bytes is not None else json.dumps(recipients, separators=(",", ":")).encode()
    return hashlib.sha256(data).hexdigest()


def _iso(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _audited(summary: dict) -> dict:
    """The request's audit entry keeps the summary without the (long) list of invalid rows."""
    return {k: v for k, v in summary.items() if k != "invalid_rows"}

