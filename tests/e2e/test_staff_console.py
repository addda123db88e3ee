"""The console's Account, Staff and Keys views: an admin enrols an authenticator, makes a marketing account (its
one-time password) and an API key that stops working once revoked; the marketing user sees no admin links, is
refused the staff API, and changes the password so the old one no longer signs in."""
from types import SimpleNamespace

import pyotp
from playwright.sync_api import expect

from conftest import console_sign_in


def sign_out(page) -> None:
    page.click("#signout")
    expect(page.locator("#signin")).to_be_visible()


def test_admin_makes_staff_and_keys_and_staff_change_password(page, client, staff_user):
    admin = staff_user("admin")
    console_sign_in(page, admin)

    # an admin's admin routes wait for a second factor: enrol one from the Account view
    page.click(".sidebar a[href='#/account']")
    page.click("#totp-start")
    expect(page.locator("#totp-qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#totp-code", pyotp.TOTP(secret).now())
    page.click("#totp-form button[type=submit]")
    expect(page.locator("#totp-state")).to_contain_text("已启用")
    expect(page.locator("#totp-form")).to_be_hidden()

    page.click(".sidebar a[href='#/staff']")
    page.fill("#staff-username", "e2e-newcomer")
    page.fill("#staff-display_name", "新同事")
    page.select_option("#staff-role", "marketing")
    page.click("#staff-form button[type=submit]")
    password = page.locator("#staff-password code.hex").get_attribute("title")
    assert password and page.locator("#staff-password .copy").is_visible()
    expect(page.locator("#staff-e2e-newcomer")).to_contain_text("新同事")

    page.click(".sidebar a[href='#/keys']")
    page.fill("#key-name", "Partner CRM")
    page.check("#key-form input[value='drops.read']")
    page.fill("#key-expires_days", "30")
    page.click("#key-form button[type=submit]")
    key = page.locator("#key-shown code.hex").get_attribute("title")
    bearer = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/drops", headers=bearer).status_code == 200
    row = page.locator("#key-rows tr", has_text="Partner CRM")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="吊销").click()
    expect(row.get_by_role("button")).to_have_count(0)
    assert client.get("/api/drops", headers=bearer).status_code == 401
    sign_out(page)

    newcomer = SimpleNamespace(username="e2e-newcomer", password=password)
    console_sign_in(page, newcomer)
    for hidden in ("#/staff", "#/keys"):
        expect(page.locator(f".sidebar a[href='{hidden}']")).to_be_hidden()
    assert page.request.get("/api/staff").status == 403

    page.click(".sidebar a[href='#/account']")
    page.fill("#account-current_password", password)
    page.fill("#account-new_password", "short")
    page.fill("#account-confirm_password", "short")
    page.click("#password-form button[type=submit]")
    expect(page.locator("#account-new_password-error")).to_be_visible()  # the API's rule, next to its field
    new_password = "a much longer passphrase 42"
    page.fill("#account-new_password", new_password)
    page.fill("#account-confirm_password", new_password)
    page.click("#password-form button[type=submit]")
    expect(page.locator("#password-done")).to_be_visible()
    sign_out(page)

    page.fill("#username", newcomer.username)
    page.fill("#password", password)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#signin-form .form-error")).to_be_visible()
    page.fill("#password", new_password)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#app")).to_be_visible()
