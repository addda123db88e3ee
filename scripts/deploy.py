"""Deploy the collection implementation and the registry, and write the deployment record.

    brownie run scripts/deploy.py --network hallmark-local

Idempotent: when the record's registry is still on this chain nothing is deployed again.
"""
from brownie import HallmarkCollection, HallmarkRegistry, network, web3
from hallmark.chain.deployment import Deployment
from hallmark import config
from hallmark.config import ROOT

from scripts.common import issuer, live_record, record_path


def main():
    existing = live_record()
    if existing:
        print(f"Already deployed on {existing.network}: registry {existing.registry} (block {existing.block_number})")
        return existing
    account = issuer()
    implementation = HallmarkCollection.deploy({"from": account})
    metadata_host = f"{config.Config().PUBLIC_BASE_URL}/meta/"
    registry = HallmarkRegistry.deploy(implementation, account, metadata_host, {"from": account})
    block = web3.eth.get_block(registry.tx.block_number)
    record = Deployment(
        network=network.show_active(),
        chain_id=web3.eth.chain_id,
        registry=registry.address,
        implementation=implementation.address,
        block_number=block.number,
        block_hash="0x" + block.hash.hex().removeprefix("0x"),
        issuer=account.address,
        artifacts=str(ROOT / "build" / "contracts"),
    )
    record.save(record_path())
    print(f"Registry {registry.address}, implementation {implementation.address}; record in {record_path()}")
    return record
