"""The deployment record written by scripts/deploy.py and read by the backend and later scripts."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import config
from ..security.files import write_private


class DeploymentMissing(Exception):
    """No deployment record (or it names a chain that is gone)."""


@dataclass
class Deployment:
    network: str
    chain_id: int
    registry: str
    implementation: str
    block_number: int
    block_hash: str
    issuer: str
    artifacts: str  # folder holding the contracts' ABI/bytecode JSON (brownie's build/contracts)
    drops: dict[str, dict] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        """Written atomically, readable by its owner only (0600, in 0700 folders it creates)."""
        write_private(path, json.dumps(asdict(self), indent=2) + "\n")


def record_path(network: str) -> Path:
    return config.data_dir() / "deployments" / f"{network}.json"


def load(path: Path) -> Deployment:
    if not path.exists():
        raise DeploymentMissing(f"no deployment record at {path}: run scripts/deploy.py for this network first")
    try:
        return Deployment(**json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise DeploymentMissing(f"deployment record {path} is unreadable ({exc})") from None


def mismatch(record: Deployment, w3) -> str | None:
    """Why the record does not describe the chain behind `w3` (another chain id, no registry code, or a deployment
    block that is not on this chain, e.g. a chain started afresh); None when it does."""
    chain_id = w3.eth.chain_id
    if chain_id != record.chain_id:
        return f"the deployment record is for chain {record.chain_id}, the node is chain {chain_id}"
    if not w3.eth.get_code(record.registry):
        return f"the deployment record names registry {record.registry}, which is not on the chain"
    try:
        block_hash = w3.to_hex(w3.eth.get_block(record.block_number).hash)
    except Exception:  # the recorded block is past this chain's head
        block_hash = None
    if block_hash != "0x" + record.block_hash.removeprefix("0x"):
        return f"block {record.block_number} of the deployment is not on this chain (a chain started afresh?)"
    return None
