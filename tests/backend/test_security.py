"""The hardened public surface, against the real app on the session chain: no claim code at rest in plain text,
claim links with the code in the fragment, owner-only data files, rate limits (in memory and shared through a
real redis-server between two apps), customer assertions instead of typed customer ids (and no custodial account
for a refused claim), and the security headers, also through the real gunicorn (`hallmark web`)."""
from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import os
import re
import socket
import stat
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from eth_account import Account
from sqlalchemy import func, select, text, update
from werkzeug.serving import make_server

from hallmark import migrations
from hallmark.chain.deployment import Deployment
from hallmark.db import Base, Database
from hallmark.minting.claims import normalise
from hallmark.models import CustodialAccount, IdempotencyRecord, utcnow
from hallmark.processes import Processes
from hallmark.run.web import RequestHandler
from hallmark.security import assertions, sealing
from hallmark.security.files import create_once, write_private

from conftest import CI_NETWORK, CI_PORT, free_port, run

pytestmark = pytest.mark.filterwarnings("ignore:Using the in-memory storage")


def make_codes(client, staff, drop_id, count, key, fmt=None):
    url = f"/api/drops/{drop_id}/claim-codes" + (f"?format={fmt}" if fmt else "")
    return client.post(url, json={"count": count}, headers={**staff, "Idempotency-Key": key})


def customer(app, customer_id, **kwargs):
    return assertions.sign(customer_id, assertions.key_for(app), **kwargs)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def database_text(db) -> str:
    """Every value of every column of every table, as text (binary columns as latin-1)."""
    parts = []
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                for column, value in zip(table.columns, row):
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("latin-1")
                    parts.append(str(value))
    return "\n".join(parts)


def database_bytes(url: str) -> bytes:
    """The SQLite database file and its -wal and -shm files, as stored on disk."""
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())


def assert_nowhere(codes, blobs: list[bytes | str]) -> None:
    for code in codes:
        for form in {code, normalise(code), code.lower(), normalise(code).lower()}:
            for blob in blobs:
                assert (form.encode() if isinstance(blob, bytes) else form) not in blob, f"{code} found at rest"


# ------------------------------------------------------------------------------------------ claim codes at rest

def test_no_claim_code_at_rest_in_plain_text(app, client, staff, make_drop):
    drop = make_drop()
    first = make_codes(client, staff, drop["id"], 25, key="codes-json")
    export = make_codes(client, staff, drop["id"], 25, key="codes-csv", fmt="csv")
    assert first.status_code == export.status_code == 201
    codes = first.get_json()["codes"] + [r["code"] for r in csv.DictReader(io.StringIO(export.get_data(as_text=True)))]
    # the links carry the code in the fragment, never the query: it reaches no server log
    assert "?code=" not in export.get_data(as_text=True)
    assert all(f"/claim#code={c}" in export.get_data(as_text=True) for c in codes[25:])

    # replays within the window give the same codes back (decrypted from the sealed copy)
    again = make_codes(client, staff, drop["id"], 25, key="codes-json")
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert make_codes(client, staff, drop["id"], 25, key="codes-csv", fmt="csv").data == export.data
    # a code used in a claim (custodial) is not kept either
    claimed = client.post("/api/claims", json={"code": codes[0], "customer_assertion": customer(app, "cust-rest")})
    assert claimed.status_code == 202, claimed.get_json()

    db = app.extensions["hallmark.db"]
    with db.session() as s:
        stored = list(s.scalars(select(IdempotencyRecord.response).where(IdempotencyRecord.scope.like("%claim-codes%"))))
    assert len(stored) == 2 and all(r.startswith(sealing.PREFIX) for r in stored)
    assert_nowhere(codes, [database_text(db), database_bytes(app.config["DATABASE_URL"])])

    key_file = app.config["DATA_DIR"] / "keys" / "response.key"
    assert mode(key_file) == 0o600 and mode(key_file.parent) == 0o700
    assert_nowhere([key_file.read_text().strip()], [database_text(db)])


def test_code_replays_expire_and_say_codes_are_shown_once(app, client, staff, make_drop):
    drop = make_drop()
    db = app.extensions["hallmark.db"]
    first = make_codes(client, staff, drop["id"], 3, key="old-batch")
    assert make_codes(client, staff, drop["id"], 3, key="old-batch").get_json() == first.get_json()

    with db.session() as s:  # 24 h and a second later
        s.execute(update(IdempotencyRecord).where(IdempotencyRecord.key == "old-batch").values(
            created_at=utcnow() - timedelta(seconds=app.config["CODES_REPLAY_SECONDS"] + 1)))
    gone = make_codes(client, staff, drop["id"], 3, key="old-batch")
    assert gone.status_code == 410, gone.get_json()
    assert "shown only once" in gone.get_json()["message"]
    with db.session() as s:  # and the sealed copy is erased
        assert s.scalar(select(IdempotencyRecord.response).where(IdempotencyRecord.key == "old-batch")) is None
    # the codes themselves still work (whoever holds the printout can claim)
    assert client.post("/api/claims", json={"code": first.get_json()["codes"][0],
                                            "wallet": Account.create().address}).status_code == 202

    # expired copies are erased when the next batch is made, replayed or not
    make_codes(client, staff, drop["id"], 1, key="aging")
    with db.session() as s:
        s.execute(update(IdempotencyRecord).where(IdempotencyRecord.key == "aging").values(
            created_at=utcnow() - timedelta(days=2)))
    assert make_codes(client, staff, drop["id"], 1, key="fresh").status_code == 201
    with db.session() as s:
        rows = dict(s.execute(select(IdempotencyRecord.key, IdempotencyRecord.response)).all())
    assert rows["aging"] is None and rows["fresh"].startswith(sealing.PREFIX)

    # another response key (the key file lost or replaced): the stored copy cannot be read, and says so
    make_codes(client, staff, drop["id"], 1, key="before-rotation")
    app.extensions["hallmark.sealer"] = sealing.Sealer(os.urandom(32))
    assert make_codes(client, staff, drop["id"], 1, key="before-rotation").status_code == 410


def test_response_key_from_the_environment(tmp_path):
    configured = sealing.new_key_text()
    assert sealing.load_key(configured, tmp_path) == base64.urlsafe_b64decode(configured + "=")
    assert not (tmp_path / "keys").exists()  # nothing written when the key is configured
    with pytest.raises(sealing.SealError) as refused:
        sealing.load_key("too-short", tmp_path)
    assert sealing.ENV in str(refused.value) and "too-short" not in str(refused.value)
    sealer = sealing.Sealer(sealing.load_key(None, tmp_path))
    sealed = sealer.seal("ABCD-EFGH-JKLM", "scope\0key")
    assert "ABCD" not in sealed and sealer.open(sealed, "scope\0key") == "ABCD-EFGH-JKLM"
    with pytest.raises(sealing.SealError):  # bound to its record: not a response of another one
        sealer.open(sealed, "scope\0other-key")


def test_migration_erases_code_responses_stored_in_plain_text(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    database = Database(url)
    migrations.upgrade(database.engine, "0001")
    plain = json.dumps({"batch": "b", "count": 1, "codes": ["WXYZ-2345-6789"]})
    with database.engine.begin() as conn:
        conn.execute(text("INSERT INTO idempotency (key, scope, body_hash, status_code, response, content_type, "
                          "lease_until, created_at) VALUES ('k', 'POST /api/drops/1/claim-codes 1', 'h', 201, "
                          ":r, 'application/json', :now, :now), ('m', 'POST /api/drops/1/mint 1', 'h', 200, '{}', "
                          "'application/json', :now, :now)"), {"r": plain, "now": utcnow()})
    database.upgrade()
    with database.engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT key, response FROM idempotency")).all())
    assert rows == {"k": None, "m": "{}"}
    database.engine.dispose()
    assert_nowhere(["WXYZ-2345-6789"], [database_bytes(url)])


def test_cli_claim_codes_write_nothing_plain_and_only_owner_files(stack, deployed_data, tmp_path):
    env = {"HALLMARK_DATA_DIR": str(deployed_data), "HALLMARK_RPC_URL": f"http://127.0.0.1:{CI_PORT}",
           "HALLMARK_NETWORK": CI_NETWORK, "HALLMARK_ISSUER_KEY": stack["issuer_key"],
           "HALLMARK_PUBLIC_BASE_URL": "https://collect.bank.example"}
    slug = f"sec-{time.time_ns()}"
    (tmp_path / "drop.yaml").write_text(f"slug: {slug}\nname: Fuhu\nsymbol: FUHU\nedition_size: 5\n")
    run(["hallmark", "drop", "create", "--spec", str(tmp_path / "drop.yaml")], env)
    out = tmp_path / "codes.csv"
    run(["hallmark", "claim-codes", slug, "--count", "20", "--out", str(out)], env)
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 20 and all(r["claim_url"] == f"https://collect.bank.example/claim#code={r['code']}"
                                   for r in rows)
    codes = [r["code"] for r in rows]
    db = Database(f"sqlite:///{deployed_data / 'hallmark.db'}")
    assert_nowhere(codes, [database_text(db), database_bytes(str(db.engine.url))])
    db.engine.dispose()

    # the command's processes create owner-only files and folders (the fixture made the data folder and the
    # deployments folder itself)
    made_by_fixture = {deployed_data, deployed_data / "deployments"}
    for path in [deployed_data, *deployed_data.rglob("*")]:
        if path in made_by_fixture:
            continue
        assert mode(path) & 0o077 == 0, f"{path} is {oct(mode(path))}"

    # the demo's stand-in for the bank's signer
    token = run(["hallmark", "customer-token", "13800138000"], env).stdout.strip()
    key = assertions.load_key(None, deployed_data)
    assert assertions.verify(token, key) == "13800138000"
    link = run(["hallmark", "customer-token", "13800138000", "--code", codes[0]], env).stdout.strip()
    assert link.startswith(f"https://collect.bank.example/claim#code={codes[0]}&customer=") and "?" not in link
    assert mode(deployed_data / "keys" / "customer-assertion.key") == 0o600


def test_data_files_the_app_writes_are_owner_only(app, client, staff, make_drop, tmp_path):
    data = app.config["DATA_DIR"]
    drop = make_drop()
    code = make_codes(client, staff, drop["id"], 1, key="perm").get_json()["codes"][0]
    assert client.post("/api/claims", json={"code": code, "customer_assertion": customer(app, "perm-1")}).status_code \
        == 202
    assert client.get(f"/api/drops/{drop['id']}/art/1.png", headers=staff).status_code == 200  # the card cache
    record = Deployment(network="x", chain_id=1, registry="0x", implementation="0x", block_number=0, block_hash="0x",
                        issuer="0x", artifacts="")
    record.save(data / "deployments-new" / "x.json")

    for path in (data / "keys" / "response.key", data / "keys" / "custody.mnemonic",
                 data / "keys" / "customer-assertion.key", data / "hallmark.db",
                 data / "art" / drop["contract_address"].lower() / "1.png", data / "deployments-new" / "x.json"):
        assert mode(path) == 0o600, f"{path} is {oct(mode(path))}"
    for folder in (data / "keys", data / "art", data / "art" / drop["contract_address"].lower(),
                   data / "deployments-new"):
        assert mode(folder) == 0o700, f"{folder} is {oct(mode(folder))}"
    # the helpers, whatever the umask
    old = os.umask(0)
    try:
        write_private(tmp_path / "a" / "b" / "f", b"x")
        assert create_once(tmp_path / "c" / "g", "1") and not create_once(tmp_path / "c" / "g", "2")
    finally:
        os.umask(old)
    assert (mode(tmp_path / "a"), mode(tmp_path / "a" / "b"), mode(tmp_path / "a" / "b" / "f")) == (0o700, 0o700, 0o600)
    assert (tmp_path / "c" / "g").read_text() == "1" and mode(tmp_path / "c" / "g") == 0o600


# ------------------------------------------------------------------------------------------ custodial identity

def test_custodial_claims_need_the_banks_assertion(app, client, staff, make_drop):
    drop = make_drop(per_wallet_limit=5)
    db = app.extensions["hallmark.db"]
    code, other = make_codes(client, staff, drop["id"], 2, key="cust").get_json()["codes"]

    def accounts():
        with db.session() as s:
            return s.scalar(select(func.count()).select_from(CustodialAccount))

    bare = client.post("/api/claims", json={"code": code, "customer_id": "alice"})
    assert bare.status_code == 422 and list(bare.get_json()["errors"]["json"]) == ["customer_id"]
    assert "customer_assertion" in bare.get_json()["errors"]["json"]["customer_id"][0]

    key = assertions.key_for(app)
    now = time.time()
    forged = assertions.sign("alice", b"an attacker's own key, 32 bytes long!")
    header, _ = assertions.sign("alice", key).split(".")
    body = json.loads(base64.urlsafe_b64decode(header + "=="))
    too_long = dict(body, exp=body["iat"] + 3600)
    payload = base64.urlsafe_b64encode(json.dumps(too_long).encode()).decode().rstrip("=")
    long_lived = payload + "." + base64.urlsafe_b64encode(
        hmac.new(key, payload.encode(), hashlib.sha256).digest()).decode().rstrip("=")
    cases = [
        (forged, 403, "not signed by the bank"),
        (assertions.sign("alice", key, lifetime=60, now=now - 120), 403, "expired"),
        (assertions.sign("alice", key, now=now + 3600), 403, "future"),
        (long_lived, 403, "longer than 600 s"),
        ("not a token", 422, "not a customer assertion"),
        (header + ".", 403, "not signed"),
    ]
    for token, status, words in cases:
        reply = client.post("/api/claims", json={"code": code, "customer_assertion": token})
        assert reply.status_code == status, (words, reply.get_json())
        assert words in reply.get_json()["message"] and reply.get_json()["errors"]["json"]["customer_assertion"]
        assert token not in reply.get_data(as_text=True) or token == "not a token"
    assert accounts() == 0

    accepted = client.post("/api/claims", json={"code": code, "customer_assertion": customer(app, "alice")})
    assert accepted.status_code == 202 and accepted.get_json()["custodial"], accepted.get_json()
    assert accounts() == 1

    # a used code (or an unknown one) creates no account, however many customers try it
    for n in range(100):
        reply = client.post("/api/claims", json={"code": code, "customer_assertion": customer(app, f"mallory-{n}")})
        assert reply.status_code == 409, reply.get_json()
    assert client.post("/api/claims", json={"code": "ZZZZ-ZZZZ-ZZZZ", "customer_assertion": customer(app, "eve")}
                       ).status_code == 404
    assert accounts() == 1
    # nor does a claim the drop refuses
    assert client.post(f"/api/drops/{drop['id']}/pause", headers={**staff, "Idempotency-Key": "p"}).status_code == 200
    paused = client.post("/api/claims", json={"code": other, "customer_assertion": customer(app, "bob")})
    assert paused.status_code == 409 and accounts() == 1
    assert client.post(f"/api/drops/{drop['id']}/resume", headers={**staff, "Idempotency-Key": "r"}).status_code == 200
    assert client.post("/api/claims", json={"code": other, "customer_assertion": customer(app, "bob")}
                       ).status_code == 202
    assert accounts() == 2


def test_assertion_key_from_the_environment(tmp_path):
    secret = "a" * 40
    assert assertions.load_key(secret, tmp_path) == secret.encode() and not (tmp_path / "keys").exists()
    with pytest.raises(ValueError) as refused:
        assertions.load_key("short", tmp_path)
    assert assertions.ENV in str(refused.value) and "short" not in str(refused.value).replace("shorter", "")
    token = assertions.sign("c-1", secret.encode())
    assert assertions.verify(token, secret.encode()) == "c-1"
    with pytest.raises(assertions.AssertionRefused):
        assertions.verify(token, b"b" * 40)


# ------------------------------------------------------------------------------------------ rate limits

LIMITED = dict(RATELIMIT_ENABLED=True, RATELIMIT_CLAIMS="3 per minute", RATELIMIT_VERIFY="4 per minute",
               RATELIMIT_IMAGE="2 per minute", RATELIMIT_OWNERSHIP="2 per minute", START_WORKERS=False)


def limited_app(app_for, data, **overrides):
    return app_for(data, CI_PORT, **{**LIMITED, **overrides})


def assert_429(reply):
    assert reply.status_code == 429, reply.get_data(as_text=True)
    body = reply.get_json()
    assert body["code"] == 429 and "too many requests" in body["message"]
    assert 1 <= int(reply.headers["Retry-After"]) <= 60


def test_rate_limits_per_client_address(app_for, deployed_data):
    app = limited_app(app_for, deployed_data)
    client = app.test_client()
    body = {"code": "NOPE-NOPE-NOPE", "wallet": Account.create().address}
    for _ in range(3):
        assert client.post("/api/claims", json=body).status_code == 404
    assert_429(client.post("/api/claims", json=body))
    assert_429(client.post("/api/claims", json={"code": "X", "customer_id": "invalid anyway"}))
    # another address has its own budget; the claim status poll is not limited
    other = app.test_client()
    assert other.post("/api/claims", json=body, environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 404
    assert all(client.get("/api/claims/none").status_code == 404 for _ in range(10))

    # the verdict endpoints share one budget
    address = "0x" + "11" * 20
    replies = [client.get(f"/api/verify/{address}/1"), client.get(f"/api/verify?code={address}/1"),
               client.get("/api/verify/drop/no-such-drop/1"), client.get(f"/api/verify/{address}/2")]
    assert all(r.status_code != 429 for r in replies), [r.status_code for r in replies]
    assert_429(client.get("/api/verify/drop/no-such-drop/1"))

    # image checks
    for _ in range(2):
        assert client.post("/api/verify/image", data={}, content_type="multipart/form-data").status_code == 422
    assert_429(client.post("/api/verify/image", data={}, content_type="multipart/form-data"))

    # ownership challenges and proofs share one budget
    challenge = {"address": Account.create().address, "collection": address, "token_id": 1}
    assert client.post("/api/ownership/challenge", json=challenge).status_code != 429
    assert client.post("/api/ownership/verify", json={"message": "x", "signature": "0x" + "00" * 65}).status_code != 429
    assert_429(client.post("/api/ownership/challenge", json=challenge))
    assert_429(client.post("/api/ownership/verify", json={"message": "x", "signature": "0x" + "00" * 65}))

    # the rest is not limited
    assert all(client.get("/api/health").status_code != 429 for _ in range(10))


def test_forwarded_for_counts_only_behind_a_trusted_proxy(app_for, deployed_data):
    body = {"code": "NOPE-NOPE-NOPE", "wallet": Account.create().address}
    direct = limited_app(app_for, deployed_data).test_client()
    for n in range(3):  # a client cannot make itself new addresses with the header
        assert direct.post("/api/claims", json=body, headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code == 404
    assert_429(direct.post("/api/claims", json=body, headers={"X-Forwarded-For": "203.0.113.99"}))

    proxied = limited_app(app_for, deployed_data, TRUSTED_PROXIES=1).test_client()
    for _ in range(3):
        assert proxied.post("/api/claims", json=body, headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 404
    assert_429(proxied.post("/api/claims", json=body, headers={"X-Forwarded-For": "198.51.100.7"}))
    # the proxy's own entry (the last one) is the client; what the client wrote before it is ignored
    assert proxied.post("/api/claims", json=body, headers={"X-Forwarded-For": "198.51.100.7, 198.51.100.8"}
                        ).status_code == 404
    assert_429(proxied.post("/api/claims", json=body, headers={"X-Forwarded-For": "1.2.3.4, 198.51.100.7"}))


@pytest.fixture
def redis_url(tmp_path):
    """A redis-server of this test's own on a free port (installed by `make test-backend`)."""
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


def test_two_apps_share_the_limit_through_redis(app_for, deployed_data, redis_url):
    first = limited_app(app_for, deployed_data, RATELIMIT_STORAGE_URI=redis_url).test_client()
    second = limited_app(app_for, deployed_data, RATELIMIT_STORAGE_URI=redis_url).test_client()
    body = {"code": "NOPE-NOPE-NOPE", "wallet": Account.create().address}
    assert [c.post("/api/claims", json=body).status_code for c in (first, second, first)] == [404, 404, 404]
    assert_429(second.post("/api/claims", json=body))
    assert_429(first.post("/api/claims", json=body))
    # in memory (the embedded mode) each process counts on its own
    alone = [limited_app(app_for, deployed_data).test_client() for _ in range(2)]
    assert [c.post("/api/claims", json=body).status_code for c in alone * 2] == [404] * 4


# ------------------------------------------------------------------------------------------ headers

PAGES = ["/verify", "/claim", "/wallet", "/prove", "/console", f"/v/0x{'11' * 20}/1", "/docs"]
OTHERS = ["/api/health", "/openapi.json", "/static/js/claim.js", "/vendor/swagger-ui/swagger-ui-bundle.js",
          "/vendor/chartjs/chart.umd.min.js", "/no-such-page", "/api/claims/none"]


def check_headers(get, path: str) -> str:
    reply = get(path)
    headers, body = reply.headers, reply.text
    assert headers["X-Content-Type-Options"] == "nosniff", path
    assert headers["X-Frame-Options"] == "DENY", path
    assert headers["Referrer-Policy"] == "no-referrer", path
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp, path
    if headers["Content-Type"].startswith("text/html"):
        assert reply.status_code in (200, 404), path
        directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
        assert "'unsafe-inline'" not in directives.get("script-src", directives["default-src"]), path
        assert "script-src" not in directives or "'unsafe-eval'" not in directives["script-src"]
        inline = [code[:80] for attrs, code in re.findall(r"<script\b([^>]*)>(.*?)</script>", body, re.S)
                  if "src=" not in attrs and 'type="application/json"' not in attrs]  # data blocks never run
        assert not inline, f"{path} has an inline script: {inline}"
    else:
        assert csp.startswith("default-src 'none'"), path
    return body


def test_security_headers_on_every_response(app, client):
    for path in PAGES + OTHERS:
        check_headers(client.get, path)
    docs = client.get("/docs").get_data(as_text=True)
    assert 'src="/static/js/swagger-init.js"' in docs and 'data-spec-url="/openapi.json"' in docs
    assert client.get("/static/js/swagger-init.js").status_code == 200
    for asset in re.findall(r'(?:src|href)="(/[^"]+)"', docs):
        assert client.get(asset).status_code == 200, asset
    reply = client.post("/api/verify", json={})  # 405
    assert reply.status_code == 405 and reply.headers["X-Content-Type-Options"] == "nosniff"


def test_vendor_serves_only_the_files_the_pages_load(client):
    assert client.get("/vendor/swagger-ui/swagger-ui.css").status_code == 200
    for path in ("/vendor/swagger-ui/package.json", "/vendor/swagger-ui/index.html",
                 "/vendor/swagger-ui/swagger-ui-bundle.js.map", "/vendor/swagger-ui/swagger-initializer.js",
                 "/vendor/chartjs/chart.js", "/vendor/chartjs/../package.json", "/vendor/chartjs/helpers.js",
                 "/vendor/other/x.js"):
        assert client.get(path).status_code == 404, path
    # every vendor file a page names is served
    pages = "".join(p.read_text() for p in (Path(__file__).parents[2] / "frontend" / "templates").glob("*.html"))
    for asset in re.findall(r'"(/vendor/[^"]+)"', pages):
        assert client.get(asset).status_code == 200, asset


def test_headers_through_gunicorn_and_werkzeug(stack, deployed_data, app, tmp_path):
    env = {"HALLMARK_DATA_DIR": deployed_data, "HALLMARK_RPC_URL": f"http://127.0.0.1:{CI_PORT}",
           "HALLMARK_NETWORK": CI_NETWORK, "HALLMARK_ISSUER_KEY": stack["issuer_key"],
           "HALLMARK_DEPLOYMENT_FILE": deployed_data / "deployments" / f"{CI_NETWORK}.json"}
    procs = Processes({k: str(v) for k, v in env.items()}, tmp_path / "logs")
    port = free_port()
    try:
        web = procs.spawn("web", "--workers", "1", port=port)
        base = f"http://127.0.0.1:{port}"
        for path in PAGES + OTHERS:
            check_headers(lambda p: requests.get(base + p, timeout=30), path)
        server = requests.get(base + "/api/health", timeout=30).headers["Server"]
        assert server == "hallmark", server
        # an old printed link: its code reaches no access log (paths are logged without the query string)
        assert requests.get(base + "/claim?code=QRST-UVWX-YZ23", timeout=30).status_code == 200
        time.sleep(0.5)
        assert "/claim " in web.output() and "QRST" not in web.output()
    finally:
        procs.stop_all()

    http = make_server("127.0.0.1", 0, app, threaded=True, request_handler=RequestHandler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        reply = requests.get(f"http://127.0.0.1:{http.server_port}/api/health", timeout=30)
        assert reply.headers["Server"] == "hallmark" and reply.headers["X-Content-Type-Options"] == "nosniff"
    finally:
        http.shutdown()
