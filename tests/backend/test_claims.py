"""Claim codes, public claims and custodial wallets through the HTTP API, against the real chain."""
import csv
import hashlib
import io
import re
import stat
import threading
import time

import pytest
from eth_account import Account
from sqlalchemy import func, select
from web3 import Web3

from hallmark.chain import artifacts
from hallmark.minting.custody import ENV, CustodyError, CustodyService
from hallmark.models import Claim, ClaimCode
from hallmark.security import assertions

from conftest import CI_PORT

W3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{CI_PORT}"))
CODE = re.compile(r"^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$")  # no 0, O, 1 or I
Account.enable_unaudited_hdwallet_features()


def collection(address):
    return W3.eth.contract(address=address, abi=artifacts.load("HallmarkCollection")["abi"])


def make_codes(client, staff, drop_id, count, key=None, fmt=None):
    url = f"/api/drops/{drop_id}/claim-codes" + (f"?format={fmt}" if fmt else "")
    return client.post(url, json={"count": count}, headers={**staff, "Idempotency-Key": key or f"k-{time.time_ns()}"})


def codes(client, staff, drop_id, count):
    reply = make_codes(client, staff, drop_id, count)
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()["codes"]


def wait_claim(client, claim_id, status="minted", timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        claim = client.get(f"/api/claims/{claim_id}").get_json()
        if claim["status"] == status:
            return claim
        assert claim["status"] in ("queued", "sending"), claim
        time.sleep(0.02)
    raise AssertionError(f"claim not {status}: {claim}")


def customer(app, customer_id):
    """A customer assertion for `customer_id`, as the bank's systems sign one (here with the app's own key)."""
    return assertions.sign(customer_id, assertions.key_for(app))


def refused(reply, status, field, words):
    body = reply.get_json()
    assert reply.status_code == status, body
    assert words in body["message"] and body["errors"]["json"][field], body


def test_codes_are_generated_exported_as_csv_and_stored_hashed(client, staff, make_drop, app):
    drop = make_drop()
    first = make_codes(client, staff, drop["id"], 5, key="codes-once")
    assert first.status_code == 201
    body = first.get_json()
    assert body["count"] == 5 and body["batch"] and len(set(body["codes"])) == 5
    assert all(CODE.match(code) for code in body["codes"]), body["codes"]
    again = make_codes(client, staff, drop["id"], 5, key="codes-once")
    assert again.get_json() == body and again.headers["Idempotent-Replayed"] == "true"

    export = make_codes(client, staff, drop["id"], 3, fmt="csv", key="csv-once")
    assert export.status_code == 201 and export.mimetype == "text/csv"
    replayed = make_codes(client, staff, drop["id"], 3, fmt="csv", key="csv-once")
    assert replayed.mimetype == "text/csv" and replayed.data == export.data
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert list(rows[0]) == ["code", "claim_url"] and len(rows) == 3
    for row in rows:
        assert CODE.match(row["code"])
        assert row["claim_url"] == f"{app.config['PUBLIC_BASE_URL']}/claim#code={row['code']}"

    plain = body["codes"] + [row["code"] for row in rows]
    with app.extensions["hallmark.db"].session() as s:
        stored = list(s.scalars(select(ClaimCode).where(ClaimCode.drop_id == drop["id"])))
    assert {c.code_hash for c in stored} == {hashlib.sha256(p.replace("-", "").encode()).hexdigest() for p in plain}
    for row in stored:
        values = " ".join(str(getattr(row, col.name)) for col in ClaimCode.__table__.columns)
        assert not any(p in values or p.replace("-", "") in values for p in plain)

    for count in (0, 10_001):
        reply = make_codes(client, staff, drop["id"], count)
        assert reply.status_code == 422 and "count" in reply.get_json()["errors"]["json"]
    reply = make_codes(client, staff, drop["id"], 1, fmt="xml")
    assert reply.status_code == 422 and "format" in reply.get_json()["errors"]["query"]
    refused(make_codes(client, staff, 10**6, 1), 404, "drop_id", "no drop")


def test_claim_is_minted_within_two_seconds_and_can_be_polled(app, client, staff, make_drop):
    drop = make_drop()
    code, other_code = codes(client, staff, drop["id"], 2)
    wallet = Account.create().address
    started = time.monotonic()
    # typed sloppily: lower case, spaces instead of dashes
    reply = client.post("/api/claims", json={"code": code.lower().replace("-", " "), "wallet": wallet.lower()})
    assert reply.status_code == 202, reply.get_json()
    accepted = reply.get_json()
    assert accepted["status"] == "queued" and accepted["wallet"] == wallet and not accepted["custodial"]
    assert accepted["drop_id"] == drop["id"] and accepted["drop_slug"] == drop["slug"]

    claim = wait_claim(client, accepted["claim_id"])
    assert time.monotonic() - started < 2.0
    assert claim["token_id"] == 1 and claim["tx_hash"].startswith("0x")
    assert claim["verify_url"] == f"{app.config['PUBLIC_BASE_URL']}/v/{drop['contract_address']}/1"
    coll = collection(drop["contract_address"])
    assert coll.functions.ownerOf(1).call() == wallet
    assert W3.eth.get_transaction_receipt(claim["tx_hash"]).status == 1

    # a retry of the same claim returns it; anyone else is refused
    same = client.post("/api/claims", json={"code": code, "wallet": wallet})
    assert same.status_code == 200 and same.get_json()["claim_id"] == claim["claim_id"]
    refused(client.post("/api/claims", json={"code": code, "wallet": Account.create().address}),
            409, "code", "already been used")
    refused(client.post("/api/claims", json={"code": code, "customer_assertion": customer(app, "c-1")}),
            409, "code", "already been used")
    refused(client.post("/api/claims", json={"code": "ABCD-EFGH-JKLM", "wallet": wallet}), 404, "code", "unknown")
    assert client.get("/api/claims/no-such-claim").status_code == 404
    assert coll.functions.totalMinted().call() == 1

    # an Idempotency-Key is optional on the public endpoint and replays the first answer
    body = {"code": other_code, "wallet": Account.create().address}
    first = client.post("/api/claims", json=body, headers={"Idempotency-Key": "claim-once"})
    again = client.post("/api/claims", json=body, headers={"Idempotency-Key": "claim-once"})
    assert first.status_code == again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["claim_id"] == first.get_json()["claim_id"]


def test_claim_window(client, staff, make_drop):
    wallet = Account.create().address
    early = make_drop(claim_start="2999-01-01T00:00:00Z")
    refused(client.post("/api/claims", json={"code": codes(client, staff, early["id"], 1)[0], "wallet": wallet}),
            409, "code", "not open yet")
    late = make_drop(claim_end="2020-01-01T00:00:00Z")
    refused(client.post("/api/claims", json={"code": codes(client, staff, late["id"], 1)[0], "wallet": wallet}),
            409, "code", "closed")


def test_per_wallet_limit_counts_claims_and_other_mints(client, staff, make_drop):
    drop = make_drop(per_wallet_limit=1)
    first, second = codes(client, staff, drop["id"], 2)
    wallet, minted_to, third = (Account.create().address for _ in range(3))
    assert client.post("/api/claims", json={"code": first, "wallet": wallet}).status_code == 202
    refused(client.post("/api/claims", json={"code": second, "wallet": wallet}), 409, "wallet", "limit of 1")
    mint = client.post(f"/api/drops/{drop['id']}/mint", json={"to": minted_to},
                       headers={**staff, "Idempotency-Key": f"m-{time.time_ns()}"})
    assert mint.status_code == 200
    refused(client.post("/api/claims", json={"code": second, "wallet": minted_to}), 409, "wallet", "limit of 1")
    # the refused attempts did not use the code up
    assert client.post("/api/claims", json={"code": second, "wallet": third}).status_code == 202


def test_sold_out_edition(client, staff, make_drop):
    drop = make_drop(edition_size=2)
    replies = [client.post("/api/claims", json={"code": code, "wallet": Account.create().address})
               for code in codes(client, staff, drop["id"], 3)]
    assert [r.status_code for r in replies[:2]] == [202, 202]
    refused(replies[2], 409, "code", "sold out")
    for reply in replies[:2]:
        wait_claim(client, reply.get_json()["claim_id"])
    assert collection(drop["contract_address"]).functions.totalMinted().call() == 2


def test_paused_drop_refuses_claims(client, staff, make_drop):
    drop = make_drop()
    code = codes(client, staff, drop["id"], 1)[0]
    assert client.post(f"/api/drops/{drop['id']}/pause", headers={**staff, "Idempotency-Key": "p"}).status_code == 200
    body = {"code": code, "wallet": Account.create().address}
    refused(client.post("/api/claims", json=body), 409, "code", "paused")
    assert client.post(f"/api/drops/{drop['id']}/resume", headers={**staff, "Idempotency-Key": "r"}).status_code == 200
    assert client.post("/api/claims", json=body).status_code == 202


def run_together(app, bodies):
    """POST every body to /api/claims from its own thread, all released at once; the replies in order."""
    barrier, replies = threading.Barrier(len(bodies)), [None] * len(bodies)

    def claim(n):
        local = app.test_client()
        barrier.wait()
        replies[n] = local.post("/api/claims", json=bodies[n])

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return replies


def test_concurrent_claims_get_one_token_each_in_shared_transactions(app, client, staff, make_drop):
    drop = make_drop(edition_size=20)
    wallets = [Account.create().address for _ in range(20)]
    bodies = [{"code": c, "wallet": w} for c, w in zip(codes(client, staff, drop["id"], 20), wallets)]
    replies = run_together(app, bodies)
    assert [r.status_code for r in replies] == [202] * 20, [r.get_json() for r in replies if r.status_code != 202]
    claims = [wait_claim(client, r.get_json()["claim_id"]) for r in replies]
    coll = collection(drop["contract_address"])
    assert [coll.functions.balanceOf(w).call() for w in wallets] == [1] * 20
    assert sorted(c["token_id"] for c in claims) == list(range(1, 21))
    # one transaction here; a few allow for a slow machine stretching the burst past the 0.5 s claim window
    assert len({c["tx_hash"] for c in claims}) <= 4


def test_concurrent_claims_of_one_code_make_one_claim(app, client, staff, make_drop):
    drop = make_drop()
    contested, retried = codes(client, staff, drop["id"], 2)
    replies = run_together(app, [{"code": contested, "wallet": Account.create().address} for _ in range(10)])
    assert sorted(r.status_code for r in replies) == [202] + [409] * 9
    # the same claimant retrying at once: one claim, every reply names it
    wallet = Account.create().address
    replies = run_together(app, [{"code": retried, "wallet": wallet} for _ in range(10)])
    assert sorted(r.status_code for r in replies) == [200] * 9 + [202]
    assert len({r.get_json()["claim_id"] for r in replies}) == 1
    with app.extensions["hallmark.db"].session() as s:
        assert s.scalar(select(func.count()).select_from(Claim).where(Claim.drop_id == drop["id"])) == 2
    for claim_id in {r.get_json()["claim_id"] for r in replies}:
        wait_claim(client, claim_id)
    assert collection(drop["contract_address"]).functions.totalMinted().call() == 2


def test_custodial_claims(app, client, staff, make_drop, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    drop = make_drop(per_wallet_limit=2)
    first_code, second_code, third_code = codes(client, staff, drop["id"], 3)
    replies = [client.post("/api/claims", json={"code": c, "customer_assertion": customer(app, "cust-42")})
               for c in (first_code, second_code)]
    replies.append(client.post("/api/claims", json={"code": first_code,  # a retry, with a token signed anew
                                                    "customer_assertion": customer(app, "cust-42")}))
    replies.append(client.post("/api/claims", json={"code": third_code, "customer_assertion": customer(app, "cust-7")}))
    assert [r.status_code for r in replies] == [202, 202, 200, 202]
    claims = [wait_claim(client, r.get_json()["claim_id"]) for r in replies]
    assert all(c["custodial"] for c in claims)
    address = claims[0]["wallet"]
    assert claims[1]["wallet"] == address and claims[3]["wallet"] != address

    seed_file = app.config["DATA_DIR"] / "keys" / "custody.mnemonic"
    assert stat.S_IMODE(seed_file.stat().st_mode) == 0o600
    phrase = seed_file.read_text().strip()
    assert address == Account.from_mnemonic(phrase, account_path="m/44'/60'/0'/0/1").address
    assert claims[3]["wallet"] == Account.from_mnemonic(phrase, account_path="m/44'/60'/0'/0/2").address
    coll = collection(drop["contract_address"])
    assert sorted(coll.functions.ownerOf(c["token_id"]).call() for c in claims[:2]) == [address, address]

    page = client.get("/api/custodial-accounts?customer_id=cust-42", headers=staff)
    assert page.status_code == 200
    listed = page.get_json()
    assert listed["total"] == 1 and listed["items"][0]["customer_id"] == "cust-42"
    assert listed["items"][0]["address"] == address and listed["items"][0]["created_at"]
    assert listed["items"][0]["tokens"] == [{"drop_id": drop["id"], "slug": drop["slug"],
                                             "contract_address": drop["contract_address"],
                                             "token_ids": sorted(c["token_id"] for c in claims[:2])}]
    paged = client.get("/api/custodial-accounts?page=2&per_page=1", headers=staff).get_json()
    assert (paged["total"], [a["customer_id"] for a in paged["items"]]) == (2, ["cust-7"])
    bad = client.get("/api/custodial-accounts?per_page=0", headers=staff)
    assert bad.status_code == 422 and "per_page" in bad.get_json()["errors"]["query"]

    words = phrase.split()
    pairs = [" ".join(words[i:i + 2]) for i in range(len(words) - 1)]  # single words can be JSON keys ("total")
    for reply in replies + [page]:
        text = reply.get_data(as_text=True)
        assert phrase not in text and not any(pair in text for pair in pairs)


def test_custody_seed_from_the_environment(app, tmp_path, monkeypatch):
    phrase = "test test test test test test test test test test test junk"
    monkeypatch.setenv(ENV, phrase)
    service = CustodyService(app.extensions["hallmark.db"], tmp_path)
    first, second = service.address_for("alice"), service.address_for("bob")
    assert first == Account.from_mnemonic(phrase, account_path="m/44'/60'/0'/0/1").address
    assert second == Account.from_mnemonic(phrase, account_path="m/44'/60'/0'/0/2").address
    assert service.address_for("alice") == first
    assert not (tmp_path / "keys").exists()

    monkeypatch.setenv(ENV, "tiger tiger tiger tiger tiger tiger tiger tiger tiger tiger tiger tiger")
    with pytest.raises(CustodyError) as failure:
        CustodyService(app.extensions["hallmark.db"], tmp_path).address_for("carol")
    assert "tiger" not in str(failure.value) and ENV in str(failure.value)


def test_claim_validation_errors_name_the_field(client, app):
    wallet = Account.create().address
    token = customer(app, "c-1")
    cases = [
        ({"code": "X", "wallet": wallet, "customer_assertion": token}, {"wallet", "customer_assertion"}),
        ({"code": "X"}, {"wallet", "customer_assertion"}),
        ({"code": "X", "wallet": "0x123"}, {"wallet"}),
        ({"code": "X", "wallet": "0x" + "0" * 40}, {"wallet"}),
        ({"wallet": wallet}, {"code"}),
        ({"code": "X", "customer_id": "c-1"}, {"customer_id"}),  # a bare customer id: never taken on trust
        ({"code": "X", "customer_assertion": ""}, {"customer_assertion"}),
    ]
    for body, fields in cases:
        reply = client.post("/api/claims", json=body)
        assert reply.status_code == 422, (body, reply.get_json())
        assert set(reply.get_json()["errors"]["json"]) == fields, (body, reply.get_json())


def test_staff_endpoints_need_a_key(client):
    assert client.post("/api/drops/1/claim-codes", json={"count": 1}).status_code == 401
    assert client.get("/api/custodial-accounts").status_code == 401
    # the claimant's endpoints are public
    assert client.post("/api/claims", json={"code": "NOPE", "wallet": Account.create().address}).status_code == 404
    assert client.get("/api/claims/nope").status_code == 404
    spec = client.get("/openapi.json").get_json()["paths"]
    assert {"/api/claims", "/api/claims/{claim_id}", "/api/custodial-accounts",
            "/api/drops/{drop_id}/claim-codes"} <= set(spec)
