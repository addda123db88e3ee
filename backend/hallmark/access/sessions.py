"""Server-side console sessions: the cookie holds a random token (HttpOnly, SameSite=Strict), the database its
hash. Writes also need the X-CSRF-Token header, derived from the token, which the console reads from
GET /api/session: a page on another site can neither read it nor make the browser send it."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app, request
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db import Database, get_db
from ..models import utcnow
from .models import StaffSession, StaffUser
from .permissions import CSRF_HEADER, ROLES, Principal

COOKIE = "hallmark_session"
SEEN_EVERY = timedelta(seconds=30)  # last-seen is written at most this often


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_for(token: str) -> str:
    return hashlib.sha256(b"hallmark csrf\0" + token.encode()).hexdigest()[:40]


def create(s: Session, user: StaffUser, second_factor: bool, client: str, lifetime: float) -> str:
    """A new session in the caller's transaction (so it commits with the sign-in's audit entry); its token."""
    token = secrets.token_urlsafe(32)
    s.add(StaffSession(token_hash=_hash(token), user_id=user.id, second_factor=second_factor,
                       client=client[:64], expires_at=utcnow() + timedelta(seconds=lifetime)))
    return token


def lookup(db: Database, token: str, idle_seconds: float) -> tuple[StaffSession, StaffUser] | None:
    now = utcnow()
    with db.session() as s:
        found = s.execute(select(StaffSession, StaffUser).join(StaffUser, StaffUser.id == StaffSession.user_id)
                          .where(StaffSession.token_hash == _hash(token))).first()
        if found is None:
            return None
        session, user = found
        if (session.ended_at is not None or session.expires_at <= now or user.disabled_at is not None
                or now - session.last_seen_at > timedelta(seconds=idle_seconds)):
            return None
        if now - session.last_seen_at > SEEN_EVERY:
            s.execute(update(StaffSession).where(StaffSession.id == session.id).values(last_seen_at=now))
        return session, user


def principal_of(session: StaffSession, user: StaffUser) -> Principal:
    return Principal(kind="staff", id=user.id, name=user.username, role=user.role,
                     permissions=frozenset(ROLES.get(user.role, ())), second_factor=session.second_factor,
                     session_id=session.id)


def from_request() -> Principal | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    found = lookup(get_db(), token, current_app.config["SESSION_IDLE_SECONDS"])
    return principal_of(*found) if found else None


def csrf_ok() -> bool:
    token = request.cookies.get(COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    return bool(token) and hmac.compare_digest(sent, csrf_for(token))


def end(s: Session, token: str) -> None:
    s.execute(update(StaffSession).where(StaffSession.token_hash == _hash(token),
                                         StaffSession.ended_at.is_(None)).values(ended_at=utcnow()))


def end_all(s: Session, user_id: int, keep_session_id: int | None = None) -> None:
    """A password change or a disabled account ends the user's other sessions (in the caller's transaction)."""
    query = update(StaffSession).where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
    if keep_session_id is not None:
        query = query.where(StaffSession.id != keep_session_id)
    s.execute(query.values(ended_at=utcnow()))
