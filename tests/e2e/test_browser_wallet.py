"""A browser wallet (an injected EIP-1193 provider that signs in Python) to connect, claim, show a wallet's
gallery and prove ownership at a branch."""
import pytest
from eth_account import Account
from playwright.sync_api import expect

from conftest import claim_codes, inject_wallet, mint, open_page, shoot


@pytest.fixture
def holder():
    return Account.create()


def short(address):
    return f"{address[:6]}…{address[-4:]}"


def test_claim_to_a_connected_wallet(page, holder, client, staff, drop):
    code = claim_codes(client, staff, drop, 1)[0]
    inject_wallet(page, holder)
    page.goto(f"/claim?code={code}")
    page.click("text=发送到我的钱包")
    page.click("#connect")
    expect(page.locator("#wallet")).to_have_value(holder.address)
    page.click("#claim-form button[type=submit]")
    expect(page.locator("#claim-result")).to_contain_text("藏品已发送到您的钱包", timeout=30_000)
    page.wait_for_url("**/v/**")
    expect(page.locator(".verdict-title")).to_have_text("正品")
    expect(page.locator("#owner .hex")).to_have_text(short(holder.address))


def test_wallet_gallery_of_a_connected_wallet(page, holder, client, staff, drop):
    mint(client, staff, drop, holder.address)
    inject_wallet(page, holder)
    page.goto("/wallet")
    page.click("#connect")
    expect(page.locator("#gallery .card")).to_have_count(1)
    expect(page.locator("#address")).to_have_value(holder.address)
    assert f"address={holder.address}" in page.url


def test_prove_ownership_and_refusal(page, browser, server, holder, client, staff, drop):
    token_id = mint(client, staff, drop, holder.address)
    inject_wallet(page, holder)
    page.goto(f"/v/{drop['contract_address']}/{token_id}")
    page.click("#prove-link")
    page.wait_for_url("**/prove?**")
    expect(page.locator("#prove-serial")).to_have_text(f"No. {token_id:04d} / 20")
    page.click("#prove-button")
    expect(page.locator(".proof-title")).to_have_text("持有人已验证")
    expect(page.locator("#proof .hex")).to_have_text(short(holder.address))
    shoot(page, "prove-verified")

    stranger = browser.new_context(base_url=server.url, locale="zh-CN")
    other = open_page(stranger)
    inject_wallet(other, Account.create())
    other.goto(f"/prove?collection={drop['contract_address']}&token={token_id}")
    other.click("#prove-button")
    expect(other.locator(".proof-title")).to_have_text("未能证明")
    expect(other.locator(".proof-reason")).to_have_text("签名的钱包现在并不持有这件藏品。")
    shoot(other, "prove-refused")
    stranger.close()
    assert not other.errors, other.errors


def test_without_a_wallet_the_pages_say_what_to_do(page, drop):
    page.goto(f"/prove?collection={drop['contract_address']}&token=1")
    expect(page.locator("#no-wallet")).to_be_visible()
    expect(page.locator("#prove-button")).to_be_disabled()
    page.goto("/claim")
    page.click("text=发送到我的钱包")
    expect(page.locator("#connect")).to_be_hidden()
