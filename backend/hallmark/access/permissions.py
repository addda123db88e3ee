"""Roles, permissions and the one decorator every route declares its permission with.

A route is either `@public` (customers, no sign-in) or `@requires(permission)`; `tests/backend/test_permissions`
walks the URL map and fails on any route that declares neither. The caller is a staff member signed in to the
console (a server-side session cookie, with a CSRF header on every write) or a partner system (an API key as
`Authorization: Bearer`, limited to its scopes and, optionally, to some drops)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import wraps

from flask import g, request
from flask_smorest import abort


# permission -> what it allows (the README's table is generated from these two dictionaries)
PERMISSIONS = {
    "drops.read": "see drops, jobs, mints, approvals and dashboards",
    "drops.create": "prepare a drop (carried out once approved)",
    "airdrops.create": "prepare an airdrop (carried out once approved)",
    "mints.create": "prepare a single mint (carried out once approved)",
    "drops.pause": "ask to pause or resume a collection (carried out once approved)",
    "claim_codes.create": "generate claim codes",
    "approvals.decide": "approve or reject someone else's request",
    "perks.redeem": "redeem an item's perk",
    "custody.read": "look up customers' custodial addresses and holdings",
    "ledger.export": "export a drop's ledger (customer ids only with custody.read)",
    "audit.read": "read and export the audit trail",
    "staff.manage": "create, change and disable staff accounts",
    "keys.manage": "create and revoke partner API keys",
    "webhooks.manage": "register webhooks and read their delivery log",
}
ROLES = {
    "viewer": ("drops.read", "ledger.export"),
    "marketing": ("drops.read", "drops.create", "airdrops.create", "mints.create", "drops.pause",
                  "claim_codes.create", "ledger.export"),
    "approver": ("drops.read", "approvals.decide", "ledger.export", "audit.read"),
    "branch": ("drops.read", "perks.redeem", "custody.read", "ledger.export"),
    "admin": ("drops.read", "staff.manage", "keys.manage", "webhooks.manage", "audit.read", "ledger.export"),
}
# a key acts for a system, never as a person: it cannot approve, nor make staff or other keys
KEY_SCOPES = tuple(p for p in PERMISSIONS if p not in ("approvals.decide", "staff.manage", "keys.manage"))
PUBLIC, SIGNED_IN = "public", "signed_in"  # the two declarations that are not permissions
ATTRIBUTE = "_hallmark_permission"
SECURITY = [{"ApiKey": []}, {"Session": []}]
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a staff member (kind "staff") or a partner system (kind "key")."""

    kind: str
    id: int
    name: str
    role: str
    permissions: frozenset[str]
    drop_ids: frozenset[int] | None = None  # a key limited to some drops; None = all
    second_factor: bool = True  # staff: a TOTP code was given at sign-in
    session_id: int | None = field(default=None, compare=False)

    def may(self, permission: str) -> bool:
        return permission in self.permissions

    def may_see_drop(self, drop_id: int) -> bool:
        return self.drop_ids is None or drop_id in self.drop_ids


def declared(view) -> str | None:
    return getattr(view, ATTRIBUTE, None)


def public(view):
    """A customers' route: no sign-in."""
    setattr(view, ATTRIBUTE, PUBLIC)
    return view


def requires(permission: str):
    """Authenticate the caller and require `permission` (or SIGNED_IN: any staff member or key); sets
    g.principal. Put it right below the route decorator, so it runs before the body is read or validated."""
    if permission not in PERMISSIONS and permission != SIGNED_IN:
        raise ValueError(f"unknown permission {permission}")

    def decorator(view):
        from ..api.openapi import add_manual, add_responses  # here: the api package imports this module

        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = authenticate()
            if permission != SIGNED_IN:
                if principal.kind == "staff" and principal.role == "admin" and not principal.second_factor:
                    abort(403, message="an admin must sign in with a second factor: enrol one under 账户 / Account")
                if not principal.may(permission):
                    who = f"the {principal.role} role" if principal.kind == "staff" else "this key's scopes"
                    abort(403, message=f"this needs the {permission} permission, which {who} does not have")
            drop_id = kwargs.get("drop_id")
            if drop_id is not None and not principal.may_see_drop(drop_id):
                abort(403, message=f"this key is not for drop {drop_id}")
            return view(*args, **kwargs)

        setattr(wrapper, ATTRIBUTE, permission)
        add_manual(wrapper, security=SECURITY)
        add_responses(wrapper, 401, 403)
        return wrapper

    return decorator


def require_drop(drop_id: int) -> None:
    """For routes that reach a drop through another object (a job, a mint): the key's drop limit applies."""
    principal = g.principal
    if not principal.may_see_drop(drop_id):
        abort(403, message=f"this key is not for drop {drop_id}")


def authenticate() -> Principal:
    """The caller from its API key or its session cookie, else 401. Writes with a session need the CSRF header."""
    from . import keys, sessions

    principal = keys.from_request() or sessions.from_request()
    if principal is None:
        abort(401, message="sign in to the console, or send an API key (Authorization: Bearer <key>)")
    if principal.kind == "staff" and request.method not in SAFE_METHODS and not sessions.csrf_ok():
        abort(403, message=f"the {CSRF_HEADER} header is missing or wrong: reload the console")
    g.principal = principal
    return principal


def current() -> Principal | None:
    return getattr(g, "principal", None)
