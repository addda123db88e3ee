"""Idempotency-Key for write endpoints: the same key with the same body returns the first response (also after
a restart: it is stored); the same key with another body is a 409. Failed (4xx/5xx) attempts are forgotten,
since they changed nothing, so a corrected retry may reuse the key.

Crash-safe: the view receives `g.request_ref` (derived from the key and caller) and stores it on the work it
commits (the drop, job or mint). A request that died before its response was stored holds the key for a short
lease; after that a retry runs the view again, which finds the committed work by its ref and answers with its
real status instead of doing it twice. A client never has to switch keys.

Stored responses are sealed with the response key, which is kept outside the database (hallmark.security.sealing).
A response that holds secrets shown once (a batch of claim codes) is replayed only for a while
(`replay_seconds` names the setting); after that a replay is a 410 and the sealed copy is erased."""
from __future__ import annotations

import hashlib
import re
from functools import wraps

from datetime import timedelta

from flask import Response, current_app, g, request
from flask_smorest import abort
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..db import get_db
from ..models import IdempotencyRecord, utcnow
from ..security.sealing import PREFIX, SealError, is_sealed, sealer_for
from .openapi import add_parameter, add_responses

HEADER = "Idempotency-Key"
MAX_KEY = 200


def idempotent(required: bool = True, replay_seconds: str | None = None, gone: str | None = None):
    """`replay_seconds`: the config key of how long the stored response may be replayed (default: always);
    `gone`: the 410 message after that."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            key = request.headers.get(HEADER)
            if not key:
                if required:
                    abort(400, message=f"the {HEADER} header is required for this request",
                          errors={"headers": {HEADER: ["Missing data for required field."]}})
                return view(*args, **kwargs)
            if len(key) > MAX_KEY:
                abort(400, message=f"{HEADER} is longer than {MAX_KEY} characters",
                      errors={"headers": {HEADER: [f"Longer than maximum length {MAX_KEY}."]}})
            caller = getattr(g, "principal", None)  # set by @requires, which runs first: each caller its own keys
            scope = f"{request.method} {request.path} {f'{caller.kind}:{caller.id}' if caller else 'public'}"
            body_hash = _fingerprint()
            db = get_db()
            lease = timedelta(seconds=current_app.config["IDEMPOTENCY_LEASE_SECONDS"])
            g.request_ref = hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()
            try:
                with db.session() as s:
                    s.add(IdempotencyRecord(key=key, scope=scope, body_hash=body_hash, lease_until=utcnow() + lease))
            except IntegrityError:
                with db.session() as s:
                    first = s.scalar(select(IdempotencyRecord).where(
                        IdempotencyRecord.key == key, IdempotencyRecord.scope == scope))
                if first is None:  # forgotten between our insert and this read: a failed first attempt
                    abort(409, message=f"a request with {HEADER} '{key}' just failed; retry it")
                if first.body_hash != body_hash:
                    abort(409, message=f"{HEADER} '{key}' was already used with a different request body")
                if first.status_code is not None:
                    return _replay(db, first, replay_seconds, gone)
                if not _take_over(db, first, lease):
                    abort(409, message=f"a request with {HEADER} '{key}' is still being processed; retry shortly",
                          headers={"Retry-After": str(max(1, int((first.lease_until - utcnow()).total_seconds())))})
            try:
                response = view(*args, **kwargs)
            except BaseException:
                _forget(db, key, scope)
                raise
            if not isinstance(response, Response) or response.status_code >= 400:
                _forget(db, key, scope)
                return response
            with db.session() as s:
                record = s.scalar(select(IdempotencyRecord).where(
                    IdempotencyRecord.key == key, IdempotencyRecord.scope == scope))
                record.status_code = response.status_code
                record.response = sealer_for(current_app).seal(response.get_data(as_text=True), _context(key, scope))
                record.content_type = response.content_type
            if replay_seconds is not None:
                _erase_expired(db, replay_seconds)
            return response

        add_parameter(wrapper, {
            "in": "header", "name": HEADER, "required": required,
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY},
            "description": "a key of the client's choosing for this request: a retry with the same key and body "
                           "answers the first response (Idempotent-Replayed: true) instead of doing it again"})
        # 400: missing (when required) or too long; 409: another body, or still running; 410: no longer replayable
        add_responses(wrapper, 400, 409, 410)
        return wrapper

    return decorator


def _context(key: str, scope: str) -> str:
    """What a sealed response is bound to: it opens only as the response of its own record."""
    return f"{scope}\0{key}"


def _replay(db, first: IdempotencyRecord, replay_seconds: str | None, gone: str | None) -> Response:
    expired = replay_seconds is not None and first.created_at <= utcnow() - timedelta(
        seconds=current_app.config[replay_seconds])
    text = None
    if first.response is not None and not expired:
        if is_sealed(first.response):
            try:
                text = sealer_for(current_app).open(first.response, _context(first.key, first.scope))
            except SealError:  # another response key: this copy can never be read again
                text = None
        elif replay_seconds is None:
            text = first.response  # stored before responses were sealed
    if text is None:
        if first.response is not None:
            with db.session() as s:
                s.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == first.id).values(response=None))
        abort(410, message=gone or f"the response to {HEADER} '{first.key}' is no longer kept: the request was "
                                   "done; send a new request (with a new key) to do it again")
    replay = Response(text, status=first.status_code, content_type=first.content_type or "application/json")
    replay.headers["Idempotent-Replayed"] = "true"
    return replay


def _erase_expired(db, replay_seconds: str) -> None:
    """Erase this route's stored responses that may no longer be replayed (and any stored unsealed)."""
    pattern = f"{request.method} {re.sub(r'<[^>]+>', '%', request.url_rule.rule)} %"
    cutoff = utcnow() - timedelta(seconds=current_app.config[replay_seconds])
    with db.session() as s:
        s.execute(update(IdempotencyRecord).where(
            IdempotencyRecord.scope.like(pattern), IdempotencyRecord.response.is_not(None),
            (IdempotencyRecord.created_at <= cutoff) | IdempotencyRecord.response.not_like(PREFIX + "%"))
            .values(response=None))


def _fingerprint() -> str:
    """What makes two requests the same: the query and the body; for a multipart upload its fields and files
    (each request draws its own boundary, so the raw bytes differ)."""
    digest = hashlib.sha256(request.query_string + b"\0" + request.mimetype.encode() + b"\0")
    if request.mimetype == "multipart/form-data":
        for name in _sorted_names(request.form):
            for value in request.form.getlist(name):
                digest.update(f"{name}={value}\0".encode())
        for name in _sorted_names(request.files):
            for upload in request.files.getlist(name):
                digest.update(f"{name}\0".encode() + upload.read() + b"\0")
                upload.seek(0)
    else:
        digest.update(request.get_data())
    return digest.hexdigest()


def _sorted_names(fields) -> list:
    """Multipart field names in a stable order; a part without a name (None to werkzeug) first."""
    return sorted(fields, key=lambda name: (name is not None, name or ""))


def _take_over(db, first: IdempotencyRecord, lease: timedelta) -> bool:
    """Claim a record whose request died before storing its response (its lease ran out); True if we won it."""
    now = utcnow()
    if first.lease_until > now:
        return False
    with db.session() as s:
        won = s.execute(update(IdempotencyRecord).where(
            IdempotencyRecord.id == first.id, IdempotencyRecord.status_code.is_(None),
            IdempotencyRecord.lease_until == first.lease_until).values(lease_until=now + lease)).rowcount
    return won == 1


def _forget(db, key: str, scope: str) -> None:
    with db.session() as s:
        s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.key == key, IdempotencyRecord.scope == scope))
