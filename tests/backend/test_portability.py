"""The same backend, unchanged, on a second EVM node (Anvil): drop creation, airdrop, claims, indexing, verify."""
import shutil
import time

import pytest
from eth_account import Account

from hallmark.access.keys import create_api_key
from hallmark.access.permissions import KEY_SCOPES
from hallmark.config import ROOT
from hallmark.testing import LocalStack

# npm ships Anvil's binary only for the platforms it builds (package.json installs the Linux x64 one)
HAS_ANVIL = (ROOT / "node_modules" / ".bin" / "anvil").exists() or shutil.which("anvil")


@pytest.mark.skipif(not HAS_ANVIL, reason="no Anvil binary for this platform in node_modules")
def test_whole_flow_on_anvil(tmp_path):
    with LocalStack(tmp_path, node="anvil") as stack:
        app = stack.app(MINT_BATCH_SIZE=20, CLAIM_WINDOW_SECONDS=0.3)
        try:
            client = app.test_client()
            staff = {"Authorization": "Bearer " + create_api_key(app.extensions["hallmark.db"], "t", scopes=KEY_SCOPES)}
            deadline = time.monotonic() + 20  # the worker and the indexer report in within a second or two
            while not client.get("/api/health").get_json()["ok"]:
                assert time.monotonic() < deadline, client.get("/api/health").get_json()
                time.sleep(0.2)
            drop = stack.create_drop(client, staff, edition=40, transfer_policy="holding_period",
                                     holding_period_days=1)
            recipients = [Account.create().address for _ in range(30)]
            job = stack.airdrop(client, staff, drop, recipients)
            assert len(job["transactions"]) == 2 and job["failed"] == 0
            code = client.post(f"/api/drops/{drop['id']}/claim-codes", json={"count": 1},
                               headers={**staff, "Idempotency-Key": "c"}).get_json()["codes"][0]
            claimant = Account.create().address
            claim = client.post("/api/claims", json={"code": code, "wallet": claimant}).get_json()
            deadline = time.monotonic() + 10
            while (status := client.get(f"/api/claims/{claim['claim_id']}").get_json())["status"] != "minted":
                assert time.monotonic() < deadline, status
                time.sleep(0.05)
            stack.wait_indexed(app, 31)
            answer = client.get(f"/api/verify/{drop['contract_address']}/31").get_json()
            assert answer["verdict"] == "genuine" and answer["owner"] == claimant
            assert answer["policy"]["name"] == "holding_period" and answer["policy"]["locked"]
            assert client.get(f"/api/wallets/{recipients[0]}").get_json()["total"] == 1
        finally:
            app.extensions["hallmark.services"].stop()
