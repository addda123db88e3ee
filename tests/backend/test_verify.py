"""Verdicts, image checks, ownership proofs and wallet lookups against the real chain and index."""
import io
import time

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from PIL import Image, ImageDraw
from sqlalchemy import select, update

from hallmark.models import ChainTx, IndexedCollection, IndexedToken, MintItem, OwnershipChallenge
from hallmark.testing import deploy_lookalike

from conftest import CI_PORT


def mint(client, staff, drop, to):
    reply = client.post(f"/api/drops/{drop['id']}/mint", json={"to": to},
                        headers={**staff, "Idempotency-Key": f"m-{time.time_ns()}"})
    assert reply.get_json()["status"] == "minted", reply.get_json()
    return reply.get_json()["token_id"]


def indexed(app, holder, n=1):
    db = app.extensions["hallmark.db"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with db.session() as s:
            if len(s.scalars(select(IndexedToken).where(IndexedToken.owner == holder)).all()) >= n:
                return
        time.sleep(0.05)
    raise AssertionError("not indexed")


@pytest.fixture
def minted(app, client, staff, make_drop):
    drop = make_drop(edition_size=10)
    holder = Account.create()
    token_id = mint(client, staff, drop, holder.address)
    indexed(app, holder.address)
    return drop, holder, token_id


def test_authentic_item_with_every_reason(client, minted):
    drop, holder, token_id = minted
    answer = client.get(f"/api/verify/{drop['contract_address']}/{token_id}").get_json()
    assert answer["verdict"] == "genuine", answer["reasons"]
    assert {r["check"] for r in answer["reasons"]} == {"registry", "token", "content"}
    assert all(r["ok"] for r in answer["reasons"])
    assert answer["owner"] == holder.address and answer["serial_label"] == "No. 0001 / 10"
    assert answer["minted"]["tx"].startswith("0x") and answer["history"][0]["kind"] == "mint"
    assert answer["policy"] == {"name": "transferable", "locked": False} and answer["redeemed"] is False
    assert len(answer["content"]["proof"]) >= 3
    by_code = client.get("/api/verify", query_string={"code": answer["verify_url"]}).get_json()
    by_drop = client.get(f"/api/verify/drop/{drop['slug']}/{token_id}").get_json()
    assert by_code["verdict"] == by_drop["verdict"] == "genuine"


def test_altered_content_is_an_altered_copy(client, minted):
    drop, _, token_id = minted
    answer = client.get(f"/api/verify/{drop['contract_address']}/{token_id}",
                        query_string={"image_sha256": "0x" + "ab" * 32}).get_json()
    assert answer["verdict"] == "altered"
    assert any(r["check"] == "content" and r["ok"] is False and "altered" in r["detail"] for r in answer["reasons"])


def test_unminted_missing_and_outside(client, minted):
    drop, _, _ = minted
    assert client.get(f"/api/verify/{drop['contract_address']}/9").get_json()["verdict"] == "not_issued"
    assert client.get(f"/api/verify/0x{'12' * 20}/1").get_json()["verdict"] == "no_contract"
    outside = client.get(f"/api/verify/{drop['contract_address']}/11").get_json()
    assert outside["verdict"] == "invalid_serial"
    bad = client.get("/api/verify", query_string={"code": "hello"})
    assert bad.status_code == 422 and "code" in bad.get_json()["errors"]["query"]
    assert client.get("/api/verify/0xnothex/1").status_code == 422
    assert client.get("/api/verify/drop/no-such-drop/1").status_code == 404


def test_mint_and_collection_the_index_has_not_read_yet_come_from_the_receipt(app, client, staff, make_drop):
    """While the sender has transactions in flight the indexer leaves the node to it (run/indexer.py): a drop that
    goes live and an item minted meanwhile are official and genuine from the sender's record of their receipts
    before the index has read them, and the index's answer is the same once it has."""
    from hallmark.run.indexer import IndexerLoop

    db = app.extensions["hallmark.db"]
    loop = next(each for each in app.extensions["hallmark.services"].loops if isinstance(each, IndexerLoop))
    loop.yield_seconds = 600
    with db.session() as s:  # another key's transaction in flight on this chain: the sender leaves it alone
        other = ChainTx(purpose="elsewhere", chain_id=loop.record.chain_id, signer=Account.create().address, nonce=0,
                        to_address=loop.record.registry, data=b"", gas=21_000, value=0, tx_hash="0x" + "cd" * 32)
        s.add(other)
    drop = make_drop(edition_size=10)
    holder = Account.create().address
    token_id = mint(client, staff, drop, holder)
    address = drop["contract_address"]
    with db.session() as s:
        assert s.get(IndexedCollection, address) is None and s.get(IndexedToken, (address, token_id)) is None
        tx_hash = s.scalar(select(ChainTx.tx_hash).join(MintItem, MintItem.tx_id == ChainTx.id)
                           .where(MintItem.token_id == token_id, MintItem.drop_id == drop["id"]))
    answers = [client.get(f"/api/verify/{address}/{token_id}").get_json()]
    assert client.get(f"/api/verify/{address}/{token_id + 1}").get_json()["verdict"] == "not_issued"
    assert client.get(f"/api/verify/{address}/11").get_json()["verdict"] == "invalid_serial"
    with db.session() as s:
        s.get(ChainTx, other.id).status = "mined"
    indexed(app, holder)
    answers.append(client.get(f"/api/verify/{address}/{token_id}").get_json())
    for answer in answers:  # before the index read them, then from the index
        assert answer["verdict"] == "genuine", answer["reasons"]
        assert answer["collection"]["official"] is True and answer["collection"]["edition_size"] == 10
        assert answer["owner"] == holder and [h["kind"] for h in answer["history"]] == ["mint"]
        assert answer["minted"]["tx"] == answer["history"][0]["tx"] == tx_hash
        assert answer["minted"]["block"] == answers[1]["minted"]["block"]


def test_lookalike_from_another_deployer_is_named(client, minted, stack):
    drop, _, _ = minted
    # someone else deploys the same code and a registry of their own, with the same name, symbol and images
    fake = deploy_lookalike(f"http://127.0.0.1:{CI_PORT}", {**drop, "name": "Fuhu Test"})
    answer = client.get(f"/api/verify/{fake}/1").get_json()
    assert answer["verdict"] == "lookalike" and answer["imitates"]["name"] == "Fuhu Test"
    reasons = {r["check"]: r for r in answer["reasons"]}
    assert reasons["registry"]["ok"] is False and "NOT in the bank's on-chain registry" in reasons["registry"]["detail"]
    assert reasons["lookalike"]["ok"] is False and "name copies that of the official drop 'Fuhu Test'" in reasons["lookalike"]["detail"]


def card(client, drop, token_id):
    return client.get(f"/art/{drop['contract_address']}/{token_id}.png").data


def upload(client, data, name="x.png"):
    return client.post("/api/verify/image", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_image_check_exact_altered_reencoded_and_none(client, staff, minted, app):
    drop, holder, token_id = minted
    second = mint(client, staff, drop, holder.address)
    indexed(app, holder.address, 2)
    original = card(client, drop, second)
    exact = upload(client, original).get_json()
    assert exact["match"] == "exact" and exact["token_id"] == second
    assert exact["item"]["verdict"] == "genuine"

    img = Image.open(io.BytesIO(original)).convert("RGB")
    ImageDraw.Draw(img).rectangle((40, 40, 120, 90), fill=(0, 200, 0))  # doctored
    altered = io.BytesIO()
    img.save(altered, "PNG")
    doctored = upload(client, altered.getvalue()).get_json()  # its QR code names the item; the picture differs
    assert doctored["match"] == "qr" and doctored["token_id"] == second and doctored["picture"] == "differs"

    shot = io.BytesIO()
    Image.open(io.BytesIO(original)).convert("RGB").resize((412, 412)).save(shot, "JPEG", quality=70)
    reencoded = upload(client, shot.getvalue(), "shot.jpg").get_json()
    assert reencoded["match"] == "qr" and reencoded["token_id"] == second and reencoded["picture"] == "matches"

    other = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 240)).save(other, "PNG")
    assert upload(client, other.getvalue()).get_json()["match"] == "none"


def test_image_check_limits(client):
    assert upload(client, b"GIF89a not really").status_code == 422
    assert upload(client, b"hello world").status_code == 415
    assert upload(client, b"\x89PNG" + b"\0" * (9 * 1024 * 1024)).status_code == 413
    missing = client.post("/api/verify/image", data={}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "file" in missing.get_json()["errors"]["files"]


def prove(client, holder, drop, token_id, signer=None, tamper=None):
    challenge = client.post("/api/ownership/challenge", json={
        "address": holder.address, "collection": drop["contract_address"], "token_id": token_id}).get_json()
    message = tamper(challenge["message"]) if tamper else challenge["message"]
    signature = (signer or holder).sign_message(encode_defunct(text=message)).signature
    return client.post("/api/ownership/verify", json={"message": message, "signature": "0x" + signature.hex()})


def test_ownership_proof_and_refusals(client, minted, app):
    drop, holder, token_id = minted
    challenge = client.post("/api/ownership/challenge", json={
        "address": holder.address, "collection": drop["contract_address"], "token_id": token_id}).get_json()
    assert "wants you to sign in with your Ethereum account" in challenge["message"]
    signature = "0x" + holder.sign_message(encode_defunct(text=challenge["message"])).signature.hex()
    body = {"message": challenge["message"], "signature": signature}
    proven = client.post("/api/ownership/verify", json=body)
    assert proven.status_code == 200 and proven.get_json()["holder"] == holder.address

    replay = client.post("/api/ownership/verify", json=body)
    assert replay.status_code == 403 and "already used" in replay.get_json()["message"]

    foreign = prove(client, holder, drop, token_id, tamper=lambda m: m.replace("127.0.0.1:5000", "evil.example", 1))
    assert foreign.status_code == 403 and "another site" in foreign.get_json()["message"]

    wrong_signer = prove(client, holder, drop, token_id, signer=Account.create())
    assert wrong_signer.status_code == 403 and "signature" in wrong_signer.get_json()["message"]

    stranger = Account.create()
    not_holder = prove(client, stranger, drop, token_id)
    assert not_holder.status_code == 403 and "does not hold" in not_holder.get_json()["message"]

    challenge = client.post("/api/ownership/challenge", json={
        "address": holder.address, "collection": drop["contract_address"], "token_id": token_id}).get_json()
    with app.extensions["hallmark.db"].session() as s:
        s.execute(update(OwnershipChallenge).where(OwnershipChallenge.nonce == challenge["nonce"])
                  .values(expires_at=OwnershipChallenge.issued_at))
    signature = "0x" + holder.sign_message(encode_defunct(text=challenge["message"])).signature.hex()
    expired = client.post("/api/ownership/verify", json={"message": challenge["message"], "signature": signature})
    assert expired.status_code == 403 and "expired" in expired.get_json()["message"]

    bad = client.post("/api/ownership/verify", json={"message": "hi", "signature": "0x12"})
    assert bad.status_code == 422 and "signature" in bad.get_json()["errors"]["json"]
    unknown = client.post("/api/ownership/challenge", json={
        "address": holder.address, "collection": "0x" + "12" * 20, "token_id": 1})
    assert unknown.status_code == 422 and "collection" in unknown.get_json()["errors"]["json"]


def test_wallet_lookup_across_drops_paged(client, staff, make_drop, app):
    first, second = make_drop(edition_size=10), make_drop(edition_size=10, transfer_policy="soulbound")
    holder = Account.create().address
    for _ in range(3):
        mint(client, staff, first, holder)
    for _ in range(2):
        mint(client, staff, second, holder)
    indexed(app, holder, 5)
    page1 = client.get(f"/api/wallets/{holder}", query_string={"per_page": 3}).get_json()
    page2 = client.get(f"/api/wallets/{holder.lower()}", query_string={"per_page": 3, "page": 2}).get_json()
    assert page1["total"] == 5 and len(page1["items"]) == 3 and len(page2["items"]) == 2
    items = page1["items"] + page2["items"]
    assert {(i["collection"], i["token_id"]) for i in items} == {
        (first["contract_address"], n) for n in (1, 2, 3)} | {(second["contract_address"], n) for n in (1, 2)}
    assert all(i["locked"] == (i["collection"] == second["contract_address"]) for i in items)
    assert all(i["image_url"].endswith(".png") and i["serial_label"].startswith("No. ") for i in items)
    assert client.get("/api/wallets/0xabc").status_code == 422
    assert client.get(f"/api/wallets/{holder}", query_string={"per_page": 500}).status_code == 422
