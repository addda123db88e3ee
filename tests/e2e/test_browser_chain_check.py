"""The verify page's own chain check (frontend/static/js/chaincheck.js): the browser reads the registry, the holder
and the content commitment straight from the chain's JSON-RPC endpoint and compares them with the server's
answer. The server's answer, or what it serves, is made wrong here with Playwright's route interception; the
chain is the real Ganache."""
import json

import pytest
from eth_account import Account
from playwright.sync_api import expect

from conftest import mint, shoot

BOX = "#chaincheck"


@pytest.fixture(scope="module")
def item(client, staff, drop):
    """A genuine item held in a fresh wallet: (collection address, token id, holder)."""
    holder = Account.create().address
    return drop["contract_address"], mint(client, staff, drop, holder), holder


def alter_answer(page, change) -> None:
    """Serve the real verify answer with `change` applied to it: a server that lies."""
    def handle(route):
        answer = route.fetch().json()
        change(answer)
        route.fulfill(status=200, content_type="application/json", body=json.dumps(answer))
    page.route("**/api/verify/**", handle)


def expect_state(page, state: str) -> None:
    expect(page.locator(BOX)).to_have_attribute("data-state", state, timeout=30_000)


def test_genuine_item_matches_the_chain(page, item, server, stack):
    address, token_id, holder = item
    reply = page.goto(f"/v/{address}/{token_id}")
    assert f"connect-src 'self' {stack.chain.url}" in reply.headers["content-security-policy"]
    expect_state(page, "match")
    expect(page.locator(f"{BOX} .chaincheck-title")).to_have_text("由您的浏览器直接对照区块链核验：一致")
    for key in ("official", "holder", "content"):
        expect(page.locator(f'{BOX} li[data-key="chaincheck.ok.{key}"]')).to_be_visible()
    expect(page.locator(f"{BOX} .check--bad")).to_have_count(0)
    expect(page.locator(".verdict-title")).to_have_text("正品")
    shoot(page, "chaincheck-match")


def test_in_english(browser, server, item):
    ctx = browser.new_context(base_url=server.url, locale="en-US")
    ctx.add_cookies([{"name": "lang", "value": "en", "url": server.url}])
    page = ctx.new_page()
    address, token_id, _ = item
    page.goto(f"/v/{address}/{token_id}")
    expect(page.locator(f"{BOX} .chaincheck-title")).to_have_text("Checked by your browser against the chain: matches",
                                                                   timeout=30_000)
    ctx.close()


def test_a_wrong_holder_is_named(page, item):
    address, token_id, holder = item
    impostor = Account.create().address
    alter_answer(page, lambda answer: answer.update(owner=impostor))
    page.goto(f"/v/{address}/{token_id}")
    expect_state(page, "mismatch")
    expect(page.locator(f"{BOX} .chaincheck-title")).to_have_text("警告：区块链与本站的答复不一致")
    wrong = page.locator(f'{BOX} li[data-key="chaincheck.diff.holder"]')
    expect(wrong).to_contain_text(holder)
    expect(wrong).to_contain_text(impostor)
    # only what disagrees is named as such
    expect(page.locator(f"{BOX} .check--bad")).to_have_count(1)
    expect(page.locator(f'{BOX} li[data-key="chaincheck.ok.content"]')).to_be_visible()
    shoot(page, "chaincheck-mismatch-holder")


def test_a_lookalike_called_official_is_caught(page, lookalike):
    alter_answer(page, lambda answer: answer["collection"].update(official=True))
    page.goto(f"/v/{lookalike}/1")
    expect_state(page, "mismatch")
    expect(page.locator(f'{BOX} li[data-key="chaincheck.diff.official_no"]')).to_have_text(
        "官方登记不一致：链上登记合约并未列其为官方藏品，本站却说是")


def test_an_altered_card_image_is_caught(page, item):
    address, token_id, _ = item

    def altered(route):
        png = route.fetch().body()
        route.fulfill(status=200, content_type="image/png", body=png + b"\0")  # still shows; not the committed file
    page.route(f"**/art/{address}/{token_id}.png", altered)
    page.goto(f"/v/{address}/{token_id}")
    expect_state(page, "mismatch")
    expect(page.locator(f'{BOX} li[data-key="chaincheck.diff.content_bad"]')).to_be_visible()
    expect(page.locator(f'{BOX} li[data-key="chaincheck.ok.holder"]')).to_be_visible()


def test_an_unreachable_endpoint_decides_nothing(page, item, stack):
    address, token_id, _ = item
    page.route(lambda url: url.startswith(stack.chain.url), lambda route: route.abort())
    page.goto(f"/v/{address}/{token_id}")
    expect_state(page, "unavailable")
    expect(page.locator(f"{BOX} .chaincheck-title")).to_have_text("您的浏览器未能直接核验区块链")
    expect(page.locator(f"{BOX} .chaincheck-sub")).to_contain_text("这并不说明藏品有问题")
    expect(page.locator(".verdict-title")).to_have_text("正品")  # the server's verdict stands as it was


def test_an_unminted_serial_agrees_that_nobody_holds_it(page, client, drop):
    # ownerOf reverts for a serial never minted: that is "no holder", not a failed check
    address = drop["contract_address"]
    serial = next(n for n in range(drop["edition_size"], 0, -1)
                  if "minted" not in client.get(f"/api/verify/{address}/{n}").get_json())
    page.goto(f"/v/{address}/{serial}")
    expect_state(page, "match")
    expect(page.locator(f'{BOX} li[data-key="chaincheck.ok.holder"]')).to_be_visible()
