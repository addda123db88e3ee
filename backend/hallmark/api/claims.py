"""Claim codes (staff), claims (public) and custodial accounts (staff)."""
from __future__ import annotations

import csv
import io

from flask import Response, current_app, g
from flask_smorest import Blueprint, abort

from ..db import get_db
from ..minting import claims, custody
from ..security import assertions
from ..services import get_services
from ..access.permissions import public, requires
from .drops import refuse_if_chain_replaced
from .idempotency import idempotent
from .ratelimit import limited
from .openapi import answers, errors, link
from .claim_schemas import (ClaimCodesQuerySchema, ClaimCodesRequestSchema, ClaimCodesSchema, ClaimCreateSchema,
                            ClaimSchema, CustodialPageSchema, CustodialQuerySchema)

bp = Blueprint("claims", __name__, url_prefix="/api", description="Claim codes, claims and custodial wallets")
CODES_GONE = ("claim codes are shown only once: this batch could be fetched again with its Idempotency-Key for "
              "HALLMARK_CODES_REPLAY_SECONDS after it was made, and that time is over (nothing keeps the codes). "
              "If they were lost, generate new ones")


def claim_service() -> claims.ClaimService:
    return get_services().claims


@bp.route("/drops/<int:drop_id>/claim-codes", methods=["POST"])
@requires("claim_codes.create")
@idempotent(replay_seconds="CODES_REPLAY_SECONDS", gone=CODES_GONE)
@errors(409)
@answers(201, {"type": "string", "description": "with format=csv: the header `code,claim_url`, then one code a "
                                                "line"}, content_type="text/csv")
@bp.arguments(ClaimCodesRequestSchema)
@bp.arguments(ClaimCodesQuerySchema, location="query")
@bp.response(201, ClaimCodesSchema)
def claim_codes(data, query, drop_id):
    """Generate one-time claim codes for a drop. The codes are shown only in this response (the database keeps
    their hashes); `format=csv` returns them as text/csv (`code,claim_url`) instead."""
    batch = claims.generate_codes(get_db(), drop_id, data["count"], g.request_ref)
    if query["format"] == "json":
        return batch
    base = current_app.config["PUBLIC_BASE_URL"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("code", "claim_url"))
    writer.writerows((code, claims.claim_link(base, code)) for code in batch["codes"])
    return Response(out.getvalue(), status=201, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="claim-codes-{drop_id}-{batch["batch"]}.csv"'})


@bp.route("/claims", methods=["POST"])
@public
@limited("claims")
@idempotent(required=False)
@errors(403, 404, 409, 503)  # 403: a customer assertion the bank did not sign, or expired
@link((200, 202), "claim", "/api/claims/{claim_id}", claim_id="$response.body#/claim_id")
@bp.arguments(ClaimCreateSchema)
@bp.response(202, ClaimSchema)
@bp.alt_response(200, schema=ClaimSchema, description="this code was already claimed by the same wallet/customer")
def create_claim(data):
    """Claim a drop's item with a one-time code, to a wallet or to a custodial address the bank holds for the
    customer named by `customer_assertion`: a short-lived token the bank's own systems signed after they
    authenticated the customer (a bare customer id is refused). The bank pays the gas. Poll
    `/api/claims/<claim_id>` until `status` is `minted`."""
    refuse_if_chain_replaced()
    customer_id = None
    if data.get("customer_assertion") is not None:
        try:
            customer_id = assertions.verify(data["customer_assertion"], assertions.key_for(current_app))
        except assertions.AssertionRefused as exc:
            abort(exc.status, message=str(exc), errors={"json": {"customer_assertion": [str(exc)]}})
    result, created = claim_service().claim(data["code"], wallet=data["wallet"], customer_id=customer_id)
    return result, (202 if created else 200)


@bp.route("/claims/<string:claim_id>")
@public
@bp.response(200, ClaimSchema)
def claim(claim_id):
    """A claim's progress: queued, sending, minted (with token id, transaction and verify URL) or failed."""
    result = claims.claim_status(get_db(), claim_id) if len(claim_id) <= 64 else None  # ids are 22 characters
    if result is None:
        abort(404, message=f"no claim {claim_id[:64]}", errors={"path": {"claim_id": ["Unknown claim."]}})
    return result


@bp.route("/custodial-accounts")
@requires("custody.read")
@bp.arguments(CustodialQuerySchema, location="query")
@bp.response(200, CustodialPageSchema)
def custodial_accounts(query):
    """Custodial accounts, oldest first, with the tokens minted to each address per drop."""
    return custody.list_accounts(get_db(), query["page"], query["per_page"], query["customer_id"])
