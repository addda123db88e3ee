"""A whole local stack for benchmarks and browser tests: a Ganache of its own on a free port, the contracts
deployed with a fresh funded issuer key into a given data folder, and the real backend configured for it.
Registers nothing globally (no brownie networks, no files outside the data folder). Rate limits are off unless asked
for (HALLMARK_RATELIMIT_ENABLED=1 / RATELIMIT_ENABLED=True): benchmarks and tests send thousands of requests from
one address. Maker-checker approvals are off unless asked for (HALLMARK_APPROVALS / APPROVALS): their writes are
carried out at once, as a partner system's would be without approvals."""
from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections import Counter
from pathlib import Path

from eth_account import Account
from eth_utils import keccak, to_checksum_address
from sqlalchemy import func, select
from web3 import Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder

from . import create_app, devchain
from .chain import artifacts
from .chain.deployment import Deployment
from .config import Config
from .models import IndexedToken

NETWORK = "local-stack"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalStack:
    """`chain_db`: keep the chain on disk (Ganache), so the node can be killed and restarted on it;
    `block_time`: interval mining; `database_url`: PostgreSQL instead of the data folder's SQLite file."""

    def __init__(self, data: Path, node: str = "ganache", chain_db: Path | None = None, block_time: float = 0,
                 database_url: str | None = None):
        self.data = data
        self.node, self.chain_db, self.block_time = node, chain_db, block_time
        self.database_url = database_url or f"sqlite:///{data / 'hallmark.db'}"
        self.port = free_port()

    def _start_node(self):
        return devchain.start(self.port, node=self.node, db_path=self.chain_db, block_time=self.block_time,
                              log_path=self.data / f"{self.node}.log")

    def __enter__(self) -> "LocalStack":
        self.data.mkdir(parents=True, exist_ok=True)
        self.chain = self._start_node()
        self.w3 = Web3(Web3.HTTPProvider(self.chain.url, request_kwargs={"timeout": 120}))
        self.issuer = Account.create()
        self.w3.eth.wait_for_transaction_receipt(devchain.fund(self.chain.url, self.issuer.address, 100_000))
        os.environ["HALLMARK_ISSUER_KEY"] = "0x" + self.issuer.key.hex().removeprefix("0x")
        self.w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(self.issuer), layer=0)
        impl = self._deploy("HallmarkCollection")
        registry = self._deploy("HallmarkRegistry", impl.address, self.issuer.address, "http://127.0.0.1:5000/meta/")
        block = self.w3.eth.get_block(self.w3.eth.block_number)
        self.record = Deployment(network=NETWORK, chain_id=self.w3.eth.chain_id, registry=registry.address,
                                 implementation=impl.address, block_number=block.number,
                                 block_hash="0x" + block.hash.hex().removeprefix("0x"), issuer=self.issuer.address,
                                 artifacts=str(artifacts.DEFAULT_DIR))
        self.record.save(self.data / "deployments" / f"{NETWORK}.json")
        return self

    def __exit__(self, *exc) -> None:
        self.chain.stop()

    def stop_node(self, sig: int = signal.SIGTERM) -> None:
        """Stop the node with a real signal (its chain stays on disk with `chain_db`)."""
        self.chain.process.send_signal(sig)
        self.chain.process.wait(30)

    def start_node(self) -> None:
        self.chain = self._start_node()

    def env(self, **extra) -> dict:
        """The stack's configuration as the environment of a `hallmark worker|indexer|web` process."""
        values = {"HALLMARK_DATA_DIR": self.data, "HALLMARK_RPC_URL": self.chain.url, "HALLMARK_NETWORK": NETWORK,
                  "HALLMARK_DEPLOYMENT_FILE": self.data / "deployments" / f"{NETWORK}.json",
                  "HALLMARK_DATABASE_URL": self.database_url, "HALLMARK_ISSUER_KEY": os.environ["HALLMARK_ISSUER_KEY"],
                  "HALLMARK_RATELIMIT_ENABLED": 0, "HALLMARK_APPROVALS": "", **extra}
        return {k: str(v) for k, v in values.items()}

    def live_drop(self, edition: int, slug: str | None = None) -> dict:
        """A live drop without rendering its artwork (for sending tests and benchmarks, where art is beside the
        point): its collection is created through the registry with the issuer key, and recorded as the worker
        records a drop it built."""
        from .art.content import collection_salt
        from .db import Database
        from .models import Drop

        slug = slug or f"drop-{time.time_ns()}"
        registry = self.w3.eth.contract(address=self.record.registry, abi=artifacts.load("HallmarkRegistry")["abi"])
        issuer, root = self.issuer.address, b"\x11" * 32
        config = ("Fuhu Test", "FUHU", "", edition, 0, 0, issuer, 0, root, issuer, issuer)
        self.w3.eth.wait_for_transaction_receipt(registry.functions.createCollection(
            config, collection_salt(slug)).transact({"from": issuer, "gas": 1_000_000}))
        address = registry.functions.predictCollectionAddress(collection_salt(slug)).call()
        db = Database(self.database_url)
        db.upgrade()
        with db.session() as s:
            drop = Drop(slug=slug, name="Fuhu Test", symbol="FUHU", issuer_name="Demo Bank", edition_size=edition,
                        transfer_policy="transferable", public_base_url="http://127.0.0.1:5000",
                        contract_address=address, content_root="0x" + root.hex(), status="live", rendered=edition)
            s.add(drop)
            s.flush()
            result = {"id": drop.id, "slug": slug, "contract_address": address}
        db.engine.dispose()
        return result

    def mints(self, collection: str) -> Counter:
        """How many tokens each address was minted by `collection`, read from the chain's Transfer logs."""
        topic = Web3.to_hex(keccak(text="Transfer(address,address,uint256)"))
        logs = self.w3.eth.get_logs({"address": collection, "fromBlock": 0, "toBlock": "latest",
                                     "topics": [topic, "0x" + "00" * 32]})
        return Counter(to_checksum_address("0x" + Web3.to_hex(entry["topics"][2])[-40:]) for entry in logs)

    def _deploy(self, name: str, *args):
        data = artifacts.load(name)
        tx = self.w3.eth.contract(abi=data["abi"], bytecode=data["bytecode"]).constructor(*args).transact(
            {"from": self.issuer.address, "gas": 8_000_000})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx)
        return self.w3.eth.contract(address=receipt.contractAddress, abi=data["abi"])

    def config(self, **overrides) -> Config:
        return Config(DATA_DIR=self.data, RPC_URL=self.chain.url, NETWORK=NETWORK,
                      DEPLOYMENT_FILE=self.data / "deployments" / f"{NETWORK}.json",
                      DATABASE_URL=self.database_url, **{"RATELIMIT_ENABLED": False, "APPROVALS": (), **overrides})

    def app(self, **overrides):
        return create_app(self.config(**overrides))

    def create_drop(self, client, staff, edition: int, **fields) -> dict:
        say(f"creating a drop of {edition} (rendering every item)")
        body = {"slug": f"drop-{time.time_ns()}", "name": "Fuhu 2022", "symbol": "FUHU", "edition_size": edition,
                **fields}
        drop = client.post("/api/drops", json=body, headers={**staff, "Idempotency-Key": body["slug"]}).get_json()
        while drop["status"] not in ("live", "failed"):
            time.sleep(0.2)
            drop = client.get(f"/api/drops/{drop['id']}", headers=staff).get_json()
        assert drop["status"] == "live", drop
        return drop

    def airdrop(self, client, staff, drop: dict, recipients: list[str]) -> dict:
        job = client.post(f"/api/drops/{drop['id']}/airdrops", json={"recipients": recipients},
                          headers={**staff, "Idempotency-Key": f"job-{time.time_ns()}"}).get_json()
        while job["status"] != "finished":
            time.sleep(0.1)
            job = client.get(f"/api/jobs/{job['id']}", headers=staff).get_json()
        assert job["done"] == len(recipients), job
        return job

    @staticmethod
    def wait_indexed(app, count: int, timeout: float = 120) -> None:
        db, deadline = app.extensions["hallmark.db"], time.monotonic() + timeout
        while time.monotonic() < deadline:
            with db.session() as s:
                if s.scalar(select(func.count()).select_from(IndexedToken)) >= count:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"fewer than {count} tokens indexed after {timeout} s")


def deploy_lookalike(rpc_url: str, drop: dict, forger_index: int = 3) -> str:
    """Someone else's copy of a drop: the same code, name, symbol and content root, created through a registry
    of the forger's own (not the bank's), with serial 1 minted. Returns its address."""
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    forger = devchain.faucet_account(forger_index)
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(forger), layer=0)

    def send(call, gas: int = 1_000_000):
        return w3.eth.wait_for_transaction_receipt(call.transact({"from": forger.address, "gas": gas}))

    def deploy(name: str, *args):
        data = artifacts.load(name)
        factory = w3.eth.contract(abi=data["abi"], bytecode=data["bytecode"])
        return w3.eth.contract(address=send(factory.constructor(*args), 8_000_000).contractAddress, abi=data["abi"])

    impl = deploy("HallmarkCollection")
    registry = deploy("HallmarkRegistry", impl.address, forger.address, "http://fake/meta/")
    config = (drop["name"], drop["symbol"], "", drop["edition_size"], 0, 0, forger.address, 0,
              bytes.fromhex(drop["content_root"][2:]), forger.address, forger.address)
    send(registry.functions.createCollection(config, b"\1" * 32))
    fake = w3.eth.contract(address=registry.functions.predictCollectionAddress(b"\1" * 32).call(), abi=impl.abi)
    send(fake.functions.mint(forger.address), 300_000)
    return fake.address


def fresh_addresses(tag: bytes, n: int, start: int = 0) -> list[str]:
    """`n` distinct, deterministic addresses no key controls (never used before): new holders for benchmarks."""
    return [to_checksum_address(keccak(tag + i.to_bytes(8, "big"))[:20]) for i in range(start, start + n)]
