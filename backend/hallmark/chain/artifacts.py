"""Contract ABIs and bytecode from brownie's compiled artifacts (build/contracts/*.json)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from ..config import ROOT

DEFAULT_DIR = ROOT / "build" / "contracts"


@lru_cache(maxsize=None)
def load(name: str, folder: str | Path = DEFAULT_DIR) -> dict:
    path = Path(folder) / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no compiled artifact {path}: run `brownie compile` (make setup does)")
    data = json.loads(path.read_text())
    return {"abi": data["abi"], "bytecode": data["bytecode"]}
