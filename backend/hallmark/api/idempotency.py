"""Idempotency-Key for write endpoints: the same key with the same body returns the first response (also after
a restart: it is stored); the same key with another body is a 409. Failed (4xx/5xx) attempts are forgotten,
since they changed nothing, so a corrected retry may reuse the key.

Crash-safe: the view receives `g.request_ref` (derived from the key and caller) and stores it on the work it
commits (the drop, job or mint). A request that died before its response was stored holds the key for a short
lease; after that a retry runs the view again, which finds the committed work by its ref and answers with its
real status instead of doing it twice. A client never has to switch keys."""
from __future__ import annotations

import hashlib
from functools import wraps

from datetime import timedelta

from flask import Response, current_app, g, request
from flask_smorest import abort
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..db import get_db
from ..models import IdempotencyRecord, utcnow
from .openapi import add_parameter, add_responses

HEADER = "Idempotency-Key"
MAX_KEY = 200


def idempotent(required: bool = True):
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
            caller = getattr(g, "api_key", None)
            scope = f"{request.method} {request.path} {caller.id if caller else 'public'}"
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
                    replay = Response(first.response, status=first.status_code,
                                      content_type=first.content_type or "application/json")
                    replay.headers["Idempotent-Replayed"] = "true"
                    return replay
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
                record.status_code, record.response = response.status_code, response.get_data(as_text=True)
                record.content_type = response.content_type
            return response

        add_parameter(wrapper, {
            "in": "header", "name": HEADER, "required": required,
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY},
            "description": "a key of the client's choosing for this request: a retry with the same key and body "
                           "answers the first response (Idempotent-Replayed: true) instead of doing it again"})
        add_responses(wrapper, 400, 409)  # 400: missing (when required) or too long; 409: another body, or running
        return wrapper

    return decorator


def _fingerprint() -> str:
    """What makes two requests the same: the query and the body; for a multipart upload its fields and files
    (each request draws its own boundary, so the raw bytes differ)."""
    digest = hashlib.sha256(request.query_string + b"\0" + request.mimetype.encode() + b"\0")
    if request.mimetype == "multipart/form-data":
        for name in sorted(request.form):
            for value in request.form.getlist(name):
                digest.update(f"{name}={value}\0".encode())
        for name in sorted(request.files):
            for upload in request.files.getlist(name):
                digest.update(f"{name}\0".encode() + upload.read() + b"\0")
                upload.seek(0)
    else:
        digest.update(request.get_data())
    return digest.hexdigest()


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
