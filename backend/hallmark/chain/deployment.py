"""The deployment record written by scripts/deploy.py and read by the backend and later scripts."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import config


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
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(path)


def record_path(network: str) -> Path:
    return config.data_dir() / "deployments" / f"{network}.json"


def load(path: Path) -> Deployment:
    if not path.exists():
        raise DeploymentMissing(f"no deployment record at {path}: run scripts/deploy.py for this network first")
    try:
        return Deployment(**json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise DeploymentMissing(f"deployment record {path} is unreadable ({exc})") from None
