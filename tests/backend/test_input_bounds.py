"""The public surface bounded at the edge, against the real app and chain: out-of-range ids, deep or large JSON,
loose types, hidden characters, CSV variants, checksum typos, pixel bombs and ownership-proof abuse each get a 4xx
that names the field (never a 500), before any database or chain call that could not hold them."""
import io
import resource
import struct
import time
import zlib

import pytest
from click.testing import CliRunner
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import is_checksum_address, to_checksum_address
from PIL import Image
from sqlalchemy import select
from web3 import Web3

from hallmark import devchain
from hallmark.chain import artifacts
from hallmark.models import IndexedToken

from conftest import CI_PORT

W3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{CI_PORT}"))
UINT256_MAX = 2**256 - 1
WITHIN_UINT256 = (0, 6, 2**31, 2**63, 2**64 + 1, UINT256_MAX)  # 2**63 and up: past SQLite's integers
BEYOND_UINT256 = (str(2**256), "9" * 5000)  # Python's int() refuses 4,300+ digits


def collection(address):
    return W3.eth.contract(address=address, abi=artifacts.load("HallmarkCollection")["abi"])


def post(client, url, headers=None, **kwargs):
    return client.post(url, headers={**(headers or {}), "Idempotency-Key": f"k-{time.time_ns()}"}, **kwargs)


def refused(reply, location, field, status=422):
    """The reply is a JSON 4xx whose errors name the field (or, for a whole body, the location)."""
    assert reply.status_code == status, (location, field, reply.status_code, reply.get_data(as_text=True)[:300])
    errors = reply.get_json()["errors"][location]
    assert field is None or field in errors, (field, errors)
    return reply.get_json()


def mint(client, staff, drop, to):
    reply = post(client, f"/api/drops/{drop['id']}/mint", staff, json={"to": to})
    assert reply.status_code == 200 and reply.get_json()["status"] == "minted", reply.get_json()
    return reply.get_json()["token_id"]


def indexed(app, collection_address, token_id, burned=False):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with app.extensions["hallmark.db"].session() as s:
            token = s.get(IndexedToken, (collection_address, token_id))
            if token is not None and token.burned == burned:
                return
        time.sleep(0.05)
    raise AssertionError(f"token {token_id} not indexed (burned={burned})")


@pytest.fixture
def live(app, client, staff, make_drop):
    drop = make_drop(edition_size=5)
    holder = Account.create()
    token_id = mint(client, staff, drop, holder.address)
    indexed(app, drop["contract_address"], token_id)
    return drop, holder, token_id


def typo_of(address: str) -> str:
    """A one-character typo of a checksummed address that keeps its letter case: mixed case, wrong checksum."""
    for i in range(2, 42):
        if address[i].isdigit():
            typo = address[:i] + str((int(address[i]) + 1) % 10) + address[i + 1:]
            if not is_checksum_address(typo):
                return typo
    raise AssertionError("no digit to change")


# ------------------------------------------------------------------ ids and serials


def test_token_ids_past_sqlite_get_a_verdict_and_past_uint256_a_422(client, live):
    drop, holder, _ = live
    address, slug = drop["contract_address"], drop["slug"]
    for n in WITHIN_UINT256:  # a fair question about a token that is not in the edition
        for reply in (client.get(f"/api/verify/{address}/{n}"), client.get(f"/api/verify/drop/{slug}/{n}"),
                      client.get("/api/verify", query_string={"code": f"http://127.0.0.1:5000/v/{address}/{n}"})):
            assert reply.status_code == 200, (n, reply.get_json())
            answer = reply.get_json()
            assert answer["verdict"] == "invalid_serial" and answer["token_id"] == n
            assert any(r["check"] == "token" and "outside this edition" in r["detail"] for r in answer["reasons"])
        assert client.get(f"/art/{address}/{n}.png").status_code == 404
        assert client.get(f"/meta/{address}/{n}").status_code == 404
    for n in BEYOND_UINT256:
        refused(client.get(f"/api/verify/{address}/{n}"), "path", "token_id")
        refused(client.get(f"/api/verify/drop/{slug}/{n}"), "path", "serial")
        refused(client.get(f"/art/{address}/{n}.png"), "path", "serial")
        refused(client.get(f"/v/{address}/{n}"), "path", "serial")
        refused(client.get("/api/verify", query_string={"code": f"{address}/{n}"}), "query", "code")

    challenge = {"address": holder.address, "collection": address}
    beyond_db = client.post("/api/ownership/challenge", json={**challenge, "token_id": 2**63})
    assert "does not exist" in refused(beyond_db, "json", "token_id")["message"]
    for token_id in (2**256, 0, "1", 1.0, True):
        refused(client.post("/api/ownership/challenge", json={**challenge, "token_id": token_id}), "json", "token_id")


def test_staff_ids_and_pages_out_of_range(client, staff):
    for n in (2**31, 2**63, "9" * 5000):
        for url, name in ((f"/api/drops/{n}", "drop_id"), (f"/api/jobs/{n}", "job_id"), (f"/api/mints/{n}", "item_id"),
                          (f"/api/drops/{n}/activity", "drop_id")):
            refused(client.get(url, headers=staff), "path", name)
        refused(post(client, f"/api/drops/{n}/mint", staff, json={"to": Account.create().address}), "path", "drop_id")
        refused(post(client, f"/api/drops/{n}/claim-codes", staff, json={"count": 1}), "path", "drop_id")
    assert client.get(f"/api/drops/{2**31 - 1}", headers=staff).status_code == 404

    for query, field in (({"page": 2**63}, "page"), ({"page": 0}, "page"), ({"page": "1.5"}, "page"),
                         ({"per_page": 501}, "per_page"), ({"per_page": 0}, "per_page")):
        refused(client.get("/api/custodial-accounts", headers=staff, query_string=query), "query", field)
    wallet = f"/api/wallets/{Account.create().address}"
    for query, field in (({"page": 2**63}, "page"), ({"page": 100_001}, "page"), ({"per_page": 101}, "per_page")):
        refused(client.get(wallet, query_string=query), "query", field)
    assert client.get(wallet, query_string={"page": 100_000}).get_json()["items"] == []


# ------------------------------------------------------------------ JSON bodies and types


def test_json_depth_size_and_number_length_are_bounded(client, staff):
    deep = "[" * 1000 + "]" * 1000  # json.loads raised RecursionError: a 500
    for url, headers in (("/api/claims", {}), ("/api/ownership/verify", {}), ("/api/drops", staff)):
        reply = post(client, url, headers, data=deep, content_type="application/json")
        assert "nested deeper than 32" in refused(reply, "json", None, 400)["message"]
    nested = "x"
    for _ in range(33):
        nested = {"a": nested}
    refused(post(client, "/api/claims", json={"code": nested}), "json", None, 400)
    within = "x"
    for _ in range(30):
        within = [within]
    refused(post(client, "/api/claims", json={"code": within}), "json", "code")  # deep enough, but not a string
    # brackets and digits inside strings do not count
    refused(post(client, "/api/claims", json={"code": "[" * 5000 + "9" * 500}), "json", "code")

    long_number = '{"code": "ABCD-EFGH-JKLM", "wallet": ' + "1" * 5000 + "}"  # int() of it raised: a 500
    refused(post(client, "/api/claims", data=long_number, content_type="application/json"), "json", None, 400)
    refused(post(client, "/api/claims", json={"code": "x" * 70_000}), "json", None, 413)
    lone_surrogate = '{"code": "\\ud800", "wallet": "0x' + "12" * 20 + '"}'  # the code's hash raised: a 500
    refused(post(client, "/api/claims", data=lone_surrogate, content_type="application/json"), "json", None, 400)


def test_integers_and_booleans_are_strict(client, staff):
    base = {"slug": "strict-types", "name": "X", "symbol": "X", "edition_size": 5}
    for field, value in (("edition_size", "5"), ("edition_size", 5.5), ("edition_size", 5.0), ("edition_size", True),
                         ("royalty_bps", "0"), ("per_wallet_limit", 1.5), ("holding_period_days", "1")):
        refused(post(client, "/api/drops", staff, json={**base, field: value}), "json", field)
    refused(post(client, "/api/drops/preview", staff, json={"name": "X", "edition_size": 5, "serials": ["1"]}),
            "json", "serials")
    refused(post(client, "/api/drops/1/claim-codes", staff, json={"count": "5"}), "json", "count")
    for flag in ("yes", "1", "on"):
        refused(post(client, f"/api/drops/1/airdrops?dry_run={flag}", staff, json={"recipients": ["x"]}),
                "query", "dry_run")


def test_names_refuse_control_and_bidirectional_characters(client, staff, tmp_path):
    base = {"slug": "hidden-chars", "name": "X", "symbol": "X", "edition_size": 5}
    for field, value in (("name", "Fuhu \u202eKCAB"), ("name", "a\x00b"), ("name", "a\u2028b"),
                         ("issuer_name", "Bank \u2066x\u2069"), ("issuer_name", "Bank\u200e"),
                         ("description", "x\u200f"), ("description", "red \x1b[31m"), ("seed", "a\u200bb"),
                         ("symbol", "FUHU\n"), ("slug", "hidden-chars\n")):
        reply = refused(post(client, "/api/drops", staff, json={**base, field: value}), "json", field)
        assert reply["errors"]["json"][field]
    fine = post(client, "/api/drops/preview", staff, json={"name": "Fuhu 福虎 ·2026·", "edition_size": 5,
                                                           "description": "line one\nline two\twith a tab"})
    assert fine.status_code == 200, fine.get_json()
    refused(client.get("/api/custodial-accounts", headers=staff, query_string={"customer_id": "c-1\u202e"}),
            "query", "customer_id")

    from hallmark.cli import main
    result = CliRunner().invoke(main, ["apikey", "create", "--name", "ops\u202e", "--role", "marketing"],
                                env={"HALLMARK_DATA_DIR": str(tmp_path / "cli-data")})
    assert result.exit_code == 1 and "U+202E" in result.output, result.output


# ------------------------------------------------------------------ airdrop CSV


def dry_run(client, staff, drop, data: bytes):
    return post(client, f"/api/drops/{drop['id']}/airdrops?dry_run=true", staff,
                data={"file": (io.BytesIO(data), "rows.csv")}, content_type="multipart/form-data")


def test_airdrop_csv_line_endings_bom_quotes_and_bounds(client, staff, make_drop):
    drop = make_drop(edition_size=5)
    a, b = Account.create().address, Account.create().address
    for text in (f"address\n{a}\n{b}\n", f"address\r\n{a}\r\n{b}\r\n", f"address\r{a}\r{b}", f"\ufeffaddress\n{a}\n{b}",
                 f'"address","note"\r\n"{a}","one, two"\r\n"{b}","a note\r\nover two lines"\r\n'):
        reply = dry_run(client, staff, drop, text.encode())
        assert reply.status_code == 200 and reply.get_json() == {"valid": 2, "invalid": []}, (text, reply.get_json())

    # a 200 KB cell (past csv's own field limit) and a 250-character one are row errors, not a 500
    reply = dry_run(client, staff, drop, f"{a}\n{'x' * 200_000}\n{'y' * 250}\n{b}\n".encode())
    assert reply.status_code == 200, reply.get_data(as_text=True)[:300]
    report = reply.get_json()
    assert report["valid"] == 2 and [r["row"] for r in report["invalid"]] == [2, 3]
    assert "longer than 200" in report["invalid"][1]["reason"] and len(report["invalid"][1]["value"]) <= 100

    refused(dry_run(client, staff, drop, b"x" * (8 * 1024 * 1024 + 1)), "files", "file", 413)
    refused(dry_run(client, staff, drop, b"x\n" * 100_001), "files", "file")
    refused(post(client, f"/api/drops/{drop['id']}/airdrops?dry_run=true", staff,
                 json={"recipients": ["x"] * 100_001}), "json", "recipients")
    # a JSON entry is one row, whatever it holds
    report = post(client, f"/api/drops/{drop['id']}/airdrops?dry_run=true", staff,
                  json={"recipients": [f"{a}\n{b}", b]}).get_json()
    assert report["valid"] == 1 and report["invalid"][0]["row"] == 1


# ------------------------------------------------------------------ addresses


def test_addresses_accept_one_case_and_refuse_checksum_typos(client, staff, make_drop, app):
    drop = make_drop(edition_size=5)
    holder = Account.create().address
    typo = typo_of(holder)
    assert mint(client, staff, drop, holder.lower()) == 1
    assert mint(client, staff, drop, "0x" + holder[2:].upper()) == 2

    reply = refused(post(client, f"/api/drops/{drop['id']}/mint", staff, json={"to": typo}), "json", "to")
    assert "check the address for a typo" in reply["errors"]["json"]["to"][0]
    job = post(client, f"/api/drops/{drop['id']}/airdrops", staff, json={"recipients": [typo, holder]}).get_json()
    assert job["failures"][0]["row"] == 1 and "typo" in job["failures"][0]["reason"], job
    deadline = time.monotonic() + 30
    while job["status"] != "finished" and time.monotonic() < deadline:
        time.sleep(0.1)
        job = client.get(f"/api/jobs/{job['id']}", headers=staff).get_json()
    coll = collection(drop["contract_address"])
    assert coll.functions.balanceOf(holder).call() == 3
    assert coll.functions.balanceOf(to_checksum_address(typo)).call() == 0  # the typo'd address got nothing

    contract = drop["contract_address"]
    refused(post(client, "/api/claims", json={"code": "ABCD-EFGH-JKLM", "wallet": typo}), "json", "wallet")
    refused(client.get(f"/api/verify/{typo_of(contract)}/1"), "path", "address")
    refused(client.get("/api/verify", query_string={"code": f"{typo_of(contract)}/1"}), "query", "code")
    refused(client.get(f"/api/wallets/{typo}"), "path", "address")
    for field, value in (("address", typo), ("collection", typo_of(contract))):
        body = {"address": holder, "collection": contract, "token_id": 1, field: value}
        refused(client.post("/api/ownership/challenge", json=body), "json", field)
    indexed(app, contract, 3)  # the airdrop's token
    assert client.get(f"/api/verify/{contract.lower()}/1").get_json()["verdict"] == "genuine"
    assert client.get(f"/api/wallets/0x{holder[2:].upper()}").get_json()["total"] == 3


# ------------------------------------------------------------------ images


def zero_png(width: int, height: int) -> bytes:
    """An all-black RGB PNG, written row by row: the test itself never holds the decoded pixels."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    pack = zlib.compressobj(9)
    row = b"\0" * (1 + 3 * width)
    idat = b"".join(pack.compress(row) for _ in range(height)) + pack.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def upload(client, data):
    return client.post("/api/verify/image", data={"file": (io.BytesIO(data), "x.png")},
                       content_type="multipart/form-data")


def test_image_check_refuses_a_pixel_bomb_before_decoding(client):
    bomb = zero_png(6000, 6000)
    assert len(bomb) < 200_000  # ~100 MB once decoded
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux
    started = time.monotonic()
    reply = upload(client, bomb)
    elapsed = time.monotonic() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert "6000x6000" in refused(reply, "files", "file", 413)["message"]
    assert elapsed < 1.0 and grown_mb < 50, (elapsed, grown_mb)

    noise = io.BytesIO()
    Image.effect_noise((64, 64), 64).save(noise, "PNG")
    refused(upload(client, noise.getvalue()[:len(noise.getvalue()) // 2]), "files", "file")  # truncated
    refused(upload(client, b"\xff\xd8\xff\xe0" + b"\0" * 100), "files", "file")  # a JPEG header only


# ------------------------------------------------------------------ ownership proofs


def test_ownership_message_bounds_and_a_burned_item(client, staff, make_drop, app, stack):
    refused(client.post("/api/ownership/verify", json={"message": "x" * 2001, "signature": "0x" + "11" * 65}),
            "json", "message")
    for junk in ("x" * 2000, "http://" + "a" * 1993, "127.0.0.1:5000 wants you to sign in with your Ethereum account:"
                 "\n" + "Nonce: 0123456789abcdef\n" * 60):
        started = time.monotonic()  # the siwe parser took 2 s on 2,000 characters of junk
        refused(client.post("/api/ownership/verify", json={"message": junk, "signature": "0x" + "11" * 65}),
                "json", "message", 403)
        assert time.monotonic() - started < 0.5

    drop = make_drop(edition_size=5)
    holder = Account.create()
    devchain.fund(stack["chain"].url, holder.address, 1)
    token_id = mint(client, staff, drop, holder.address)
    indexed(app, drop["contract_address"], token_id)

    def challenge():
        reply = client.post("/api/ownership/challenge", json={
            "address": holder.address, "collection": drop["contract_address"], "token_id": token_id})
        assert reply.status_code == 201, reply.get_json()
        return reply.get_json()["message"]

    garbled = client.post("/api/ownership/verify", json={"message": challenge(), "signature": "0x" + "ff" * 65})
    refused(garbled, "json", "signature", 403)

    message = challenge()
    signature = "0x" + holder.sign_message(encode_defunct(text=message)).signature.hex().removeprefix("0x")
    burn = collection(drop["contract_address"]).functions.burn(token_id).build_transaction(
        {"from": holder.address, "nonce": W3.eth.get_transaction_count(holder.address)})
    receipt = W3.eth.wait_for_transaction_receipt(
        W3.eth.send_raw_transaction(holder.sign_transaction(burn).raw_transaction))
    assert receipt.status == 1
    reply = client.post("/api/ownership/verify", json={"message": message, "signature": signature})
    assert "burned" in refused(reply, "json", "message", 403)["message"]
    indexed(app, drop["contract_address"], token_id, burned=True)
    again = client.post("/api/ownership/challenge", json={
        "address": holder.address, "collection": drop["contract_address"], "token_id": token_id})
    refused(again, "json", "token_id")


# ------------------------------------------------------------------ found by hand


def test_long_public_path_strings_are_not_echoed_or_looked_up(client):
    reply = refused(client.get("/api/claims/" + "x" * 5000), "path", "claim_id", 404)
    assert len(reply["message"]) < 100
    reply = refused(client.get(f"/api/verify/drop/{'a' * 5000}/1"), "path", "slug", 404)
    assert len(reply["message"]) < 100
    refused(client.get("/api/verify", query_string={"code": "x" * 501}), "query", "code")
