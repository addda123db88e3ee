"""Render versions 3 on take shortcuts (the frame pasted from a per-drop cache, the serial line from cached glyphs, the
QR symbol scaled with numpy) that must give the very pixels of drawing each card step by step, as those versions did
when their drops were committed on chain."""
import numpy as np
import pytest
import zxingcpp
from PIL import Image, ImageDraw

from hallmark.art import render
from hallmark.art.cardfont import LABELS
from hallmark.art.fuhu import RARITY_COLOURS, fuhu_traits, paint_fuhu
from hallmark.art.render import ART_BOX, CARD, QR_BOX, ItemSpec, format_serial

ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def spec(serial, edition=3000, language="zh", **kw):
    return ItemSpec("福虎迎春", "示例银行", edition, serial, ADDRESS, f"https://verify.hallmark.example/v/{ADDRESS}/{serial}",
                    seed="shortcuts", language=language, **kw)


def drawn_step_by_step(s: ItemSpec) -> Image.Image:
    """A version 3/4 card as it was drawn before the shortcuts: the art, the frame drawn over it, the panel's lines,
    the QR tile and the symbol scaled by the encoder."""
    card = Image.new("RGB", (CARD, CARD), render._PANEL)
    d = ImageDraw.Draw(card)
    traits = fuhu_traits(s.serial, s.seed)
    accent = RARITY_COLOURS[traits["Rarity"]]
    paint_fuhu(card, ART_BOX, traits)
    badge, mask, at = render._badge(traits["Rarity"], s.language)
    card.paste(badge, at, mask)
    d.rectangle((0, 0, CARD - 1, CARD - 1), outline=accent, width=ART_BOX[0])
    d.rectangle((ART_BOX[0], ART_BOX[1], ART_BOX[2] - 1, render.PANEL_BOX[3] - 1), outline=render._PANEL, width=2)
    d.line((ART_BOX[0], render.PANEL_BOX[1], ART_BOX[2] - 1, render.PANEL_BOX[1]), fill=accent, width=2)
    card.paste(render._fixed_lines(s.drop_name, s.issuer, s.language, s.contract_address), render._TEXT_AREA[:2])
    render._draw_line(d, *render._lines_v2(s, accent)[2])
    d.rounded_rectangle(QR_BOX, radius=6, fill=(255, 255, 255))
    symbol = zxingcpp.create_barcode(s.verify_url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    n = np.asarray(symbol.to_image(scale=1, add_quiet_zones=False)).shape[0]
    box = QR_BOX[2] - QR_BOX[0]
    scale = box // (n + 4)
    qr = Image.fromarray(np.asarray(symbol.to_image(scale=scale, add_quiet_zones=False)), "L")
    at = (box - (n + 4) * scale) // 2 + 2 * scale
    card.paste(qr, (QR_BOX[0] + at, QR_BOX[1] + at))
    return card


@pytest.mark.parametrize("language", ["zh", "en"])
def test_cards_are_pixel_for_pixel_the_step_by_step_drawing(language):
    serials = range(1, 3000, 23)  # 131 cards: every rarity, background, pattern and accessory
    assert {fuhu_traits(n, "shortcuts")["Rarity"] for n in serials} == set(RARITY_COLOURS)
    for serial in serials:
        s = spec(serial, language=language)
        assert render._render_card(s).tobytes() == drawn_step_by_step(s).tobytes(), serial


def serial_line(s: ItemSpec, draw) -> bytes:
    strip = Image.new("RGB", (render._TEXT_MAX_W + 40, 60), render._PANEL)
    y, text, size, colour = render._lines_v2(s, (236, 188, 60))[2]
    draw(strip, 40, text, size, colour)
    return strip.tobytes()


@pytest.mark.parametrize("edition, language", [(3000, "zh"), (100_000, "en"), (100_000, "zh")])
def test_serial_line_from_cached_glyphs_is_pillows_drawing(edition, language):
    serials = range(1, edition + 1) if edition <= 3000 else range(1, edition + 1, 97)
    for serial in [*serials, edition]:
        s = spec(serial, edition, language)
        assert serial_line(s, render._draw_serial) == serial_line(
            s, lambda im, *line: render._draw_line(ImageDraw.Draw(im), *line)), serial


def test_a_line_that_must_shrink_and_other_sizes_match_pillow():
    long_label = {**LABELS["en"], "serial": "Serial number of this collectible card {} of {} in all"}
    text = long_label["serial"].format("0001", 3000)
    assert render.card_font(28).getlength(text) > render._TEXT_MAX_W  # it needs the smaller font _fit picks
    for size, line in ((28, text), (27, format_serial(7, 3000, "zh")), (15, format_serial(99_999, 100_000, "en"))):
        ours = serial_line(spec(1), lambda im, y, _, __, colour: render._draw_serial(im, y, line, size, colour))
        pillow = serial_line(spec(1), lambda im, y, _, __, colour: render._draw_line(ImageDraw.Draw(im), y, line, size,
                                                                                        colour))
        assert ours == pillow
