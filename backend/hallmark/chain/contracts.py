"""Web3 handles on the node, the registry and collections (ABIs from the compiled artifacts). Read-only:
writes go through `chain.sender`."""
from __future__ import annotations

from pathlib import Path

from web3 import Web3
from web3.contract import Contract

from . import artifacts, deployment


def connect(rpc_url: str, timeout: float = 30) -> Web3:
    return Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))


class ChainHandles:
    def __init__(self, w3: Web3, record: deployment.Deployment):
        self.w3 = w3
        self.record = record
        folder = Path(record.artifacts) if Path(record.artifacts).exists() else artifacts.DEFAULT_DIR
        self._collection_abi = artifacts.load("HallmarkCollection", folder)["abi"]
        self.registry: Contract = w3.eth.contract(
            address=record.registry, abi=artifacts.load("HallmarkRegistry", folder)["abi"]
        )

    def collection(self, address: str) -> Contract:
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=self._collection_abi)

    transfer_topic_hex = Web3.to_hex(Web3.keccak(text="Transfer(address,address,uint256)"))


def calldata(call) -> bytes:
    """The encoded input of a contract function call, for the sender to sign."""
    return bytes.fromhex(call._encode_transaction_data()[2:])
