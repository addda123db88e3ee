"""The text of render version 2 cards: Noto Sans CJK SC 2.004 (SIL Open Font License 1.1), installed from the
pinned PyPI package noto-cjk-sans-otc, so Chinese, mixed and Latin names print with real glyphs and a card's bytes
(committed on chain) do not depend on the fonts of the machine that renders it. Labels follow the drop's language.
"""
from __future__ import annotations

from functools import lru_cache

import noto_cjk_sans_otc
from PIL import ImageFont

FONT_PATH = str(noto_cjk_sans_otc.FONT_PATH)
FACE_INDEX = 2  # the collection holds JP, KR, SC, TC, HK faces: SC draws the Simplified Chinese forms

LABELS = {
    "zh": {"issued_by": "发行方 {}", "serial": "编号 {} / {}", "contract": "合约 {}",
           "Common": "普通", "Uncommon": "少见", "Rare": "稀有", "Legendary": "传说"},
    "en": {"issued_by": "Issued by {}", "serial": "No. {} / {}", "contract": "Contract {}",
           "Common": "COMMON", "Uncommon": "UNCOMMON", "Rare": "RARE", "Legendary": "LEGENDARY"},
}
LANGUAGES = tuple(LABELS)
_NOT_DRAWN = "\n\t"  # allowed in a description, which is never drawn with them


@lru_cache(maxsize=None)
def card_font(size: int) -> ImageFont.FreeTypeFont:
    # BASIC layout: glyph placement then depends only on the FreeType inside the pinned Pillow wheel, not on
    # whether this machine has the libfribidi that Raqm layout loads at run time.
    return ImageFont.truetype(FONT_PATH, size, index=FACE_INDEX, layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=1)
def _codepoints() -> frozenset[int]:
    from fontTools.ttLib import TTCollection  # only drop creation needs it

    with TTCollection(FONT_PATH, lazy=True) as collection:
        return frozenset(collection[FACE_INDEX].getBestCmap())


def missing_glyph(text: str) -> str | None:
    """The first character of `text` the card font cannot draw (it would print as a box), or None."""
    codepoints = _codepoints()
    return next((ch for ch in text if ch not in _NOT_DRAWN and ord(ch) not in codepoints), None)


def glyph_error(ch: str) -> str:
    return f"The card font has no glyph for '{ch}' (U+{ord(ch):04X})."
