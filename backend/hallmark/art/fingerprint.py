"""Perceptual fingerprints of cards, to recognise altered copies and screenshots of an item.

Two 256-bit hashes: a pHash of the card (what it looks like) and an average hash of its QR tile (which
item it is: items of one drop with the same traits differ mostly there). 64-bit hashes could not tell such
items apart once re-encoded; 256-bit ones can (measured: the right item at distance 4, the next at 36).

Method 1 (drops rendered with versions 1 to 3) hashes the whole card, shrunk to 256 px and resized again to 64 by
pHash with Lanczos: 2.5 ms a card. Method 2 (render version 4 on) hashes the art area alone, box-filtered straight
to pHash's 64 px input: 1.1 ms (both with the QR tile hash, one process, quiet machine), which counts at 100,000
cards, and it tells items apart where method 1 could not. The panel and frame every card shares dominated method 1's
hash: a card whose QR tile was scratched off came nearer to other drops' cards than to its own (measured: 4 of 40
such pictures found their card among 600 others by method 1, 32 by method 2, the other 8 tied with cards of the same
traits). A drop's stored fingerprints and an upload's are always taken by the same method, so an upload is
fingerprinted once per method in use.
"""
from __future__ import annotations

import io

import imagehash
import numpy as np
from PIL import Image

from .render import ART_BOX, CARD, QR_BOX

MAX_UPLOAD_SIDE = 4096  # 16 Mpx at most, ~50 MB decoded as RGB; a card is far smaller


def _bits(h: imagehash.ImageHash) -> bytes:
    return np.packbits(h.hash.flatten()).tobytes()  # first bit the most significant, as stored since the start


def method_of(render_version: int) -> int:
    return 2 if render_version >= 4 else 1


def _scaled(box: tuple[int, int, int, int], picture: Image.Image) -> tuple[float, float, float, float]:
    sx, sy = picture.width / CARD, picture.height / CARD
    return box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy


def fingerprint(card: Image.Image, method: int) -> tuple[bytes, bytes]:
    """(card hash, QR tile hash) of a picture taken to be a whole card, whatever its size."""
    gray = card.convert("L")
    if method == 1:  # box-filter shrinks first: pHash's own Lanczos resize of a full card costs ~15 ms
        scale = card.width / CARD
        whole = imagehash.phash(gray.resize((256, 256), Image.Resampling.BOX), hash_size=16)
        tile = gray.crop(tuple(round(v * scale) for v in QR_BOX)).resize((64, 64), Image.Resampling.BOX)
    else:
        whole = imagehash.phash(gray.resize((64, 64), Image.Resampling.BOX, box=_scaled(ART_BOX, card)), hash_size=16)
        tile = gray.resize((64, 64), Image.Resampling.BOX, box=_scaled(QR_BOX, card))
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
