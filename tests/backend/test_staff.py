"""Staff sign-in, sessions, lockout, TOTP, password changes, staff and key administration, and API keys' limits,
against the real app and its SQLite database."""
from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import select

from hallmark.access import keys
from hallmark.access.models import AuditEntry, StaffSession, StaffUser
from hallmark.access.sessions import COOKIE
from hallmark.models import ApiKey, utcnow

from staffutil import PASSWORD, bare_app, code, make_user, session_token, sign_in, user_row


@pytest.fixture
def app(tmp_path):
    return bare_app(tmp_path, LOGIN_MAX_FAILURES=3)


@pytest.fixture
def client(app):
    return app.test_client()


def actions(app) -> list[str]:
    with app.extensions["hallmark.db"].session() as s:
        return list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def test_sign_in_who_am_i_and_sign_out(app, client):
    make_user(app, "mei", "marketing")
    reply = client.post("/api/session", json={"username": "Mei", "password": PASSWORD})
    assert reply.status_code == 200
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    me = client.get("/api/session").get_json()
    assert (me["username"], me["role"], me["kind"]) == ("mei", "marketing", "staff")
    assert "drops.create" in me["permissions"] and me["csrf"] == reply.get_json()["csrf"]
    token = session_token(client)

    assert client.delete("/api/session").status_code == 403  # a write without the CSRF header
    assert client.delete("/api/session", headers={"X-CSRF-Token": me["csrf"]}).status_code == 204
    assert client.get("/api/session").status_code == 401
    client.set_cookie(COOKIE, token)  # the old cookie, replayed: the server ended the session
    assert client.get("/api/drops").status_code == 401
    assert actions(app) == ["session.signin", "session.signout"]


def test_secure_cookie_behind_https(tmp_path):
    app = bare_app(tmp_path, PUBLIC_BASE_URL="https://bank.example")
    make_user(app, "mei", "viewer")
    reply = app.test_client().post("/api/session", json={"username": "mei", "password": PASSWORD})
    assert "Secure" in reply.headers["Set-Cookie"]


def test_wrong_password_and_unknown_user_answer_alike_then_lockout(app, client):
    make_user(app, "mei", "viewer")
    unknown = client.post("/api/session", json={"username": "nobody", "password": PASSWORD})
    wrong = client.post("/api/session", json={"username": "mei", "password": "not the password"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json()["message"] == wrong.get_json()["message"] == "wrong username or password"
    for attempt in ("still not it!", "nor this one!"):  # the second and third failures
        assert client.post("/api/session", json={"username": "mei", "password": attempt}).status_code == 401
    locked = client.post("/api/session", json={"username": "mei", "password": PASSWORD})  # right, but locked
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "locked" in locked.get_json()["message"]
    assert user_row(app, "mei").failed_logins == 3


def test_admin_unlocks(app, client):
    make_user(app, "mei", "viewer")
    secret = make_user(app, "root", "admin", totp=True)
    for _ in range(3):
        client.post("/api/session", json={"username": "mei", "password": "wrong password!"})
    admin = app.test_client()
    csrf = sign_in(admin, "root", totp=code(secret))
    mei = user_row(app, "mei")
    assert admin.patch(f"/api/staff/{mei.id}", json={"unlock": True}, headers=csrf).get_json()["failed_logins"] == 0
    sign_in(client, "mei")
    assert "staff.unlock" in actions(app)


def test_totp_required_and_a_code_is_accepted_once(app, client):
    secret = make_user(app, "root", "admin", totp=True)
    asked = client.post("/api/session", json={"username": "root", "password": PASSWORD})
    assert asked.status_code == 401 and "totp" in asked.get_json()["errors"]["json"]
    first = code(secret)
    sign_in(client, "root", totp=first)
    again = app.test_client().post("/api/session", json={"username": "root", "password": PASSWORD, "totp": first})
    assert again.status_code == 401 and again.get_json()["errors"]["json"]["totp"] == ["wrong or already used code"]
    assert client.get("/api/staff").status_code == 200


def test_admin_without_a_second_factor_enrols_and_carries_on(app, client):
    import pyotp

    make_user(app, "root", "admin")
    csrf = sign_in(client, "root")
    refused = client.get("/api/staff")
    assert refused.status_code == 403 and "second factor" in refused.get_json()["message"]
    started = client.post("/api/account/totp", headers=csrf).get_json()
    assert started["uri"].startswith("otpauth://totp/Hallmark:root") and started["qr_svg"].startswith("<svg")
    with app.extensions["hallmark.db"].session() as s:
        stored = s.scalar(select(StaffUser.totp_secret).where(StaffUser.username == "root"))
    assert started["secret"] not in stored and stored.startswith("sealed:")
    wrong = client.post("/api/account/totp/confirm", json={"code": "000000"}, headers=csrf)
    assert wrong.status_code == 422 and "code" in wrong.get_json()["errors"]["json"]
    me = client.post("/api/account/totp/confirm", json={"code": pyotp.TOTP(started["secret"]).now()}, headers=csrf)
    assert me.status_code == 200 and me.get_json()["second_factor"] is True
    assert client.get("/api/staff").status_code == 200
    assert client.post("/api/account/totp", headers=csrf).status_code == 409  # enrolled: no silent replacement
    assert "account.totp" in actions(app)


def test_password_change_ends_the_other_sessions(app, client):
    make_user(app, "mei", "viewer")
    other = app.test_client()
    sign_in(other, "mei")
    csrf = sign_in(client, "mei")
    short = client.post("/api/account/password", json={"current_password": PASSWORD, "new_password": "short"},
                        headers=csrf)
    assert short.status_code == 422 and "password" in short.get_json()["errors"]["json"]
    wrong = client.post("/api/account/password", json={"current_password": "nope", "new_password": "x" * 12},
                        headers=csrf)
    assert wrong.status_code == 422 and "current_password" in wrong.get_json()["errors"]["json"]
    changed = client.post("/api/account/password", json={"current_password": PASSWORD,
                                                         "new_password": "a new long passphrase"}, headers=csrf)
    assert changed.status_code == 204
    assert client.get("/api/session").status_code == 200
    assert other.get("/api/session").status_code == 401
    sign_in(app.test_client(), "mei", "a new long passphrase")
    assert "account.password" in actions(app)


def test_staff_admin(app, client):
    secret = make_user(app, "root", "admin", totp=True)
    csrf = sign_in(client, "root", totp=code(secret))
    made = client.post("/api/staff", json={"username": "wang.li", "role": "branch"}, headers=csrf)
    assert made.status_code == 201
    body = made.get_json()
    password = body["password"]
    assert len(password) >= 12 and body["role"] == "branch"
    assert password not in str(client.get("/api/staff").get_json())
    stored = user_row(app, "wang.li").password_hash
    assert stored.startswith("$argon2id$") and password not in stored

    taken = client.post("/api/staff", json={"username": "wang.li", "role": "viewer"}, headers=csrf)
    assert taken.status_code == 409 and "username" in taken.get_json()["errors"]["json"]
    bad = client.post("/api/staff", json={"username": "x", "role": "boss"}, headers=csrf)
    assert bad.status_code == 422 and "role" in bad.get_json()["errors"]["json"]
    bad_name = client.post("/api/staff", json={"username": "Ω!", "role": "viewer"}, headers=csrf)
    assert bad_name.status_code == 422 and "username" in bad_name.get_json()["errors"]["json"]

    branch = app.test_client()
    branch_csrf = sign_in(branch, "wang.li", password)
    assert branch.get("/api/staff").status_code == 403
    assert branch.post("/api/staff", json={}, headers=branch_csrf).status_code == 403
    uid = body["id"]
    assert client.patch(f"/api/staff/{uid}", json={"role": "viewer"}, headers=csrf).get_json()["role"] == "viewer"
    assert branch.get("/api/session").get_json()["role"] == "viewer"  # at once, in the running session
    assert client.patch(f"/api/staff/{uid}", json={"disabled": True}, headers=csrf).get_json()["disabled"]
    assert branch.get("/api/session").status_code == 401  # disabling ended the session
    refused = app.test_client().post("/api/session", json={"username": "wang.li", "password": password})
    assert refused.status_code == 401
    assert client.patch(f"/api/staff/{uid}", json={"disabled": False}, headers=csrf).status_code == 200
    me = user_row(app, "root").id
    assert client.patch(f"/api/staff/{me}", json={"disabled": True}, headers=csrf).status_code == 409
    assert client.patch("/api/staff/999", json={"unlock": True}, headers=csrf).status_code == 404
    assert client.patch(f"/api/staff/{uid}", json={}, headers=csrf).status_code == 422
    assert {"staff.create", "staff.role", "staff.disable", "staff.enable"} <= set(actions(app))


def test_key_admin_and_key_limits(app, client):
    secret = make_user(app, "root", "admin", totp=True)
    csrf = sign_in(client, "root", totp=code(secret))
    made = client.post("/api/keys", json={"name": "crm", "scopes": ["drops.read"], "drop_ids": [1]}, headers=csrf)
    assert made.status_code == 201
    key = made.get_json()["key"]
    listed = client.get("/api/keys").get_json()
    assert listed[0]["prefix"] == key[:10] and listed[0]["drop_ids"] == [1]
    assert key not in str(listed) and all("hash" not in k for row in listed for k in row)
    with app.extensions["hallmark.db"].session() as s:
        assert s.scalar(select(ApiKey.key_hash)) == keys.hash_key(key)  # only its hash is kept

    bearer = {"Authorization": f"Bearer {key}"}
    api = app.test_client()
    assert api.get("/api/drops/2", headers=bearer).status_code == 403  # limited to drop 1
    assert api.get("/api/drops/1", headers=bearer).status_code == 404  # allowed, but there is no such drop
    assert api.post("/api/drops", json={}, headers=bearer).status_code == 403  # not in its scopes
    assert api.get("/api/keys", headers=bearer).status_code == 403

    for wrong, field in (({"name": "x", "scopes": ["keys.manage"]}, "scopes"), ({"name": "x"}, "scopes"),
                         ({"name": "x", "role": "viewer", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at")):
        answer = client.post("/api/keys", json=wrong, headers=csrf)
        assert answer.status_code == 422 and field in answer.get_json()["errors"]["json"], answer.get_json()

    revoked = client.delete(f"/api/keys/{made.get_json()['id']}", headers=csrf)
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    assert api.get("/api/drops/1", headers=bearer).status_code == 401
    assert client.delete("/api/keys/999", headers=csrf).status_code == 404
    assert {"key.create", "key.revoke"} <= set(actions(app))


def test_expired_key_is_refused(app):
    db = app.extensions["hallmark.db"]
    key = keys.create_api_key(db, "old", "viewer", expires_at=utcnow() - timedelta(seconds=1))
    reply = app.test_client().get("/api/drops", headers={"Authorization": f"Bearer {key}"})
    assert reply.status_code == 401 and "expired" in reply.get_json()["message"]


def test_a_key_is_not_a_staff_member(app):
    key = keys.create_api_key(app.extensions["hallmark.db"], "crm", "admin")
    bearer = {"Authorization": f"Bearer {key}"}
    client = app.test_client()
    assert client.get("/api/session", headers=bearer).get_json()["kind"] == "key"
    assert client.post("/api/account/totp", headers=bearer).status_code == 403


def test_secrets_stay_out_of_the_database_and_audit(app, client):
    secret = make_user(app, "root", "admin", totp=True)
    csrf = sign_in(client, "root", totp=code(secret))
    created = client.post("/api/staff", json={"username": "mei", "role": "viewer"}, headers=csrf).get_json()
    key = client.post("/api/keys", json={"name": "crm", "role": "viewer"}, headers=csrf).get_json()["key"]
    token = session_token(client)
    connection = sqlite3.connect(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    dump = "\n".join(connection.iterdump())
    connection.close()
    assert "mei" in dump  # the dump holds the accounts: only their secrets are missing
    for plain in (PASSWORD, secret, created["password"], key, token):
        assert plain not in dump
    with app.extensions["hallmark.db"].session() as s:
        assert s.scalar(select(StaffSession.token_hash)) != token


def test_a_sessions_lifetime(tmp_path):
    app = bare_app(tmp_path, SESSION_IDLE_SECONDS=60)
    make_user(app, "mei", "viewer")
    client = app.test_client()
    sign_in(client, "mei")
    with app.extensions["hallmark.db"].session() as s:
        s.get(StaffSession, 1).last_seen_at = utcnow() - timedelta(seconds=61)
    assert client.get("/api/session").status_code == 401  # idle too long
