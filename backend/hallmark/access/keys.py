"""Partner API keys: random bearer tokens kept only as SHA-256 hashes, scoped to permissions and optionally to
drops, with an expiry, revocation and the time of last use."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import request
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db import Database, get_db
from ..models import ApiKey, utcnow
from .permissions import KEY_SCOPES, ROLES, Principal

LAST_USED_EVERY = timedelta(seconds=60)  # last use is recorded at most this often: no write per request


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def scopes_for(role: str | None, scopes: list[str] | None) -> list[str]:
    """A key's scopes from a role (its permissions a key may hold) or an explicit list, checked."""
    if scopes is None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        return [p for p in ROLES[role] if p in KEY_SCOPES]
    wrong = [s for s in scopes if s not in KEY_SCOPES]
    if wrong:
        raise ValueError(f"scopes: {', '.join(wrong)} cannot be given to a key (one of {', '.join(KEY_SCOPES)})")
    if not scopes:
        raise ValueError("scopes: give a key at least one permission")
    return list(dict.fromkeys(scopes))


def create_api_key(db: Database, name: str, role: str | None = None, *, scopes: list[str] | None = None,
                   drop_ids: list[int] | None = None, expires_at: datetime | None = None,
                   created_by: int | None = None) -> str:
    """Create a key and return it in plain text: the only time it is ever visible."""
    with db.session() as s:
        return add_key(s, name, role, scopes=scopes, drop_ids=drop_ids, expires_at=expires_at,
                       created_by=created_by)[1]


def add_key(s: Session, name: str, role: str | None = None, *, scopes: list[str] | None = None,
            drop_ids: list[int] | None = None, expires_at: datetime | None = None,
            created_by: int | None = None) -> tuple[ApiKey, str]:
    """As create_api_key, in the caller's transaction (with its audit entry): the stored row and the key."""
    granted = scopes_for(role, scopes)
    key = "hk_" + secrets.token_urlsafe(32)
    row = ApiKey(name=name, role=role if scopes is None else "custom", scopes=" ".join(granted),
                 drop_ids=" ".join(map(str, drop_ids)) if drop_ids else None, prefix=key[:10],
                 key_hash=hash_key(key), expires_at=expires_at, created_by=created_by)
    s.add(row)
    s.flush()
    return row, key


def presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-API-Key")


def from_request() -> Principal | None:
    """The key's principal, or None without a key; an unknown, revoked or expired key is a 401."""
    from flask_smorest import abort

    key = presented_key()
    if not key:
        return None
    now = utcnow()
    db = get_db()
    with db.session() as s:
        row = s.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
        if row is None or row.revoked_at is not None:
            abort(401, message="unknown or revoked API key")
        if row.expires_at is not None and row.expires_at <= now:
            abort(401, message="this API key has expired")
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
            s.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
        drops = frozenset(int(d) for d in row.drop_ids.split()) if row.drop_ids else None
        return Principal(kind="key", id=row.id, name=row.name, role=f"key:{row.role}",
                         permissions=frozenset(row.scopes.split()), drop_ids=drops)


def revoke(s: Session, key_id: int) -> ApiKey | None:
    row = s.get(ApiKey, key_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
    return row
