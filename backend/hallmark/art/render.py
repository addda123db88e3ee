"""Collectible card rendering: art + serial + issuer + contract fingerprint + verify QR.

Output must be byte-identical for the same ItemSpec because the backend hashes every
item of a drop into a content commitment; so no metadata in the PNG, fixed zlib
settings, and all variation comes from fuhu_traits(). Bytes are only stable for a
given Pillow/FreeType/zlib build, which the pinned dependencies provide.

Render version 1 (drops made before Chinese cards: their bytes are committed on chain, so its path must never
change) draws English labels with Pillow's bundled Latin font; version 2 draws every text with the pinned CJK
font and labels in the drop's language (cardfont). Version 3 (drops of 100,000 items) draws the same card faster:
its QR code comes from zxing-cpp's encoder (segno's pure-Python mask search took 28 ms of a card's 45) and its PNG
is deflated by ISA-L at level 1 (1.2 ms against zlib's 6-8 ms, 15% larger). Versions 1 and 2 keep their paths.
Version 4 draws the same bytes as version 3 (both now paste the badge from a cache and take the QR tile scaled by the
encoder: pixel for pixel what drawing them gave); what differs is how its items are fingerprinted (art.fingerprint).
Versions 3 and 4 now also paste everything around the art from a per-drop cache and compose the serial line from cached
glyphs: still the same bytes (tests/backend/test_render_shortcuts.py draws cards step by step to compare).
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import segno
import zxingcpp
from isal import isal_zlib
from PIL import Image, ImageDraw, ImageFont, ImageOps

from .cardfont import LABELS, card_font
from .fuhu import RARITY_COLOURS, fuhu_traits, paint_fuhu

CARD = 640
ART_BOX = (12, 12, 628, 456)
PANEL_BOX = (12, 456, 628, 628)
QR_BOX = (464, 466, 616, 618)  # white tile in the bottom-right corner
_TEXT_X, _TEXT_MAX_W = 30, 420
_TEXT_AREA = (PANEL_BOX[0] + 2, PANEL_BOX[1] + 2, QR_BOX[0] - 1, PANEL_BOX[3] - 2)  # inside the frame, left of the QR
_PANEL = (24, 22, 30)
_IMAGE_ACCENT = (214, 178, 100)  # frame colour for uploaded artwork (no rarity)
_IMAGE_BG = (30, 30, 38)
_MAX_BASE_PIXELS = 40_000_000  # reject huge uploads before decoding them
_ZLIB_LEVEL = 3  # fixed: changing it changes every drop's commitment
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
RENDER_VERSION = 4  # what new drops are rendered with
RENDER_VERSIONS = (1, 2, 3, 4)


@dataclass(frozen=True)
class ItemSpec:
    drop_name: str
    issuer: str
    edition_size: int
    serial: int
    contract_address: str
    verify_url: str
    artwork: str = "fuhu"
    base_image: bytes | None = None
    seed: str = ""
    language: str = "zh"  # of the labels, from render version 2
    render_version: int = RENDER_VERSION


def format_serial(serial: int, edition_size: int, language: str = "en") -> str:
    # Pad to the digits of the largest zero-padded serial (edition_size - 1), at least 4,
    # so a 10000 edition reads "No. 0088 / 10000" and only its last item has 5 digits.
    width = max(4, len(str(edition_size - 1)))
    return LABELS[language]["serial"].format(f"{serial:0{width}d}", edition_size)


def address_fingerprint(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


def image_sha256(png: bytes) -> bytes:
    return hashlib.sha256(png).digest()


def render_item(spec: ItemSpec) -> bytes:
    return _png(_render_card(spec), spec.render_version)


def render_item_and_image(spec: ItemSpec) -> tuple[bytes, Image.Image]:
    """The PNG bytes and the decoded card, for callers that also fingerprint it (saves decoding the PNG)."""
    card = _render_card(spec)
    return _png(card, spec.render_version), card


def render_preview(spec: ItemSpec, size: int = 256) -> bytes:
    return _png(_render_card(spec).resize((size, size), Image.LANCZOS), spec.render_version)


def _png(img: Image.Image, version: int) -> bytes:
    """Minimal RGB PNG: Pillow's adaptive row filters cost ~7 ms per card, and flat
    artwork deflates as well unfiltered. Writes no ancillary (time/dpi/text) chunks."""
    w, h = img.size
    rows = np.empty((h, 1 + 3 * w), np.uint8)  # each row: filter type 0, then its pixels
    rows[:, 0] = 0
    rows[:, 1:] = np.frombuffer(img.tobytes(), np.uint8).reshape(h, 3 * w)
    return b"".join((
        b"\x89PNG\r\n\x1a\n",
        _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)),  # 8-bit RGB
        _chunk(b"IDAT", zlib.compress(rows, _ZLIB_LEVEL) if version < 3 else isal_zlib.compress(rows, 1)),
        _chunk(b"IEND", b""),
    ))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def check_item(spec: ItemSpec) -> None:
    """ValueError for what rendering `spec` would refuse (its fields, an unreadable upload), without drawing it."""
    _validate(spec)
    if spec.artwork == "image":
        _fitted_base(spec.base_image, (ART_BOX[2] - ART_BOX[0], ART_BOX[3] - ART_BOX[1]))


def _validate(spec: ItemSpec) -> None:
    if spec.edition_size < 1 or not 1 <= spec.serial <= spec.edition_size:
        raise ValueError(f"serial {spec.serial} is outside 1..{spec.edition_size}")
    if not _ADDRESS.fullmatch(spec.contract_address):
        raise ValueError(f"contract_address {spec.contract_address!r} is not a 0x-prefixed 40-hex address")
    if not spec.verify_url:
        raise ValueError("verify_url is empty")
    if spec.artwork == "image" and spec.base_image is None:
        raise ValueError("artwork 'image' needs base_image bytes")
    if spec.artwork not in ("fuhu", "image"):
        raise ValueError(f"unknown artwork {spec.artwork!r}; expected 'fuhu' or 'image'")
    if spec.render_version not in RENDER_VERSIONS:
        raise ValueError(f"unknown render_version {spec.render_version!r}; expected one of {RENDER_VERSIONS}")
    if spec.language not in LABELS:
        raise ValueError(f"unknown language {spec.language!r}; expected one of {', '.join(LABELS)}")


def _render_card(spec: ItemSpec) -> Image.Image:
    _validate(spec)
    if spec.render_version >= 3:
        return _render_card_v3(spec)
    card = Image.new("RGB", (CARD, CARD), _PANEL)
    d = ImageDraw.Draw(card)
    if spec.artwork == "fuhu":
        traits = fuhu_traits(spec.serial, spec.seed)
        accent = RARITY_COLOURS[traits["Rarity"]]
        paint_fuhu(card, ART_BOX, traits)
        _draw_badge(d, traits["Rarity"], spec.language, spec.render_version)
    else:
        accent = _IMAGE_ACCENT
        card.paste(_fitted_base(spec.base_image, (ART_BOX[2] - ART_BOX[0], ART_BOX[3] - ART_BOX[1])), ART_BOX[:2])
    _frame(d, accent, _PANEL)
    if spec.render_version == 1:
        _panel_text_v1(d, spec, accent)
    else:
        for line in _lines_v2(spec, accent):
            _draw_line(d, *line)
    d.rounded_rectangle(QR_BOX, radius=6, fill=(255, 255, 255))
    qr = _qr_image(spec.verify_url, QR_BOX[2] - QR_BOX[0])
    card.paste(qr, (QR_BOX[0] + (QR_BOX[2] - QR_BOX[0] - qr.width) // 2,
                    QR_BOX[1] + (QR_BOX[3] - QR_BOX[1] - qr.height) // 2))
    return card


def _render_card_v3(spec: ItemSpec) -> Image.Image:
    """Versions 3 on: the art, then everything around it pasted from the drop's cached frame (see _frame_strips),
    then the serial line and the QR symbol, the only parts that differ between cards of one rarity."""
    card = Image.new("RGB", (CARD, CARD), _PANEL)
    if spec.artwork == "fuhu":
        traits = fuhu_traits(spec.serial, spec.seed)
        accent = RARITY_COLOURS[traits["Rarity"]]
        paint_fuhu(card, ART_BOX, traits)
        badge, mask, at = _badge(traits["Rarity"], spec.language)
        card.paste(badge, at, mask)
    else:
        accent = _IMAGE_ACCENT
        card.paste(_fitted_base(spec.base_image, (ART_BOX[2] - ART_BOX[0], ART_BOX[3] - ART_BOX[1])), ART_BOX[:2])
    for strip, at in _frame_strips(spec.drop_name, spec.issuer, spec.language, spec.contract_address, accent):
        card.paste(strip, at)
    _draw_serial(card, *_lines_v2(spec, accent)[2])
    qr, at = _qr_symbol(spec.verify_url, QR_BOX[2] - QR_BOX[0])
    card.paste(qr, (QR_BOX[0] + at, QR_BOX[1] + at))
    return card


def _frame(d: ImageDraw.ImageDraw, accent, inner) -> None:
    """The frame in the accent colour, with a thin dark inner line to separate it from the art."""
    d.rectangle((0, 0, CARD - 1, CARD - 1), outline=accent, width=ART_BOX[0])
    d.rectangle((ART_BOX[0], ART_BOX[1], ART_BOX[2] - 1, PANEL_BOX[3] - 1), outline=inner, width=2)
    d.line((ART_BOX[0], PANEL_BOX[1], ART_BOX[2] - 1, PANEL_BOX[1]), fill=accent, width=2)


@lru_cache(maxsize=1)
def _art_window() -> tuple[int, int, int, int]:
    """The part of ART_BOX that the frame does not draw over: the only pixels of a card the art decides."""
    seen = Image.new("L", (CARD, CARD), 0)
    seen.paste(255, ART_BOX)
    _frame(ImageDraw.Draw(seen), 0, 0)
    box = seen.getbbox()
    if seen.crop(box).getextrema() != (255, 255):
        raise RuntimeError("the art's visible part is not a rectangle")
    return box


@lru_cache(maxsize=16)  # a drop's four rarities (or its one uploaded artwork): four ~1 MB cards
def _frame_strips(name: str, issuer: str, language: str, contract: str,
                  accent: tuple) -> tuple[tuple[Image.Image, tuple[int, int]], ...]:
    """Everything of a version 3 card outside the art's window (frame, panel, fixed lines, the QR's white tile) as
    four strips and where they go: drawn once per drop and rarity, pasted on each card over whatever the art spilled
    onto the frame, which is what drawing the frame over the art gave."""
    card = Image.new("RGB", (CARD, CARD), _PANEL)
    d = ImageDraw.Draw(card)
    _frame(d, accent, _PANEL)
    card.paste(_fixed_lines(name, issuer, language, contract), _TEXT_AREA[:2])
    d.rounded_rectangle(QR_BOX, radius=6, fill=(255, 255, 255))  # right of the serial line, which is drawn later
    x0, y0, x1, y1 = _art_window()
    boxes = ((0, 0, CARD, y0), (0, y1, CARD, CARD), (0, y0, x0, y1), (x1, y0, CARD, y1))
    return tuple((card.crop(box), box[:2]) for box in boxes)


def _draw_badge(d: ImageDraw.ImageDraw, rarity: str, language: str, version: int) -> None:
    """The rarity badge in the art's top-left corner."""
    accent = RARITY_COLOURS[rarity]
    if version == 1:
        label, font, at = rarity.upper(), _font(15), (38, 33)
    else:  # the badge's middle at y 40, like version 1's
        label, font, at = LABELS[language][rarity], card_font(15), (38, 40)
    d.rounded_rectangle(_badge_box(font.getlength(label)), radius=14, fill=_PANEL, outline=accent, width=2)
    d.text(at, label, font=font, fill=accent, anchor=None if version == 1 else "lm")


def _badge_box(label_width: float) -> tuple[float, float, float, float]:
    return 26, 26, 26 + label_width + 24, 54


@lru_cache(maxsize=32)
def _badge(rarity: str, language: str) -> tuple[Image.Image, Image.Image, tuple[int, int]]:
    """The badge as drawn by _draw_badge (versions 2 and 3), its shape as a mask, and where it goes: a paste of the
    same pixels instead of laying out and rasterising its label on every card."""
    card, shape = Image.new("RGB", (CARD, CARD)), Image.new("L", (CARD, CARD), 0)
    _draw_badge(ImageDraw.Draw(card), rarity, language, 2)
    box = _badge_box(card_font(15).getlength(LABELS[language][rarity]))
    ImageDraw.Draw(shape).rounded_rectangle(box, radius=14, fill=255, outline=255, width=2)
    bounds = shape.getbbox()
    return card.crop(bounds), shape.crop(bounds), bounds[:2]

def _panel_text_v1(d: ImageDraw.ImageDraw, spec: ItemSpec, accent: tuple) -> None:
    for y, text, size, colour in (
        (470, spec.drop_name, 34, (255, 255, 255)),
        (514, f"Issued by {spec.issuer}", 19, (200, 200, 210)),
        (546, format_serial(spec.serial, spec.edition_size), 30, accent),
        (594, f"Contract {address_fingerprint(spec.contract_address)}", 16, (150, 150, 162)),
    ):
        fitted, font = _fit(text, size, _TEXT_MAX_W)
        d.text((_TEXT_X, y), fitted, font=font, fill=colour)


def _lines_v2(spec: ItemSpec, accent: tuple) -> list[tuple[int, str, int, tuple]]:
    """(baseline y, text, size, colour) of the panel's lines: name, issuer, serial, contract."""
    labels = LABELS[spec.language]
    # y is each line's baseline: CJK and Latin glyphs then share one line whatever the font's ascender
    return [
        (500, spec.drop_name, 30, (255, 255, 255)),
        (532, labels["issued_by"].format(spec.issuer), 18, (200, 200, 210)),
        (574, format_serial(spec.serial, spec.edition_size, spec.language), 28, accent),
        (608, labels["contract"].format(address_fingerprint(spec.contract_address)), 15, (150, 150, 162)),
    ]


def _draw_line(d: ImageDraw.ImageDraw, y: int, text: str, size: int, colour: tuple, origin=(0, 0)) -> None:
    fitted, font = _fit(text, size, _TEXT_MAX_W, card_font)
    d.text((_TEXT_X - origin[0], y - origin[1]), fitted, font=font, fill=colour, anchor="ls")


def _draw_serial(card: Image.Image, y: int, text: str, size: int, colour: tuple) -> None:
    """_draw_line's pixels, from cached glyphs: FreeType rasterising the whole line took 0.4 ms a card. The same bytes
    while every glyph's advance is a whole pixel (the card font's digits, space, slash and labels at the serial's
    size): each glyph then lands at its pen position as in Pillow's BASIC layout, which keeps the brighter of two
    overlapping glyphs' pixels, as np.maximum does. Any other line, or one that needs shrinking, is drawn by Pillow."""
    glyphs = [_glyph(size, ch) for ch in text]
    if sum(advance for *_, advance in glyphs) > _TEXT_MAX_W or any(a != int(a) for *_, a in glyphs):
        _draw_line(ImageDraw.Draw(card), y, text, size, colour)
        return
    placed, pen = [], 0
    for mask, (left, top), advance in glyphs:
        if mask.size:
            placed.append((mask, pen + left, top))
        pen += int(advance)
    x0, y0 = min(x for _, x, _ in placed), min(t for *_, t in placed)
    line = np.zeros((max(t + m.shape[0] for m, _, t in placed) - y0, max(x + m.shape[1] for m, x, _ in placed) - x0),
                    np.uint8)
    for mask, x, top in placed:
        under = line[top - y0:top - y0 + mask.shape[0], x - x0:x - x0 + mask.shape[1]]
        np.maximum(under, mask, out=under)
    card.paste(colour, (_TEXT_X + x0, y + y0), Image.fromarray(line, "L"))  # the blend d.text does with its mask


@lru_cache(maxsize=256)
def _glyph(size: int, ch: str) -> tuple[np.ndarray, tuple[int, int], float]:
    """A character of the card font drawn white on black (its coverage), its top-left from the baseline origin, and
    its advance."""
    font = card_font(size)
    left, top, right, bottom = font.getbbox(ch, anchor="ls")
    ink = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(ink).text((-left, -top), ch, font=font, fill=255, anchor="ls")
    return np.asarray(ink), (left, top), font.getlength(ch)


@lru_cache(maxsize=8)
def _fixed_lines(name: str, issuer: str, language: str, contract: str) -> Image.Image:
    """The text area with the name, issuer and contract lines (render version 3): the same on every card of a drop."""
    x0, y0, x1, y1 = _TEXT_AREA
    strip = Image.new("RGB", (x1 - x0, y1 - y0), _PANEL)
    d = ImageDraw.Draw(strip)
    spec = ItemSpec(name, issuer, 1, 1, contract, "-", language=language)
    for i, line in enumerate(_lines_v2(spec, _PANEL)):
        if i != 2:
            _draw_line(d, *line, origin=(x0, y0))
    return strip


@lru_cache(maxsize=None)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Render version 1 only: Pillow's bundled Latin font (CJK prints as boxes); its cards are committed on chain.
    return ImageFont.load_default(size=size)


@lru_cache(maxsize=256)
def _fit(text: str, size: int, max_width: int,
         font_of=_font) -> tuple[str, ImageFont.FreeTypeFont | ImageFont.ImageFont]:
    """Shrink the font to fit, down to 2/3 of `size`, then truncate with an ellipsis."""
    while size > 14 and font_of(size).getlength(text) > max_width:
        size -= 2
    font = font_of(size)
    if font.getlength(text) > max_width:
        while text and font.getlength(text + "…") > max_width:
            text = text[:-1]
        text += "…"
    return text, font


def _qr_image(url: str, box: int) -> Image.Image:
    """Versions 1 and 2: segno's QR symbol, one pixel a module, with a white border, scaled to fit the tile."""
    qr = segno.make(url, error="m", micro=False)
    n = len(qr.matrix)
    modules = Image.frombytes("L", (n, n), bytes(0 if v else 255 for row in qr.matrix for v in row))
    border = 2  # the white tile around it adds to the quiet zone
    scale = box // (modules.width + 2 * border)
    if scale < 2:
        raise ValueError("verify_url is too long to encode as a scannable QR code on the card")
    modules = ImageOps.expand(modules, border, fill=255)
    return modules.resize((modules.width * scale, modules.height * scale), Image.NEAREST)


def _qr_symbol(url: str, box: int) -> tuple[Image.Image, int]:
    """Versions 3 on: zxing-cpp's QR symbol without _qr_image's white border, which lies on the white tile anyway, each
    module repeated `scale` times (the same pixels as scaling it in the encoder or with Image.NEAREST); and its offset
    in the tile."""
    symbol = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    modules = np.asarray(symbol.to_image(scale=1, add_quiet_zones=False))
    n = modules.shape[0]
    scale = box // (n + 4)
    if scale < 2:
        raise ValueError("verify_url is too long to encode as a scannable QR code on the card")
    scaled = Image.fromarray(np.ascontiguousarray(modules.repeat(scale, 0).repeat(scale, 1)), "L")
    return scaled, (box - (n + 4) * scale) // 2 + 2 * scale


@lru_cache(maxsize=4)
def _fitted_base(data: bytes, size: tuple[int, int]) -> Image.Image:
    """Decode, validate and letterbox an uploaded artwork; cached since a drop reuses it per item."""
    try:
        img = Image.open(io.BytesIO(data), formats=("PNG", "JPEG"))
        if img.width * img.height > _MAX_BASE_PIXELS:
            raise ValueError(f"base_image is too large ({img.width}x{img.height}); max {_MAX_BASE_PIXELS} pixels")
        img.load()
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValueError(f"base_image is not a readable PNG or JPEG image: {exc}") from exc
    img = ImageOps.contain(ImageOps.exif_transpose(img).convert("RGBA"), size, Image.LANCZOS)
    out = Image.new("RGB", size, _IMAGE_BG)
    out.paste(img, ((size[0] - img.width) // 2, (size[1] - img.height) // 2), img)
    return out
