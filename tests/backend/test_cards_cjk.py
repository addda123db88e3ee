"""Cards in Chinese: render version 2 prints Chinese and mixed names with the pinned CJK font and labels in the
drop's language; a character the font lacks is refused at drop creation; version 1 cards keep their bytes."""
import hashlib
import io
import json
import time

from PIL import Image, ImageDraw
from sqlalchemy import select

from hallmark.art.cardfont import card_font, missing_glyph
from hallmark.art.content import DropContent
from hallmark.art.render import PANEL_BOX, QR_BOX, RENDER_VERSION, ItemSpec, _font, format_serial, render_item
from hallmark.cli import load_spec
from hallmark.minting.drops import content_for, draft_card
from hallmark.models import Drop, ItemHash

from conftest import ROOT, run

ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
TIGER, EXT_B = "\U0001F42F", "\U00020000"  # an emoji and a CJK Extension B character: neither is in the font


def spec(**kw):
    fields = dict(drop_name="福虎迎春", issuer="示例银行", edition_size=1000, serial=88, contract_address=ADDRESS,
                  verify_url=f"https://verify.hallmark.example/v/{ADDRESS}/88", seed="fuhu-2022")
    return ItemSpec(**{**fields, **kw})


def sha(png: bytes) -> str:
    return hashlib.sha256(png).hexdigest()


def card(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def glyph(font, ch: str) -> bytes:
    img = Image.new("L", (64, 64))
    ImageDraw.Draw(img).text((0, 0), ch, font=font, fill=255)
    return img.tobytes()


def region(png: bytes, box) -> bytes:
    return card(png).crop(box).tobytes()


NAME_LINE = (PANEL_BOX[0], PANEL_BOX[1] + 4, QR_BOX[0] - 4, PANEL_BOX[1] + 52)
TEXT_PANEL = (PANEL_BOX[0], PANEL_BOX[1] + 4, QR_BOX[0] - 4, PANEL_BOX[3])


def test_version_1_cards_keep_their_bytes():
    # sha256 of what HEAD 2718e7a (before render version 2 existed) rendered for these specs: the first renderer's
    # cards are committed on chain, so its output must never change. The CJK one prints boxes, as it always did.
    expected = {
        ("Fuhu 2022", "Demo Bank"): "ea87c1f64b8aa56fa9c1b5624af7ecda9d0c306c938e5160471e1bfdc72d2f8d",
        ("福虎迎春", "示例银行"): "13e42b38ef9af0bdedb627fed0d469df97ea22487226555063367057aadbf71d",
    }
    for (name, issuer), digest in expected.items():
        for language in ("en", "zh"):  # version 1 has English labels whatever the drop's language
            png = render_item(spec(drop_name=name, issuer=issuer, edition_size=10000, seed="demo",
                                   language=language, render_version=1))
            assert sha(png) == digest, (name, language)
    base = io.BytesIO()
    Image.new("RGB", (300, 200), (220, 30, 30)).save(base, "PNG")
    png = render_item(spec(drop_name="Fuhu 2022", issuer="Demo Bank", edition_size=10000, seed="demo",
                           artwork="image", base_image=base.getvalue(), render_version=1))
    assert sha(png) == "d4b2fca01cff05a39e6e8eb1eedfc9a212acab0ccc5b6c76b15665797952e827"


def test_version_2_cards_keep_their_bytes():
    # sha256 of what HEAD 07a7e43 (before render version 3) rendered: version 2 drops are committed on chain too, so
    # faster rendering (cached art layers) must leave these bytes exactly as they were
    expected = {
        (7, "zh"): "3b9c6aa6ead124e06c2102fad3c5d3899c62a43fcf84b85cd6fb2d171fe4b10c",
        (501, "en"): "1a966f627eaa5a18a2f7e4b6ed32737b19d7c7e87466afb66c150ff529e592d3",
        (999, "zh"): "2bfcf29dc1c69719a176ee49f07d0d8a033fafe892b1978c3f4633dc15f2a978",
    }
    for (serial, language), digest in expected.items():
        png = render_item(spec(serial=serial, verify_url=f"https://verify.hallmark.example/v/{ADDRESS}/{serial}",
                               language=language, render_version=2))
        assert sha(png) == digest, (serial, language)
    base = io.BytesIO()
    Image.new("RGB", (300, 200), (220, 30, 30)).save(base, "PNG")
    png = render_item(spec(artwork="image", base_image=base.getvalue(), render_version=2))
    assert sha(png) == "3b77842febe747d45c63e818ffce434e29a1003bcf3760f04970329ba13cef97"


def test_chinese_names_print_real_glyphs_not_boxes():
    name = "福虎迎春"
    notdef = glyph(card_font(30), TIGER)  # what a character the font lacks prints as
    masks = [glyph(card_font(30), ch) for ch in set(name + "示例银行发行方编号合约")]
    assert notdef not in masks and len(set(masks)) == len(masks)  # every character its own glyph
    # the old bundled font prints every one of them as the same box
    assert len({glyph(_font(30), ch) for ch in name}) == 1
    assert missing_glyph(name + "示例银行") is None
    # so a reordered name prints differently with version 2, and identically (four boxes) with version 1
    assert region(render_item(spec()), NAME_LINE) != region(render_item(spec(drop_name="春迎虎福")), NAME_LINE)
    assert (region(render_item(spec(render_version=1)), NAME_LINE)
            == region(render_item(spec(drop_name="春迎虎福", render_version=1)), NAME_LINE))


def test_reference_renders_are_pinned():
    # Noto Sans CJK SC 2.004 (noto-cjk-sans-otc 0.0.1) drawn by Pillow 13.0.0's bundled FreeType 2.14.3 with the
    # BASIC layout: these bytes are what any machine with the pinned dependencies renders, and what is committed.
    # Version 3 adds zxing-cpp 3.1.1's QR encoder and ISA-L 1.9.1's deflate (isal 1.9.1).
    assert sha(render_item(spec(render_version=2))) == (
        "b2e55fcc86f80a03d9d8055732ec81d13751c9535773dd96cad2421c36a35283")
    assert sha(render_item(spec(drop_name="福虎 Fuhu 2022", issuer="示例银行 Demo Bank", render_version=2))) == (
        "0faf2ababf18aaf26a2309b67322acd6f7d9bf4e8f7f84ff32cc217061a5ca8c")
    assert sha(render_item(spec(language="en", render_version=2))) == (
        "22430f2206bc64c476baa8fe0f6421807ee344bca0cc12d8c8de142c575be5d9")
    assert sha(render_item(spec(render_version=3))) == (
        "1f3273bc782570a56aa55e68eb8e4c5c7b87ca74800455f7fffe5415f25da451")
    assert sha(render_item(spec(language="en", render_version=3))) == (
        "38b4625f00f929ab3c06bc36e76833ce8c5d8eb85d92e590638d404a4520d4d5")
    # version 4 draws the same bytes (only its fingerprints are taken differently), over many serials and both
    # label languages: its cached badge and encoder-scaled QR tile are pixel for pixel what version 3 drew
    for language in ("zh", "en"):
        for serial in range(1, 200, 7):
            assert render_item(spec(serial=serial, language=language, render_version=4)) == render_item(
                spec(serial=serial, language=language, render_version=3))


def test_mixed_chinese_and_latin_fits_the_panel():
    mixed = render_item(spec(drop_name="福虎 Fuhu 2022", issuer="示例银行 Demo Bank"))
    assert region(mixed, NAME_LINE) != region(render_item(spec(drop_name="福虎")), NAME_LINE)
    assert glyph(card_font(30), "F") != glyph(card_font(30), TIGER)
    # a name far too long is shrunk and cut with an ellipsis: the QR tile beside it is untouched
    long = render_item(spec(drop_name="福虎迎春 Fuhu Year of the Tiger 壬寅年 Limited Collector Edition 限量版"))
    assert region(long, QR_BOX) == region(mixed, QR_BOX)
    assert region(long, NAME_LINE) != region(mixed, NAME_LINE)


def test_labels_follow_the_drop_language():
    zh, en = render_item(spec()), render_item(spec(language="en"))
    assert zh != en
    art = (20, 60, 620, 450)  # below the rarity badge: the artwork does not depend on the language
    assert region(zh, art) == region(en, art)
    assert region(zh, TEXT_PANEL) != region(en, TEXT_PANEL)
    assert format_serial(88, 10000, "zh") == "编号 0088 / 10000"
    assert format_serial(88, 10000) == format_serial(88, 10000, "en") == "No. 0088 / 10000"


def test_drop_content_threads_language_and_version():
    content = DropContent(name="福虎迎春", description="", issuer="示例银行", edition_size=1000,
                          contract_address=ADDRESS, public_base_url="https://verify.hallmark.example", seed="fuhu-2022")
    assert content.image(88) == render_item(spec())  # new drops: Chinese labels, version 2
    old = Drop(name="Fuhu 2022", description="", issuer_name="Demo Bank", edition_size=10000,
               contract_address=ADDRESS, public_base_url="https://verify.hallmark.example", transfer_policy="transferable",
               holding_period=0, artwork="fuhu", base_image=None, seed="demo", language="en", render_version=1)
    assert sha(content_for(old).image(88)) == "ea87c1f64b8aa56fa9c1b5624af7ecda9d0c306c938e5160471e1bfdc72d2f8d"
    draft = {"name": "福虎迎春", "description": "", "issuer_name": "示例银行", "edition_size": 1000,
             "transfer_policy": "transferable", "holding_period": 0, "artwork": "fuhu", "base_image": None,
             "seed": "fuhu-2022"}
    # an approval request recorded before drops had a language previews as the drop it becomes (zh)
    assert draft_card(draft, "https://x.example", 1) == draft_card({**draft, "language": "zh"}, "https://x.example", 1)
    assert draft_card(draft, "https://x.example", 1) != draft_card({**draft, "language": "en"}, "https://x.example", 1)


def post(client, headers, body):
    return client.post("/api/drops", json=body, headers={**headers, "Idempotency-Key": f"k-{time.time_ns()}"})


def test_missing_glyph_refused_by_the_api_naming_field_and_character(client, staff):
    base = {"slug": "glyphs", "name": "福虎迎春", "symbol": "FUHU", "edition_size": 5}
    cases = [("name", f"福虎{TIGER}", TIGER, "1F42F"), ("issuer_name", f"{EXT_B}银行", EXT_B, "20000"),
             ("description", f"虎年\n藏品 {TIGER}", TIGER, "1F42F")]
    for field, value, ch, code in cases:
        reply = post(client, staff, {**base, field: value})
        assert reply.status_code == 422, reply.get_json()
        assert reply.get_json()["errors"]["json"] == {field: [f"The card font has no glyph for '{ch}' (U+{code})."]}
    reply = client.post("/api/drops/preview", json={**base, "name": f"福虎{TIGER}"}, headers=staff)
    assert reply.status_code == 422 and "name" in reply.get_json()["errors"]["json"]
    reply = post(client, staff, {**base, "language": "fr"})
    assert reply.status_code == 422 and "language" in reply.get_json()["errors"]["json"]
    with client.application.extensions["hallmark.db"].session() as s:
        assert s.scalar(select(Drop.id)) is None


def test_chinese_drop_is_committed_with_chinese_labels(client, staff, make_drop, app):
    zh = make_drop(name="福虎迎春", issuer_name="示例银行", seed="fuhu-2022")
    en = make_drop(name="福虎迎春", issuer_name="示例银行", seed="fuhu-2022", language="en")
    assert (zh["language"], zh["render_version"], en["language"], en["render_version"]) == ("zh", RENDER_VERSION, "en", RENDER_VERSION)
    with app.extensions["hallmark.db"].session() as s:
        for drop in (zh, en):
            stored = s.scalar(select(ItemHash.image_sha256).where(ItemHash.drop_id == drop["id"], ItemHash.serial == 1))
            expected = render_item(spec(serial=1, edition_size=20, contract_address=drop["contract_address"],
                                        verify_url=f"{app.config['PUBLIC_BASE_URL']}/v/{drop['contract_address']}/1",
                                        language=drop["language"]))
            assert stored == hashlib.sha256(expected).digest(), drop["language"]


def test_missing_glyph_refused_by_the_cli(tmp_path):
    path = tmp_path / "drop.yaml"
    path.write_text(json.dumps({"slug": "glyphs", "name": f"福虎{TIGER}", "symbol": "FUHU", "edition_size": 5},
                               ensure_ascii=False), encoding="utf-8")
    proc = run(["hallmark", "drop", "create", "--spec", str(path)], {"HALLMARK_DATA_DIR": str(tmp_path / "data")},
               check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() == f"error: name: The card font has no glyph for '{TIGER}' (U+1F42F)."


def test_demo_drop_is_chinese():
    demo = load_spec(str(ROOT / "drops" / "fuhu-demo.yaml"))
    assert (demo["name"], demo["issuer_name"], demo["language"]) == ("福虎迎春", "示例银行", "zh")
