"""The local Ganache chain: started in the background, persisted on disk, stopped on request.

`make run` uses it for the demo; tests start throwaway chains with `start(..., db_path=None)`.
The faucet signs locally with a key derived from the well-known development mnemonic (never an unlocked account).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from eth_account import Account

from .config import ROOT
from .security.files import open_private, private_dir, write_private

DEV_MNEMONIC = "test test test test test test test test test test test junk"
CHAIN_ID = 1337
GAS_LIMIT = 30_000_000
# glibc gives each thread that allocates an arena of its own; Ganache's threads (libuv's pool, where LevelDB reads
# and writes the chain) left native memory fragmented across them, and its RSS after a full GC grew 8-9 % over a
# 100,000-token run with no backend at all. Two arenas kept it within 2 % (bench/soak.py).
NODE_ENV = {"MALLOC_ARENA_MAX": "2"}
Account.enable_unaudited_hdwallet_features()


def node_bin(name: str = "ganache") -> str:
    local = ROOT / "node_modules" / ".bin" / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed: run `npm ci`")
    return found


def faucet_account(index: int = 0):
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def rpc(url: str, method: str, params: list | None = None, timeout: float = 5):
    reply = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}, timeout=timeout)
    body = reply.json()
    if "error" in body:
        raise RuntimeError(f"{method}: {body['error'].get('message')}")
    return body["result"]


def is_up(url: str) -> bool:
    try:
        rpc(url, "eth_chainId", timeout=1)
        return True
    except (requests.RequestException, ValueError, RuntimeError):
        return False


@dataclass
class Chain:
    url: str
    process: subprocess.Popen | None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start(port: int, db_path: Path | None = None, log_path: Path | None = None, block_time: float = 0,
          detach: bool = False, node: str = "ganache") -> Chain:
    """Start Ganache (or Anvil, the second node that shows nothing here is Ganache-specific) on 127.0.0.1:port;
    with db_path the chain survives restarts."""
    url = f"http://127.0.0.1:{port}"
    if is_up(url):  # never mistake someone else's chain for the one we start
        raise RuntimeError(f"port {port} already has a node answering: stop it or choose another port")
    if node == "anvil":
        cmd = [node_bin("anvil"), "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(CHAIN_ID),
               "--hardfork", "shanghai", "--mnemonic", DEV_MNEMONIC, "--accounts", "4", "--balance", "1000000",
               "--gas-limit", str(GAS_LIMIT), "--silent"]
        if block_time:  # interval mining, as a real network does: nothing is mined on arrival
            cmd += ["--block-time", str(block_time)]
        return _spawn(cmd, url, log_path, detach)
    cmd = [
        node_bin("ganache"), "--server.host", "127.0.0.1", "--server.port", str(port),
        "--chain.chainId", str(CHAIN_ID), "--chain.hardfork", "shanghai",
        "--wallet.mnemonic", DEV_MNEMONIC, "--wallet.totalAccounts", "4", "--wallet.defaultBalance", "1000000",
        "--miner.blockGasLimit", str(GAS_LIMIT), "--logging.quiet",
    ]
    if block_time:
        cmd += ["--miner.blockTime", str(block_time)]
    if db_path:
        private_dir(db_path)
        cmd += ["--database.dbPath", str(db_path)]
    return _spawn(cmd, url, log_path, detach, env={**NODE_ENV, **os.environ})


def _spawn(cmd: list[str], url: str, log_path: Path | None, detach: bool, env: dict | None = None) -> Chain:
    out = open_private(log_path, "ab") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=detach, env=env)
    deadline = time.monotonic() + 60
    while not is_up(url):
        if process.poll() is not None:
            raise RuntimeError(f"{Path(cmd[0]).name} exited with code {process.returncode} ({url} in use?)")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{Path(cmd[0]).name} did not answer within 60 s")
        time.sleep(0.2)
    return Chain(url, process)


def fund(url: str, address: str, ether: int = 1000) -> str:
    """Send `ether` from the faucet to `address`, signed locally; returns the transaction hash."""
    faucet = faucet_account()
    nonce = int(rpc(url, "eth_getTransactionCount", [faucet.address, "pending"]), 16)
    base_fee = int(rpc(url, "eth_getBlockByNumber", ["latest", False])["baseFeePerGas"], 16)
    tx = {
        "chainId": CHAIN_ID, "nonce": nonce, "to": address, "value": ether * 10**18, "gas": 21_000,
        "maxFeePerGas": base_fee * 2 + 10**9, "maxPriorityFeePerGas": 10**9, "type": 2,
    }
    raw = faucet.sign_transaction(tx).raw_transaction
    return rpc(url, "eth_sendRawTransaction", ["0x" + raw.hex()])


# ---- the persistent chain of `make run`, tracked by a pid file under the data folder

def _pidfile(data: Path) -> Path:
    return data / "ganache.pid"


def up(data: Path, port: int) -> str:
    url = f"http://127.0.0.1:{port}"
    if is_up(url):
        return f"ganache already running at {url}"
    private_dir(data)
    chain = start(port, db_path=data / "chain", log_path=data / "ganache.log", detach=True)
    write_private(_pidfile(data), str(chain.process.pid))
    return f"ganache started at {url} (pid {chain.process.pid}, chain in {data / 'chain'})"


def down(data: Path) -> str:
    pidfile = _pidfile(data)
    if not pidfile.exists():
        return "ganache is not running (no pid file)"
    pid = int(pidfile.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)
    except ProcessLookupError:
        pass
    pidfile.unlink()
    return f"ganache (pid {pid}) stopped; the chain stays in {data / 'chain'}"
