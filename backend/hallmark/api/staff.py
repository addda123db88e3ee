"""The console's sign-in, the signed-in account (password, second factor) and staff administration.

An admin without a second factor can sign in, but every permission route refuses the session
(access.permissions.requires) until one is enrolled: confirming the enrolment's first code marks the current
session as having given a second factor, so the admin carries on without signing in again."""
from __future__ import annotations

import segno
from flask import current_app, g, jsonify, make_response, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select, update

from ..access import accounts, audit, sessions
from ..access.accounts import AccountError
from ..access.models import StaffSession, StaffUser
from ..access.permissions import ROLES, SIGNED_IN, public, requires
from ..db import get_db
from ..security.sealing import sealer_for
from .errors import error_response
from .openapi import errors
from .staff_schemas import (MeSchema, PasswordChangeSchema, SignInSchema, StaffChangeSchema, StaffCreatedSchema,
                            StaffCreateSchema, StaffSchema, TotpConfirmSchema, TotpStartSchema)

bp = Blueprint("staff", __name__, url_prefix="/api", description="Staff sign-in, accounts and administration")


@bp.errorhandler(AccountError)
def _refused(exc: AccountError):
    reply, status = error_response(exc.status, str(exc), exc.field)
    if exc.retry_after:
        reply.headers["Retry-After"] = str(exc.retry_after)
    return reply, status


def _me(user: StaffUser, second_factor: bool, token: str) -> dict:
    return {"kind": "staff", "username": user.username, "display_name": user.display_name, "role": user.role,
            "permissions": list(ROLES.get(user.role, ())), "second_factor": second_factor,
            "totp": accounts.enrolled(user), "csrf": sessions.csrf_for(token)}


def _my_account(s) -> StaffUser:
    """The signed-in staff member's row (locked for the change); a key has no account."""
    if g.principal.kind != "staff":
        abort(403, message="this is for staff signed in to the console, not for API keys")
    return s.scalar(select(StaffUser).where(StaffUser.id == g.principal.id).with_for_update())


@bp.route("/session")
class Session(MethodView):
    @public
    @errors(401, 422, 429)
    @bp.arguments(SignInSchema)
    @bp.response(200, MeSchema)
    def post(self, data):
        """Sign in to the console: sets the session cookie. A 401 naming the `totp` field asks for the code;
        a 429 (with Retry-After) means the account is locked after too many failures."""
        config = current_app.config
        db = get_db()
        signed = accounts.sign_in(db, sealer_for(current_app), data["username"], data["password"], data["totp"],
                                  client=request.remote_addr or "", max_failures=config["LOGIN_MAX_FAILURES"],
                                  lock_seconds=config["LOGIN_LOCK_SECONDS"], lifetime=config["SESSION_MAX_SECONDS"])
        with db.session() as s:
            user = s.get(StaffUser, signed.user_id)
        reply = make_response(jsonify(MeSchema().dump(_me(user, signed.second_factor, signed.token))))
        reply.set_cookie(sessions.COOKIE, signed.token, max_age=int(config["SESSION_MAX_SECONDS"]), path="/",
                         httponly=True, samesite="Strict", secure=config["PUBLIC_BASE_URL"].startswith("https:"))
        return reply

    @requires(SIGNED_IN)
    @bp.response(200, MeSchema)
    def get(self):
        """Who is signed in, what they may do, and the CSRF token for writes."""
        principal = g.principal
        if principal.kind == "key":
            return {"kind": "key", "username": principal.name, "display_name": principal.name,
                    "role": principal.role, "permissions": sorted(principal.permissions), "second_factor": False,
                    "totp": False, "csrf": None}
        with get_db().session() as s:
            user = s.get(StaffUser, principal.id)
        return _me(user, principal.second_factor, request.cookies[sessions.COOKIE])

    @requires(SIGNED_IN)
    @bp.response(204)
    def delete(self):
        """Sign out: the session ends on the server, and the cookie is cleared."""
        token = request.cookies.get(sessions.COOKIE)
        if g.principal.kind == "staff" and token:
            with get_db().session() as s:
                sessions.end(s, token)
                audit.record(s, "session.signout", "staff", g.principal.id)
        reply = make_response("", 204)
        reply.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="Strict")
        return reply


@bp.route("/account/password", methods=["POST"])
@requires(SIGNED_IN)
@errors(422)
@bp.arguments(PasswordChangeSchema)
@bp.response(204)
def change_password(data):
    """Change your password; your other sessions end."""
    with get_db().locked_session() as s:
        accounts.change_password(s, _my_account(s), data["current_password"], data["new_password"],
                                 g.principal.session_id)
    return "", 204


@bp.route("/account/totp", methods=["POST"])
@requires(SIGNED_IN)
@errors(409)
@bp.response(200, TotpStartSchema)
def start_totp():
    """Start enrolling an authenticator app: the secret and its QR code, shown this once."""
    with get_db().locked_session() as s:
        secret, uri = accounts.start_totp(s, _my_account(s), sealer_for(current_app))
    return {"secret": secret, "uri": uri, "qr_svg": segno.make(uri, error="m").svg_inline(scale=4)}


@bp.route("/account/totp/confirm", methods=["POST"])
@requires(SIGNED_IN)
@errors(409, 422)
@bp.arguments(TotpConfirmSchema)
@bp.response(200, MeSchema)
def confirm_totp(data):
    """Finish the enrolment with the app's current code; this session counts as signed in with it."""
    with get_db().locked_session() as s:
        user = _my_account(s)
        accounts.confirm_totp(s, user, sealer_for(current_app), data["code"])
        s.execute(update(StaffSession).where(StaffSession.id == g.principal.session_id).values(second_factor=True))
        return _me(user, True, request.cookies[sessions.COOKIE])


# ---------------------------------------------------------------------------------------------- staff admin


@bp.route("/staff")
class Staff(MethodView):
    @requires("staff.manage")
    @bp.response(200, StaffSchema(many=True))
    def get(self):
        """Staff accounts, in the order they were made."""
        with get_db().session() as s:
            return [accounts.view(u) for u in s.scalars(select(StaffUser).order_by(StaffUser.id))]

    @requires("staff.manage")
    @errors(409, 422)
    @bp.arguments(StaffCreateSchema)
    @bp.response(201, StaffCreatedSchema)
    def post(self, data):
        """Create an account; its initial password is in this answer only (the user changes it)."""
        password = accounts.new_password()
        with get_db().locked_session() as s:
            user = accounts.create_user(s, data["username"], data["role"], password, created_by=g.principal.id,
                                        display_name=data["display_name"])
            audit.record(s, "staff.create", "staff", user.id, after={"username": user.username, "role": user.role})
            return {**accounts.view(user), "password": password}


@bp.route("/staff/<int:user_id>", methods=["PATCH"])
@requires("staff.manage")
@errors(404, 409, 422)
@bp.arguments(StaffChangeSchema)
@bp.response(200, StaffSchema)
def change_staff(data, user_id):
    """Change an account's role, disable or enable it, clear its lock, or remove its second factor."""
    if user_id == g.principal.id and ("role" in data or data.get("disabled")):
        abort(409, message="you cannot change your own role or disable yourself: ask another admin")
    with get_db().locked_session() as s:
        user = s.scalar(select(StaffUser).where(StaffUser.id == user_id).with_for_update())
        if user is None:
            abort(404, message=f"no staff account {user_id}")
        if "role" in data and data["role"] != user.role:
            audit.record(s, "staff.role", "staff", user.id, before={"role": user.role}, after={"role": data["role"]})
            user.role = data["role"]
        if "disabled" in data and data["disabled"] != (user.disabled_at is not None):
            accounts.set_disabled(s, user, data["disabled"])
            audit.record(s, "staff.disable" if data["disabled"] else "staff.enable", "staff", user.id)
        if data.get("unlock"):
            audit.record(s, "staff.unlock", "staff", user.id, before={"failed_logins": user.failed_logins})
            user.failed_logins, user.locked_until = 0, None
        if data.get("reset_totp"):
            accounts.reset_totp(s, user)
            audit.record(s, "staff.reset_totp", "staff", user.id)
        return accounts.view(user)
