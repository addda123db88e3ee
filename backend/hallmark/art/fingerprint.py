"""Perceptual fingerprints of cards, to recognise altered copies and screenshots of an item.

Two 256-bit hashes: a pHash of the whole card (what it looks like) and an average hash of its QR tile (which
item it is: items of one drop with the same traits differ mostly there). 64-bit hashes could not tell such
items apart once re-encoded; 256-bit ones can (measured: the right item at distance 4, the next at 36).
"""
from __future__ import annotations

import io

import imagehash
import numpy as np
from PIL import Image

from .render import CARD, QR_BOX

MAX_UPLOAD_SIDE = 4096  # 16 Mpx at most, ~50 MB decoded as RGB; a card is far smaller


def _bits(h: imagehash.ImageHash) -> bytes:
    return np.packbits(h.hash.flatten()).tobytes()  # first bit the most significant, as stored since the start


def fingerprint(card: Image.Image) -> tuple[bytes, bytes]:
    gray = card.convert("L")
    # box-filter shrinks first: pHash's own Lanczos resize of a full card costs ~15 ms
    whole = imagehash.phash(gray.resize((256, 256), Image.Resampling.BOX), hash_size=16)
    scale = card.width / CARD
    tile = gray.crop(tuple(round(v * scale) for v in QR_BOX)).resize((64, 64), Image.Resampling.BOX)
    return _bits(whole), _bits(imagehash.average_hash(tile, hash_size=16))


class TooManyPixels(ValueError):
    pass


def open_upload(data: bytes) -> Image.Image:
    """An uploaded picture, opened but not decoded: its header gives the size, checked against the pixel budget
    before any pixel is allocated (a 140 KB PNG can declare 6000x6000, 100 MB decoded). ValueError says why not."""
    try:
        img = Image.open(io.BytesIO(data))
    except Exception as exc:  # UnidentifiedImageError, DecompressionBombError (past 178 Mpx), struct.error...
        raise ValueError(f"not a readable image ({type(exc).__name__})") from None
    if max(img.size) > MAX_UPLOAD_SIDE:
        raise TooManyPixels(f"the image is {img.width}x{img.height} pixels: at most {MAX_UPLOAD_SIDE}x"
                            f"{MAX_UPLOAD_SIDE} can be checked")
    return img


def fingerprint_upload(data: bytes | Image.Image) -> tuple[bytes, bytes]:
    """Fingerprint an uploaded picture (its bytes, or open_upload's image); ValueError with a reason when it is not
    a usable image."""
    img = open_upload(data) if isinstance(data, bytes) else data
    try:
        img = img.convert("RGB")
    except Exception as exc:  # a truncated or corrupt file fails while decoding, in many ways (OSError, SyntaxError...)
        raise ValueError(f"not a readable image ({type(exc).__name__})") from None
    return fingerprint(img)
