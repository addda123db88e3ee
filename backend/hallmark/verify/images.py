"""Image check: an uploaded picture is the genuine file (SHA-256), an altered copy or screenshot of an item
(perceptual near-match), an item named by the card's QR code with its picture compared (verify/photo.py), or no
item of this bank's at all."""
from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select

from ..art.fingerprint import TooManyPixels, open_upload
from ..db import Database
from ..models import Drop, ItemHash
from .fingerprints import FingerprintIndex
from .photo import check_photo

ALLOWED_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp", b"GIF8": "image/gif"}
MAX_BYTES = 8 * 1024 * 1024
NEAR_CARD_BITS = 48  # of 256: a re-encoded or resized card measures under 10, another item of the drop 36+
AMBIGUOUS_MARGIN = 8
_FINGERPRINTS = FingerprintIndex()  # this process's copy of every card's fingerprints


class ImageRejected(ValueError):
    def __init__(self, reason: str, status: int = 422):
        super().__init__(reason)
        self.status = status  # 413 too large, 415 not an image type, 422 unreadable


def check_type(data: bytes) -> str:
    if not data:
        raise ImageRejected("the file is empty")
    if len(data) > MAX_BYTES:
        raise ImageRejected(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB", 413)
    for magic, kind in ALLOWED_TYPES.items():
        if data.startswith(magic):
            return kind
    raise ImageRejected("only PNG, JPEG, WebP or GIF images can be checked", 415)


def match_image(db: Database, data: bytes, public_base_url: str, data_dir: Path) -> dict:
    check_type(data)
    try:  # the pixel budget, before the database and before decoding
        image = open_upload(data)
    except TooManyPixels as exc:
        raise ImageRejected(str(exc), 413) from None
    except ValueError as exc:
        raise ImageRejected(str(exc)) from None
    digest = hashlib.sha256(data).digest()
    with db.session() as s:
        exact = s.execute(select(Drop.contract_address, ItemHash.serial).join(Drop, Drop.id == ItemHash.drop_id)
                          .where(ItemHash.image_sha256 == digest)).first()
    if exact:
        return {"match": "exact", "collection": exact[0], "token_id": exact[1],
                "detail": "this file is byte for byte the genuine artwork of the item"}
    try:
        picture = image.convert("RGB")
    except Exception as exc:  # a truncated or corrupt file fails while decoding, in many ways (OSError, SyntaxError...)
        raise ImageRejected(f"not a readable image ({type(exc).__name__})") from None
    by_qr = check_photo(db, picture, public_base_url, data_dir)
    if by_qr is not None:
        return by_qr
    scored = _FINGERPRINTS.nearest(db, picture, NEAR_CARD_BITS)
    if not scored:
        return {"match": "none", "detail": "this picture does not look like any of the bank's collectibles"}
    scored.sort()
    best = scored[0]
    near = {"match": "near", "collection": best[2], "token_id": best[3], "distance": best[1],
            "detail": f"looks like item No. {best[3]} but the file differs: an altered copy or a screenshot, "
                      "not the original file"}
    close = [s for s in scored[1:] if s[0] - best[0] < AMBIGUOUS_MARGIN]
    if close:
        near["alternatives"] = [{"collection": a, "token_id": t} for _, _, a, t in close[:5]]
        near["detail"] += "; it also resembles other items, so check the serial on the picture"
    return near
