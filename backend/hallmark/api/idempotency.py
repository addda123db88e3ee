"""Idempotency-Key for write endpoints: the same key with the same body returns the first response (also after
a restart: it is stored); the same key with another body is a 409. Failed (4xx/5xx) attempts are forgotten,
since they changed nothing, so a corrected retry may reuse the key."""
from __future__ import annotations

import hashlib
from functools import wraps

from flask import Response, g, request
from flask_smorest import abort
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..db import get_db
from ..models import IdempotencyRecord

HEADER = "Idempotency-Key"


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
            if len(key) > 200:
                abort(400, message=f"{HEADER} is longer than 200 characters",
                      errors={"headers": {HEADER: ["Longer than maximum length 200."]}})
            caller = getattr(g, "api_key", None)
            scope = f"{request.method} {request.path} {caller.id if caller else 'public'}"
            body_hash = hashlib.sha256(
                request.query_string + b"\0" + (request.content_type or "").encode() + b"\0" + request.get_data()
            ).hexdigest()
            db = get_db()
            try:
                with db.session() as s:
                    s.add(IdempotencyRecord(key=key, scope=scope, body_hash=body_hash))
            except IntegrityError:
                with db.session() as s:
                    first = s.scalar(select(IdempotencyRecord).where(
                        IdempotencyRecord.key == key, IdempotencyRecord.scope == scope))
                if first.body_hash != body_hash:
                    abort(409, message=f"{HEADER} '{key}' was already used with a different request body")
                if first.status_code is None:
                    abort(409, message=f"a request with {HEADER} '{key}' is still being processed; retry shortly")
                replay = Response(first.response, status=first.status_code,
                                  content_type=first.content_type or "application/json")
                replay.headers["Idempotent-Replayed"] = "true"
                return replay
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

        return wrapper

    return decorator


def _forget(db, key: str, scope: str) -> None:
    with db.session() as s:
        s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.key == key, IdempotencyRecord.scope == scope))
