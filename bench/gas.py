"""Gas benchmark: Hallmark's contracts beside a bare OpenZeppelin ERC721 compiled with the same settings.

Starts its own Ganache, deploys both, and prints a Markdown table (also written to bench/results/gas.md).
    python bench/gas.py [--batch 500]
"""
from __future__ import annotations

import argparse

import solcx
import yaml
from web3 import Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder

from hallmark import devchain
from hallmark.chain import artifacts
from hallmark.config import ROOT
from hallmark.testing import fresh_addresses

PORT = 8575
TARGETS = {"single": 80_000, "transferable": 49_000, "soulbound": 49_000, "holding_period": 55_000, "create": 500_000}


def compile_plain() -> dict:
    cfg = yaml.safe_load((ROOT / "brownie-config.yaml").read_text())["compiler"]
    source = ROOT / "bench" / "contracts" / "PlainERC721.sol"
    out = solcx.compile_standard(
        {
            "language": "Solidity",
            "sources": {"PlainERC721.sol": {"content": source.read_text()}},
            "settings": {
                "evmVersion": cfg["evm_version"],
                "optimizer": {"enabled": True, "runs": cfg["solc"]["optimizer"]["runs"]},
                "remappings": cfg["solc"]["remappings"],
                "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
            },
        },
        solc_version=str(cfg["solc"]["version"]),
        allow_paths=[str(ROOT)],
        base_path=str(ROOT),
    )
    c = out["contracts"]["PlainERC721.sol"]["PlainERC721"]
    return {"abi": c["abi"], "bytecode": c["evm"]["bytecode"]["object"]}


class Bench:
    def __init__(self, url: str):
        self.w3 = Web3(Web3.HTTPProvider(url))
        self.account = devchain.faucet_account()
        self.w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(self.account), layer=0)
        self.w3.eth.default_account = self.account.address

    def deploy(self, artifact: dict, *args):
        factory = self.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        receipt = self.send(factory.constructor(*args))
        return self.w3.eth.contract(address=receipt.contractAddress, abi=artifact["abi"]), receipt.gasUsed

    def send(self, call):
        tx_hash = call.transact({"from": self.account.address, "gas": 29_000_000})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt.status != 1:
            raise RuntimeError(f"transaction reverted: {call}")
        return receipt


def run(batch: int) -> list[tuple[str, int, int | str, int | None]]:
    chain = devchain.start(PORT)
    try:
        b = Bench(chain.url)
        plain, plain_deploy = b.deploy(compile_plain())
        impl, impl_deploy = b.deploy(artifacts.load("HallmarkCollection"))
        registry, _ = b.deploy(artifacts.load("HallmarkRegistry"), impl.address, b.account.address,
                               "https://nft.bank.example/meta/")

        def create(policy: int, hold: int, salt: int):
            cfg = ("Fuhu 2022", "FUHU", "", 10_000, policy, hold, b.account.address, 500, b"\x11" * 32,
                   b.account.address, b.account.address)
            receipt = b.send(registry.functions.createCollection(cfg, salt.to_bytes(32, "big")))
            address = registry.functions.predictCollectionAddress(salt.to_bytes(32, "big")).call()
            return b.w3.eth.contract(address=address, abi=impl.abi), receipt.gasUsed

        rows = []
        nxt = iter(range(0, 10**9, 10_000))
        # single mint to a new holder, steady state (the collection already has tokens)
        transferable, create_gas = create(0, 0, 1)
        b.send(transferable.functions.mint(fresh_addresses(b"bench-recipient", 1, next(nxt))[0]))
        b.send(plain.functions.mint(fresh_addresses(b"bench-recipient", 1, next(nxt))[0]))
        single = b.send(transferable.functions.mint(fresh_addresses(b"bench-recipient", 1, next(nxt))[0])).gasUsed
        single_plain = b.send(plain.functions.mint(fresh_addresses(b"bench-recipient", 1, next(nxt))[0])).gasUsed
        rows.append(("single mint to a new holder (tx)", single, single_plain, TARGETS["single"]))

        plain_batch = b.send(plain.functions.mintBatch(fresh_addresses(b"bench-recipient", batch, next(nxt)))).gasUsed / batch
        for name, policy, hold in (("transferable", 0, 0), ("soulbound", 1, 0), ("holding_period", 2, 86400)):
            coll = transferable if policy == 0 else create(policy, hold, 10 + policy)[0]
            per = b.send(coll.functions.airdrop(fresh_addresses(b"bench-recipient", batch, next(nxt)))).gasUsed / batch
            rows.append((f"airdrop {batch}, {name} (per recipient)", round(per), round(plain_batch), TARGETS[name]))
        rows.append(("create a drop through the registry (tx)", create_gas,
                     f"{impl_deploy} (deploy a full collection)", TARGETS["create"]))
        rows.append(("deploy bare OpenZeppelin ERC721 (reference)", plain_deploy, "-", None))
        return rows
    finally:
        chain.stop()


def table(rows) -> str:
    lines = ["| measurement | Hallmark gas | baseline gas | target | within |", "|---|---:|---:|---:|:---:|"]
    for name, ours, base, target in rows:
        ok = "-" if target is None else ("yes" if ours <= target else "NO")
        lines.append(f"| {name} | {ours:,} | {base if isinstance(base, str) else f'{base:,}'} | "
                     f"{'-' if target is None else f'{target:,}'} | {ok} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    out = table(run(args.batch))
    print(out)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "gas.md").write_text(out + "\n")


if __name__ == "__main__":
    main()
