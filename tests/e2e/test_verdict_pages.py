"""The verify page says each verdict so a customer can tell them apart: a serial not issued yet has no card and no
genuine frame and never says burned; a burned item is grey and says 已销毁, not counterfeit; both in English too."""
from eth_account import Account
from playwright.sync_api import expect
from web3 import Web3

from hallmark import devchain
from hallmark.chain import artifacts

from conftest import mint, wait_for


def burn(chain_url: str, holder, address: str, token_id: int) -> None:
    w3 = Web3(Web3.HTTPProvider(chain_url))
    token = w3.eth.contract(address=address, abi=artifacts.load("HallmarkCollection")["abi"])
    tx = token.functions.burn(token_id).build_transaction(
        {"from": holder.address, "nonce": w3.eth.get_transaction_count(holder.address)})
    assert w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(holder.sign_transaction(tx).raw_transaction)).status == 1


def test_not_issued_and_burned_pages(page, stack, client, staff):
    drop = stack.create_drop(client, staff, 5, name="Verdict Pages", issuer_name="示例银行")
    address = drop["contract_address"]

    page.goto(f"/v/{address}/5")
    banner = page.locator("#verdict")
    expect(banner).to_have_attribute("data-verdict", "not_issued")
    expect(page.locator(".verdict-title")).to_have_text("尚未发行")
    expect(banner).not_to_have_class("verdict verdict--ok")
    expect(page.locator(".item-art")).to_be_hidden()  # no card, so no genuine frame
    expect(page.locator("#owner")).to_have_text("—")
    assert "销毁" not in page.locator("main").inner_text()
    page.click("[data-lang-switch]")
    expect(page.locator(".verdict-title")).to_have_text("Not issued yet")
    page.click("[data-lang-switch]")

    holder = Account.create()
    devchain.fund(stack.chain.url, holder.address, 1)
    token_id = mint(client, staff, drop, holder.address)
    burn(stack.chain.url, holder, address, token_id)
    wait_for(lambda: client.get(f"/api/verify/{address}/{token_id}").get_json()["verdict"] == "burned")
    page.goto(f"/v/{address}/{token_id}")
    expect(banner).to_have_attribute("data-verdict", "burned")
    expect(page.locator(".verdict-title")).to_have_text("已销毁")
    expect(banner).to_have_class("verdict verdict--gone")
    expect(page.locator("#item")).to_have_attribute("data-verdict", "burned")  # the grey frame, not the green one
    expect(page.locator("#owner")).to_have_text("无（已销毁）")
    assert "仿冒" not in page.locator("main").inner_text()
    page.click("[data-lang-switch]")
    expect(page.locator(".verdict-title")).to_have_text("Burned")
