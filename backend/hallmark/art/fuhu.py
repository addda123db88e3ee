"""Built-in "Fuhu" generator: a stylised Year-of-the-Tiger face with seeded traits.

Traits come straight from SHA-256 of (seed, serial, trait name) rather than from
``random`` so they stay stable across Python versions: they end up in token
metadata and in the drop's content commitment.
"""

from __future__ import annotations

import hashlib
import math
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

from . import layercache

# Trait tables: (value, weight). Order matters for determinism; append only.
_TRAITS: dict[str, tuple[tuple[str, int], ...]] = {
    "Background": (("Crimson", 3), ("Jade", 2), ("Midnight", 2), ("Sky", 2), ("Plum", 2), ("Teal", 1)),
    "Pattern": (("Plain", 2), ("Clouds", 3), ("Coins", 2), ("Rays", 2), ("Lattice", 2)),
    "Stripes": (("Classic", 5), ("Bold", 3), ("Wang", 2)),
    "Stripe Count": (("2", 2), ("3", 3), ("4", 2)),
    "Eyes": (("Amber", 4), ("Jade", 2), ("Sapphire", 2), ("Violet", 1), ("Ice", 1)),
    "Accessory": (("None", 8), ("Red Lantern", 3), ("Gold Coin", 3), ("Festive Hat", 3), ("Plum Blossom", 3)),
    "Rarity": (("Common", 65), ("Uncommon", 25), ("Rare", 8), ("Legendary", 2)),
}
# Fur follows rarity so the rare ones are visible at a glance.
_FUR_BY_RARITY = {"Common": "Orange", "Uncommon": "Orange", "Rare": "Golden", "Legendary": "Snow"}

BACKGROUNDS = {
    "Crimson": (170, 24, 44), "Jade": (24, 110, 80), "Midnight": (26, 34, 66),
    "Sky": (52, 116, 160), "Plum": (100, 42, 88), "Teal": (18, 96, 110),
}
RARITY_COLOURS = {
    "Common": (190, 196, 204), "Uncommon": (84, 196, 140),
    "Rare": (84, 150, 236), "Legendary": (236, 188, 60),
}
# fur: (base, outline/stripes)
_FUR = {
    "Orange": ((242, 138, 36), (30, 20, 16)),
    "Golden": ((248, 184, 56), (42, 26, 14)),
    "Snow": ((240, 236, 228), (40, 40, 52)),
}
_EYES = {
    "Amber": (242, 168, 30), "Jade": (60, 176, 110), "Sapphire": (60, 126, 216),
    "Violet": (146, 92, 214), "Ice": (150, 214, 236),
}
_CREAM = (255, 247, 234)
_PINK = (240, 150, 150)
_RED = (206, 32, 40)
_GOLD = (240, 190, 60)
_DARK_GOLD = (170, 116, 20)

SS = 3  # supersampling factor: ImageDraw has no anti-aliasing, so draw big and shrink
TIGER_SIZE = (440, 420)


def fuhu_traits(serial: int, seed: str = "") -> dict[str, str]:
    """Trait name -> value for one serial of a Fuhu drop (pure function of its inputs)."""
    return dict(_traits(serial, seed))


@lru_cache(maxsize=16)  # a card's traits are read twice in a row: to paint it and for its metadata
def _traits(serial: int, seed: str) -> tuple[tuple[str, str], ...]:
    traits = {}
    for name, options in _TRAITS.items():
        digest = hashlib.sha256(f"hallmark/fuhu|{seed}|{serial}|{name}".encode()).digest()
        pick = int.from_bytes(digest[:8], "big") % sum(w for _, w in options)
        for value, weight in options:
            if pick < weight:
                traits[name] = value
                break
            pick -= weight
    traits["Fur"] = _FUR_BY_RARITY[traits["Rarity"]]
    return tuple(traits.items())


def _s(*coords: float) -> list[int]:
    return [round(c * SS) for c in coords]


def _shrink(img: Image.Image) -> Image.Image:
    return img.resize((img.width // SS, img.height // SS), Image.LANCZOS)


def _mask(size: tuple[int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    m = Image.new("L", (size[0] * SS, size[1] * SS), 0)
    return m, ImageDraw.Draw(m)


def _mirror(points: list[tuple[float, float]], width: float) -> list[tuple[float, float]]:
    return [(width - x, y) for x, y in points]


def _flat(points: list[tuple[float, float]]) -> list[int]:
    return _s(*(c for p in points for c in p))


# --- tiger face -------------------------------------------------------------

_W, _H = TIGER_SIZE
_CX = _W / 2
_HEAD = (40, 70, 400, 380)
_EARS = ((45, 28, 165, 148), (275, 28, 395, 148))
_INNER_EARS = ((74, 56, 138, 120), (302, 56, 366, 120))
_RUFF = [(80, 196), (14, 236), (50, 254), (6, 290), (52, 300), (28, 338), (84, 332), (96, 362), (150, 358)]
_EYE_CENTRES = ((160, 198), (280, 198))


def _head_edge_x(y: float) -> float:
    """Left edge of the head ellipse at height y, for stripes that start at the fur's edge."""
    x0, y0, x1, y1 = _HEAD
    a, b, cy = (x1 - x0) / 2, (y1 - y0) / 2, (y0 + y1) / 2
    return _CX - a * math.sqrt(max(0.0, 1 - ((y - cy) / b) ** 2))


def _stripes_mask(style: str, count: int) -> Image.Image:
    m, d = _mask(TIGER_SIZE)
    half = {"Classic": 11, "Bold": 16, "Wang": 10}[style]
    length = {"Classic": 84, "Bold": 96, "Wang": 72}[style]
    for i in range(count):
        y = 150 + i * 130 / count
        x = _head_edge_x(y)
        wedge = [(x - 20, y - half), (x + length, y + 4 + i * 3), (x - 20, y + half)]
        d.polygon(_flat(wedge), fill=255)
        d.polygon(_flat(_mirror(wedge, _W)), fill=255)
    if style == "Wang":
        # 王 ("king") on the forehead, the traditional mark of the tiger
        for y, half_w in ((96, 38), (118, 28), (140, 38)):
            d.rounded_rectangle(_s(_CX - half_w, y - 6, _CX + half_w, y + 6), radius=6 * SS, fill=255)
        d.rounded_rectangle(_s(_CX - 6, 94, _CX + 6, 146), radius=6 * SS, fill=255)
    else:
        for dx, top, tip in ((0, 66, 150), (-36, 76, 128), (36, 76, 128)):
            d.polygon(_flat([(_CX + dx - half, top), (_CX + dx + half, top), (_CX + dx, tip)]), fill=255)
    return m


_LAYERS: dict[tuple[str, str, int], Image.Image] = {}  # drawn, or read from the layer cache by warm_caches


def tiger_layer(fur: str, stripes: str, stripe_count: int) -> Image.Image:
    """RGBA tiger face without eyes (eyes are pasted per item so this stays cacheable)."""
    kind = (fur, stripes, stripe_count)
    if kind not in _LAYERS:
        _LAYERS[kind] = _draw_tiger(*kind)
    return _LAYERS[kind]


def _draw_tiger(fur: str, stripes: str, stripe_count: int) -> Image.Image:
    base, ink = _FUR[fur]
    layer = Image.new("RGBA", (_W * SS, _H * SS), (0, 0, 0, 0))
    ruffs = (_RUFF, _mirror(_RUFF, _W))

    # Outline first: every silhouette shape grown by `w`, so merged shapes share one outline.
    w = 5
    d = ImageDraw.Draw(layer)
    for box in (*_EARS, _HEAD):
        d.ellipse(_s(box[0] - w, box[1] - w, box[2] + w, box[3] + w), fill=ink)
    for ruff in ruffs:
        d.polygon(_flat(ruff), fill=ink, outline=ink, width=2 * w * SS)

    for box in _EARS:
        d.ellipse(_s(*box), fill=base)
    for box in _INNER_EARS:
        d.ellipse(_s(*box), fill=_PINK)

    face, fd = _mask(TIGER_SIZE)
    fd.ellipse(_s(*_HEAD), fill=255)
    for ruff in ruffs:
        fd.polygon(_flat(ruff), fill=255)
    layer.paste((*base, 255), mask=face)

    # White lower cheeks and ruff, clipped to the face.
    cheeks, cd = _mask(TIGER_SIZE)
    for ruff in ruffs:
        cd.polygon(_flat(ruff), fill=255)
    cd.ellipse(_s(84, 262, 204, 390), fill=255)
    cd.ellipse(_s(236, 262, 356, 390), fill=255)
    cd.ellipse(_s(170, 296, 270, 390), fill=255)  # chin
    layer.paste((*_CREAM, 255), mask=ImageChops.darker(cheeks, face))
    layer.paste((*ink, 255), mask=ImageChops.darker(_stripes_mask(stripes, stripe_count), face))

    ex, ey = _EYE_CENTRES[0]
    for cx in (ex, _W - ex):  # white brow spots above the eyes
        d.ellipse(_s(cx - 26, ey - 50, cx + 26, ey - 28), fill=_CREAM)
    for box in ((168, 256, 222, 304), (218, 256, 272, 304)):  # muzzle puffs
        d.ellipse(_s(*box), fill=_CREAM, outline=(214, 196, 176), width=2 * SS)
    for x, y in ((184, 278), (196, 290), (202, 272)):  # whisker dots
        for px in (x, _W - x):
            d.ellipse(_s(px - 3, y - 3, px + 3, y + 3), fill=ink)
    for y0, y1 in ((276, 250), (286, 286), (296, 322)):  # whiskers
        d.line(_s(176, y0, 48, y1), fill=ink, width=2 * SS)
        d.line(_s(_W - 176, y0, _W - 48, y1), fill=ink, width=2 * SS)
    d.polygon(_flat([(192, 236), (248, 236), (220, 266)]), fill=(222, 96, 110), outline=ink, width=3 * SS)
    d.ellipse(_s(204, 240, 218, 248), fill=(248, 180, 186))
    d.line(_s(220, 266, 220, 284), fill=ink, width=3 * SS)
    d.arc(_s(194, 268, 220, 294), 0, 180, fill=ink, width=3 * SS)
    d.arc(_s(220, 268, 246, 294), 0, 180, fill=ink, width=3 * SS)
    return _shrink(layer)


_BAND = 8  # rows: 106 bands of 16,000 pixels in all for a 440x420 tiger (taller ones blend more, shorter ones cost calls)


@lru_cache(maxsize=32)
def _tiger_paste(fur: str, stripes: str, stripe_count: int) -> tuple[Image.Image, Image.Image, tuple]:
    """tiger_layer split for pasting: its RGB with a 1-bit mask of its opaque pixels, and the bands of its edge that
    hold partly transparent ones (3% of its pixels) with where they go. Pasting it under its own alpha blends every
    pixel (0.65 ms); a 1-bit copy of the opaque ones, then the edge bands under their alpha, gives the same pixels
    (a blend keeps what is under alpha 0 and copies alpha 255) in 0.36 ms. The bands are pasted through Pillow's core
    image (Image.paste's checks cost more than a band's blend) at their box relative to the tiger's top-left."""
    tiger = tiger_layer(fur, stripes, stripe_count)
    alpha = np.asarray(tiger.getchannel("A"))
    partial = (alpha > 0) & (alpha < 255)
    bands = []
    for y in range(0, tiger.height, _BAND):
        columns = np.flatnonzero(partial[y:y + _BAND].any(axis=0))
        if not columns.size:
            continue
        # runs of columns with partly transparent pixels, split where 8 or more columns in a row have none
        for run in np.split(columns, np.flatnonzero(np.diff(columns) > 8) + 1):
            box = (int(run[0]), y, int(run[-1]) + 1, min(y + _BAND, tiger.height))
            bands.append((tiger.crop(box).im, box))
    return tiger.convert("RGB"), Image.fromarray(alpha == 255), tuple(bands)


@lru_cache(maxsize=None)
def eye_sprites(colour: str) -> tuple[Image.Image, Image.Image]:
    """(left, right) RGBA eyes: almond shape slanting up at the outer corner."""
    w, h = 92, 60
    img = Image.new("RGBA", (w * SS, h * SS), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    steps = [i / 24 for i in range(25)]
    top = [(6 + 80 * t, 32 - 22 * math.sin(math.pi * t) + 8 * (t - 0.5)) for t in steps]
    bottom = [(6 + 80 * t, 32 + 16 * math.sin(math.pi * t) + 8 * (t - 0.5)) for t in reversed(steps)]
    d.polygon(_flat(top + bottom), fill=_EYES[colour], outline=(20, 16, 14), width=5 * SS)
    d.ellipse(_s(35, 16, 61, 42), fill=(10, 10, 10))  # tigers have round pupils
    d.ellipse(_s(39, 19, 47, 27), fill=(255, 255, 255))
    left = _shrink(img)
    return left, ImageOps.mirror(left)


# --- accessories ------------------------------------------------------------

def _lantern(d: ImageDraw.ImageDraw) -> None:
    d.line(_s(45, 0, 45, 34), fill=_GOLD, width=3 * SS)
    d.ellipse(_s(6, 36, 84, 122), fill=_RED, outline=(120, 10, 20), width=2 * SS)
    for box in ((24, 36, 66, 122), (36, 36, 54, 122)):  # ribs
        d.ellipse(_s(*box), outline=(140, 14, 24), width=2 * SS)
    d.rounded_rectangle(_s(26, 30, 64, 42), radius=3 * SS, fill=_GOLD)
    d.rounded_rectangle(_s(26, 116, 64, 128), radius=3 * SS, fill=_GOLD)
    for x in range(36, 56, 4):  # tassel
        d.line(_s(x, 128, x, 166), fill=_RED if x % 8 else _GOLD, width=2 * SS)


def _coin(d: ImageDraw.ImageDraw) -> None:
    d.ellipse(_s(4, 4, 106, 106), fill=_GOLD, outline=_DARK_GOLD, width=4 * SS)
    d.ellipse(_s(18, 18, 92, 92), outline=_DARK_GOLD, width=3 * SS)
    d.rectangle(_s(40, 40, 70, 70), fill=_DARK_GOLD)
    d.rectangle(_s(44, 44, 66, 66), fill=(0, 0, 0, 0))  # the hole in a cash coin


def _hat(d: ImageDraw.ImageDraw) -> None:
    d.chord(_s(10, 20, 130, 140), 180, 360, fill=_RED, outline=(120, 10, 20), width=2 * SS)
    d.rounded_rectangle(_s(4, 72, 136, 90), radius=8 * SS, fill=_GOLD, outline=_DARK_GOLD, width=2 * SS)
    d.ellipse(_s(58, 4, 82, 28), fill=_GOLD, outline=_DARK_GOLD, width=2 * SS)


def _blossoms(d: ImageDraw.ImageDraw) -> None:
    for cx, cy, r in ((40, 44, 20), (88, 24, 14), (86, 74, 12)):
        for k in range(5):
            a = math.radians(k * 72 - 90)
            px, py = cx + r * 0.9 * math.cos(a), cy + r * 0.9 * math.sin(a)
            d.ellipse(_s(px - r * 0.6, py - r * 0.6, px + r * 0.6, py + r * 0.6),
                      fill=(248, 170, 196), outline=(200, 90, 130), width=SS)
        d.ellipse(_s(cx - r * 0.3, cy - r * 0.3, cx + r * 0.3, cy + r * 0.3), fill=_GOLD)


# name -> (painter, sprite size, position relative to the tiger's top-left; None = art top-right)
_ACCESSORIES = {
    "Red Lantern": (_lantern, (90, 170), None),
    "Gold Coin": (_coin, (110, 110), (-64, 290)),
    "Festive Hat": (_hat, (140, 94), (150, 10)),
    "Plum Blossom": (_blossoms, (112, 96), (10, 0)),
}


@lru_cache(maxsize=None)
def accessory_sprite(name: str) -> Image.Image:
    painter, size, _ = _ACCESSORIES[name]
    img = Image.new("RGBA", (size[0] * SS, size[1] * SS), (0, 0, 0, 0))
    painter(ImageDraw.Draw(img))
    return _shrink(img)


# --- background -------------------------------------------------------------

@lru_cache(maxsize=16)
def pattern_mask(pattern: str, size: tuple[int, int]) -> Image.Image:
    """Alpha mask of the background pattern; the drop's colour is applied per item."""
    m, d = _mask(size)
    w, h = size
    if pattern == "Clouds":
        for row, y in enumerate(range(40, h, 110)):
            for x in range(-40 + (row % 2) * 80, w + 80, 160):
                for dx, dy, r in ((0, 0, 22), (26, -12, 26), (54, 0, 22), (27, 8, 20)):
                    d.ellipse(_s(x + dx - r, y + dy - r, x + dx + r, y + dy + r), fill=255)
    elif pattern == "Coins":
        for row, y in enumerate(range(30, h + 40, 64)):
            for x in range((row % 2) * 32, w + 40, 64):
                d.ellipse(_s(x - 20, y - 20, x + 20, y + 20), outline=255, width=4 * SS)
                d.rectangle(_s(x - 6, y - 6, x + 6, y + 6), outline=255, width=3 * SS)
    elif pattern == "Rays":
        cx, cy, r = w / 2, h / 2, w + h
        for k in range(0, 24, 2):
            a0, a1 = math.radians(k * 15), math.radians(k * 15 + 15)
            d.polygon(_flat([(cx, cy), (cx + r * math.cos(a0), cy + r * math.sin(a0)),
                             (cx + r * math.cos(a1), cy + r * math.sin(a1))]), fill=255)
    elif pattern == "Lattice":
        for x in range(-h, w + h, 48):
            d.line(_s(x, 0, x + h, h), fill=255, width=3 * SS)
            d.line(_s(x, h, x + h, 0), fill=255, width=3 * SS)
    return _shrink(m)


@lru_cache(maxsize=4)
def glow_mask(size: tuple[int, int]) -> Image.Image:
    """Soft light behind the face so it reads on every background colour."""
    m = Image.new("L", size, 0)
    w, h = size
    ImageDraw.Draw(m).ellipse((w / 2 - 200, h / 2 - 180, w / 2 + 200, h / 2 + 200), fill=150)
    return m.filter(ImageFilter.GaussianBlur(60))


def _blend(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))


@lru_cache(maxsize=32)  # 6 colours x 5 patterns, ~0.8 MB each: two full-size masked pastes saved per card
def backdrop(background: str, pattern: str, size: tuple[int, int]) -> Image.Image:
    """Background colour, pattern and glow: the same pixels as painting them onto each card."""
    bg = BACKGROUNDS[background]
    img = Image.new("RGB", size, bg)
    if pattern != "Plain":
        img.paste(_blend(bg, (255, 236, 200), 0.14), (0, 0), pattern_mask(pattern, size))
    img.paste(_blend(bg, (255, 244, 220), 0.5), (0, 0), glow_mask(size))
    return img


def paint_fuhu(card: Image.Image, box: tuple[int, int, int, int], traits: dict[str, str]) -> None:
    """Paint background, tiger and accessory for `traits` into `box` of the RGB `card`."""
    x0, y0, x1, y1 = box
    size = (x1 - x0, y1 - y0)
    card.paste(backdrop(traits["Background"], traits["Pattern"], size), (x0, y0))

    tx, ty = x0 + (size[0] - _W) // 2, y1 - _H - 6
    rgb, opaque, edge = _tiger_paste(traits["Fur"], traits["Stripes"], int(traits["Stripe Count"]))
    card.paste(rgb, (tx, ty), opaque)
    for band, (left, top, right, bottom) in edge:
        card.im.paste(band, (tx + left, ty + top, tx + right, ty + bottom), band)
    left, right = eye_sprites(traits["Eyes"])
    for sprite, (ex, ey) in zip((left, right), _EYE_CENTRES):
        card.paste(sprite, (tx + ex - sprite.width // 2, ty + ey - sprite.height // 2), sprite)

    accessory = traits["Accessory"]
    if accessory != "None":
        sprite = accessory_sprite(accessory)
        offset = _ACCESSORIES[accessory][2]
        pos = (x1 - sprite.width - 24, y0) if offset is None else (tx + offset[0], ty + offset[1])
        card.paste(sprite, pos, sprite)


def tiger_kinds() -> list[tuple[str, str, int]]:
    """Every (fur, stripes, stripe count) the traits can pick, in a fixed order."""
    return [(fur, stripes, int(count)) for fur in sorted(set(_FUR_BY_RARITY.values()))
            for stripes, _ in _TRAITS["Stripes"] for count, _ in _TRAITS["Stripe Count"]]


def warm_caches(size: tuple[int, int], layer_folder=layercache.DEFAULT_DIR) -> None:
    """Make every layer the traits can pick: a process forked afterwards starts with all of them. The tigers come from
    the layer cache, or are drawn (about 2.5 s) and stored there for the next start."""
    kinds = tiger_kinds()
    stored = layercache.read(kinds, layer_folder)  # all of them, or none
    _LAYERS.update(stored)
    for kind in kinds:
        _tiger_paste(*kind)
    if not stored:
        layercache.write({kind: _LAYERS[kind] for kind in kinds}, layer_folder)
    for colour, _ in _TRAITS["Eyes"]:
        eye_sprites(colour)
    for name in _ACCESSORIES:
        accessory_sprite(name)
    for background, _ in _TRAITS["Background"]:
        for pattern, _ in _TRAITS["Pattern"]:
            backdrop(background, pattern, size)
