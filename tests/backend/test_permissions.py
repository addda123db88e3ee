"""Every route declares who may call it, and the roles get exactly what access/permissions.py gives them: a walk of
the whole URL map with a signed-in member of every role (and with no one)."""
from __future__ import annotations

import re

import pytest

from hallmark.access.permissions import PERMISSIONS, PUBLIC, ROLES, SIGNED_IN, declared
from hallmark.config import ROOT

from staffutil import bare_app, code, make_user, sign_in

IGNORED_METHODS = {"HEAD", "OPTIONS"}
SKIPPED = {("DELETE", "/api/session")}  # signing out would end the role's session mid-walk (test_staff covers it)


def routes(app):
    """(method, rule, its view's declaration) for every route of the app."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - IGNORED_METHODS):
            handler = getattr(view.view_class, method.lower(), None) if hasattr(view, "view_class") else view
            yield method, rule, declared(handler) if handler is not None else None


def concrete(rule) -> str:
    return re.sub(r"<(?:int:)?[^>]+>", lambda m: "1" if m.group(0).startswith("<int:") else "x", rule.rule)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return bare_app(tmp_path_factory.mktemp("permissions"))


@pytest.fixture(scope="module")
def signed_in(app):
    """A test client and CSRF header per role, each signed in (the admin with its second factor)."""
    clients = {}
    for role in ROLES:
        secret = make_user(app, f"{role}-user", role, totp=role == "admin")
        client = app.test_client()
        clients[role] = client, sign_in(client, f"{role}-user", totp=code(secret) if secret else None)
    return clients


def test_every_route_declares_its_permission(app):
    undeclared = [f"{method} {rule.rule}" for method, rule, permission in routes(app) if permission is None]
    assert not undeclared, f"routes without @public or @requires: {undeclared}"
    permissions = {permission for _, _, permission in routes(app)}
    assert permissions <= {PUBLIC, SIGNED_IN, *PERMISSIONS}
    assert {"staff.manage", "keys.manage", SIGNED_IN, PUBLIC} <= permissions


def test_each_role_gets_exactly_its_permissions(app, signed_in):
    checked = 0
    for method, rule, permission in routes(app):
        if permission == PUBLIC or (method, rule.rule) in SKIPPED:
            continue
        path = concrete(rule)
        anonymous = app.test_client().open(path, method=method)
        assert anonymous.status_code == 401, (method, rule.rule, anonymous.status_code)
        for role, (client, csrf) in signed_in.items():
            reply = client.open(path, method=method, headers=csrf)
            refused = reply.status_code == 403 and "permission" in (reply.get_json() or {}).get("message", "")
            allowed = permission == SIGNED_IN or permission in ROLES[role]
            assert reply.status_code != 401, (role, method, rule.rule)
            assert refused != allowed, (role, method, rule.rule, permission, reply.status_code, reply.get_json())
            checked += 1
    assert checked > 5 * 20


def test_an_admin_needs_a_second_factor(app):
    make_user(app, "admin-no-totp", "admin")
    client = app.test_client()
    sign_in(client, "admin-no-totp")
    assert client.get("/api/session").status_code == 200  # may sign in, and enrol
    refused = client.get("/api/keys")
    assert refused.status_code == 403 and "second factor" in refused.get_json()["message"]


def test_readme_table_matches_the_roles():
    """The README's table of roles and permissions is written by hand: it must say what the code does."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Bank-grade access"):]
    header = next(line for line in section.splitlines() if line.startswith("| permission |"))
    roles = [cell.strip() for cell in header.strip("|").split("|")][2:]
    assert roles == list(ROLES)
    table = {}
    for line in section.splitlines():
        match = re.match(r"\| `([a-z_.]+)` \|(.*)", line)
        if match:
            cells = [cell.strip() for cell in match.group(2).strip().strip("|").split("|")]
            assert cells[0] == PERMISSIONS[match.group(1)], match.group(1)
            table[match.group(1)] = {role for role, cell in zip(roles, cells[1:]) if cell == "✓"}
    assert list(table) == list(PERMISSIONS)
    for role, granted in ROLES.items():
        assert {p for p, holders in table.items() if role in holders} == set(granted), role
