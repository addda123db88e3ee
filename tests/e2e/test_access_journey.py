"""Staff roles and maker-checker in one browser, with approvals on (strict): a marketing user prepares a drop and an
airdrop, which only say 'sent for approval'; an approver approves the drop (it goes live on chain) and rejects the
airdrop with a reason (nothing is minted); the marketing user sees both outcomes; a branch user redeems an item's
perk from its verify URL (the chain records it); a viewer is offered no write control and every staff write
answers 403 from the viewer's own signed-in browser."""
import time

import pytest
from eth_account import Account
from playwright.sync_api import expect
from web3 import Web3

from hallmark.chain import artifacts

from conftest import DESKTOP, console_sign_in, mint, open_page, wait_for

STRICT = ("drop", "airdrop", "mint", "pause")


@pytest.fixture(scope="module")
def approvals_on(server, live_drop):
    """The e2e app with every write waiting for a second person (the default of a real deployment); the other e2e
    modules run with approvals off, so the setting is put back afterwards."""
    config = server.app.config
    before = config["APPROVALS"], config["APPROVAL_AIRDROP_MIN"]
    config["APPROVALS"], config["APPROVAL_AIRDROP_MIN"] = STRICT, 0
    yield
    config["APPROVALS"], config["APPROVAL_AIRDROP_MIN"] = before


@pytest.fixture(scope="module")
def live_drop(stack, client, staff, server):
    """A live drop with one item minted, made through the API before approvals are turned on."""
    assert server.app.config["APPROVALS"] == ()
    drop = stack.create_drop(client, staff, 6, name="Access Journey", issuer_name="WeBank Demo")
    holder = Account.create().address
    return {**drop, "holder": holder, "token_id": mint(client, staff, drop, holder)}


@pytest.fixture(scope="module")
def chain(stack):
    w3 = Web3(Web3.HTTPProvider(stack.chain.url))
    registry = w3.eth.contract(address=stack.record.registry, abi=artifacts.load("HallmarkRegistry")["abi"])
    collection_abi = artifacts.load("HallmarkCollection")["abi"]
    return w3, registry, lambda address: w3.eth.contract(address=address, abi=collection_abi)


def sign_in_as(browser, server, user):
    ctx = browser.new_context(base_url=server.url, viewport=DESKTOP, locale="zh-CN")
    ctx.set_default_timeout(15_000)
    page = open_page(ctx)
    console_sign_in(page, user)
    return ctx, page


def staff_fetch(page, method: str, path: str, body: dict | None = None) -> dict:
    """A write from the signed-in browser itself: its session cookie and the CSRF token of GET /api/session."""
    return page.evaluate("""async ([method, path, body]) => {
      const session = await (await fetch("/api/session", { credentials: "same-origin" })).json();
      const reply = await fetch(path, { method, credentials: "same-origin", headers: {
        "Content-Type": "application/json", "X-CSRF-Token": session.csrf,
        "Idempotency-Key": crypto.getRandomValues(new Uint32Array(4)).join("-") }, body: JSON.stringify(body) });
      return { status: reply.status, body: await reply.json().catch(() => null) };
    }""", [method, path, body or {}])


def approval_from(response) -> int:
    assert response.status == 202, response.text()
    return response.json()["approval"]["id"]


def test_makers_checkers_branch_and_viewer(browser, server, client, staff, staff_user, live_drop, approvals_on,
                                           chain, tmp_path):
    w3, registry, collection = chain
    contexts = []
    try:
        # 1. marketing prepares a drop and an airdrop: both wait for a second person
        ctx, maker = sign_in_as(browser, server, staff_user("marketing"))
        contexts.append((ctx, maker))
        slug = f"access-{time.time_ns()}"
        maker.click("text=＋ 新建系列")
        maker.fill("#name", "Approved Tiger")
        maker.fill("#issuer_name", "WeBank Demo")
        maker.fill("#slug", slug)
        maker.fill("#symbol", "TIGER")
        maker.fill("#edition_size", "5")
        with maker.expect_response(lambda r: r.url.endswith("/api/drops") and r.request.method == "POST") as made:
            maker.click("#create-form button[type=submit]")
        drop_request = approval_from(made.value)
        expect(maker.locator("#view-new .approval-notice")).to_contain_text("已提交审批")
        expect(maker.locator("#build")).to_be_hidden()
        assert not [d for d in client.get("/api/drops", headers=staff).get_json() if d["slug"] == slug]

        recipients = [Account.create().address for _ in range(3)]
        csv = tmp_path / "recipients.csv"
        csv.write_text("address\n" + "\n".join(recipients) + "\n")
        maker.goto(f"/console#/drops/{live_drop['id']}")
        expect(maker.locator("#drop-title")).to_have_text("Access Journey")
        maker.set_input_files("#airdrop-file", csv)
        expect(maker.locator("#airdrop-send")).to_have_text("发送给 3 个地址")
        with maker.expect_response(lambda r: "/airdrops" in r.url and "dry_run" not in r.url) as sent:
            maker.click("#airdrop-send")
        airdrop_request = approval_from(sent.value)
        expect(maker.locator("#airdrop-form + .approval-notice")).to_contain_text(f"查看申请 #{airdrop_request}")
        expect(maker.locator("#airdrop-job")).to_be_hidden()

        # 2. the approver sees both with their summary, approves the drop and rejects the airdrop with a reason
        ctx, checker = sign_in_as(browser, server, staff_user("approver"))
        contexts.append((ctx, checker))
        expect(checker.locator("a[href='#/new']")).to_be_hidden()
        checker.click("a[href='#/approvals']")
        drop_card = checker.locator(f"#approvals-pending #approval-{drop_request}")
        airdrop_card = checker.locator(f"#approvals-pending #approval-{airdrop_request}")
        expect(drop_card.locator("h3")).to_contain_text("新建系列")
        for value in ("Approved Tiger", slug, "TIGER", "5"):
            expect(drop_card.locator("dd", has_text=value).first).to_be_visible()
        checker.wait_for_function("id => { const i = document.querySelector(`#approval-${id} img`);"
                                  " return i && i.complete && i.naturalWidth > 0; }", arg=drop_request)
        expect(airdrop_card.locator("h3")).to_contain_text("空投")
        expect(airdrop_card.locator("dt:has-text('接收地址数') + dd")).to_have_text("3")
        expect(airdrop_card.locator("dt:has-text('系列') + dd")).to_contain_text("Access Journey")

        airdrop_card.locator("button", has_text="驳回").click()  # no reason yet: refused in the page
        expect(checker.locator("#approvals-error")).to_have_text("驳回须填写原因。")
        airdrop_card.locator("textarea[name=reason]").fill("名单未经合规复核")
        airdrop_card.locator("button", has_text="驳回").click()
        expect(airdrop_card).to_have_count(0)
        drop_card.locator("button", has_text="批准").click()
        expect(drop_card).to_have_count(0)

        # 3. the drop goes live on chain; the rejected airdrop minted nothing
        decided = client.get(f"/api/approvals/{drop_request}", headers=staff).get_json()
        assert decided["status"] == "approved" and decided["checker_name"] == "e2e-approver", decided
        made_id = decided["result"]["drop_id"]
        new_drop = wait_for(lambda: (d := client.get(f"/api/drops/{made_id}", headers=staff).get_json())["status"]
                            in ("live", "failed") and d, timeout=90)
        assert new_drop["status"] == "live" and new_drop["slug"] == slug, new_drop
        address = Web3.to_checksum_address(new_drop["contract_address"])
        assert w3.eth.get_code(address), "no collection contract at the drop's address"
        assert registry.functions.isOfficial(address).call()
        count = registry.functions.collectionCount().call()
        assert address in [registry.functions.collectionAt(i).call() for i in range(count)]
        assert collection(address).functions.name().call() == "Approved Tiger"
        assert collection(address).functions.maxSupply().call() == 5

        rejected = client.get(f"/api/approvals/{airdrop_request}", headers=staff).get_json()
        assert rejected["status"] == "rejected" and rejected["reason"] == "名单未经合规复核", rejected
        assert not rejected.get("result"), rejected
        old = collection(Web3.to_checksum_address(live_drop["contract_address"]))
        assert old.functions.totalMinted().call() == 1  # only the item minted before
        assert [old.functions.balanceOf(a).call() for a in recipients] == [0, 0, 0]

        maker.goto("/console#/approvals")
        mine = maker.locator("#approvals-mine")
        expect(mine.locator(f"#approval-{drop_request} .status")).to_have_text("已批准")
        expect(mine.locator(f"#approval-{airdrop_request} .status")).to_have_text("已驳回")
        expect(mine.locator(f"#approval-{airdrop_request} .approval-reason")).to_contain_text("名单未经合规复核")
        expect(maker.locator("#approvals-pending button")).to_have_count(0)  # a maker decides nothing

        # 4. a branch redeems the minted item's perk from its verify URL
        ctx, branch = sign_in_as(browser, server, staff_user("branch"))
        contexts.append((ctx, branch))
        verify_path = f"/v/{live_drop['contract_address']}/{live_drop['token_id']}"
        branch.click("a[href='#/redeem']")
        branch.fill("#redeem-url", server.url + verify_path)
        branch.click("#redeem-lookup button[type=submit]")
        expect(branch.locator("#redeem-item")).to_contain_text("Access Journey")
        expect(branch.locator("#redeem-item")).to_contain_text(live_drop["holder"])
        state = branch.locator("#redeem-item dt:has-text('状态') + dd").first
        expect(state).to_have_text("未核销")
        branch.fill("#redeem-note", "深圳分行 · 贵宾厅")
        branch.click("#redeem-form button[type=submit]")
        expect(branch.locator("#redeem-outcome")).to_contain_text("核销成功，已记录在链上。", timeout=60_000)
        expect(state).to_have_text("已核销")  # at once: the mined redemption counts before the index has it
        expect(branch.locator("#redeem-form")).to_be_hidden()
        assert old.functions.isRedeemed(live_drop["token_id"]).call()
        wait_for(lambda: client.get(f"/api/verify/{live_drop['contract_address']}/{live_drop['token_id']}")
                 .get_json().get("redeemed"))
        customer = open_page(ctx)
        customer.goto(verify_path)
        expect(customer.locator("#redemption")).to_contain_text("权益已核销")
        assert not customer.errors, customer.errors

        # a request still pending, for the viewer to see and fail to decide
        pause = staff_fetch(maker, "POST", f"/api/drops/{made_id}/pause")
        assert pause["status"] == 202, pause
        pause_request = pause["body"]["approval"]["id"]

        # 5. a viewer: no write control offered, and every staff write refused from the viewer's own browser
        ctx, viewer = sign_in_as(browser, server, staff_user("viewer"))
        contexts.append((ctx, viewer))
        for route in ("#/new", "#/redeem", "#/audit", "#/webhooks"):
            expect(viewer.locator(f".sidebar a[href='{route}']")).to_be_hidden()
        viewer.goto(f"/console#/drops/{made_id}")
        expect(viewer.locator("#drop-title")).to_have_text("Approved Tiger")
        expect(viewer.locator("#drop-status")).to_have_text("发行中")
        for control in ("#pause-toggle", "#airdrop-form", "#codes-form"):
            expect(viewer.locator(control)).to_be_hidden()
        viewer.goto("/console#/approvals")
        expect(viewer.locator(f"#approvals-pending #approval-{pause_request}")).to_be_visible()
        expect(viewer.locator("#approvals-pending button, #approvals-pending textarea")).to_have_count(0)

        drops_before = len(client.get("/api/drops", headers=staff).get_json())
        writes = [("/api/drops", {"slug": f"viewer-{time.time_ns()}", "name": "Nope", "symbol": "NOPE",
                                  "edition_size": 3}),
                  (f"/api/drops/{made_id}/airdrops", {"recipients": recipients}),
                  (f"/api/drops/{made_id}/mint", {"to": recipients[0]}),
                  (f"/api/drops/{made_id}/pause", {}),
                  (f"/api/approvals/{pause_request}/approve", {}),
                  ("/api/redemptions", {"url": verify_path}),
                  (f"/api/drops/{made_id}/claim-codes", {"count": 2})]
        answers = {path: staff_fetch(viewer, "POST", path, body)["status"] for path, body in writes}
        assert answers == {path: 403 for path, _ in writes}, answers
        assert len(client.get("/api/drops", headers=staff).get_json()) == drops_before
        assert client.get(f"/api/approvals/{pause_request}", headers=staff).get_json()["status"] == "pending"
        assert collection(address).functions.totalMinted().call() == 0
        assert not collection(address).functions.paused().call()
        assert staff_fetch(maker, "POST", f"/api/approvals/{pause_request}/cancel")["status"] == 200

        for _, page in contexts:
            assert not page.errors, f"uncaught errors in the page: {page.errors}"
    finally:
        for ctx, _ in contexts:
            ctx.close()
