"""A chain of a test's own: Ganache on a free port with the registry deployed by web3 (faucet key, signed locally)."""
from __future__ import annotations

from eth_account import Account
from web3 import Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder

from hallmark import devchain
from hallmark.art.commitment import ContentTree, leaf_hash
from hallmark.chain import artifacts


class OwnChain:
    def __init__(self, port: int, deployer_index: int = 0):
        self.port = port
        self.chain = devchain.start(port)
        self.w3 = Web3(Web3.HTTPProvider(self.chain.url))
        self.account = devchain.faucet_account(deployer_index)
        self.w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(self.account), layer=0)
        self.registry = None

    def deploy(self, artifact: str, *args):
        data = artifacts.load(artifact)
        factory = self.w3.eth.contract(abi=data["abi"], bytecode=data["bytecode"])
        receipt = self.send(factory.constructor(*args))
        return self.w3.eth.contract(address=receipt.contractAddress, abi=data["abi"]), receipt

    def send(self, call):
        receipt = self.w3.eth.wait_for_transaction_receipt(call.transact({"from": self.account.address,
                                                                          "gas": 29_000_000}))
        assert receipt.status == 1
        return receipt

    def deploy_registry(self):
        impl, _ = self.deploy("HallmarkCollection")
        self.registry, receipt = self.deploy("HallmarkRegistry", impl.address, self.account.address, "http://x/meta/")
        return receipt.blockNumber

    def create_collection(self, salt: int, name="Fuhu", edition=100, policy=0, root: bytes | None = None):
        root = root or ContentTree.build([leaf_hash(i, b"\0" * 32, b"\0" * 32) for i in range(1, 3)]).root
        cfg = (name, "FUHU", "", edition, policy, 0, self.account.address, 0, root,
               self.account.address, self.account.address)
        self.send(self.registry.functions.createCollection(cfg, salt.to_bytes(32, "big")))
        address = self.registry.functions.predictCollectionAddress(salt.to_bytes(32, "big")).call()
        return self.w3.eth.contract(address=address, abi=artifacts.load("HallmarkCollection")["abi"])

    def stop(self):
        self.chain.stop()


def new_addresses(n: int) -> list[str]:
    return [Account.create().address for _ in range(n)]
