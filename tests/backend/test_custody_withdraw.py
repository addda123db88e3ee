"""Custodial customers see what the bank holds for them and withdraw it to their own wallet, on the real chain:
the bank sends the custodial address just the gas, the custody key signs the transfer, the chain decides."""
import time

import pytest
from eth_account import Account
from sqlalchemy import select
from web3 import Web3

from hallmark.access.models import AuditEntry
from hallmark.chain import artifacts
from hallmark.minting.custody import ENV
from hallmark.models import ChainTx, CustodialWithdrawal, IndexedToken
from hallmark.security import assertions

from conftest import CI_PORT
from test_redemption import wait

W3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{CI_PORT}"))
HEADER = "X-Customer-Assertion"


def as_customer(app, customer_id):
    return {HEADER: assertions.sign(customer_id, assertions.key_for(app))}


def claim_custodial(app, client, staff, drop, customer_id):
    code = client.post(f"/api/drops/{drop['id']}/claim-codes", json={"count": 1},
                       headers={**staff, "Idempotency-Key": str(time.time_ns())}).get_json()["codes"][0]
    reply = client.post("/api/claims", json={"code": code, "customer_assertion": as_customer(app, customer_id)[HEADER]})
    assert reply.status_code == 202, reply.get_json()
    claim_id = reply.get_json()["claim_id"]
    return wait(lambda: (c := client.get(f"/api/claims/{claim_id}").get_json())["status"] == "minted" and c,
                "the claim")


def withdraw(app, client, customer_id, body, key=None):
    return client.post("/api/custody/withdrawals", json=body,
                       headers={**as_customer(app, customer_id), "Idempotency-Key": key or str(time.time_ns())})


def settled(app, client, customer_id, withdrawal_id):
    def done():
        reply = client.get(f"/api/custody/withdrawals/{withdrawal_id}", headers=as_customer(app, customer_id))
        body = reply.get_json()
        return body["status"] in ("done", "failed") and body
    return wait(done, "the withdrawal")


@pytest.fixture
def custodial(app, client, staff, make_drop, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    drop = make_drop(name="福虎 Custody")
    claim = claim_custodial(app, client, staff, drop, "cust-w1")
    return {"drop": drop, "claim": claim}


def test_holdings_and_withdrawal_to_own_wallet(app, client, custodial):
    drop, claim = custodial["drop"], custodial["claim"]
    contract, token_id, custodial_address = drop["contract_address"], claim["token_id"], claim["wallet"]
    listed = client.get("/api/custody/holdings", headers=as_customer(app, "cust-w1"))
    assert listed.status_code == 200, listed.get_json()
    body = listed.get_json()
    assert body["address"] == custodial_address
    [item] = body["items"]
    assert (item["collection"], item["token_id"], item["drop_name"]) == (contract, token_id, "福虎 Custody")
    assert item["transferable"] and item["unlocks_at"] is None and item["withdrawal"] is None
    assert client.get(item["image_url"]).status_code == 200 and item["verify_url"].endswith(f"/v/{contract}/{token_id}")
    assert W3.eth.get_balance(custodial_address) == 0

    mine = Account.create().address
    key = f"w-{time.time_ns()}"
    first = withdraw(app, client, "cust-w1", {"collection": contract, "token_id": token_id, "to": mine}, key)
    assert first.status_code == 202, first.get_json()
    again = withdraw(app, client, "cust-w1", {"collection": contract, "token_id": token_id, "to": mine}, key)
    assert again.status_code == 202 and again.get_json()["id"] == first.get_json()["id"]
    result = settled(app, client, "cust-w1", first.get_json()["id"])
    assert result["status"] == "done", result
    assert result["holder"] == mine and result["from_address"] == custodial_address

    coll = W3.eth.contract(address=contract, abi=artifacts.load("HallmarkCollection")["abi"])
    assert coll.functions.ownerOf(token_id).call() == mine
    transfer = W3.eth.get_transaction(result["tx_hash"])
    receipt = W3.eth.get_transaction_receipt(result["tx_hash"])
    assert transfer["from"] == custodial_address and receipt.status == 1
    with app.extensions["hallmark.db"].session() as s:
        rows = list(s.scalars(select(CustodialWithdrawal)))
        fund = s.get(ChainTx, rows[0].fund_tx_id)
        assert len(rows) == 1 and rows[0].raw_tx and Web3.keccak(rows[0].raw_tx).hex().removeprefix("0x") == \
            result["tx_hash"].removeprefix("0x")
        assert fund.status == "mined" and fund.to_address == custodial_address and fund.signer != custodial_address
        # just enough: the gas limit × max fee the transfer was signed with, and that limit is its gas use
        assert fund.value == transfer["gas"] * transfer["maxFeePerGas"]
        assert receipt.gasUsed <= transfer["gas"] <= receipt.gasUsed * 1.2
        assert W3.eth.get_balance(custodial_address) == fund.value - receipt.gasUsed * receipt.effectiveGasPrice
        entries = {e.action: e for e in s.scalars(select(AuditEntry).where(
            AuditEntry.object_type.in_(("custodial_withdrawal", "chain_tx"))))}
    assert entries["custody.withdraw"].actor_name == "cust-w1" and entries["custody.withdraw"].actor_kind == "customer"
    assert '"status": "done"' in entries["custody.withdraw.settled"].after
    assert {"chain_tx.sent", "chain_tx.mined"} <= set(entries)  # the gas top-up, linked to the request

    def indexed_owner():
        with app.extensions["hallmark.db"].session() as s:
            token = s.get(IndexedToken, (contract, token_id))
            return token is not None and token.owner == mine
    wait(indexed_owner, "the index")
    assert client.get(f"/api/verify/{contract}/{token_id}").get_json()["owner"] == mine
    assert client.get("/api/custody/holdings", headers=as_customer(app, "cust-w1")).get_json()["items"] == []
    # the chain decides: the same item cannot be withdrawn again
    refused = withdraw(app, client, "cust-w1", {"collection": contract, "token_id": token_id, "to": mine})
    assert refused.status_code == 404 and "token_id" in refused.get_json()["errors"]["json"]


def test_refusals(app, client, staff, make_drop, custodial, monkeypatch):
    drop, claim = custodial["drop"], custodial["claim"]
    contract, token_id = drop["contract_address"], claim["token_id"]
    mine = Account.create().address
    body = {"collection": contract, "token_id": token_id, "to": mine}

    other = withdraw(app, client, "cust-someone-else", body)
    assert other.status_code == 404 and "not held for you" in other.get_json()["message"]
    claim_custodial(app, client, staff, drop, "cust-w2")  # holds something, just not this item
    other = withdraw(app, client, "cust-w2", body)
    assert other.status_code == 404 and "token_id" in other.get_json()["errors"]["json"]
    withdrawal_id = withdraw(app, client, "cust-w1", body).get_json()["id"]
    peek = client.get(f"/api/custody/withdrawals/{withdrawal_id}", headers=as_customer(app, "cust-w2"))
    assert peek.status_code == 404

    bad_checksum = mine[:2] + mine[2:].swapcase() if mine[2:] != mine[2:].swapcase() else None
    for bad in ("0x1234", "not an address", bad_checksum, "0x" + "0" * 40):
        if bad is None:
            continue
        reply = withdraw(app, client, "cust-w1", {**body, "to": bad})
        assert reply.status_code == 422 and "to" in reply.get_json()["errors"]["json"], (bad, reply.get_json())
    assert client.get("/api/custody/holdings").status_code == 422
    forged = client.get("/api/custody/holdings", headers={HEADER: assertions.sign("cust-w1", b"x" * 32)})
    assert forged.status_code == 403

    soulbound = make_drop(name="Bound", transfer_policy="soulbound")
    bound = claim_custodial(app, client, staff, soulbound, "cust-w1")
    reply = withdraw(app, client, "cust-w1", {"collection": soulbound["contract_address"],
                                              "token_id": bound["token_id"], "to": mine})
    assert reply.status_code == 409 and "soulbound" in reply.get_json()["message"]
    held = make_drop(name="Held", transfer_policy="holding_period", holding_period_days=1)
    waiting = claim_custodial(app, client, staff, held, "cust-w1")
    reply = withdraw(app, client, "cust-w1", {"collection": held["contract_address"],
                                              "token_id": waiting["token_id"], "to": mine})
    assert reply.status_code == 409 and "holding period until" in reply.get_json()["message"]
    items = {i["drop_name"]: i for i in client.get("/api/custody/holdings",
                                                   headers=as_customer(app, "cust-w1")).get_json()["items"]}
    assert not items["Bound"]["transferable"] and not items["Held"]["transferable"] and items["Held"]["unlocks_at"]


def test_a_transfer_stored_but_never_sent_is_sent_again_with_the_same_bytes(app, client, custodial, monkeypatch):
    """The worker stores the signed transfer, then dies before the node hears of it: the next pass finds no receipt
    and a node that does not know it, and sends the stored bytes (not a new signature, which could move it twice)."""
    contract, token_id, custodial_address = (custodial["drop"]["contract_address"], custodial["claim"]["token_id"],
                                             custodial["claim"]["wallet"])
    worker = next(loop for loop in app.extensions["hallmark.services"].loops if loop.kind == "worker")
    node = worker.withdrawer.node
    real_send, lost = node.send_raw, []

    def lose_the_first_transfer(raw):
        if not lost and Account.recover_transaction(raw) == custodial_address:
            lost.append(Web3.keccak(raw).hex())
            return "sent", None  # as if the process died right after storing it
        return real_send(raw)

    monkeypatch.setattr(node, "send_raw", lose_the_first_transfer)
    mine = Account.create().address
    reply = withdraw(app, client, "cust-w1", {"collection": contract, "token_id": token_id, "to": mine})
    result = settled(app, client, "cust-w1", reply.get_json()["id"])
    assert lost and result["status"] == "done", result
    assert result["tx_hash"].removeprefix("0x") == lost[0].removeprefix("0x")  # the very bytes stored
    assert W3.eth.contract(address=contract, abi=artifacts.load("HallmarkCollection")["abi"]).functions.ownerOf(
        token_id).call() == mine
    with app.extensions["hallmark.db"].session() as s:
        assert s.scalar(select(CustodialWithdrawal)).status == "done"
