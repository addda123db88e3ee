"""Every item of a drop as the public sees it (image, metadata document, URLs) and the commitment over them.

The metadata bytes served by the backend are exactly the bytes hashed here, so anyone can re-hash what
they downloaded and check it against the collection's on-chain `contentRoot`.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Callable, Iterator

from eth_utils import keccak

from .commitment import ContentTree, leaf_hash
from .fingerprint import fingerprint, method_of
from .render import RENDER_VERSION, ItemSpec, image_sha256, render_item, render_item_and_image
from .fuhu import fuhu_traits

POLICY_NAMES = ("transferable", "soulbound", "holding_period")  # index = the contract's TransferPolicy


def policy_index(name: str) -> int:
    if name not in POLICY_NAMES:
        raise ValueError(f"'{name}' is not one of {', '.join(POLICY_NAMES)}")
    return POLICY_NAMES.index(name)


def collection_salt(slug: str) -> bytes:
    """The CREATE2 salt of a drop's collection: one slug, one address, so a retried creation cannot duplicate it."""
    return keccak(text=f"hallmark-drop:{slug}")


@dataclass(frozen=True)
class DropContent:
    """What is fixed about a drop's items before its collection exists."""

    name: str
    description: str
    issuer: str
    edition_size: int
    contract_address: str
    public_base_url: str
    transfer_policy: str = "transferable"
    holding_period: int = 0
    artwork: str = "fuhu"
    base_image: bytes | None = None
    seed: str = ""
    language: str = "zh"
    render_version: int = RENDER_VERSION  # 1 for drops made before Chinese cards (see render)

    def verify_url(self, serial: int) -> str:
        return f"{self.public_base_url}/v/{self.contract_address}/{serial}"

    def image_url(self, serial: int) -> str:
        return f"{self.public_base_url}/art/{self.contract_address}/{serial}.png"

    def item_spec(self, serial: int) -> ItemSpec:
        return ItemSpec(
            drop_name=self.name, issuer=self.issuer, edition_size=self.edition_size, serial=serial,
            contract_address=self.contract_address, verify_url=self.verify_url(serial),
            artwork=self.artwork, base_image=self.base_image, seed=self.seed,
            language=self.language, render_version=self.render_version,
        )

    def image(self, serial: int) -> bytes:
        return render_item(self.item_spec(serial))

    def metadata(self, serial: int) -> bytes:
        """OpenSea metadata JSON, canonically encoded (sorted keys, no spaces) so its hash is stable."""
        attributes = [
            {"trait_type": "Serial", "value": serial, "display_type": "number", "max_value": self.edition_size},
            {"trait_type": "Edition size", "value": self.edition_size},
            {"trait_type": "Issuer", "value": self.issuer},
            {"trait_type": "Transfer policy", "value": self.transfer_policy},
        ]
        if self.transfer_policy == "holding_period":
            attributes.append({"trait_type": "Holding period (days)", "value": round(self.holding_period / 86400, 2)})
        if self.artwork == "fuhu":
            attributes += [{"trait_type": k, "value": v} for k, v in fuhu_traits(serial, self.seed).items()]
        doc = {
            "name": f"{self.name} #{serial}",
            "description": self.description,
            "image": self.image_url(serial),
            "external_url": self.verify_url(serial),
            "attributes": attributes,
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def hashes(self, serial: int) -> tuple[bytes, bytes]:
        return image_sha256(self.image(serial)), hashlib.sha256(self.metadata(serial)).digest()

    def record(self, serial: int) -> tuple[bytes, bytes, bytes, bytes]:
        """Image and metadata SHA-256 plus the card's perceptual fingerprints (for image checks)."""
        png, card = render_item_and_image(self.item_spec(serial))
        card_hash, qr_hash = fingerprint(card, method_of(self.render_version))
        return image_sha256(png), hashlib.sha256(self.metadata(serial)).digest(), card_hash, qr_hash

    def iter_hashes(self) -> Iterator[tuple[int, bytes, bytes]]:
        for serial in range(1, self.edition_size + 1):
            yield (serial, *self.hashes(serial))


def build_commitment(
    content: DropContent, progress: Callable[[int], None] | None = None
) -> tuple[ContentTree, list[tuple[bytes, bytes]]]:
    """Render every serial, hash it, and return the Merkle tree plus the (image, metadata) hashes in serial order."""
    hashes, leaves = [], []
    for serial, img, meta in content.iter_hashes():
        hashes.append((img, meta))
        leaves.append(leaf_hash(serial, img, meta))
        if progress:
            progress(1)
    return ContentTree.build(leaves), hashes
