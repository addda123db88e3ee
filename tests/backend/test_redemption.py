"""Perk redemption by branch staff and the drop ledger export, through the HTTP API against the real chain."""
import csv
import io
import json
import time

import pytest
from eth_account import Account
from sqlalchemy import func, select
from web3 import Web3

from hallmark import devchain
from hallmark.access.models import AuditEntry, Redemption
from hallmark.chain import artifacts, deployment
from hallmark.chain.contracts import ChainHandles, connect
from hallmark.chain.node import NodeUnavailable
from hallmark.chain.sender import Sender
from hallmark.minting.custody import ENV
from hallmark.minting.redemptions import Redeemer
from hallmark.models import ChainTx, IndexedToken
from hallmark.security import assertions

from conftest import CI_PORT, free_port

W3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{CI_PORT}"))


def collection(address):
    return W3.eth.contract(address=address, abi=artifacts.load("HallmarkCollection")["abi"])


class Staff:
    """A console user of `role` signed in through POST /api/session (conftest's signed_in): its own test client and
    the CSRF header its writes need."""

    def __init__(self, signed_in, role):
        self.client, self.headers = signed_in(role)

    def get(self, url):
        return self.client.get(url, headers=self.headers)

    def post(self, url, body, key=None):
        return self.client.post(url, json=body, headers={**self.headers, "Idempotency-Key": key or str(time.time_ns())})


def wait(predicate, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := predicate()):
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def indexed(app, address, token_id, redeemed=False):
    with app.extensions["hallmark.db"].session() as s:
        token = s.get(IndexedToken, (address, token_id))
        return token is not None and (not redeemed or token.redeemed_at is not None)


@pytest.fixture
def minted(app, client, staff, make_drop, monkeypatch):
    """A live drop: serials 1 and 2 minted to a funded holder, 3 claimed by custodial customer cust-9, then serial 1
    transferred on chain to another address."""
    monkeypatch.delenv(ENV, raising=False)
    drop = make_drop(name="福虎 Test")
    holder, other = Account.create(), Account.create().address
    devchain.fund(f"http://127.0.0.1:{CI_PORT}", holder.address, 1)
    mints = []
    for _ in range(2):
        reply = client.post(f"/api/drops/{drop['id']}/mint", json={"to": holder.address},
                            headers={**staff, "Idempotency-Key": str(time.time_ns())})
        assert reply.status_code == 200 and reply.get_json()["status"] == "minted", reply.get_json()
        mints.append(reply.get_json())
    code = client.post(f"/api/drops/{drop['id']}/claim-codes", json={"count": 1},
                       headers={**staff, "Idempotency-Key": str(time.time_ns())}).get_json()["codes"][0]
    claim_id = client.post("/api/claims", json={"code": code, "customer_assertion": assertions.sign(
        "cust-9", assertions.key_for(app))}).get_json()["claim_id"]
    claim = wait(lambda: (c := client.get(f"/api/claims/{claim_id}").get_json())["status"] == "minted" and c,
                 "the claim")
    coll = collection(drop["contract_address"])
    tx = coll.functions.transferFrom(holder.address, other, 1).build_transaction({
        "from": holder.address, "nonce": W3.eth.get_transaction_count(holder.address), "gas": 200_000})
    transfer = W3.eth.wait_for_transaction_receipt(
        W3.eth.send_raw_transaction(holder.sign_transaction(tx).raw_transaction))
    assert transfer.status == 1
    def transfer_indexed():
        with app.extensions["hallmark.db"].session() as s:
            token = s.get(IndexedToken, (drop["contract_address"], 1))
            return indexed(app, drop["contract_address"], 3) and token.owner == other

    wait(transfer_indexed, "the index")
    return {"drop": drop, "holder": holder.address, "other": other, "mints": mints, "claim": claim,
            "transfer_tx": Web3.to_hex(transfer.transactionHash), "collection": coll}


def redemption_txs(app):
    with app.extensions["hallmark.db"].session() as s:
        return s.scalar(select(func.count()).select_from(ChainTx).where(ChainTx.purpose.like("redeem:%")))


def test_branch_redeems_once_on_chain_and_the_customer_sees_it(app, client, minted, signed_in):
    drop, coll = minted["drop"], minted["collection"]
    address = drop["contract_address"]
    url = f"https://bank.example/v/{address}/1"
    branch = Staff(signed_in, "branch")

    item = branch.get(f"/api/items/lookup?url={url}").get_json()
    assert item["drop"]["id"] == drop["id"] and item["token_id"] == 1 and item["serial_label"] == "1/20"
    assert item["holder"] == minted["other"] and not item["redeemed"] and item["image_url"].endswith("/1.png")
    assert branch.get(f"/api/items/lookup?contract={address}&token_id=2").get_json()["holder"] == minted["holder"]
    assert branch.get(f"/api/items/lookup?url=/v/{address}/19").status_code == 404  # not minted
    unknown = branch.get(f"/api/items/lookup?url=/v/{Account.create().address}/1")
    assert unknown.status_code == 404 and "not one of the bank's drops" in unknown.get_json()["message"]

    reply = branch.post("/api/redemptions", {"url": url, "note": "北京分行: 贵宾室"}, key="redeem-1")
    done = reply.get_json()
    assert reply.status_code == 200 and done["status"] == "redeemed", done
    assert coll.functions.isRedeemed(1).call() and not coll.functions.isRedeemed(2).call()
    receipt = W3.eth.get_transaction_receipt(done["tx_hash"])
    assert receipt.status == 1 and receipt["from"] == app.extensions["hallmark.services"].loops[0].account.address
    # the same request again answers the first redemption; another one is refused and sends nothing
    assert branch.post("/api/redemptions", {"url": url, "note": "北京分行: 贵宾室"},
                       key="redeem-1").get_json()["id"] == done["id"]
    again = branch.post("/api/redemptions", {"contract": address, "token_id": 1})
    assert again.status_code == 409 and "already redeemed" in again.get_json()["message"], again.get_json()
    assert again.get_json()["errors"]["json"]["token_id"]
    assert redemption_txs(app) == 1

    wait(lambda: indexed(app, address, 1, redeemed=True), "the index to show the redemption")
    verdict = client.get(f"/api/verify/{address}/1").get_json()
    assert verdict["redeemed"] is True and verdict["redeemed_at"]
    assert not client.get(f"/api/verify/{address}/2").get_json()["redeemed"]
    after = branch.get(f"/api/items/lookup?url={url}").get_json()
    assert after["redeemed"] and after["redeemed_tx"] == done["tx_hash"]
    assert after["last_redemption"]["id"] == done["id"]
    # branch_note and its audit entry
    with app.extensions["hallmark.db"].session() as s:
        row = s.get(Redemption, done["id"])
        entry = s.get(AuditEntry, row.audit_id)
        assert row.branch_note == "北京分行: 贵宾室" and row.staff_id is not None
        assert entry.action == "perk.redeem" and entry.actor_kind == "staff" and entry.role == "branch"
        tx = s.scalar(select(ChainTx).where(ChainTx.purpose == f"redeem:{row.id}"))
        assert tx.audit_id == entry.id
    assert branch.get(f"/api/redemptions/{done['id']}").get_json()["status"] == "redeemed"
    listed = branch.get(f"/api/redemptions?drop_id={drop['id']}").get_json()
    assert [r["id"] for r in listed] == [done["id"]]


def test_a_redemption_that_slips_through_fails_with_the_contracts_reason(app, minted, signed_in):
    """A request that got past the checks (here written straight to the table) is still decided by the chain."""
    drop = minted["drop"]
    branch = Staff(signed_in, "branch")
    first = branch.post("/api/redemptions", {"contract": drop["contract_address"], "token_id": 2}).get_json()
    assert first["status"] == "redeemed", first
    db = app.extensions["hallmark.db"]
    with db.session() as s:
        row = Redemption(drop_id=drop["id"], token_id=2)
        s.add(row)
        s.flush()
        second_id = row.id
    settled = wait(lambda: (r := branch.get(f"/api/redemptions/{second_id}").get_json())["status"]
                   not in ("queued", "sending") and r, "the second redemption to settle")
    assert settled["status"] == "failed" and settled["error"] == "AlreadyRedeemed", settled
    assert W3.eth.get_transaction_receipt(settled["tx_hash"]).status == 0


def test_an_orphaned_redemption_is_settled_only_from_a_receipt(app, minted, signed_in):
    """A redemption whose transaction the sender recorded as mined but which was not settled (a crash between the
    two) is settled by the worker's sweep from the node's receipt: a node that does not answer, or answers without
    that receipt (here a fresh chain), decides nothing; the node that mined it settles it."""
    branch = Staff(signed_in, "branch")
    done = branch.post("/api/redemptions", {"contract": minted["drop"]["contract_address"], "token_id": 2}).get_json()
    assert done["status"] == "redeemed", done
    services = app.extensions["hallmark.services"]
    account = services.loops[0].account
    services.stop()  # this test's sweeps are the only ones
    db = app.extensions["hallmark.db"]
    with db.session() as s:
        row = s.get(Redemption, done["id"])
        row.status, row.redeemed_at = "sending", None
    record = deployment.load(app.config["DEPLOYMENT_FILE"])

    def sweep(url):
        w3 = connect(url)
        return Redeemer(db, Sender(w3, account, db), ChainHandles(w3, record)).sync()

    def status():
        with db.session() as s:
            return s.get(Redemption, done["id"]).status

    with pytest.raises(NodeUnavailable):
        sweep(f"http://127.0.0.1:{free_port()}")
    assert status() == "sending"
    fresh = devchain.start(free_port())
    try:
        assert sweep(fresh.url) is False
    finally:
        fresh.stop()
    assert status() == "sending"
    assert sweep(f"http://127.0.0.1:{CI_PORT}") is True
    assert branch.get(f"/api/redemptions/{done['id']}").get_json()["status"] == "redeemed"
    with db.session() as s:
        settled = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "perk.redeem.settled",
                                                          AuditEntry.object_id == str(done["id"]))
                                  .order_by(AuditEntry.id)))
    assert [json.loads(e.after)["status"] for e in settled] == ["redeemed", "redeemed"]


def test_who_may_redeem_and_bad_input(app, minted, signed_in):
    address = minted["drop"]["contract_address"]
    body = {"url": f"/v/{address}/2"}
    for role in ("marketing", "viewer", "approver"):
        user = Staff(signed_in, role)
        assert user.post("/api/redemptions", body).status_code == 403
        assert user.get(f"/api/items/lookup?url=/v/{address}/2").status_code == 403
    assert app.test_client().get(f"/api/items/lookup?url=/v/{address}/2").status_code == 401
    branch = Staff(signed_in, "branch")
    for bad in ("https://bank.example/wallet/abc", f"/v/{address[:-1]}/2", f"/v/{address}/0", ""):
        reply = branch.post("/api/redemptions", {"url": bad})
        assert reply.status_code == 422 and reply.get_json()["errors"]["json"]["url"], (bad, reply.get_json())
    lookup = branch.get("/api/items/lookup?url=nonsense")
    assert lookup.status_code == 422 and lookup.get_json()["errors"]["query"]["url"]
    missing = branch.post("/api/redemptions", {"note": "no item"})
    assert missing.status_code == 422 and missing.get_json()["errors"]["json"]["url"]
    hidden = branch.post("/api/redemptions", {**body, "note": "ok\u202egift"})
    assert hidden.status_code == 422 and hidden.get_json()["errors"]["json"]["note"]
    assert branch.post("/api/redemptions", {"url": f"/v/{address}/19"}).status_code == 404
    assert redemption_txs(app) == 0


def ledger(user, drop_id):
    reply = user.get(f"/api/drops/{drop_id}/ledger.csv")
    assert reply.status_code == 200, reply.get_data(as_text=True)
    raw = reply.get_data()
    assert raw.startswith("\ufeff".encode()) and reply.mimetype == "text/csv"
    assert "ledger-drop-" in reply.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_ledger_csv(app, minted, signed_in):
    drop, holder, other = minted["drop"], minted["holder"], minted["other"]
    branch = Staff(signed_in, "branch")
    done = branch.post("/api/redemptions", {"contract": drop["contract_address"], "token_id": 1}).get_json()
    wait(lambda: indexed(app, drop["contract_address"], 1, redeemed=True), "the index")

    rows = ledger(branch, drop["id"])
    events = [(r["event"], int(r["token_id"])) for r in rows]
    assert events == [("mint", 1), ("mint", 2), ("claim", 3), ("transfer", 1), ("redemption", 1)], events
    mint1, mint2, claim, transfer, redemption = rows
    assert [mint1["tx_hash"], mint2["tx_hash"]] == [m["tx_hash"] for m in minted["mints"]]
    assert mint1["to"] == holder and mint1["from"] == "0x" + "00" * 20
    assert claim["to"] == minted["claim"]["wallet"] and claim["customer_id"] == "cust-9"
    assert claim["tx_hash"] == minted["claim"]["tx_hash"]
    assert transfer["from"] == holder and transfer["to"] == other and transfer["tx_hash"] == minted["transfer_tx"]
    assert redemption["tx_hash"] == done["tx_hash"] and redemption["to"] == other
    for row in rows:
        receipt = W3.eth.get_transaction_receipt(row["tx_hash"])
        assert receipt.blockNumber == int(row["block"]) and row["time"].endswith("Z")
    assert mint1["customer_id"] == "" and transfer["customer_id"] == ""

    viewer_rows = ledger(Staff(signed_in, "viewer"), drop["id"])
    assert "customer_id" not in viewer_rows[0] and len(viewer_rows) == 5
    assert Staff(signed_in, "viewer").get("/api/drops/999999/ledger.csv").status_code == 404
    with app.extensions["hallmark.db"].session() as s:
        exports = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "ledger.export")))
    assert [(e.role, e.object_id) for e in exports] == [("branch", str(drop["id"])), ("viewer", str(drop["id"]))]
