"""Staff API keys: random bearer tokens stored as SHA-256 hashes, each with a role (admin > marketing)."""
from __future__ import annotations

import hashlib
import secrets
from functools import wraps

from flask import g, request
from flask_smorest import abort
from sqlalchemy import select

from ..db import Database, get_db
from ..models import ApiKey
from .openapi import add_manual, add_responses

SECURITY_SCHEME = "ApiKey"  # /openapi.json's bearer scheme (registered in api/__init__.py)
ROLES = ("marketing", "admin")  # later roles include the earlier ones' rights


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(db: Database, name: str, role: str) -> str:
    """Create a key and return it in plain text: the only time it is ever visible."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    key = "hk_" + secrets.token_urlsafe(32)
    with db.session() as s:
        s.add(ApiKey(name=name, role=role, prefix=key[:10], key_hash=_hash(key)))
    return key


def presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-API-Key")


def staff_required(role: str = "marketing"):
    """Require an API key whose role is `role` or higher; sets g.api_key."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            key = presented_key()
            if not key:
                abort(401, message="an API key is required (Authorization: Bearer <key>)")
            with get_db().session() as s:
                row = s.scalar(select(ApiKey).where(ApiKey.key_hash == _hash(key), ApiKey.revoked_at.is_(None)))
            if row is None:
                abort(401, message="unknown or revoked API key")
            if ROLES.index(row.role) < ROLES.index(role):
                abort(403, message=f"this needs the {role} role; the key has {row.role}")
            g.api_key = row
            return view(*args, **kwargs)

        add_manual(wrapper, security=[{SECURITY_SCHEME: []}])
        add_responses(wrapper, 401, 403)
        return wrapper

    return decorator
