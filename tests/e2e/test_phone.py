"""The customers' pages on a phone-sized screen: nothing overflows sideways, and the verdict is the first thing
seen, without scrolling."""
from eth_account import Account
from playwright.sync_api import expect

from conftest import PHONE, images_loaded, mint, shoot

NO_OVERFLOW = "document.scrollingElement.scrollWidth <= innerWidth"


def test_verify_page_on_a_phone(phone, page, client, staff, drop):
    token_id = mint(client, staff, drop, Account.create().address)
    phone.goto(f"/v/{drop['contract_address']}/{token_id}")
    verdict = phone.locator("#verdict")
    expect(verdict.locator(".verdict-title")).to_have_text("正品")
    expect(phone.locator("#art")).to_be_visible()
    images_loaded(phone, "#art")
    assert phone.evaluate(NO_OVERFLOW)
    box = verdict.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box
    shoot(phone, "verify-authentic-phone", docs=True)

    page.goto(f"/v/{drop['contract_address']}/{token_id}")
    expect(page.locator(".verdict-title")).to_have_text("正品")
    images_loaded(page, "#art")
    shoot(page, "verify-authentic-desktop")


def test_no_page_overflows_on_a_phone(phone, drop):
    holder = Account.create().address
    for path in ("/verify", "/claim?code=ABCD-EFGH-JKLM", f"/wallet?address={holder}",
                 f"/prove?collection={drop['contract_address']}&token=1", "/console"):
        phone.goto(path)
        phone.wait_for_load_state("networkidle")
        assert phone.evaluate(NO_OVERFLOW), path
        phone.click("[data-lang-switch]")  # English is longer: check it too
        expect(phone.locator("html")).to_have_attribute("lang", "en")
        assert phone.evaluate(NO_OVERFLOW), f"{path} in English"
        phone.click("[data-lang-switch]")
        expect(phone.locator("html")).to_have_attribute("lang", "zh-CN")
