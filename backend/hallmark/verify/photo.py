"""Checks from a phone photo or screenshot: the card's QR code names the item, and the card found around it in the
picture is compared with the genuine card of that item.

The QR code's four corners in the picture, against the same corners in the genuine card, give the affine map of
the card into the picture (refined by matching patches across the card), so the card is cut out at any scale,
offset or slight tilt: a screenshot inside a page with a status bar, a photo of a screen. The comparison is local:
a whole-card perceptual hash does not see a changed serial digit, so both cards are blurred (to forgive
re-encoding and a pixel of misalignment) and compared block by block;
one block that differs more than a JPEG screenshot ever does means the picture was altered.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image, ImageChops, ImageFilter
from sqlalchemy import func, select

from ..art.render import format_serial
from ..db import Database
from ..inputs import UINT256_MAX, AddressError, checked_address
from ..minting.drops import card_png
from ..models import Drop
from .phishing import foreign_host

VERIFY_PATH = re.compile(r"/v/(0x[0-9a-fA-F]{40})/(\d{1,78})(?:[/?#]|$)")
RETRY_SIDE = 1200  # pictures larger than this are also searched downscaled (zxing misses big blurry modules)
COMPARE_SIDE = 320  # cards are compared at half size, in BLOCK x BLOCK blocks (16 card pixels: about one digit)
BLOCK = 8
# mean per-block difference (0-255) of the blurred cards: a genuine card through a JPEG screenshot measures under 9
# (480 px wide, quality 60), one changed serial digit 16 and more
DIFFERS_ABOVE = 12
PATCH = 128  # alignment patches, centred at ANCHORS (fractions of the card)
ANCHORS = ((0.2, 0.2), (0.8, 0.2), (0.5, 0.45), (0.2, 0.7), (0.2, 0.9))
REFINE_ROUNDS = 2


@dataclass(frozen=True)
class QrCode:
    text: str
    corners: np.ndarray  # 4x2: top-left, top-right, bottom-right, bottom-left, in image pixels


def read_qr(image: Image.Image) -> QrCode | None:
    """The first QR code in the picture: the whole picture first, then a downscaled copy of a large one."""
    gray = image.convert("L")
    attempts = [(gray, 1.0)]
    if max(gray.size) > RETRY_SIDE:
        factor = RETRY_SIDE / max(gray.size)
        attempts.append((gray.resize((round(gray.width * factor), round(gray.height * factor)),
                                     Image.Resampling.BOX), factor))
    for picture, factor in attempts:
        for found in zxingcpp.read_barcodes(picture, formats=zxingcpp.BarcodeFormat.QRCode):
            if found.valid and found.text:
                p = found.position
                corners = [(c.x / factor, c.y / factor)
                           for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)]
                return QrCode(found.text, np.array(corners, dtype=float))
    return None


def _affine(card_points: np.ndarray, picture_points: np.ndarray) -> tuple[float, ...]:
    """PIL's AFFINE coefficients sending card coordinates to picture coordinates, least squares over the corners.
    Affine, not a full perspective: extrapolated from a QR code a fifth of the card wide, a pixel of corner noise
    would tilt a perspective across the whole card."""
    design = np.hstack([card_points, np.ones((len(card_points), 1))])
    solution, *_ = np.linalg.lstsq(design, picture_points, rcond=None)
    return tuple(solution[:, 0]) + tuple(solution[:, 1])


def _blurred(card: Image.Image) -> Image.Image:
    small = card.convert("RGB").resize((COMPARE_SIDE, COMPARE_SIDE), Image.Resampling.BOX)
    return small.filter(ImageFilter.GaussianBlur(2))


def card_difference(genuine: Image.Image, candidate: Image.Image) -> tuple[float, tuple[int, int]]:
    """The largest mean difference of any block of the two cards, and that block's centre in card pixels."""
    diff = np.asarray(ImageChops.difference(_blurred(genuine), _blurred(candidate)), dtype=float).mean(axis=2)
    n = COMPARE_SIDE // BLOCK
    blocks = diff[:n * BLOCK, :n * BLOCK].reshape(n, BLOCK, n, BLOCK).mean(axis=(1, 3))
    # the outermost ring is left out: the card's edge is where resampling and a pixel of misalignment meet the
    # background (a genuine card downscaled to 412 px measured 18 there), and the card prints nothing so far out
    inner = blocks[1:-1, 1:-1]
    row, col = np.unravel_index(int(inner.argmax()), inner.shape)
    scale = genuine.width / COMPARE_SIDE
    return float(inner[row, col]), (round((col + 1.5) * BLOCK * scale), round((row + 1.5) * BLOCK * scale))


def _shift(genuine: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """How far (x, y) the patch's content sits in the cut-out from where it is in the genuine card (phase
    correlation, Hann-windowed)."""
    window = np.outer(np.hanning(PATCH), np.hanning(PATCH))
    cross = np.fft.fft2(cut * window) * np.conj(np.fft.fft2(genuine * window))
    peak = np.fft.ifft2(cross / (np.abs(cross) + 1e-9)).real
    dy, dx = np.unravel_index(int(peak.argmax()), peak.shape)
    return np.array([dx if dx < PATCH // 2 else dx - PATCH, dy if dy < PATCH // 2 else dy - PATCH], dtype=float)


def _apply(coefficients: tuple[float, ...], points: np.ndarray) -> np.ndarray:
    a, b, c, d, e, f = coefficients
    return np.stack([a * points[:, 0] + b * points[:, 1] + c, d * points[:, 0] + e * points[:, 1] + f], axis=1)


def cut_out_card(picture: Image.Image, qr: QrCode, genuine: Image.Image) -> Image.Image | None:
    """The card in the picture, straightened to the genuine card's size: first by the QR code's corners in both,
    then refined by matching patches across the card (the corners alone are a pixel off, which grows to several
    at the far side of the card)."""
    own = read_qr(genuine)
    if own is None:  # the renderer's own QR code always reads; nothing to align with otherwise
        return None
    rgb, reference = picture.convert("RGB"), np.asarray(genuine.convert("L"), dtype=float)
    centres = np.array([(x * genuine.width, y * genuine.height) for x, y in ANCHORS])
    coefficients = _affine(own.corners, qr.corners)
    for _ in range(REFINE_ROUNDS):
        cut = np.asarray(rgb.transform(genuine.size, Image.Transform.AFFINE, coefficients,
                                       Image.Resampling.BILINEAR).convert("L"), dtype=float)
        moved = []
        for x, y in centres.astype(int):
            box = np.s_[y - PATCH // 2:y + PATCH // 2, x - PATCH // 2:x + PATCH // 2]
            moved.append(np.array([x, y]) + _shift(reference[box], cut[box]))
        coefficients = _affine(np.vstack([own.corners, centres]),
                               np.vstack([qr.corners, _apply(coefficients, np.array(moved))]))
    return rgb.transform(genuine.size, Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR,
                         fillcolor=(0, 0, 0))


def check_photo(db: Database, picture: Image.Image, public_base_url: str, data_dir: Path) -> dict | None:
    """The answer for a picture whose QR code is an item's verify link, or None (no such QR code: the caller keeps
    the fingerprint search)."""
    qr = read_qr(picture)
    match = VERIFY_PATH.search(qr.text) if qr else None
    if match is None or int(match.group(2)) > UINT256_MAX:
        return None
    try:
        address = checked_address(match.group(1))
    except AddressError:  # a mistyped checksum names no contract
        return None
    serial = int(match.group(2))
    answer = {"match": "qr", "collection": address, "token_id": serial, "qr": {"text": qr.text},
              "warnings": foreign_host(qr.text, public_base_url)}
    with db.session() as s:
        drop = s.scalar(select(Drop).where(func.lower(Drop.contract_address) == address.lower()))
    if drop is None or not 1 <= serial <= drop.edition_size:
        answer["detail"] = "the QR code names an item that is not one of the bank's: the picture cannot be compared"
        return answer
    genuine = Image.open(io.BytesIO(card_png(drop, serial, data_dir))).convert("RGB")
    card = cut_out_card(picture, qr, genuine)
    label = f"{drop.name} {format_serial(serial, drop.edition_size)}"
    if card is None:
        answer["detail"] = f"the QR code names {label}; the card could not be located to compare it"
        return answer
    worst, where = card_difference(genuine, card)
    answer.update(drop={"slug": drop.slug, "name": drop.name}, serial_label=format_serial(serial, drop.edition_size),
                  picture="differs" if worst > DIFFERS_ABOVE else "matches", difference=round(worst, 1))
    if answer["picture"] == "matches":
        answer["detail"] = f"this is {label}, and the picture matches the genuine card"
    else:
        answer["difference_at"] = {"x": where[0], "y": where[1]}
        answer["detail"] = (f"this QR code is that of {label}, but the picture differs from the genuine card "
                            f"(most around x={where[0]}, y={where[1]} of {genuine.width}): an altered card")
    return answer
