"""Staff endpoints for drops, minting and airdrop jobs."""
from __future__ import annotations

import time

from flask import current_app, g, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from ..db import get_db
from ..minting import jobs
from ..minting.drops import DropError, draft_card, drop_stats
from ..minting.queue import wait_until_idle
from ..models import ChainTx, Drop, MintItem
from ..run.status import worker_problem
from ..services import ChainUnavailable, get_services
from ..access import approvals
from ..access.permissions import require_drop, requires
from .approval_schemas import or_pending
from .idempotency import idempotent
from .openapi import body, errors, link, upload
from .schemas import (AirdropQuerySchema, AirdropSchema, DropCreateSchema, DropSchema, JobSchema, MintResultSchema,
                      MintSchema, RowReportSchema)

bp = Blueprint("drops", __name__, url_prefix="/api", description="Drops, minting and airdrops (staff)")
MINT_WAIT_SECONDS = 10
MAX_CSV_BYTES = 8 * 1024 * 1024  # 100,000 rows of an address and a comment each


def drop_views(drops: list[Drop]) -> list[dict]:
    stats = drop_stats(get_db(), [d.id for d in drops])
    problem = worker_problem(get_db(), current_app.config["HEALTH_DEAD_SECONDS"])
    return [{**{c.name: getattr(d, c.name) for c in Drop.__table__.columns if c.name != "base_image"}, **stats[d.id],
             "chain_problem": problem} for d in drops]


def refuse_if_chain_replaced() -> None:
    """New work for a chain that no longer holds the deployment would wait for ever: say so instead."""
    problem = worker_problem(get_db(), current_app.config["HEALTH_DEAD_SECONDS"])
    if problem and problem.startswith("chain replaced"):
        raise ChainUnavailable(problem)


def drop_view(drop: Drop) -> dict:
    return drop_views([drop])[0]


def load_drop(drop_id: int) -> Drop:
    with get_db().session() as s:
        drop = s.get(Drop, drop_id)
    if drop is None:
        abort(404, message=f"no drop {drop_id}")
    return drop


@bp.route("/drops")
class Drops(MethodView):
    @requires("drops.read")
    @bp.response(200, DropSchema(many=True))
    def get(self):
        """List drops, newest first, with minted counts and status."""
        with get_db().session() as s:
            drops = list(s.scalars(select(Drop).order_by(Drop.id.desc())))
        return drop_views([d for d in drops if g.principal.may_see_drop(d.id)])

    @requires("drops.create")
    @idempotent()
    @errors(409, 503)
    @link(202, "drop", "/api/drops/{drop_id}", drop_id="$response.body#/id")
    @or_pending(202, DropSchema)
    @bp.arguments(DropCreateSchema)
    @bp.response(202, DropSchema)
    def post(self, data):
        """Create a drop. Its items are rendered and committed to, then its collection is created through the
        registry, in the background: poll the drop until `status` is `live`. When drops need approval, the answer
        is the request waiting for it: `{"approval": {...}}`."""
        if approvals.needs_approval("drop", current_app.config):
            return _drop_request(data)
        return drop_view(get_services().drops.create(data, g.request_ref))


def _drop_request(data: dict):
    """The direct path's checks before a drop waits for approval: a free slug, artwork that renders."""
    with get_db().session() as s:
        if s.scalar(select(Drop.id).where(Drop.slug == data["slug"])):
            raise DropError(f"a drop with slug '{data['slug']}' already exists", 409, "slug")
    try:
        draft_card(data, current_app.config["PUBLIC_BASE_URL"], 1)
    except ValueError as exc:
        raise DropError(str(exc), 422, "base_image") from None
    payload = {k: v for k, v in data.items() if k != "base_image"}
    return approvals.pending_response("drop", None, payload, approvals.drop_summary(data), data.get("base_image"))


@bp.route("/drops/<int:drop_id>")
class DropById(MethodView):
    @requires("drops.read")
    @bp.response(200, DropSchema)
    def get(self, drop_id):
        """One drop with its progress, minted count and holders."""
        return drop_view(load_drop(drop_id))


@bp.route("/drops/<int:drop_id>/pause", methods=["POST"])
@requires("drops.pause")
@idempotent()
@errors(409, 503)
@or_pending(202, DropSchema)
@bp.response(200, DropSchema)
@bp.alt_response(202, schema=DropSchema, description="the pause is still being sent: poll the drop")
def pause(drop_id):
    """Pause the collection on chain: no mints, transfers or redemptions until resumed (waits up to 10 s)."""
    return _set_paused(drop_id, True)


@bp.route("/drops/<int:drop_id>/resume", methods=["POST"])
@requires("drops.pause")
@idempotent()
@errors(409, 503)
@or_pending(202, DropSchema)
@bp.response(200, DropSchema)
@bp.alt_response(202, schema=DropSchema, description="the resume is still being sent: poll the drop")
def resume(drop_id):
    """Lift a pause (waits up to 10 s)."""
    return _set_paused(drop_id, False)


def _set_paused(drop_id: int, paused: bool):
    drop = load_drop(drop_id)
    refuse_if_chain_replaced()
    kind = "pause" if paused else "resume"
    if approvals.needs_approval(kind, current_app.config):
        if drop.status != "live":
            raise DropError(f"drop is {drop.status}, not live", 409, "status")
        summary = {"drop": approvals.drop_brief(drop), "paused_now": drop.paused, "paused_wanted": paused}
        return approvals.pending_response(kind, drop_id, {"paused": paused}, summary)
    get_services().drops.request_pause(drop_id, paused)
    deadline = time.monotonic() + MINT_WAIT_SECONDS
    while (drop := load_drop(drop_id)).paused != paused and time.monotonic() < deadline:
        time.sleep(0.1)
    return drop_view(drop), (200 if drop.paused == paused else 202)


@bp.route("/drops/<int:drop_id>/mint", methods=["POST"])
@requires("mints.create")
@idempotent()
@errors(409, 503)
@link((200, 202), "mint", "/api/mints/{item_id}", item_id="$response.body#/item_id")
@bp.arguments(MintSchema)
@or_pending(202, MintResultSchema)
@bp.response(200, MintResultSchema)
@bp.alt_response(202, schema=MintResultSchema, description="still being minted: poll /api/mints/<item_id>")
def mint(data, drop_id):
    """Mint the drop's next serial to one address (waits up to 10 s for the transaction)."""
    refuse_if_chain_replaced()
    if approvals.needs_approval("mint", current_app.config):
        drop, room = approvals.checked_live(drop_id, 1)
        summary = {"drop": approvals.drop_brief(drop), "to": data["to"], "room_left": room}
        return approvals.pending_response("mint", drop_id, {"to": data["to"]}, summary)
    db = get_db()
    item_id = jobs.queue_single(db, drop_id, data["to"], g.request_ref)
    wait_until_idle(db, [item_id], MINT_WAIT_SECONDS)
    result = mint_result(item_id)
    return result, (200 if result["status"] in ("minted", "failed") else 202)


@bp.route("/mints/<int:item_id>")
@requires("drops.read")
@bp.response(200, MintResultSchema)
def mint_status(item_id):
    """The state of one mint."""
    return mint_result(item_id)


def mint_result(item_id: int) -> dict:
    with get_db().session() as s:
        item = s.get(MintItem, item_id)
        if item is None:
            abort(404, message=f"no mint {item_id}")
        require_drop(item.drop_id)
        tx = s.get(ChainTx, item.tx_id) if item.tx_id else None
    return {"item_id": item.id, "status": item.status, "token_id": item.token_id,
            "tx_hash": tx.tx_hash if tx else None, "error": item.error}


@bp.route("/drops/<int:drop_id>/airdrops", methods=["POST"])
@requires("airdrops.create")
@idempotent()
@errors(409, 422, 503)
@link(202, "job", "/api/jobs/{job_id}", job_id="$response.body#/id")
@body({"application/json": {"schema": AirdropSchema},
       **upload("file", "CSV: addresses in the first column, an optional header row (address, wallet or recipient)")})
@or_pending(202, JobSchema)
@bp.arguments(AirdropQuerySchema, location="query")
@bp.response(202, JobSchema)
@bp.alt_response(200, schema=RowReportSchema, description="dry_run: the row report, nothing queued")
def airdrop(query, drop_id):
    """Start an airdrop job from JSON `{"recipients": [...]}` or a CSV upload (multipart field `file`, first
    column, optional header). Rows that are not addresses are reported as failures with their row number;
    `dry_run=true` only returns that report."""
    good, bad = _recipients_from_request()
    if query["dry_run"]:  # a plain response: flask-smorest would serialise it with the job schema
        return jsonify(RowReportSchema().dump({"valid": len(good), "invalid": bad}))
    load_drop(drop_id)
    refuse_if_chain_replaced()
    if approvals.needs_approval("airdrop", current_app.config, len(good)):
        return _airdrop_request(drop_id, good, bad)
    job_id = jobs.create_job(get_db(), drop_id, good, bad, g.request_ref)
    return jobs.job_status(get_db(), job_id)


def _airdrop_request(drop_id: int, good: list, bad: list):
    drop, room = approvals.checked_live(drop_id, len(good))
    upload = request.files.get("file")
    if upload is not None:  # the digest the checker sees is of the very bytes uploaded
        upload.seek(0)
        digest = approvals.recipients_digest(upload.read(), None)
    else:
        digest = approvals.recipients_digest(None, request.get_json()["recipients"])
    summary = approvals.airdrop_summary(drop, room, good, bad, digest, current_app.config["MINT_BATCH_SIZE"])
    return approvals.pending_response("airdrop", drop_id, {"good": good, "bad": bad}, summary)


def _recipients_from_request():
    upload = request.files.get("file")
    if upload is not None:
        data = upload.read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            message = f"The CSV file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB."
            abort(413, message=message, errors={"files": {"file": [message]}})
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            abort(422, message="the CSV file is not UTF-8 text", errors={"files": {"file": ["Not UTF-8 text."]}})
        good, bad = jobs.parse_recipients(text)
        field = ("files", "file")
    else:
        payload = AirdropSchema().load(request.get_json(silent=True) or {}) if request.is_json else None
        if payload is None:
            abort(422, message="send JSON {\"recipients\": [...]} or a CSV file in the multipart field 'file'",
                  errors={"json": {"recipients": ["Missing data for required field."]}})
        # each entry is one row, numbered by position (not CSV text: a comma or a line break in one would shift rows)
        good, bad = jobs.check_recipients(enumerate(payload["recipients"], start=1))
        field = ("json", "recipients")
    if len(good) + len(bad) > jobs.MAX_ROWS:
        message = f"At most {jobs.MAX_ROWS} rows per job."
        abort(422, message=message, errors={field[0]: {field[1]: [message]}})
    if not good and not bad:
        abort(422, message="no recipients", errors={"json": {"recipients": ["No addresses given."]}})
    return good, bad


@bp.route("/jobs/<int:job_id>")
@requires("drops.read")
@bp.response(200, JobSchema)
def job(job_id):
    """Progress of an airdrop job: done/total, tokens per second, failures with row and reason, transactions."""
    status = jobs.job_status(get_db(), job_id)
    if status is None:
        abort(404, message=f"no job {job_id}")
    require_drop(status["drop_id"])
    if status["status"] != "finished":
        status["blocked"] = worker_problem(get_db(), current_app.config["HEALTH_DEAD_SECONDS"])
    return status
