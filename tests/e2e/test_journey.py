"""The whole journey in a browser: staff sign in, create a drop with a preview, airdrop a CSV (its bad row shown
before sending), generate claim codes; a customer claims on a phone and lands on an authentic verify page; the
wallet gallery; a lookalike contract's item shown as imitating the drop; the language switch."""
import csv
import time

from eth_account import Account
from playwright.sync_api import expect

from hallmark.security import assertions

from conftest import console_sign_in, images_loaded, mint, shoot


def sign_in(page, user):
    page.goto("/console")
    expect(page.locator("#signin-title")).to_have_text("员工登录")
    page.fill("#username", user.username)
    page.fill("#password", "not the password")
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#signin-form .form-error")).to_contain_text("wrong username or password")
    console_sign_in(page, user)
    expect(page.locator("a[href='#/audit']")).to_be_hidden()  # marketing may not read the audit trail


def create_drop(page, slug):
    page.click("text=＋ 新建系列")
    page.fill("#name", "Fuhu 2022")
    page.fill("#issuer_name", "WeBank Demo")
    page.fill("#slug", slug)
    page.fill("#edition_size", "20")
    expect(page.locator("#preview-grid img")).to_have_count(4)
    expect(page.locator("#preview-grid figcaption").last).to_have_text("No. 0020 / 20")
    shoot(page, "console-create-preview")
    page.click("#create-form button[type=submit]")  # the symbol is missing: the API's rule is not even needed
    expect(page.locator("#symbol-error")).to_have_text("请填写此项。")
    page.fill("#symbol", "fuhu")
    page.click("#create-form button[type=submit]")
    expect(page.locator("#symbol-error")).to_contain_text("upper-case letters")  # the API's message, by the field
    page.fill("#symbol", "FUHU")
    page.click("#create-form button[type=submit]")
    expect(page.locator("#build")).to_be_visible()
    page.wait_for_url("**/console#/drops/*", timeout=60_000)
    expect(page.locator("#drop-title")).to_have_text("Fuhu 2022")
    expect(page.locator("#drop-status")).to_have_text("发行中")


def airdrop(page, tmp_path, holder):
    rows = ["address", holder, holder, "not-an-address", Account.create().address, Account.create().address]
    path = tmp_path / "recipients.csv"
    path.write_text("\n".join(rows) + "\n")
    page.set_input_files("#airdrop-file", path)
    check = page.locator("#airdrop-check")
    expect(check).to_contain_text("4 个有效地址；以下 1 行有误，不会发送")
    expect(check.locator("tbody tr")).to_have_text(["4not-an-address不是有效的钱包地址"])
    expect(page.locator("#airdrop-send")).to_have_text("发送给 4 个地址")
    page.click("#airdrop-send")
    expect(page.locator("#job-status")).to_contain_text("完成：已铸造 4，失败 1", timeout=30_000)
    expect(page.locator("#job-label")).to_contain_text("5 / 5（100%）")
    progress = page.locator("#job-progress")
    assert progress.evaluate("p => p.value === p.max && p.max === 5")
    expect(page.locator("#job-failures tbody tr")).to_have_count(1)
    shoot(page, "console-airdrop", docs=True, element=".tools")


def generate_codes(page, server):
    page.fill("#codes-count", "3")
    with page.expect_download() as download:
        page.click("#codes-form button[type=submit]")
    rows = list(csv.DictReader(open(download.value.path(), encoding="utf-8")))
    # the code rides in the fragment: browsers never send it to the server, so no access log holds it
    assert len(rows) == 3 and all(r["claim_url"] == f"{server.url}/claim#code={r['code']}" for r in rows)
    expect(page.locator("#codes-result .codes li")).to_have_count(3)
    return rows


def claim_on_phone(phone, server, claim_url):
    code = claim_url.rsplit("=", 1)[1]
    phone.goto(claim_url.replace("#code=", "?code="))  # as printed before: still read, and taken out of the URL
    expect(phone.locator("#code")).to_have_value(code)
    assert phone.url.endswith("/claim")
    phone.goto("about:blank")  # (from /claim, the fragment link would only scroll: load it afresh)
    phone.goto(claim_url)
    expect(phone.locator("#code")).to_have_value(code)
    assert code not in phone.url  # out of the address bar (and history) at once
    # opened without the bank's app: the bank cannot keep it for a customer nobody vouched for
    expect(phone.locator("input[value=custodial]")).to_be_disabled()
    expect(phone.locator("#custodial-status")).to_contain_text("请在银行 App 中打开")

    # the bank's app opens the link with its signed customer assertion; an expired one is refused
    key = assertions.key_for(server.app)
    expired = assertions.sign("13800138000", key, lifetime=60, now=time.time() - 120)
    phone.goto("about:blank")
    phone.goto(f"{claim_url}&customer={expired}")
    expect(phone.locator("input[value=custodial]")).to_be_checked()
    phone.click("#claim-form button[type=submit]")
    expect(phone.locator(".form-error")).to_contain_text("expired")
    phone.goto("about:blank")
    phone.goto(f"{claim_url}&customer={assertions.sign('13800138000', key)}")
    expect(phone.locator("#custodial-status")).to_contain_text("银行 App 已确认您的身份")
    assert "customer=" not in phone.url
    phone.click("#claim-form button[type=submit]")
    expect(phone.locator("#progress")).to_be_visible()
    shoot(phone, "claim-progress")
    expect(phone.locator("#claim-result")).to_contain_text("领取成功", timeout=30_000)
    shoot(phone, "claim-done")
    # a custodial customer stays on the page, which offers the item and their holdings at the bank
    holdings = phone.locator("#claim-result a[href^='/holdings#customer=']")
    expect(holdings).to_be_visible()
    phone.click("#claim-result a[href^='/v/']")
    phone.wait_for_url("**/v/**")
    expect(phone.locator(".verdict-title")).to_have_text("正品")
    expect(phone.locator(".verdict-sub")).to_have_text("由 WeBank Demo 发行的官方数字藏品")
    expect(phone.locator("#serial")).to_have_text("No. 0005 / 20")


def test_staff_launch_and_customer_journey(browser, server, page, phone, tmp_path, lookalike, staff_user):
    writes = []
    page.on("request", lambda r: r.method == "POST" and "/api/drops" in r.url and "/preview" not in r.url
            and writes.append(r.headers.get("idempotency-key")))
    holder = Account.create().address
    sign_in(page, staff_user("marketing"))
    create_drop(page, f"fuhu-{time.time_ns()}")
    airdrop(page, tmp_path, holder)
    codes = generate_codes(page, server)
    # every staff write carried its own key: a rejected create and its corrected retry, the dry run, the send
    assert writes and all(writes) and len(set(writes)) == len(writes), writes

    claim_on_phone(phone, server, codes[0]["claim_url"])

    expect(page.locator("#stat-minted")).to_have_text("5 / 20", timeout=10_000)
    expect(page.locator("#stat-claims")).to_have_text("1")
    expect(page.locator("#activity-summary")).to_contain_text("空投 4，领取 1")
    page.locator("#drop-title").scroll_into_view_if_needed()
    shoot(page, "console-dashboard", docs=True)
    page.click("#pause-toggle")
    expect(page.locator("#drop-status")).to_have_text("已暂停")
    expect(page.locator("#drop-list [aria-current=page]")).to_contain_text("已暂停")
    page.click("#pause-toggle")
    expect(page.locator("#drop-status")).to_have_text("发行中")

    # the wallet gallery, each card opening its verify page
    page.goto("/wallet")
    page.fill("#address", holder.lower())
    page.click("#wallet-form button[type=submit]")
    expect(page.locator("#holdings-title")).to_have_text("共 2 件藏品")
    expect(page.locator("#gallery .card")).to_have_count(2)
    images_loaded(page, "#gallery img")
    shoot(page, "wallet-gallery", docs=True)

    # the language switch: English, kept across pages, and back
    page.click("[data-lang-switch]")
    expect(page.locator("h1")).to_have_text("My collectibles")
    expect(page.locator("#holdings-title")).to_have_text("2 collectibles")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.locator("#gallery .card a").first.click()
    expect(page.locator(".verdict-title")).to_have_text("Authentic")
    expect(page.locator("#owner .hex")).to_have_text(f"{holder[:6]}…{holder[-4:]}")
    expect(page.locator("#policy")).to_have_text("Can be given away freely")

    # a lookalike contract: named as imitating the drop, and why, in plain words
    page.goto(f"/v/{lookalike}/1")
    expect(page.locator(".verdict-title")).to_have_text("Imitation of “Fuhu 2022”")
    reasons = page.locator(".verdict-reasons")
    expect(reasons).to_contain_text("This contract is NOT in the bank's registry of official collections")
    expect(reasons).to_contain_text("It imitates the name of the official collection “Fuhu 2022”: a lookalike")
    page.click("[data-lang-switch]")
    expect(page.locator(".verdict-title")).to_have_text("仿冒「Fuhu 2022」")
    expect(reasons).to_contain_text("它模仿了官方系列「Fuhu 2022」的名称，不是官方藏品")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    shoot(page, "verify-counterfeit", docs=True)


def test_customer_finds_an_item_by_link_drop_and_picture(page, client, staff, drop, tmp_path):
    token_id = mint(client, staff, drop, Account.create().address)
    page.goto("/verify")
    page.fill("#code", "hello")
    page.click("#by-contract button[type=submit]")
    expect(page.locator("#code-error")).to_have_text("这不是藏品链接或合约地址。")
    # a link on another host naming an official item is a phishing warning, not a jump to the item
    page.fill("#code", f"https://anywhere.example/v/{drop['contract_address']}/{token_id}")
    page.click("#by-contract button[type=submit]")
    expect(page.locator("#code-result")).to_contain_text("anywhere.example")
    page.fill("#code", f"{page.url.split('/verify')[0]}/v/{drop['contract_address']}/{token_id}")
    page.click("#by-contract button[type=submit]")
    page.wait_for_url(f"**/v/{drop['contract_address']}/{token_id}")
    expect(page.locator(".verdict-title")).to_have_text("正品")

    page.goto("/verify")
    page.fill("#slug", "no-such-drop")
    page.fill("#serial", "1")
    page.click("#by-drop button[type=submit]")
    expect(page.locator("#slug-error")).to_have_text("Unknown drop.")
    page.fill("#slug", drop["slug"])
    page.click("#by-drop button[type=submit]")
    page.wait_for_url(f"**/v/{drop['contract_address']}/1")

    page.goto("/verify")
    card = tmp_path / "card.png"
    card.write_bytes(client.get(f"/art/{drop['contract_address']}/{token_id}.png").data)
    page.set_input_files("#file", card)
    page.click("#by-image button[type=submit]")
    expect(page.locator("#image-result")).to_contain_text(
        f"这正是 Fuhu 2022 No. {token_id:04d} / 20 的原始图片文件")
    page.click("#image-result a")
    page.wait_for_url(f"**/v/{drop['contract_address']}/{token_id}")


def test_bad_item_link_is_explained(page):
    assert page.goto("/v/0x1234/5").status == 404
    expect(page.locator(".alert")).to_contain_text("这个链接不是有效的藏品链接")


def test_transfer_policies_are_explained(page, stack, client, staff):
    holder = Account.create().address
    held = stack.create_drop(client, staff, 5, name="Held", transfer_policy="holding_period", holding_period_days=30)
    bound = stack.create_drop(client, staff, 5, name="Bound", transfer_policy="soulbound")
    page.goto(f"/v/{held['contract_address']}/{mint(client, staff, held, holder)}")
    expect(page.locator("#policy")).to_contain_text("持有期内不可转赠，可转赠时间：")
    unlocks = page.locator("#policy time").get_attribute("datetime")
    assert unlocks and unlocks > time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 29 * 86400))
    page.goto(f"/v/{bound['contract_address']}/{mint(client, staff, bound, holder)}")
    expect(page.locator("#policy")).to_have_text("不可转赠（与持有人绑定）")
    page.goto(f"/wallet?address={holder}")
    expect(page.locator("#gallery .badge")).to_have_text(["暂不可转赠", "暂不可转赠"])
