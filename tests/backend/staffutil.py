"""Staff members for tests: accounts made through access.accounts, signed in through POST /api/session."""
from __future__ import annotations

import time
from pathlib import Path

import pyotp

from hallmark import create_app
from hallmark.access import accounts
from hallmark.access.models import StaffUser
from hallmark.access.sessions import COOKIE
from hallmark.config import Config
from hallmark.security.sealing import sealer_for

PASSWORD = "correct horse battery"


def bare_app(tmp_path: Path, **overrides):
    """The app with no chain behind it: every route is there, and the access checks run before any chain work."""
    config = Config(DATA_DIR=tmp_path / "data", RPC_URL="http://127.0.0.1:9", NETWORK="nowhere",
                    DEPLOYMENT_FILE=tmp_path / "data" / "deployments" / "nowhere.json",
                    DATABASE_URL=f"sqlite:///{tmp_path / 'hallmark.db'}", START_WORKERS=False, TESTING=True,
                    RATELIMIT_ENABLED=False, **overrides)
    return create_app(config)


def make_user(app, username: str, role: str, password: str = PASSWORD, totp: bool = False) -> str | None:
    """Create an account; with totp=True enrol a second factor and return its secret."""
    db = app.extensions["hallmark.db"]
    with db.session() as s:
        user = accounts.create_user(s, username, role, password)
        if not totp:
            return None
        secret, _ = accounts.start_totp(s, user, sealer_for(app))
        user.totp_last_step = 0  # enrolled: confirmed long ago
        return secret


def code(secret: str, steps_ahead: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(int(time.time()) // totp.interval + steps_ahead)


def sign_in(client, username: str, password: str = PASSWORD, totp: str | None = None) -> dict:
    """Sign `client` in (its cookie jar keeps the session); the CSRF header for its writes."""
    reply = client.post("/api/session", json={"username": username, "password": password,
                                              **({"totp": totp} if totp else {})})
    assert reply.status_code == 200, reply.get_json()
    return {"X-CSRF-Token": reply.get_json()["csrf"]}


def session_token(client) -> str:
    return client.get_cookie(COOKIE).value


def user_row(app, username: str) -> StaffUser:
    from sqlalchemy import select

    with app.extensions["hallmark.db"].session() as s:
        return s.scalar(select(StaffUser).where(StaffUser.username == username))
