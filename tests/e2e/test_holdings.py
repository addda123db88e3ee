"""A custodial customer opens the holdings page from the bank's app, sees the item the bank keeps for them and
withdraws it to their own wallet: the page follows it until the chain has moved the item."""
import time

from eth_account import Account
from playwright.sync_api import expect

from hallmark.chain import artifacts
from hallmark.security import assertions

from conftest import claim_codes, images_loaded, shoot


def test_custodial_customer_sees_and_withdraws(phone, server, stack, client, staff, drop):
    token = assertions.sign("13900139000", assertions.key_for(server.app))
    code = claim_codes(client, staff, drop, 1)[0]
    claim_id = client.post("/api/claims", json={"code": code, "customer_assertion": token}).get_json()["claim_id"]
    deadline = time.monotonic() + 60
    while (claim := client.get(f"/api/claims/{claim_id}").get_json())["status"] != "minted":
        assert time.monotonic() < deadline and claim["status"] in ("queued", "sending"), claim
        time.sleep(0.1)

    phone.goto("/holdings")  # not from the bank's app: it says where to open it
    expect(phone.locator("#holdings-error")).to_contain_text("请在银行 App 中打开")

    phone.goto("about:blank")  # the bank's app opens the page afresh (a fragment change alone loads nothing)
    phone.goto(f"{server.url}/holdings#customer={token}")
    item = phone.locator(f"[data-token='{drop['contract_address']}/{claim['token_id']}']")
    expect(item.locator(".card-title")).to_have_text(drop["name"])
    assert "customer=" not in phone.url  # the assertion left the address bar at once
    images_loaded(phone, "#holdings-list img")
    shoot(phone, "holdings-phone", docs=True)

    item.locator("input[name=to]").fill("0x1234")
    item.get_by_role("button", name="提取到我的钱包").click()
    expect(item.locator("[data-error-for=to]")).to_be_visible()

    mine = Account.create().address
    item.locator("input[name=to]").fill(mine)
    item.get_by_role("button", name="提取到我的钱包").click()
    expect(item.locator(".withdraw-status")).to_contain_text("提取成功", timeout=60_000)
    expect(item.locator(".withdraw-status code")).to_have_text(mine)
    coll = stack.w3.eth.contract(address=drop["contract_address"], abi=artifacts.load("HallmarkCollection")["abi"])
    assert coll.functions.ownerOf(claim["token_id"]).call() == mine
    item.get_by_role("link", name="查看我的藏品").click()
    expect(phone).to_have_url(f"{server.url}/v/{drop['contract_address']}/{claim['token_id']}")
