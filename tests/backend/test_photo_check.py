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

from test_verify import card, minted, upload  # noqa: F401 (minted: a drop of 10 with item 1 held)

STATUS_BAR = 72


def phone_screenshot(card_png: bytes, width: int = 900, quality: int = 85) -> bytes:
    """A 1080x1920 page as a phone screenshots it: status bar, app text above and below, the card at `width`."""
    page = Image.new("RGB", (1080, 1920), (246, 246, 248))
    d = ImageDraw.Draw(page)
    d.rectangle((0, 0, 1079, STATUS_BAR), fill=(18, 18, 20))
    d.text((40, 22), "9:41", fill=(255, 255, 255), font_size=30)
    d.text((860, 22), "5G  87%", fill=(255, 255, 255), font_size=30)
    d.text((90, 180), "My collectibles", fill=(20, 20, 20), font_size=48)
    d.text((90, 250), "Tap the card to share it", fill=(110, 110, 120), font_size=28)
    shown = Image.open(io.BytesIO(card_png)).convert("RGB").resize((width, width), Image.Resampling.LANCZOS)
    page.paste(shown, ((1080 - width) // 2, 360))
    d.rounded_rectangle((90, 1380, 990, 1480), radius=24, fill=(210, 40, 50))
    d.text((430, 1410), "Share", fill=(255, 255, 255), font_size=36)
    out = io.BytesIO()
    page.save(out, "JPEG", quality=quality)
    return out.getvalue()


def tampered(card_png: bytes) -> bytes:
    """The genuine card (its QR code untouched) with the serial line painted over and rewritten."""
    img = Image.open(io.BytesIO(card_png)).convert("RGB")
    d = ImageDraw.Draw(img)
    d.rectangle((28, 544, 330, 584), fill=img.getpixel((300, 590)))
    d.text((30, 546), "No. 0007 / 10", fill=(230, 190, 90), font_size=30)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def test_phone_screenshot_is_recognised_and_matches(client, minted):
    drop, _, token_id = minted
    answer = upload(client, phone_screenshot(card(client, drop, token_id)), "Screenshot.jpg").get_json()
    assert answer["match"] == "qr" and answer["picture"] == "matches", answer
    assert (answer["collection"], answer["token_id"]) == (drop["contract_address"], token_id)
    assert answer["drop"]["slug"] == drop["slug"] and answer["serial_label"] == "No. 0001 / 10"
    assert answer["warnings"] == [] and "the picture matches" in answer["detail"]
    assert answer["item"]["verdict"] == "authentic"
    # a smaller, harder-compressed screenshot of the same card
    small = upload(client, phone_screenshot(card(client, drop, token_id), 480, 60), "small.jpg").get_json()
    assert small["match"] == "qr" and small["picture"] == "matches", small


def test_tampered_card_with_genuine_qr_differs(client, minted):
    drop, _, token_id = minted
    answer = upload(client, phone_screenshot(tampered(card(client, drop, token_id))), "edited.jpg").get_json()
    assert answer["match"] == "qr" and answer["token_id"] == token_id
    assert answer["picture"] == "differs" and "differs from the genuine card" in answer["detail"], answer
    assert answer["difference_at"]["y"] > 456  # the panel with the serial, not the art
    assert answer["item"]["verdict"] == "authentic"  # the item is genuine; this picture of it is not


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
    assert answer["item"]["verdict"] == "authentic"  # the official item it names, flagged all the same

    by_code = client.get("/api/verify", query_string={"code": lure}).get_json()
    assert by_code["verdict"] == "authentic" and by_code["warnings"][0]["host"] == "hallmark-verify.example"
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
    assert answer["match"] == "near" and answer["token_id"] == token_id and "qr" not in answer


def test_garbage_upload_is_refused_naming_the_file(client):
    reply = upload(client, b"\x89PNG\r\n\x1a\n" + b"garbage" * 50)
    assert reply.status_code == 422 and "file" in reply.get_json()["errors"]["files"]
    truncated = io.BytesIO()
    Image.new("RGB", (400, 400), (200, 30, 30)).save(truncated, "JPEG")
    reply = upload(client, truncated.getvalue()[:300], "cut.jpg")
    assert reply.status_code == 422 and "file" in reply.get_json()["errors"]["files"]
