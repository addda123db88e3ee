"""Browser tests: the real stack (its own Ganache, the contracts, the backend with its mint worker and indexer)
served over real HTTP, driven by Debian's Chromium through Playwright."""
from __future__ import annotations

import os
import shutil
import threading
import time
from types import SimpleNamespace

import pytest
from eth_account.messages import encode_defunct
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from hallmark.access import accounts
from hallmark.access.keys import create_api_key
from hallmark.access.permissions import KEY_SCOPES
from hallmark.config import ROOT
from hallmark.run.web import RequestHandler
from hallmark.testing import LocalStack, deploy_lookalike, free_port

CHROMIUM = "/usr/bin/chromium"  # `playwright install` cannot download here; `make test-e2e` installs Debian's
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = ROOT / "artifacts" / "screenshots"
DOCS_SHOTS = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    with LocalStack(tmp_path_factory.mktemp("e2e")) as local:
        yield local


@pytest.fixture(scope="session")
def server(stack):
    """The app on a free port over HTTP; QR and verify URLs point at it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = stack.app(PUBLIC_BASE_URL=url, MINT_BATCH_SIZE=50, CLAIM_WINDOW_SECONDS=0.3, INDEX_POLL_SECONDS=0.2)
    http = make_server("127.0.0.1", port, app, threaded=True, request_handler=RequestHandler)
    thread = threading.Thread(target=http.serve_forever, name="e2e-http", daemon=True)
    thread.start()
    yield SimpleNamespace(url=url, app=app, staff_key=create_api_key(app.extensions["hallmark.db"], "e2e", scopes=KEY_SCOPES))
    http.shutdown()
    app.extensions["hallmark.services"].stop()


@pytest.fixture(scope="session")
def client(server):
    return server.app.test_client()


@pytest.fixture(scope="session")
def staff(server):
    return {"Authorization": f"Bearer {server.staff_key}"}


@pytest.fixture(scope="session")
def staff_user(server):
    """Console accounts made through access.accounts, one per role: staff_user("marketing").username/.password."""
    made = {}

    def make(role: str = "marketing") -> SimpleNamespace:
        if role not in made:
            user = SimpleNamespace(username=f"e2e-{role}", password=accounts.new_password())
            with server.app.extensions["hallmark.db"].session() as s:
                accounts.create_user(s, user.username, role, user.password)
            made[role] = user
        return made[role]

    return make


def console_sign_in(page, user) -> None:
    """Sign in through the console's form, as staff do."""
    page.goto("/console")
    page.fill("#username", user.username)
    page.fill("#password", user.password)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#app")).to_be_visible(timeout=15_000)  # a password hash takes a while on a busy machine


@pytest.fixture(scope="session")
def drop(stack, client, staff):
    """A live drop made through the API, for the tests that start on the customers' side."""
    return stack.create_drop(client, staff, 20, name="Fuhu 2022", issuer_name="WeBank Demo")


def claim_codes(client, staff, drop: dict, count: int) -> list[str]:
    reply = client.post(f"/api/drops/{drop['id']}/claim-codes", json={"count": count},
                        headers={**staff, "Idempotency-Key": f"codes-{time.time_ns()}"})
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()["codes"]


def mint(client, staff, drop: dict, to: str) -> int:
    """Mint the drop's next serial to `to` and wait until the index (so the verify page) knows it."""
    reply = client.post(f"/api/drops/{drop['id']}/mint", json={"to": to},
                        headers={**staff, "Idempotency-Key": f"mint-{time.time_ns()}"})
    assert reply.get_json()["status"] == "minted", reply.get_json()
    token_id = reply.get_json()["token_id"]
    wait_for(lambda: client.get(f"/api/verify/{drop['contract_address']}/{token_id}").get_json()["verdict"]
             == "genuine")
    return token_id


@pytest.fixture(scope="session")
def lookalike(stack, drop) -> str:
    """Someone else's copy of the drop (see hallmark.testing.deploy_lookalike)."""
    return deploy_lookalike(stack.chain.url, drop)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser, server):
    ctx = browser.new_context(base_url=server.url, viewport=DESKTOP, locale="zh-CN")
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


def open_page(ctx):
    """A page that fails the test on any uncaught script error."""
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


@pytest.fixture
def page(context):
    page = open_page(context)
    yield page
    assert not page.errors, f"uncaught errors in the page: {page.errors}"


@pytest.fixture
def phone(browser, server):
    """A page on a phone-sized screen, as a customer arriving from a QR code has."""
    ctx = browser.new_context(base_url=server.url, viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True,
                              device_scale_factor=2)
    ctx.set_default_timeout(15_000)
    page = open_page(ctx)
    yield page
    ctx.close()
    assert not page.errors, f"uncaught errors in the page: {page.errors}"


def shoot(page, name: str, docs: bool = False, element: str | None = None) -> None:
    """Save a screenshot of the page (or of one element) to artifacts/screenshots/; with
    HALLMARK_UPDATE_DOCS_SCREENSHOTS=1 also to docs/screenshots/ for the README (so a plain test run leaves the
    tree clean)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    (page.locator(element) if element else page).screenshot(path=path)
    if docs and os.environ.get("HALLMARK_UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_SHOTS / path.name)


def images_loaded(page, selector: str = "img") -> None:
    page.wait_for_function("sel => [...document.querySelectorAll(sel)].every(i => i.complete && i.naturalWidth)",
                           arg=selector)


def inject_wallet(page, account) -> None:
    """A stand-in browser wallet: an EIP-1193 provider whose personal_sign is answered by `account` (Python)."""
    def sign(message_hex: str) -> str:
        signed = account.sign_message(encode_defunct(primitive=bytes.fromhex(message_hex.removeprefix("0x"))))
        return "0x" + bytes(signed.signature).hex()

    page.expose_function("hallmarkTestSign", sign)
    page.add_init_script("""
      window.ethereum = {
        isHallmarkTestWallet: true,
        async request({ method, params }) {
          if (method === "eth_requestAccounts" || method === "eth_accounts") return [%r];
          if (method === "eth_chainId") return "0x539";
          if (method === "personal_sign") return window.hallmarkTestSign(params[0]);
          throw Object.assign(new Error("unsupported method " + method), { code: 4200 });
        },
      };
    """ % account.address)


def wait_for(check, timeout: float = 30, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s")
