"""Drops, minting and airdrop jobs through the HTTP API, against the real chain."""
import hashlib
import time

from eth_account import Account
from web3 import Web3

from hallmark.art.commitment import leaf_hash
from hallmark.chain import artifacts

from conftest import CI_PORT

W3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{CI_PORT}"))


def collection(address):
    return W3.eth.contract(address=address, abi=artifacts.load("HallmarkCollection")["abi"])


def post(client, url, headers, key=None, **kwargs):
    return client.post(url, headers={**headers, "Idempotency-Key": key or f"k-{time.time_ns()}"}, **kwargs)


def wait_job(client, staff, job_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}", headers=staff).get_json()
        if job["status"] == "finished":
            return job
        time.sleep(0.1)
    raise AssertionError(f"job did not finish: {job}")


def test_drop_goes_live_with_its_commitment_on_chain(client, staff, make_drop, stack):
    drop = make_drop(edition_size=12, transfer_policy="soulbound")
    coll = collection(drop["contract_address"])
    assert coll.functions.name().call() == "Fuhu Test"
    assert coll.functions.maxSupply().call() == 12
    assert coll.functions.transferPolicy().call() == 1
    assert "0x" + coll.functions.contentRoot().call().hex() == drop["content_root"]
    listed = client.get("/api/drops", headers=staff).get_json()
    assert drop["id"] in [d["id"] for d in listed]


def test_single_mint_and_its_metadata_and_image_match_the_commitment(client, staff, make_drop, app):
    drop = make_drop()
    holder = Account.create().address
    reply = post(client, f"/api/drops/{drop['id']}/mint", staff, json={"to": holder})
    assert reply.status_code == 200, reply.get_json()
    minted = reply.get_json()
    assert minted["status"] == "minted" and minted["token_id"] == 1
    coll = collection(drop["contract_address"])
    assert coll.functions.ownerOf(1).call() == holder

    uri = coll.functions.tokenURI(1).call()
    path = uri.split("127.0.0.1:5000", 1)[1]
    meta = client.get(path)
    assert meta.status_code == 200 and meta.get_json()["name"] == "Fuhu Test #1"
    image = client.get(meta.get_json()["image"].split("127.0.0.1:5000", 1)[1])
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert "immutable" in image.headers["Cache-Control"]
    image_sha, meta_sha = hashlib.sha256(image.data).digest(), hashlib.sha256(meta.data).digest()
    proof = app.extensions["hallmark.services"].drops.tree(drop["id"]).proof(1)
    assert coll.functions.verifyContent(1, image_sha, meta_sha, proof).call()
    assert leaf_hash(1, image_sha, meta_sha)  # the same leaf the tree was built from
    assert client.get(path).data == meta.data  # byte-identical every time


def test_airdrop_job_reports_rows_and_mints_each_valid_row_once(client, staff, make_drop):
    drop = make_drop(edition_size=130)
    recipients = [Account.create().address for _ in range(120)]
    csv = "address\n" + "\n".join(recipients[:60]) + "\nnot-an-address\n" + "\n".join(recipients[60:]) + "\n"
    reply = post(client, f"/api/drops/{drop['id']}/airdrops", staff,
                 data={"file": (__import__("io").BytesIO(csv.encode()), "list.csv")},
                 content_type="multipart/form-data")
    assert reply.status_code == 202, reply.get_json()
    job = wait_job(client, staff, reply.get_json()["id"])
    assert (job["total"], job["done"], job["failed"]) == (121, 120, 1)
    assert job["failures"] == [{"row": 62, "address": "not-an-address", "reason": "not an Ethereum address"}]
    assert len(job["transactions"]) == 3  # batches of 50 in the test app
    assert job["tokens_per_second"] > 0
    coll = collection(drop["contract_address"])
    assert [coll.functions.balanceOf(r).call() for r in recipients] == [1] * 120
    assert coll.functions.totalMinted().call() == 120
    # nothing was in flight: the remainder went first, so the node mined it while the full batches were signed
    assert [len(coll.w3.eth.get_transaction_receipt(tx["hash"]).logs) for tx in job["transactions"]] == [20, 50, 50]


def test_airdrop_dry_run_reports_rows_and_queues_nothing(client, staff, make_drop):
    drop = make_drop()
    reply = post(client, f"/api/drops/{drop['id']}/airdrops?dry_run=true", staff,
                 json={"recipients": [Account.create().address, "0x123"]})
    assert reply.status_code == 200
    assert reply.get_json() == {"valid": 1, "invalid": [{"row": 2, "value": "0x123", "reason": "not an Ethereum address"}]}
    assert client.get(f"/api/drops/{drop['id']}", headers=staff).get_json()["queued"] == 0


def test_airdrop_beyond_edition_is_refused(client, staff, make_drop):
    drop = make_drop(edition_size=3)
    reply = post(client, f"/api/drops/{drop['id']}/airdrops", staff,
                 json={"recipients": [Account.create().address for _ in range(4)]})
    assert reply.status_code == 409
    assert reply.get_json()["errors"]["json"]["recipients"]


def test_pause_and_resume(client, staff, make_drop):
    drop = make_drop()
    reply = post(client, f"/api/drops/{drop['id']}/pause", staff)
    assert reply.status_code == 200 and reply.get_json()["paused"]
    assert collection(drop["contract_address"]).functions.paused().call()
    reply = post(client, f"/api/drops/{drop['id']}/resume", staff)
    assert reply.status_code == 200 and not reply.get_json()["paused"]
    assert not collection(drop["contract_address"]).functions.paused().call()


def test_validation_errors_name_the_field(client, staff):
    cases = [
        ({"name": "X", "symbol": "X", "edition_size": 5}, "slug"),
        ({"slug": "ok-slug", "symbol": "X", "edition_size": 5}, "name"),
        ({"slug": "ok-slug", "name": "X", "symbol": "lower", "edition_size": 5}, "symbol"),
        ({"slug": "ok-slug", "name": "X", "symbol": "X", "edition_size": 0}, "edition_size"),
        ({"slug": "ok-slug", "name": "X", "symbol": "X", "edition_size": 5, "transfer_policy": "frozen"},
         "transfer_policy"),
        ({"slug": "ok-slug", "name": "X", "symbol": "X", "edition_size": 5, "transfer_policy": "holding_period"},
         "holding_period_days"),
        ({"slug": "ok-slug", "name": "X", "symbol": "X", "edition_size": 5, "artwork": "image"}, "base_image"),
        ({"slug": "ok-slug", "name": "X", "symbol": "X", "edition_size": 5, "artwork": "image",
          "base_image": "%%%"}, "base_image"),
        ({"slug": "ok-slug", "name": "X", "symbol": "X", "edition_size": 5,
          "claim_start": "2026-01-02T00:00:00Z", "claim_end": "2026-01-01T00:00:00Z"}, "claim_end"),
    ]
    for body, field in cases:
        reply = post(client, "/api/drops", staff, json=body)
        assert reply.status_code == 422, (field, reply.get_json())
        assert field in reply.get_json()["errors"]["json"], (field, reply.get_json())
    reply = post(client, "/api/drops/1/mint", staff, json={"to": "0xnope"})
    assert reply.status_code == 422 and "to" in reply.get_json()["errors"]["json"]
    reply = post(client, "/api/drops", staff, data="not json", content_type="application/json")
    assert reply.status_code in (400, 422)


def test_uploaded_artwork_that_is_not_an_image(client, staff):
    import base64
    body = {"slug": "bad-image", "name": "X", "symbol": "X", "edition_size": 5, "artwork": "image",
            "base_image": base64.b64encode(b"this is not a png").decode()}
    reply = post(client, "/api/drops", staff, json=body)
    assert reply.status_code == 422 and "base_image" in reply.get_json()["errors"]["json"]


def test_idempotency_key(client, staff, make_drop):
    drop = make_drop()
    holder = Account.create().address
    first = post(client, f"/api/drops/{drop['id']}/mint", staff, key="mint-once", json={"to": holder})
    again = post(client, f"/api/drops/{drop['id']}/mint", staff, key="mint-once", json={"to": holder})
    assert again.status_code == first.status_code == 200
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert collection(drop["contract_address"]).functions.balanceOf(holder).call() == 1
    other = post(client, f"/api/drops/{drop['id']}/mint", staff, key="mint-once", json={"to": Account.create().address})
    assert other.status_code == 409
    missing = client.post(f"/api/drops/{drop['id']}/mint", headers=staff, json={"to": holder})
    assert missing.status_code == 400 and "Idempotency-Key" in missing.get_json()["errors"]["headers"]


def test_staff_endpoints_need_a_key_with_a_role(client, app):
    from hallmark.access.keys import create_api_key
    from hallmark.access.permissions import KEY_SCOPES
    assert client.get("/api/drops").status_code == 401
    assert client.get("/api/drops", headers={"Authorization": "Bearer hk_wrong"}).status_code == 401
    key = create_api_key(app.extensions["hallmark.db"], "m", scopes=KEY_SCOPES)
    assert client.get("/api/drops", headers={"X-API-Key": key}).status_code == 200
    from hallmark.models import ApiKey
    from sqlalchemy import select
    with app.extensions["hallmark.db"].session() as s:
        assert key not in [k.key_hash for k in s.scalars(select(ApiKey))]  # stored hashed


def test_public_routes_and_docs(client):
    spec = client.get("/openapi.json").get_json()
    assert "/api/drops" in spec["paths"] and "/api/drops/{drop_id}/airdrops" in spec["paths"]
    assert "DropCreate" in spec["components"]["schemas"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and b"/vendor/swagger-ui/swagger-ui-bundle.js" in docs.data
    assert client.get("/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/vendor/nope/x.js").status_code == 404
    missing = client.get("/art/0x0000000000000000000000000000000000000001/1.png")
    assert missing.status_code == 404 and "not a Hallmark collection" in missing.get_json()["message"]
    assert client.get("/no/such/page").get_json()["code"] == 404


def test_drop_created_with_brownie_is_adopted_and_served(stack, app_for, deployed_data, tmp_path):
    from conftest import CI_NETWORK, RUN_SCRIPT, run
    data = deployed_data
    spec = tmp_path / "drop.yaml"
    spec.write_text(f"slug: brownie-{time.time_ns()}\nname: Brownie Drop\nsymbol: BRW\nedition_size: 6\n")
    env = {"HALLMARK_DATA_DIR": str(data), "HALLMARK_ISSUER_KEY": stack["issuer_key"]}
    out = run([*RUN_SCRIPT, "scripts/create_drop.py", "main", str(spec), "--network", CI_NETWORK], env).stdout
    address = out.split("is collection ")[1].split()[0]

    app = app_for(data, CI_PORT)
    try:
        client = app.test_client()
        deadline = time.monotonic() + 30
        while client.get(f"/api/verify/{address}/6").get_json()["verdict"] != "not_issued" \
                or _status(app, address) != "live":
            assert time.monotonic() < deadline, _status(app, address)
            time.sleep(0.1)
        assert client.get(f"/api/verify/{address}/6").get_json()["drop"]["name"] == "Brownie Drop"
        # nothing is minted yet: its art and metadata are not public
        assert client.get(f"/meta/{address.lower()}/6").get_json()["errors"]["path"]["serial"] == ["Not issued yet."]
    finally:
        app.extensions["hallmark.services"].stop()


def _status(app, address):
    from hallmark.models import Drop
    from sqlalchemy import select
    with app.extensions["hallmark.db"].session() as s:
        return s.scalar(select(Drop.status).where(Drop.contract_address == address))


def test_zero_address_is_refused_before_it_can_sink_a_batch(client, staff, make_drop):
    drop = make_drop()
    zero = "0x" + "00" * 20
    reply = post(client, f"/api/drops/{drop['id']}/mint", staff, json={"to": zero})
    assert reply.status_code == 422 and "zero address" in reply.get_json()["errors"]["json"]["to"][0]
    report = post(client, f"/api/drops/{drop['id']}/airdrops?dry_run=true", staff,
                  json={"recipients": [Account.create().address, zero]}).get_json()
    assert report["invalid"] == [{"row": 2, "value": zero, "reason": "the zero address cannot hold tokens"}]
