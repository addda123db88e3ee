"""Maker-checker approvals (staff): the list a checker works through, approve / reject, the maker's cancel, and the
preview card of a requested drop. The requests themselves are made by the write routes in api/drops.py."""
from __future__ import annotations

import json

from flask import Response, current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from ..access import approvals
from ..access.models import Approval
from ..access.permissions import SIGNED_IN, requires
from ..db import get_db
from ..minting.drops import draft_card
from .approval_schemas import ApprovalQuerySchema, ApprovalSchema, RejectSchema
from .drops import refuse_if_chain_replaced
from .idempotency import idempotent
from .openapi import answers, errors

bp = Blueprint("approvals", __name__, url_prefix="/api", description="Maker-checker approvals (staff)")
MAX_LISTED = 200


def load(approval_id: int) -> Approval:
    with get_db().session() as s:
        approval = s.get(Approval, approval_id)
    if approval is None or (approval.drop_id is not None and not g.principal.may_see_drop(approval.drop_id)):
        abort(404, message=f"no approval {approval_id}")
    return approval


@bp.route("/approvals")
class Approvals(MethodView):
    @requires("drops.read")
    @bp.arguments(ApprovalQuerySchema, location="query")
    @bp.response(200, ApprovalSchema(many=True))
    def get(self, query):
        """Requests, newest first (at most 200): filter by `status`, `kind`, or `mine=true` for the caller's own."""
        principal = g.principal
        stmt = select(Approval).order_by(Approval.id.desc()).limit(MAX_LISTED)
        if query["status"]:
            stmt = stmt.where(Approval.status == query["status"])
        if query["kind"]:
            stmt = stmt.where(Approval.kind == query["kind"])
        if query["mine"]:
            stmt = stmt.where(Approval.maker_kind == principal.kind, Approval.maker_id == principal.id)
        if principal.drop_ids is not None:  # a key limited to some drops sees their requests only
            stmt = stmt.where(Approval.drop_id.in_(principal.drop_ids))
        with get_db().session() as s:
            return [approvals.view(a) for a in s.scalars(stmt)]


@bp.route("/approvals/<int:approval_id>")
@requires("drops.read")
@bp.response(200, ApprovalSchema)
def get_one(approval_id):
    """One request with its summary and, once decided, its outcome."""
    return approvals.view(load(approval_id))


@bp.route("/approvals/<int:approval_id>/preview.png")
@requires("drops.read")
@answers(200, {"type": "string", "format": "binary"}, content_type="image/png")
@errors(422)
@bp.response(200, content_type="image/png")
def preview(approval_id):
    """Serial 1 of a requested drop, rendered with the requested settings (drop requests only)."""
    approval = load(approval_id)
    if approval.kind != "drop":
        abort(404, message=f"approval {approval_id} is not a drop request: it has no preview")
    data = {**json.loads(approval.payload), "base_image": approval.attachment}
    try:
        png = draft_card(data, current_app.config["PUBLIC_BASE_URL"], 1)
    except ValueError as exc:
        abort(422, message=str(exc))
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=3600"})


@bp.route("/approvals/<int:approval_id>/approve", methods=["POST"])
@requires("approvals.decide")
@idempotent()
@errors(409, 422, 503)
@bp.response(200, ApprovalSchema)
def approve(approval_id):
    """Approve someone else's request: it is carried out now (the drop is made, the airdrop queued, the mint
    queued, the pause asked for). If that fails (409/422/503) nothing was done and the request stays pending with
    `error` set: approve it again once the cause is gone, or reject it."""
    load(approval_id)
    refuse_if_chain_replaced()
    return approvals.view(approvals.approve(approval_id, g.principal))


@bp.route("/approvals/<int:approval_id>/reject", methods=["POST"])
@requires("approvals.decide")
@idempotent()
@errors(409)
@bp.arguments(RejectSchema)
@bp.response(200, ApprovalSchema)
def reject(data, approval_id):
    """Reject someone else's request, saying why (the maker sees the reason); nothing is done."""
    load(approval_id)
    return approvals.view(approvals.reject(approval_id, g.principal, data["reason"]))


@bp.route("/approvals/<int:approval_id>/cancel", methods=["POST"])
@requires(SIGNED_IN)
@errors(409)
@bp.response(200, ApprovalSchema)
def cancel(approval_id):
    """Withdraw your own pending request."""
    load(approval_id)
    return approvals.view(approvals.cancel(approval_id, g.principal))
