"""/openapi.json is the contract: headers, authentication, multipart bodies and errors are documented where the
code uses them, and answers keep to it (times with their zone, 405 with Allow). tests/fuzz checks every answer of
the running app against it; these pin down what a fuzzer would not notice missing."""
from __future__ import annotations

import re

from datetime import datetime, timedelta, timezone

import pytest

from hallmark import create_app
from hallmark.access.keys import create_api_key
from hallmark.access.permissions import KEY_SCOPES
from hallmark.api.openapi import UTCDateTime
from hallmark.config import Config
from hallmark.models import AirdropJob, Claim, ClaimCode, CustodialAccount, Drop, MintItem, iso_utc

METHODS = ("get", "post", "put", "patch", "delete")
WHEN = datetime(2024, 2, 10, 8, 30, 15)  # naive UTC, as the database keeps it
ADDRESS = "0x" + "ab" * 20


@pytest.fixture
def bare_app(tmp_path):
    """The app with no chain behind it (chain services off): the contract and the database views are all there."""
    config = Config(DATA_DIR=tmp_path / "data", RPC_URL="http://127.0.0.1:9", NETWORK="nowhere",
                    DEPLOYMENT_FILE=tmp_path / "data" / "deployments" / "nowhere.json",
                    DATABASE_URL=f"sqlite:///{tmp_path / 'hallmark.db'}", START_WORKERS=False, TESTING=True)
    return create_app(config)


@pytest.fixture
def spec(bare_app):
    return bare_app.test_client().get("/openapi.json").get_json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def concrete(path: str) -> str:
    """A path of the spec with its parameters filled in."""
    path = path.replace("{address}", ADDRESS).replace("{slug}", "no-such-drop").replace("{claim_id}", "nope")
    return re.sub(r"\{\w+_id\}|\{serial\}|\{seq\}", "1", path)  # numeric ids


def test_idempotency_key_documented_where_used(spec):
    headers = {(path, method): next((p for p in op.get("parameters", []) if p["in"] == "header"
                                     and p["name"] == "Idempotency-Key"), None)
               for path, method, op in operations(spec)}
    required = {key for key, p in headers.items() if p and p["required"]}
    optional = {key for key, p in headers.items() if p and not p["required"]}
    assert required == {("/api/drops", "post"), ("/api/drops/{drop_id}/pause", "post"),
                        ("/api/drops/{drop_id}/resume", "post"), ("/api/drops/{drop_id}/mint", "post"),
                        ("/api/drops/{drop_id}/airdrops", "post"), ("/api/drops/{drop_id}/claim-codes", "post"),
                        ("/api/redemptions", "post"), ("/api/custody/withdrawals", "post"),
                        ("/api/approvals/{approval_id}/approve", "post"), ("/api/approvals/{approval_id}/reject", "post")}
    assert optional == {("/api/claims", "post"), ("/api/ownership/challenge", "post")}
    for path, method in required | optional:
        assert {"400", "409"} <= set(spec["paths"][path][method]["responses"])


def test_idempotency_key_documented_as_enforced(bare_app, spec):
    client = bare_app.test_client()
    staff = {"Authorization": "Bearer " + create_api_key(bare_app.extensions["hallmark.db"], "t", scopes=KEY_SCOPES)}
    reply = client.post("/api/drops", json={}, headers=staff)
    assert reply.status_code == 400 and "Idempotency-Key" in reply.get_json()["errors"]["headers"]
    limit = next(p for p in spec["paths"]["/api/drops"]["post"]["parameters"] if p["name"] == "Idempotency-Key")
    reply = client.post("/api/drops", json={}, headers={**staff, "Idempotency-Key": "k" * (
        limit["schema"]["maxLength"] + 1)})
    assert reply.status_code == 400


def test_staff_operations_declare_bearer_auth_and_enforce_it(bare_app, spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["ApiKey"]["type"] == "http" and schemes["ApiKey"]["scheme"] == "bearer"
    assert schemes["Session"] == {**schemes["Session"], "type": "apiKey", "in": "cookie", "name": "hallmark_session"}
    client = bare_app.test_client()
    staff, public = [], []
    for path, method, op in operations(spec):
        reply = client.open(concrete(path), method=method.upper())
        if "security" in op:
            staff.append(path)
            assert op["security"] == [{"ApiKey": []}, {"Session": []}]
            assert {"401", "403"} <= set(op["responses"]), (method, path)
            assert reply.status_code == 401, (method, path, reply.status_code)
        else:
            public.append(path)
            if (method, path) != ("post", "/api/session"):  # signing in answers 401 to a wrong password
                assert "401" not in op["responses"] and reply.status_code != 401, (method, path)
    assert "/api/drops" in staff and "/api/custodial-accounts" in staff and "/api/drops/preview" in staff
    assert "/api/claims" in public and "/api/verify" in public and "/api/health" in public


def test_multipart_uploads_documented(spec):
    image = spec["paths"]["/api/verify/image"]["post"]["requestBody"]
    assert image["required"] and list(image["content"]) == ["multipart/form-data"]
    form = image["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["file"] and form["properties"]["file"] == {
        **form["properties"]["file"], "type": "string", "format": "binary"}
    airdrop = spec["paths"]["/api/drops/{drop_id}/airdrops"]["post"]["requestBody"]
    assert set(airdrop["content"]) == {"application/json", "multipart/form-data"}
    assert airdrop["content"]["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"
    assert airdrop["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Airdrop"}


def test_every_error_answer_has_the_shared_error_schema(spec):
    error = spec["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "status", "message"} and "errors" in error["properties"]
    for path, method, op in operations(spec):
        assert "default" not in op["responses"], (method, path)
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")) and not (path == "/api/health" and status == "503"):
                name = response["$ref"].rsplit("/", 1)[-1]
                body = spec["components"]["responses"][name]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_errors_listed_where_they_occur(spec):
    paths = spec["paths"]
    assert "404" in paths["/api/drops/{drop_id}"]["get"]["responses"]  # no such drop (or not an id)
    assert {"409", "503"} <= set(paths["/api/drops"]["post"]["responses"])  # slug taken; chain unavailable
    assert {"404", "409", "503"} <= set(paths["/api/claims"]["post"]["responses"])  # unknown/used code
    assert {"413", "415", "422"} <= set(paths["/api/verify/image"]["post"]["responses"])
    assert "text/csv" in paths["/api/drops/{drop_id}/claim-codes"]["post"]["responses"]["201"]["content"]
    assert "image/png" in paths["/art/{address}/{serial}.png"]["get"]["responses"]["200"]["content"]


def test_nullable_and_datetime_fields(spec):
    drop = spec["components"]["schemas"]["Drop"]["properties"]
    assert drop["created_at"]["format"] == "date-time" and "created_at" in spec["components"]["schemas"]["Drop"][
        "required"]
    for name in ("claim_start", "claim_end", "content_root", "error", "pause_wanted", "chain_problem"):
        assert drop[name].get("nullable") is True, name
    assert "nullable" not in drop["slug"]
    claim = spec["components"]["schemas"]["Claim"]["properties"]
    assert claim["token_id"]["nullable"] and claim["created_at"]["format"] == "date-time"


def test_datetimes_are_written_with_their_zone():
    assert iso_utc(WHEN) == "2024-02-10T08:30:15Z"
    assert iso_utc(WHEN.replace(tzinfo=timezone(timedelta(hours=8))) + timedelta(hours=8)) == "2024-02-10T08:30:15Z"
    field = UTCDateTime()
    assert field.serialize("t", {"t": WHEN}) == field.serialize("t", {"t": "2024-02-10T08:30:15Z"}) == \
        "2024-02-10T08:30:15Z"
    assert field.serialize("t", {"t": None}) is None


def test_answers_carry_the_zone(bare_app):
    db = bare_app.extensions["hallmark.db"]
    with db.session() as s:
        drop = Drop(slug="zones", name="Zones", symbol="Z", issuer_name="Bank", edition_size=5,
                    transfer_policy="transferable", public_base_url="http://x", contract_address=ADDRESS,
                    claim_start=WHEN, claim_end=WHEN + timedelta(days=1), created_at=WHEN, status="live")
        s.add(drop)
        s.flush()
        job = AirdropJob(drop_id=drop.id, total=1, created_at=WHEN, started_at=WHEN)
        s.add(job)
        s.flush()
        item = MintItem(drop_id=drop.id, recipient=ADDRESS, source="claim", status="queued", job_id=None)
        code = ClaimCode(drop_id=drop.id, code_hash="0" * 64, batch="b", created_at=WHEN)
        s.add_all([item, code, CustodialAccount(customer_id="c-1", address=ADDRESS, created_at=WHEN)])
        s.flush()
        s.add(Claim(public_id="claim-1", drop_id=drop.id, code_id=code.id, wallet=ADDRESS, item_id=item.id,
                    created_at=WHEN))
        ids = drop.id, job.id
    client = bare_app.test_client()
    staff = {"Authorization": "Bearer " + create_api_key(db, "t", scopes=KEY_SCOPES)}
    listed = client.get("/api/drops", headers=staff).get_json()[0]
    assert (listed["created_at"], listed["claim_start"], listed["claim_end"]) == (
        "2024-02-10T08:30:15Z", "2024-02-10T08:30:15Z", "2024-02-11T08:30:15Z")
    assert client.get(f"/api/drops/{ids[0]}", headers=staff).get_json()["created_at"] == "2024-02-10T08:30:15Z"
    assert client.get(f"/api/jobs/{ids[1]}", headers=staff).get_json()["created_at"] == "2024-02-10T08:30:15Z"
    assert client.get("/api/claims/claim-1").get_json()["created_at"] == "2024-02-10T08:30:15Z"
    accounts = client.get("/api/custodial-accounts", headers=staff).get_json()
    assert accounts["items"][0]["created_at"] == "2024-02-10T08:30:15Z"


def test_405_names_the_allowed_methods(bare_app):
    client = bare_app.test_client()
    reply = client.delete("/api/drops")
    assert reply.status_code == 405 and reply.is_json and reply.get_json()["code"] == 405
    assert {m.strip() for m in reply.headers["Allow"].split(",")} >= {"GET", "POST"}
    reply = client.put("/api/claims")
    assert reply.status_code == 405 and "POST" in reply.headers["Allow"]


def test_gunicorns_own_errors_are_json():
    """A request line too long is refused by gunicorn before the app sees it: still the API's error body."""
    import json
    import socket

    from hallmark.run.commands import gunicorn_command
    from hallmark.run.gunicorn_worker import write_json_error

    assert "hallmark.run.gunicorn_worker.ThreadWorker" in gunicorn_command(5000, 2)
    ours, theirs = socket.socketpair()
    with ours, theirs:
        write_json_error(ours, 414, "URI Too Long", "Request Line is too large (5030 > 4094)")
        ours.shutdown(socket.SHUT_WR)
        raw = b"".join(iter(lambda: theirs.recv(4096), b""))
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 414 URI Too Long") and b"Content-Type: application/json" in head
    assert json.loads(body) == {"code": 414, "status": "URI Too Long",
                                "message": "Request Line is too large (5030 > 4094)"}


def test_multipart_part_without_a_name_is_a_client_error(bare_app):
    """Found by the fuzz run: a part with no name (None to werkzeug) broke the idempotency fingerprint's sort."""
    staff = {"Authorization": "Bearer " + create_api_key(bare_app.extensions["hallmark.db"], "t", scopes=KEY_SCOPES),
             "Idempotency-Key": "nameless", "Content-Type": "multipart/form-data; boundary=b"}
    body = (b'--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n'
            b'--b\r\nContent-Disposition: form-data; name="c"\r\n\r\ny\r\n--b--\r\n')
    reply = bare_app.test_client().post("/api/drops/1/airdrops", data=body, headers=staff)
    assert reply.status_code == 422 and reply.get_json()["code"] == 422
