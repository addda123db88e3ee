"""The console's own endpoints, artwork previews (nothing stored, nothing sent) and drop activity (mints per
bucket by source, redemptions, redemption rate), and its retries: a submission that got no answer is sent again
with the same Idempotency-Key, a new submission with a new one."""
import base64

from eth_account import Account

from hallmark.chain.contracts import calldata
from playwright.sync_api import expect

from conftest import console_sign_in, mint, shoot, wait_for


def test_preview_renders_cards_and_stores_nothing(client, staff):
    drops_before = len(client.get("/api/drops", headers=staff).get_json())
    body = {"name": "Fuhu 2022", "edition_size": 20, "serials": [1, 20]}
    reply = client.post("/api/drops/preview", json=body, headers=staff)
    assert reply.status_code == 200, reply.get_json()
    preview = reply.get_json()
    assert preview["contract_address"] == "0x" + "0" * 40
    assert [i["serial_label"] for i in preview["items"]] == ["No. 0001 / 20", "No. 0020 / 20"]
    assert base64.b64decode(preview["items"][0]["image"].removeprefix("data:image/png;base64,"))[:4] == b"\x89PNG"
    assert len(client.get("/api/drops", headers=staff).get_json()) == drops_before

    for serials in ([21], [1, 2, 3, 4, 5]):
        refused = client.post("/api/drops/preview", json={**body, "serials": serials}, headers=staff)
        assert refused.status_code == 422 and "serials" in refused.get_json()["errors"]["json"]
    unreadable = client.post("/api/drops/preview", headers=staff, json={
        **body, "artwork": "image", "base_image": base64.b64encode(b"not a picture").decode()})
    assert unreadable.status_code == 422 and "base_image" in unreadable.get_json()["errors"]["json"]
    assert client.post("/api/drops/preview", json=body).status_code == 401


def test_activity_by_source_with_redemptions(page, server, stack, client, staff):
    drop = stack.create_drop(client, staff, 10, name="Activity")
    holder = Account.create().address
    singles = [mint(client, staff, drop, holder) for _ in range(2)]
    stack.airdrop(client, staff, drop, [Account.create().address for _ in range(3)])
    services = server.app.extensions["hallmark.services"]  # the app's worker owns the issuer's nonces
    sender = next(loop for loop in services.loops if loop.kind == "worker")._wire()[0]
    redeem = services.handles.collection(drop["contract_address"]).functions.redeem(singles[0])
    with sender.signing() as s:
        tx_id = sender.sign(s, f"test:redeem:{singles[0]}", drop["contract_address"], calldata(redeem), 150_000).id
    sender.broadcast(tx_id)
    assert sender.wait(tx_id, 60).status == "mined"  # settled by the worker's confirmer

    url = f"/api/drops/{drop['id']}/activity"
    activity = wait_for(lambda: (a := client.get(url, headers=staff).get_json())["totals"]["redeemed"] and a)
    assert activity["totals"] == {"minted": 5, "redeemed": 1, "airdrop": 3, "single": 2, "claim": 0}
    assert activity["redemption_rate"] == 0.2
    series = activity["series"]
    assert activity["bucket_seconds"] == 60 and len(series) >= 12 and series[-1]["t"] > series[0]["t"]
    assert [sum(p[k] for p in series) for k in ("airdrop", "single", "claim", "redeemed")] == [3, 2, 0, 1]
    hourly = client.get(url, query_string={"bucket": 3600}, headers=staff).get_json()
    assert hourly["bucket_seconds"] == 3600 and hourly["totals"] == activity["totals"]
    assert client.get(url, query_string={"bucket": 7}, headers=staff).status_code == 422
    assert client.get("/api/drops/999999/activity", headers=staff).status_code == 404

    page.goto(f"/v/{drop['contract_address']}/{singles[0]}")
    expect(page.locator("#redemption")).to_contain_text("权益已核销")


def test_a_retried_submission_reuses_its_idempotency_key(page, server, drop, staff_user):
    console_sign_in(page, staff_user("marketing"))
    keys = []

    def first_one_lost(route):
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/claim-codes*", first_one_lost)
    page.goto(f"/console#/drops/{drop['id']}")
    page.fill("#codes-count", "2")
    page.click("#codes-form button[type=submit]")
    expect(page.locator("#codes-form .form-error")).to_have_text("无法连接服务器，请检查网络后重试。")
    for _ in range(2):  # the retry, then a new submission
        with page.expect_download():
            page.click("#codes-form button[type=submit]")
        expect(page.locator("#codes-result .codes li")).to_have_count(2)
    assert keys[0] == keys[1] != keys[2], keys


def test_a_drop_being_rendered_shows_its_progress(page, client, staff, staff_user):
    """A big drop takes a while: its dashboard shows a moving bar, the pace and the time left, then goes live."""
    reply = client.post("/api/drops", headers={**staff, "Idempotency-Key": "e2e-build-progress"}, json={
        "slug": "e2e-build-progress", "name": "福虎迎春", "symbol": "FUHU", "edition_size": 2000})
    assert reply.status_code == 202, reply.get_json()
    drop_id = reply.get_json()["id"]
    console_sign_in(page, staff_user("marketing"))
    page.goto(f"/console#/drops/{drop_id}")
    expect(page.locator("#drop-build")).to_be_visible()
    expect(page.locator("#drop-build-status")).to_contain_text("正在渲染图案")
    expect(page.locator("#drop-build-eta")).to_contain_text("每秒约", timeout=30_000)  # measured between two polls
    shoot(page, "console-drop-rendering")
    bar = page.locator("#drop-build-progress")
    assert bar.get_attribute("max") == "2000" and 0 < float(bar.get_attribute("value")) <= 2000
    expect(page.locator("#drop-status")).to_have_text("发行中", timeout=180_000)
    expect(page.locator("#drop-build")).to_be_hidden()
