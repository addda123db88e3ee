"""Backend fixtures: real Ganache processes, the real deploy script (through the project's brownie runner), the
Flask app and its client."""
from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from eth_account import Account

from hallmark import create_app, devchain
from hallmark.access.keys import create_api_key
from hallmark.access.permissions import KEY_SCOPES
from hallmark.config import ROOT, Config
from staffutil import make_user, sign_in

BIN = Path(sys.executable).parent
# `brownie run <script> ...` the way the project runs it: from any path (brownie's own `run` fails from a folder
# whose path has a dot), e.g. RUN_SCRIPT + ["scripts/deploy.py", "--network", CI_NETWORK]
RUN_SCRIPT = [sys.executable, "-m", "hallmark.chain.brownie_runner"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Chains of this test session, on free ports under brownie network names of their own, so that test sessions
# running side by side (and the `make run` chain on 8545) never meet.
CI_PORT, SETUP_PORT = free_port(), free_port()
CI_NETWORK, SETUP_NETWORK = f"hallmark-ci-{CI_PORT}", f"hallmark-setup-{SETUP_PORT}"
MNEMONIC = "test test test test test test test test test test test junk"


@contextmanager
def _network_config_lock():
    lock_path = Path.home() / ".brownie" / "network-config.lock"
    lock_path.parent.mkdir(exist_ok=True)
    with open(lock_path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session", autouse=True)
def brownie_networks():
    """Register this session's networks with brownie (as `make setup` does for the fixed ones), then remove them.

    The command is plain `ganache` (found first in this checkout's node_modules/.bin, see `run`): the network
    config is machine-wide, and nothing in it may point into one checkout."""
    for name, port in ((CI_NETWORK, CI_PORT), (SETUP_NETWORK, SETUP_PORT)):
        with _network_config_lock():
            run(["brownie", "networks", "add", "Development", name, "cmd=ganache", "host=http://127.0.0.1",
                 f"port={port}", "evm_version=shanghai", "accounts=10", f"mnemonic={MNEMONIC}", "chain_id=1337",
                 "gas_limit=30000000"], {})
    yield
    for name in (CI_NETWORK, SETUP_NETWORK):
        with _network_config_lock():
            run(["brownie", "networks", "delete", name], {}, check=False)


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
def app_for(stack, monkeypatch):
    """Apps on the session chain sign with the session's issuer key."""
    monkeypatch.setenv("HALLMARK_ISSUER_KEY", stack["issuer_key"])

    def make(data_dir: Path, port: int, network: str = CI_NETWORK, **overrides):
        # rate limits are tested on their own (test_security.py); the other tests send many requests from one address;
        # maker-checker approvals likewise (test_approvals.py): the others expect their writes carried out at once
        overrides = {"DATABASE_URL": f"sqlite:///{data_dir / 'hallmark.db'}", "RATELIMIT_ENABLED": False,
                     "APPROVALS": (), **overrides}
        config = Config(
            DATA_DIR=data_dir, RPC_URL=f"http://127.0.0.1:{port}", NETWORK=network,
            DEPLOYMENT_FILE=data_dir / "deployments" / f"{network}.json", TESTING=True, **overrides,
        )
        return create_app(config)

    return make


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """One Ganache for the session, contracts deployed by scripts/deploy.py (the project's runner), a funded issuer."""
    data = tmp_path_factory.mktemp("stack")
    chain = devchain.start(CI_PORT)
    issuer = Account.create()
    devchain.fund(chain.url, issuer.address, 10_000)
    key = "0x" + issuer.key.hex().removeprefix("0x")
    run([*RUN_SCRIPT, "scripts/deploy.py", "--network", CI_NETWORK],
        {"HALLMARK_DATA_DIR": str(data), "HALLMARK_ISSUER_KEY": key})
    yield {"data": data, "chain": chain, "issuer": issuer, "issuer_key": key}
    chain.stop()


@pytest.fixture
def deployed_data(stack, tmp_path):
    """A fresh data folder holding the session's deployment record (and nothing else)."""
    data = tmp_path / "deployed-data"
    (data / "deployments").mkdir(parents=True)
    record = stack["data"] / "deployments" / f"{CI_NETWORK}.json"
    (data / "deployments" / record.name).write_text(record.read_text())
    return data


@pytest.fixture
def app(deployed_data, app_for):
    """A fresh app (own database) on the session chain, its workers running."""
    application = app_for(deployed_data, CI_PORT, MINT_BATCH_SIZE=50, CLAIM_WINDOW_SECONDS=0.5)
    yield application
    application.extensions["hallmark.services"].stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def staff(app):
    """Headers of a marketing API key."""
    key = create_api_key(app.extensions["hallmark.db"], "test", scopes=KEY_SCOPES)
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def make_drop(client, staff):
    """Create a drop through the API and wait until it is live."""
    counter = iter(range(10**6))

    def make(**fields):
        body = {"slug": f"drop-{time.time_ns()}-{next(counter)}", "name": "Fuhu Test", "symbol": "FUHU",
                "edition_size": 20, **fields}
        reply = client.post("/api/drops", json=body, headers={**staff, "Idempotency-Key": body["slug"]})
        assert reply.status_code == 202, reply.get_json()
        drop_id = reply.get_json()["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            drop = client.get(f"/api/drops/{drop_id}", headers=staff).get_json()
            if drop["status"] in ("live", "failed"):
                assert drop["status"] == "live", drop
                return drop
            time.sleep(0.1)
        raise AssertionError(f"drop {drop_id} did not go live: {drop}")

    return make


@pytest.fixture
def signed_in(app):
    """`signed_in(role)`: a client of its own signed in as a new staff member of that role, and the CSRF header
    its writes need (accounts made through access.accounts, signed in through POST /api/session)."""
    counter = iter(range(10**6))

    def make(role: str, username: str | None = None):
        username = username or f"{role}{next(counter)}"
        make_user(app, username, role)
        client = app.test_client()
        return client, sign_in(client, username)

    return make
