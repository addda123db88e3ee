"""Gas benchmark: Hallmark's contracts beside a bare OpenZeppelin ERC721 compiled with the same settings.

Starts its own Ganache, deploys both, and prints a Markdown table (also written to bench/results/gas.md): packed
airdrops (transferable, soulbound, holding period) beside the OpenZeppelin `_mint` loop, a lone mint, a packed
token's first transfer, and the ownerOf/balanceOf views with 100 packed batches (eth_call gas, minus 21,000).
    python bench/gas.py [--batch 1000] [--scan-batches 100] [--scan-size 1000]
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
PACKED_BATCH = 1_000
TARGETS = {"single": 80_000, "transferable": 8_000, "soulbound": 8_000, "holding_period": 8_000, "create": 500_000}


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
            raise RuntimeError(f"transaction reverted: {call.fn_name}")
        return receipt


def run(batch: int, scan_batches: int, scan_size: int) -> list[tuple[str, int, int | str, int | None]]:
    chain = devchain.start(PORT)
    try:
        b = Bench(chain.url)
        me = b.account.address
        plain, plain_deploy = b.deploy(compile_plain())
        impl, impl_deploy = b.deploy(artifacts.load("HallmarkCollection"))
        registry, _ = b.deploy(artifacts.load("HallmarkRegistry"), impl.address, me,
                               "https://nft.bank.example/meta/")

        def create(policy: int, hold: int, salt: int, edition: int = 100_000):
            cfg = ("Fuhu 2022", "FUHU", "", edition, policy, hold, me, 500, b"\x11" * 32, me, me)
            receipt = b.send(registry.functions.createCollection(cfg, salt.to_bytes(32, "big")))
            address = registry.functions.predictCollectionAddress(salt.to_bytes(32, "big")).call()
            return b.w3.eth.contract(address=address, abi=impl.abi), receipt.gasUsed

        rows = []
        nxt = iter(range(0, 10**9, 10_000))

        def fresh(n: int) -> list[str]:
            return fresh_addresses(b"bench-recipient", n, next(nxt))

        # single mint to a new holder, steady state (the collection already has tokens)
        transferable, create_gas = create(0, 0, 1)
        b.send(transferable.functions.mint(fresh(1)[0]))
        b.send(plain.functions.mint(fresh(1)[0]))
        single = b.send(transferable.functions.mint(fresh(1)[0])).gasUsed
        single_plain = b.send(plain.functions.mint(fresh(1)[0])).gasUsed
        rows.append(("single mint to a new holder (tx)", single, single_plain, TARGETS["single"]))

        # the OpenZeppelin loop's cost per token is flat; 1,000 of them (47.5M gas) would not fit a 30M block
        plain_n = min(batch, 500)
        plain_batch = b.send(plain.functions.mintBatch(fresh(plain_n))).gasUsed / plain_n
        packed = {}
        for name, policy, hold in (("transferable", 0, 0), ("soulbound", 1, 0), ("holding_period", 2, 86400)):
            coll = transferable if policy == 0 else create(policy, hold, 10 + policy)[0]
            recipients = fresh(batch)
            recipients[batch // 2] = me  # a token the bench can move: the packed token's first transfer below
            receipt = b.send(coll.functions.airdrop(recipients))
            packed[name] = (coll, receipt)
            per = receipt.gasUsed / batch
            rows.append((f"packed airdrop {batch:,}, {name} (per recipient)", round(per), round(plain_batch),
                         TARGETS[name]))

        # a packed token's first transfer (writes its owner) beside a storage-minted one's and the baseline's
        coll, receipt = packed["transferable"]
        first_id = coll.events.Transfer().process_receipt(receipt)[0]["args"]["tokenId"]
        token = first_id + batch // 2
        assert coll.functions.ownerOf(token).call() == me
        first_move = b.send(coll.functions.transferFrom(me, fresh(1)[0], token)).gasUsed
        b.send(coll.functions.mint(me))
        stored_id = coll.functions.totalMinted().call()
        stored_move = b.send(coll.functions.transferFrom(me, fresh(1)[0], stored_id)).gasUsed
        plain_receipt = b.send(plain.functions.mint(me))
        plain_id = plain.events.Transfer().process_receipt(plain_receipt)[0]["args"]["tokenId"]
        plain_move = b.send(plain.functions.transferFrom(me, fresh(1)[0], plain_id)).gasUsed
        rows.append(("first transfer of a packed token (tx)", first_move, plain_move, None))
        rows.append(("transfer of a storage-minted token (tx)", stored_move, plain_move, None))

        # ownerOf and balanceOf views with `scan_batches` packed batches
        many, _ = create(0, 0, 99, edition=scan_batches * scan_size + 10)
        holder = me
        for i in range(scan_batches):
            recipients = fresh(scan_size)
            recipients[i % scan_size] = holder
            b.send(many.functions.airdrop(recipients))
        owner_gas = many.functions.ownerOf(scan_batches * scan_size // 2 + 1).estimate_gas({"from": me}) - 21_000
        plain_owner = plain.functions.ownerOf(plain_id).estimate_gas({"from": me}) - 21_000
        assert many.functions.balanceOf(holder).call() == scan_batches
        balance_gas = many.functions.balanceOf(holder).estimate_gas({"from": me}) - 21_000
        plain_balance = plain.functions.balanceOf(holder).estimate_gas({"from": me}) - 21_000
        rows.append((f"ownerOf, packed token, {scan_batches} batches of {scan_size:,} (call)", owner_gas,
                     plain_owner, None))
        rows.append((f"balanceOf, {scan_batches} batches of {scan_size:,} (call)", balance_gas, plain_balance, None))
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
    parser.add_argument("--batch", type=int, default=PACKED_BATCH)
    parser.add_argument("--scan-batches", type=int, default=100, help="batches behind the balanceOf figure")
    parser.add_argument("--scan-size", type=int, default=PACKED_BATCH, help="recipients per such batch")
    args = parser.parse_args()
    out = table(run(args.batch, args.scan_batches, args.scan_size))
    print(out)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "gas.md").write_text(out + "\n")


if __name__ == "__main__":
    main()
