"""Staff accounts: passwords (argon2id), sign-in with lockout, TOTP second factor, password changes, disabling.

Sign-in answers the same 401 "wrong username or password" for an unknown user and a wrong password (and spends
the same argon2 time on both). After LOGIN_MAX_FAILURES wrong passwords or codes in a row the account is locked
for LOGIN_LOCK_SECONDS: that answer is a distinct 429 with Retry-After, and the password is not even checked.

TOTP (RFC 6238, 30 s steps, one step of drift either way): the secret is sealed (security.sealing) and a code is
accepted once (`totp_last_step`). Enrolment is two steps: `start_totp` stores a new secret with
`totp_last_step` None (pending: sign-in does not ask for it yet), `confirm_totp` checks a first code and records
its step, which is what marks the account enrolled."""
from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import Database
from ..models import utcnow
from ..security.sealing import Sealer
from . import audit, sessions
from .models import StaffUser
from .permissions import ROLES

HASHER = PasswordHasher()  # argon2id with argon2-cffi's current defaults; older hashes are redone at sign-in
USERNAME = re.compile(r"[a-z][a-z0-9._-]{2,31}")
PASSWORD_MIN, PASSWORD_MAX = 12, 256  # the maximum bounds the work an attacker can ask argon2 for
WRONG = "wrong username or password"
ISSUER = "Hallmark"
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))  # verified for unknown users: the same time as a real one


class AccountError(Exception):
    """A refusal to answer as `status` with `message`, naming `field` when one is at fault."""

    def __init__(self, message: str, field: str | None = None, status: int = 422, retry_after: int | None = None):
        super().__init__(message)
        self.field, self.status, self.retry_after = field, status, retry_after


@dataclass(frozen=True)
class SignIn:
    user_id: int
    token: str
    second_factor: bool


def check_username(username: str) -> str:
    username = (username or "").strip().lower()
    if not USERNAME.fullmatch(username):
        raise AccountError("3-32 characters: lowercase letters, digits and . _ -, starting with a letter", "username")
    return username


def check_password(password: str, username: str = "") -> None:
    if not PASSWORD_MIN <= len(password or "") <= PASSWORD_MAX:
        raise AccountError(f"a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters", "password")
    if username and username.lower() in password.lower():
        raise AccountError("the password must not contain the username", "password")


def new_password() -> str:
    """A random initial password (about 96 bits), shown once to the admin who made the account."""
    return secrets.token_urlsafe(12)


def create_user(s: Session, username: str, role: str, password: str, created_by: int | None = None,
                display_name: str = "") -> StaffUser:
    username = check_username(username)
    if role not in ROLES:
        raise AccountError(f"one of {', '.join(ROLES)}", "role")
    check_password(password, username)
    if s.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise AccountError(f"{username} is taken", "username", status=409)
    user = StaffUser(username=username, role=role, password_hash=HASHER.hash(password), created_by=created_by,
                     display_name=display_name)
    s.add(user)
    s.flush()
    return user


def view(user: StaffUser) -> dict:
    """What lists and answers show of an account: never the hash nor the TOTP secret."""
    now = utcnow()
    return {"id": user.id, "username": user.username, "display_name": user.display_name, "role": user.role,
            "totp": enrolled(user), "disabled": user.disabled_at is not None,
            "locked_until": user.locked_until if user.locked_until and user.locked_until > now else None,
            "failed_logins": user.failed_logins, "created_at": user.created_at, "last_login_at": user.last_login_at}


def enrolled(user: StaffUser) -> bool:
    return user.totp_secret is not None and user.totp_last_step is not None


# ---------------------------------------------------------------------------------------------- sign-in


def sign_in(db: Database, sealer: Sealer, username: str, password: str, code: str | None, *, client: str,
            max_failures: int, lock_seconds: float, lifetime: float) -> SignIn:
    """Check the password (and code), start a session: its token. Failures are counted and audited even though
    this raises AccountError: the refusal is decided inside the transaction and raised once it has committed."""
    refusal = None
    with db.locked_session() as s:
        name = (username or "").strip().lower()
        user = s.scalar(select(StaffUser).where(StaffUser.username == name).with_for_update())
        now = utcnow()
        if user is None or user.disabled_at is not None:
            _verify(_DUMMY_HASH, password)
            audit.record(s, "session.signin_failed", "staff", user.id if user else "",
                         after={"reason": "disabled" if user else "unknown user"})
            refusal = AccountError(WRONG, status=401)
        elif user.locked_until is not None and user.locked_until > now:
            wait = int((user.locked_until - now).total_seconds()) + 1
            audit.record(s, "session.signin_failed", "staff", user.id, after={"reason": "locked"})
            refusal = AccountError(f"too many failed sign-ins: this account is locked; try again in {wait} s "
                                   "or ask an admin to unlock it", status=429, retry_after=wait)
        elif not _verify(user.password_hash, password):
            refusal = _failed(s, user, "password", AccountError(WRONG, status=401), max_failures, lock_seconds)
        elif enrolled(user) and not code:
            # the password was right: ask for the code (not a failure)
            refusal = AccountError("enter the 6-digit code from your authenticator app", "totp", status=401)
        elif enrolled(user) and not _take_code(user, sealer, code):
            refusal = _failed(s, user, "code", AccountError("wrong or already used code", "totp", status=401),
                              max_failures, lock_seconds)
        else:
            if HASHER.check_needs_rehash(user.password_hash):  # argon2 parameters changed since it was set
                user.password_hash = HASHER.hash(password)
            user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
            second_factor = enrolled(user)
            token = sessions.create(s, user, second_factor, client, lifetime)
            audit.record(s, "session.signin", "staff", user.id, after={"second_factor": second_factor},
                         actor=audit.Actor("staff", user.id, user.username, user.role))
            result = SignIn(user.id, token, second_factor)
    if refusal is not None:
        raise refusal
    return result


def _failed(s: Session, user: StaffUser, reason: str, refusal: AccountError, max_failures: int,
            lock_seconds: float) -> AccountError:
    user.failed_logins += 1
    after = {"reason": reason, "failures": user.failed_logins}
    if user.failed_logins >= max_failures:
        user.locked_until = utcnow() + timedelta(seconds=lock_seconds)
        after["locked"] = True
    audit.record(s, "session.signin_failed", "staff", user.id, after=after)
    return refusal


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


# ---------------------------------------------------------------------------------------------- TOTP


def _context(user: StaffUser) -> str:
    return f"staff-totp:{user.id}"


def _take_code(user: StaffUser, sealer: Sealer, code: str | None) -> bool:
    """Accept `code` for the current step or one either side, once: a step at or before the last one is refused."""
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6) or user.totp_secret is None:
        return False
    totp = pyotp.TOTP(sealer.open(user.totp_secret, _context(user)))
    now_step = int(time.time()) // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if secrets.compare_digest(totp.generate_otp(step), code) and step > (user.totp_last_step or -1):
            user.totp_last_step = step
            return True
    return False


def start_totp(s: Session, user: StaffUser, sealer: Sealer) -> tuple[str, str]:
    """A new (pending) secret: (secret, otpauth URI). An enrolled account keeps its factor."""
    if enrolled(user):
        raise AccountError("a second factor is already enrolled: ask an admin to reset it", status=409)
    secret = pyotp.random_base32()
    user.totp_secret, user.totp_last_step = sealer.seal(secret, _context(user)), None
    return secret, pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def confirm_totp(s: Session, user: StaffUser, sealer: Sealer, code: str) -> None:
    if user.totp_secret is None or enrolled(user):
        raise AccountError("start the enrolment first", status=409)
    if not _take_code(user, sealer, code):
        raise AccountError("wrong code: check the time on your phone and enter the current code", "code")
    audit.record(s, "account.totp", "staff", user.id, after={"enrolled": True})


def reset_totp(s: Session, user: StaffUser) -> None:
    """An admin's reset for a lost phone: the user enrols again (ending their sessions: their factor is gone)."""
    user.totp_secret, user.totp_last_step = None, None
    sessions.end_all(s, user.id)


# ---------------------------------------------------------------------------------------------- changes


def change_password(s: Session, user: StaffUser, current: str, new: str, keep_session_id: int | None) -> None:
    """Ends the user's other sessions: whoever knew the old password is signed out."""
    if not _verify(user.password_hash, current):
        raise AccountError("this is not your current password", "current_password")
    check_password(new, user.username)
    if _verify(user.password_hash, new):
        raise AccountError("choose a password different from the current one", "new_password")
    user.password_hash, user.password_changed_at = HASHER.hash(new), utcnow()
    sessions.end_all(s, user.id, keep_session_id)
    audit.record(s, "account.password", "staff", user.id)


def set_disabled(s: Session, user: StaffUser, disabled: bool) -> None:
    """Disabling ends every session of the account at once."""
    user.disabled_at = utcnow() if disabled else None
    if disabled:
        sessions.end_all(s, user.id)
