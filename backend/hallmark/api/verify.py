"""Public authenticity checks, image checks, ownership proofs and wallet lookups (answers from the index)."""
from __future__ import annotations

import json
import re

from flask import Response, current_app, request
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, validate

from ..inputs import UINT256_MAX, AddressError, checked_address
from ..services import get_services
from ..verify import images, wallets
from ..verify.phishing import foreign_host
from ..verify.ownership import ProofRefused
from .idempotency import idempotent
from .ratelimit import limited
from .openapi import answers, body, errors, upload
from .photo_schemas import CodeVerdictSchema, PhotoMatchSchema
from .holder_schemas import ChallengeSchema, ProofSchema, WalletPageSchema
from .schemas import Address, FullMatch, Integer
from .verdict_schemas import VerdictSchema
from ..access.permissions import public

bp = Blueprint("verify", __name__, url_prefix="/api", description="Authenticity, ownership and wallets (public)")
VERIFY_PATH = re.compile(r"/v/(0x[0-9a-fA-F]{40})/(\d+)")
HASH = FullMatch(r"^0x[0-9a-fA-F]{64}$", error="A 0x-prefixed 32-byte hex digest.")
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{2,63}")  # as a drop's slug is created


class ContentQuery(Schema):
    image_sha256 = fields.String(validate=HASH, metadata={"description": "check this image file instead"})
    metadata_sha256 = fields.String(validate=HASH)


class CodeQuery(Schema):
    code = fields.String(required=True, validate=validate.Length(1, 500), metadata={
        "description": "the item's verify URL (from its QR code) or <contract>/<token id>"})


class WalletCursor(fields.String):
    """A wallet page's `next`, loaded as the key of the item it names."""

    def _deserialize(self, value, attr, data, **kwargs):
        key = wallets.parse_cursor(super()._deserialize(value, attr, data, **kwargs))
        if key is None:
            raise ValidationError("Not a cursor: pass the `next` of the previous page unchanged.")
        return key


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=24, validate=validate.Range(1, 100))
    after = WalletCursor(metadata={"description": (
        "the `next` of the previous page: the items right after its last one, newest first, without skipping or "
        "repeating any when the wallet changes between requests (`page` is then only echoed)")})


PAGE_QUERY = PageQuery()  # one instance: a schema class would be instantiated again for every request


class ChallengeRequest(Schema):
    address = Address(required=True, metadata={"description": "the wallet that will sign"})
    collection = Address(required=True)
    token_id = Integer(required=True, validate=validate.Range(1, UINT256_MAX))


class ProofRequest(Schema):
    # the challenges this server issues are about 600 characters
    message = fields.String(required=True, validate=validate.Length(1, 2000))
    signature = fields.String(required=True, validate=FullMatch(r"^0x[0-9a-fA-F]{130}$", error=(
        "A 65-byte 0x-prefixed hex signature.")))


def _json(body: bytes) -> Response:
    """A verdict as the verifier cached it, already encoded (flask-smorest passes Responses through)."""
    return Response(body, mimetype="application/json")


def _digest(value: str | None) -> bytes | None:
    return bytes.fromhex(value[2:]) if value else None


@bp.route("/verify/<string:address>/<uint256:token_id>")
@public
@limited("verify")
@errors(503)
@answers(200, VerdictSchema)
@bp.arguments(ContentQuery, location="query")
@bp.response(200)
def verify_item(query, address, token_id):
    """Verdict (authentic / counterfeit / unknown) for a contract and token id, with every reason."""
    try:
        return _json(get_services().verifier.item_json(address, token_id, _digest(query.get("image_sha256")),
                                                       _digest(query.get("metadata_sha256"))))
    except ValueError as exc:
        abort(422, message=str(exc), errors={"path": {"address": [str(exc)]}})


@bp.route("/verify")
@public
@limited("verify")
@errors(503)
@answers(200, CodeVerdictSchema)
@bp.arguments(CodeQuery, location="query")
@bp.response(200)
def verify_code(query):
    """Verdict for the code in an item's QR verify URL; `warnings` flags a link to a host that is not the bank's."""
    code = query["code"].strip()
    match = VERIFY_PATH.search(code) or re.fullmatch(r"(0x[0-9a-fA-F]{40})[/#:](\d+)", code)
    if not match:
        abort(422, message="not an item code: expected a verify URL or <contract>/<token id>",
              errors={"query": {"code": ["Not an item code."]}})
    serial = match.group(2)
    if len(serial) > 78 or int(serial) > UINT256_MAX:  # int() of 4,300+ digits raises: the length goes first
        abort(422, message="the code's token id is larger than any token id (uint256)",
              errors={"query": {"code": ["Token id out of range."]}})
    try:
        answer = get_services().verifier.item_json(match.group(1), int(serial))
    except ValueError as exc:  # the address: e.g. a checksum that does not match
        abort(422, message=str(exc), errors={"query": {"code": [str(exc)]}})
    warnings = foreign_host(code, current_app.config["PUBLIC_BASE_URL"])
    # the cached verdict is the item's; the warning is about the link, so it is added per request
    return {**json.loads(answer), "warnings": warnings} if warnings else _json(answer)


@bp.route("/verify/drop/<string:slug>/<uint256:serial>")
@public
@limited("verify")
@errors(503)
@answers(200, VerdictSchema)
@bp.response(200)
def verify_drop_serial(slug, serial):
    """Verdict by drop and serial."""
    answer = get_services().verifier.by_drop(slug, serial) if SLUG.fullmatch(slug) else None
    if answer is None:
        abort(404, message=f"no drop '{slug[:64]}'", errors={"path": {"slug": ["Unknown drop."]}})
    return _json(answer)


@bp.route("/verify/image", methods=["POST"])
@public
@limited("image")
@errors(413, 415, 422, 503)
@body(upload("file", "the picture: PNG, JPEG, WebP or GIF"))
@answers(200, PhotoMatchSchema)
@bp.response(200)
def verify_image():
    """Upload a picture (multipart field `file`): the genuine file; the item its card's QR code names, the picture
    compared with the genuine card and a link to a foreign host flagged; an altered copy of an item; or no match."""
    upload = request.files.get("file")
    if upload is None:
        abort(422, message="send the picture in the multipart field 'file'",
              errors={"files": {"file": ["Missing data for required field."]}})
    data = upload.read(images.MAX_BYTES + 1)
    try:
        match = images.match_image(get_services().db, data, current_app.config["PUBLIC_BASE_URL"],
                                   current_app.config["DATA_DIR"])
    except images.ImageRejected as exc:
        abort(exc.status, message=str(exc), errors={"files": {"file": [str(exc)]}})
    if match["match"] != "none":
        match["item"] = get_services().verifier.item(match["collection"], match["token_id"])
    return match


@bp.route("/ownership/challenge", methods=["POST"])
@public
@limited("ownership")
@idempotent(required=False)
@errors(503)
@answers(201, ChallengeSchema)
@bp.arguments(ChallengeRequest)
@bp.response(201)
def ownership_challenge(data):
    """A single-use Sign-In with Ethereum message (valid 5 minutes) for the holder to sign."""
    try:
        return get_services().proofs.challenge(data["address"], data["collection"], data["token_id"])
    except ProofRefused as exc:
        abort(422, message=str(exc), errors={"json": {exc.field: [str(exc)]}})


@bp.route("/ownership/verify", methods=["POST"])
@public
@limited("ownership")
@errors(403, 503)
@answers(200, ProofSchema)
@bp.arguments(ProofRequest)
@bp.response(200)
def ownership_verify(data):
    """Check a signed challenge: signature, single use, expiry, domain, and that the signer holds the item now."""
    try:
        return get_services().proofs.verify(data["message"], data["signature"])
    except ProofRefused as exc:
        abort(403, message=str(exc), errors={"json": {exc.field: [str(exc)]}})


@bp.route("/wallets/<string:address>")
@public
@errors(503)
@answers(200, WalletPageSchema)
@bp.arguments(PAGE_QUERY, location="query")
@bp.response(200)
def wallet(query, address):
    """Every official collectible an address holds, across drops, newest first: by page number, or by cursor
    (`after` = the previous page's `next`)."""
    try:
        address = checked_address(address)
    except AddressError as exc:
        abort(422, message=str(exc), errors={"path": {"address": [str(exc)]}})
    page = wallets.holdings(get_services().db, address, query["page"], query["per_page"], query.get("after"))
    return _json(json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode())
