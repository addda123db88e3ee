"""Checks from a phone screenshot: the card's QR code names the item, the card around it is compared with the genuine
one, and a link to a host that is not the bank's is flagged, in the image check and in the verify-by-code answer.
Every card is the app's own current render (GET /art), put into a phone-sized page here."""
import io
from dataclasses import replace

from PIL import Image, ImageDraw
from sqlalchemy import select

from hallmark.art.render import render_item
from hallmark.minting.drops import content_for
from hallmark.models import Drop

from phoneshots import phone_screenshot, tampered
from test_verify import card, minted, upload  # noqa: F401 (minted: a drop of 10 with item 1 held)


def test_phone_screenshot_is_recognised_and_matches(client, minted):
    drop, _, token_id = minted
    answer = upload(client, phone_screenshot(card(client, drop, token_id)), "Screenshot.jpg").get_json()
    assert answer["match"] == "qr" and answer["picture"] == "matches", answer
    assert (answer["collection"], answer["token_id"]) == (drop["contract_address"], token_id)
    assert answer["drop"]["slug"] == drop["slug"] and answer["serial_label"] == "No. 0001 / 10"
    assert answer["warnings"] == [] and "the picture matches" in answer["detail"]
    assert answer["item"] == client.get(f"/api/verify/{drop['contract_address']}/{token_id}").get_json()
    # a smaller, harder-compressed screenshot of the same card
    small = upload(client, phone_screenshot(card(client, drop, token_id), 480, 60), "small.jpg").get_json()
    assert small["match"] == "qr" and small["picture"] == "matches", small


def test_tampered_card_with_genuine_qr_differs(client, minted):
    drop, _, token_id = minted
    answer = upload(client, phone_screenshot(tampered(card(client, drop, token_id))), "edited.jpg").get_json()
    assert answer["match"] == "qr" and answer["token_id"] == token_id
    assert answer["picture"] == "differs" and "differs from the genuine card" in answer["detail"], answer
    assert answer["difference_at"]["y"] > 456  # the panel with the serial, not the art
    # the item's own verdict stands (its chain record is sound); this picture of it is not the genuine card
    assert answer["item"] == client.get(f"/api/verify/{drop['contract_address']}/{token_id}").get_json()


def test_qr_to_a_foreign_host_is_flagged_in_image_and_code_checks(app, client, minted):
    drop, _, token_id = minted
    lure = f"https://hallmark-verify.example/v/{drop['contract_address']}/{token_id}"
    with app.extensions["hallmark.db"].session() as s:
        row = s.scalar(select(Drop).where(Drop.id == drop["id"]))
    # the genuine card's every pixel, by the app's renderer, but its QR code to a lookalike site
    fake = render_item(replace(content_for(row).item_spec(token_id), verify_url=lure))
    answer = upload(client, phone_screenshot(fake), "fake.jpg").get_json()
    assert answer["match"] == "qr" and answer["qr"]["text"] == lure and answer["token_id"] == token_id
    [warning] = answer["warnings"]
    assert warning["warning"] == "foreign_host" and warning["host"] == "hallmark-verify.example"
    assert warning["expected_host"] == "127.0.0.1:5000"
    genuine = client.get(f"/api/verify/{drop['contract_address']}/{token_id}").get_json()
    assert answer["item"] == genuine  # the official item it names, flagged all the same

    by_code = client.get("/api/verify", query_string={"code": lure}).get_json()
    assert by_code["verdict"] == genuine["verdict"] and by_code["warnings"][0]["host"] == "hallmark-verify.example"
    # user-info before the host is the oldest trick: the browser goes to the host after the @
    tricked = client.get("/api/verify", query_string={
        "code": f"http://127.0.0.1:5000@evil.example/v/{drop['contract_address']}/{token_id}"}).get_json()
    assert tricked["warnings"][0]["host"] == "evil.example"
    for own in (by_code["verify_url"], f"{drop['contract_address']}/{token_id}",
                f"127.0.0.1:5000/v/{drop['contract_address']}/{token_id}"):
        assert "warnings" not in client.get("/api/verify", query_string={"code": own}).get_json(), own


def test_picture_without_qr_falls_back_to_the_fingerprint_search(client, minted):
    drop, _, token_id = minted
    img = Image.open(io.BytesIO(card(client, drop, token_id))).convert("RGB")
    ImageDraw.Draw(img).rectangle((470, 472, 610, 612), fill=(255, 255, 255))  # QR code scratched off its tile
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    answer = upload(client, out.getvalue(), "cropped.jpg").get_json()
    # without its QR code the card's art is what tells it from other drops' cards (render version 4 fingerprints the
    # art, not the panel every card shares); serials of the same traits look alike, so it names the drop, and the QR
    # path (above) names the item
    assert answer["match"] == "near" and answer["collection"] == drop["contract_address"] and "qr" not in answer
    assert answer["distance"] <= 8


def test_garbage_upload_is_refused_naming_the_file(client):
    reply = upload(client, b"\x89PNG\r\n\x1a\n" + b"garbage" * 50)
    assert reply.status_code == 422 and "file" in reply.get_json()["errors"]["files"]
    truncated = io.BytesIO()
    Image.new("RGB", (400, 400), (200, 30, 30)).save(truncated, "JPEG")
    reply = upload(client, truncated.getvalue()[:300], "cut.jpg")
    assert reply.status_code == 422 and "file" in reply.get_json()["errors"]["files"]
