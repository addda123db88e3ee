"""Backend fixtures: real Ganache processes, real brownie commands, the Flask app and its test client."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hallmark import create_app
from hallmark.config import ROOT, Config

BIN = Path(sys.executable).parent
CI_NETWORK, CI_PORT = "hallmark-ci", 8565


def run(cmd: list[str], env: dict, check: bool = True) -> subprocess.CompletedProcess:
    """Run a project command the way the README shows it, from the repository root."""
    full_env = {**os.environ, "PATH": f"{BIN}:{ROOT / 'node_modules' / '.bin'}:{os.environ['PATH']}", **env}
    proc = subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def app_for():
    def make(data_dir: Path, port: int, network: str = CI_NETWORK):
        config = Config(
            DATA_DIR=data_dir, RPC_URL=f"http://127.0.0.1:{port}", NETWORK=network,
            DEPLOYMENT_FILE=data_dir / "deployments" / f"{network}.json", TESTING=True,
        )
        return create_app(config)

    return make
