"""`hallmark demo seed`, run as `make run` runs it (a subprocess) against the session chain: every verify link it
lists answers the verdict it promises, a second run mints nothing, and the unused claim codes stay in their 0600
file, out of every log."""
import os
import re
import stat
import time

from sqlalchemy import func, select
from web3 import Web3

from hallmark.chain import artifacts
from hallmark.models import IndexCursor

from conftest import CI_NETWORK, CI_PORT, run

W3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{CI_PORT}"))
LINK = re.compile(r"^(\w+)\s+\S+/v/(0x[0-9a-fA-F]{40})/(\d+)$", re.M)
SPEC = """slug: {slug}
name: 福虎迎春
symbol: FUHU
issuer_name: 示例银行
language: zh
edition_size: 20
transfer_policy: transferable
artwork: fuhu
"""


def total_minted(address: str) -> int:
    abi = artifacts.load("HallmarkCollection")["abi"]
    return W3.eth.contract(address=address, abi=abi).functions.totalMinted().call()


def verdict(client, db, address: str, serial: str, expected: str, timeout: float = 60) -> dict:
    """The API's answer once the app's indexer has caught up with the seed's transactions (before, a mint it has not
    read is answered from its receipt: genuine, but without the redemption and the transfers that followed)."""
    head, deadline = W3.eth.block_number, time.monotonic() + timeout
    while True:
        with db.session() as s:
            caught_up = (s.scalar(select(func.min(IndexCursor.last_block))) or -1) >= head
        answer = client.get(f"/api/verify/{address}/{serial}").get_json()
        if caught_up and answer.get("verdict") == expected or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)


def test_demo_seed_shows_every_verdict_once(stack, deployed_data, app_for, tmp_path):
    data = deployed_data
    env = {"HALLMARK_DATA_DIR": str(data), "HALLMARK_RPC_URL": f"http://127.0.0.1:{CI_PORT}",
           "HALLMARK_NETWORK": CI_NETWORK, "HALLMARK_ISSUER_KEY": stack["issuer_key"]}
    slug = f"fuhu-seed-{time.time_ns()}"
    (tmp_path / "drop.yaml").write_text(SPEC.format(slug=slug), encoding="utf-8")
    run(["hallmark", "drop", "create", "--spec", str(tmp_path / "drop.yaml")], env)

    started = time.monotonic()
    first = run(["hallmark", "demo", "seed", "--drop", slug, "--out", str(tmp_path / "demo.txt")], env)
    took = time.monotonic() - started
    assert took < 120, f"the seed took {took:.0f} s"
    table = (tmp_path / "demo.txt").read_text(encoding="utf-8")
    print(f"the seed took {took:.1f} s\n{table}")
    assert table in first.stdout
    links = LINK.findall(table)
    assert {code for code, _, _ in links} == {"genuine", "burned", "not_issued", "lookalike", "no_contract"}
    assert len(links) == 8
    assert re.search(r"/wallet\?address=0x[0-9a-fA-F]{40}$", table, re.M)
    assert re.search(r"/holdings#customer=\S+$", table, re.M)

    contracts = {address for code, address, _ in links if code in ("genuine", "burned", "not_issued")}
    minted = {address: total_minted(address) for address in contracts}
    assert sum(minted.values()) == 6  # 5 of the demo drop (two wallets, custody), 1 of the holding-period drop

    # a second run finds the seed done: the same links, nothing minted again
    second = run(["hallmark", "demo", "seed", "--drop", slug, "--out", str(tmp_path / "again.txt")], env)
    assert "seeding" not in second.stdout
    assert LINK.findall((tmp_path / "again.txt").read_text(encoding="utf-8")) == links
    assert {address: total_minted(address) for address in contracts} == minted

    codes_file = data / "keys" / "demo-claim-codes.txt"
    assert stat.S_IMODE(os.stat(codes_file).st_mode) == 0o600
    codes = [line.split()[0] for line in codes_file.read_text().splitlines()]
    assert len(codes) == 5 and all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", c) for c in codes)
    logs = "".join(p.read_text(errors="replace") for p in data.glob("*.log")) + first.stdout + first.stderr
    assert not any(code in logs for code in codes)

    app = app_for(data, CI_PORT)
    try:
        client = app.test_client()
        answers = {}
        for code, address, serial in links:
            answer = verdict(client, app.extensions["hallmark.db"], address, serial, code)
            assert answer["verdict"] == code, (code, address, serial, answer)
            answers.setdefault(code, []).append(answer)
        genuine = answers["genuine"]
        assert any(a.get("redeemed_at") or a.get("redeemed") for a in genuine), genuine
        assert any(a.get("policy", {}).get("locked") for a in genuine), genuine
        # other official drops on the test chain may share the name: the one named is one of that name
        assert answers["lookalike"][0]["imitates"]["name"] == "福虎迎春"
        # the custodial customer's link shows the item held for them
        token = re.search(r"/holdings#customer=(\S+)$", table, re.M).group(1)
        held = client.get("/api/custody/holdings", headers={"X-Customer-Assertion": token}).get_json()
        custodial = [int(serial) for _, address, serial in links[1:2]]
        assert [item["token_id"] for item in held["items"]] == custodial, held
        # the unused codes are claimable: a claim page opened with one would work
        assert client.post("/api/claims", json={"code": codes[0], "wallet": "0x" + "ab" * 20}).status_code in (200, 202)
    finally:
        app.extensions["hallmark.services"].stop()
