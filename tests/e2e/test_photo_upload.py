"""A customer uploads a phone screenshot of their card on the search page: the card's QR code names the item and the
picture is compared with the genuine card, in Chinese first. The card is the app's own current render."""
import sys
from pathlib import Path

from eth_account import Account
from playwright.sync_api import expect

from conftest import mint

sys.path.insert(0, str(Path(__file__).parents[1] / "backend"))
from phoneshots import phone_screenshot, tampered  # noqa: E402 (the backend test's screenshot maker)


def test_phone_screenshot_upload_is_recognised(page, client, staff, drop, tmp_path):
    token_id = mint(client, staff, drop, Account.create().address)
    card = client.get(f"/art/{drop['contract_address']}/{token_id}.png").data
    label = f"No. {token_id:04d} / {drop['edition_size']}"
    page.goto("/verify")
    shot = tmp_path / "Screenshot_20240210.jpg"
    shot.write_bytes(phone_screenshot(card))
    page.set_input_files("#file", shot)
    page.click("#by-image button[type=submit]")
    result = page.locator("#image-result [data-match=qr]")
    expect(result).to_have_attribute("data-picture", "matches")
    expect(result).to_contain_text(f"通过卡面二维码识别为 {drop['name']} {label}，图片与正品卡面一致")

    edited = tmp_path / "edited.jpg"
    edited.write_bytes(phone_screenshot(tampered(card)))
    page.set_input_files("#file", edited)
    page.click("#by-image button[type=submit]")
    expect(page.locator("#image-result [data-match=qr]")).to_have_attribute("data-picture", "differs")
    expect(page.locator("#image-result")).to_contain_text("图片与正品卡面不一致")
    page.click("#image-result a")
    page.wait_for_url(f"**/v/{drop['contract_address']}/{token_id}")
