"""Perceptual fingerprints of cards, to recognise altered copies and screenshots of an item.

Two 256-bit hashes: a pHash of the whole card (what it looks like) and an average hash of its QR tile (which
item it is: items of one drop with the same traits differ mostly there). 64-bit hashes could not tell such
items apart once re-encoded; 256-bit ones can (measured: the right item at distance 4, the next at 36).
"""
from __future__ import annotations

import io

import imagehash
from PIL import Image, UnidentifiedImageError

from .render import CARD, QR_BOX

MAX_UPLOAD_PIXELS = 40_000_000


def _bits(h: imagehash.ImageHash) -> bytes:
    return int("".join("1" if b else "0" for b in h.hash.flatten()), 2).to_bytes(32, "big")


def fingerprint(card: Image.Image) -> tuple[bytes, bytes]:
    gray = card.convert("L")
    # box-filter shrinks first: pHash's own Lanczos resize of a full card costs ~15 ms
    whole = imagehash.phash(gray.resize((256, 256), Image.Resampling.BOX), hash_size=16)
    scale = card.width / CARD
    tile = gray.crop(tuple(round(v * scale) for v in QR_BOX)).resize((64, 64), Image.Resampling.BOX)
    return _bits(whole), _bits(imagehash.average_hash(tile, hash_size=16))


def fingerprint_upload(data: bytes) -> tuple[bytes, bytes]:
    """Fingerprint an uploaded picture; ValueError with a reason when it is not a usable image."""
    try:
        img = Image.open(io.BytesIO(data))
        if img.width * img.height > MAX_UPLOAD_PIXELS:
            raise ValueError(f"image is too large ({img.width}x{img.height} pixels)")
        img = img.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValueError(f"not a readable image ({type(exc).__name__})") from None
    return fingerprint(img)


def distance(a: bytes, b: bytes) -> int:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()
