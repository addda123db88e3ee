"""Brownie fixtures: the registry and one collection per transfer policy, deployed once per module."""
import brownie
import pytest
from brownie import HallmarkCollection, HallmarkRegistry, accounts
from hallmark.art.commitment import ContentTree, leaf_hash

TRANSFERABLE, SOULBOUND, HOLDING = 0, 1, 2
HOLD_SECONDS = 7 * 24 * 3600
EDITION = 20
REGISTRY_BASE = "https://nft.bank.example/meta/"


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    pass


@pytest.fixture(scope="module")
def admin():
    return accounts[0]


@pytest.fixture(scope="module")
def operator():
    return accounts[1]


@pytest.fixture(scope="module")
def alice():
    return accounts[2]


@pytest.fixture(scope="module")
def bob():
    return accounts[3]


@pytest.fixture(scope="module")
def stranger():
    return accounts[9]


@pytest.fixture(scope="module")
def implementation(admin):
    return HallmarkCollection.deploy({"from": admin})


@pytest.fixture(scope="module")
def registry(implementation, admin):
    return HallmarkRegistry.deploy(implementation, admin, REGISTRY_BASE, {"from": admin})


@pytest.fixture(scope="module")
def content():
    """A content tree over EDITION serials with made-up image/metadata hashes."""
    hashes = [(bytes([s]) * 32, bytes([s + 100]) * 32) for s in range(1, EDITION + 1)]
    tree = ContentTree.build([leaf_hash(s, *hashes[s - 1]) for s in range(1, EDITION + 1)])
    return tree, hashes


def config(admin, operator, root, policy=TRANSFERABLE, hold=0, edition=EDITION, name="Fuhu", symbol="FUHU",
           base_uri=""):
    return (name, symbol, base_uri, edition, policy, hold, admin, 500, root, admin, operator)


@pytest.fixture(scope="module")
def make_collection(registry, admin, operator, content):
    counter = iter(range(1, 10**6))

    def make(policy=TRANSFERABLE, hold=0, edition=EDITION):
        salt = "0x" + next(counter).to_bytes(32, "big").hex()
        tx = registry.createCollection(config(admin, operator, content[0].root, policy, hold, edition), salt,
                                       {"from": admin})
        return HallmarkCollection.at(tx.return_value)

    return make


@pytest.fixture(scope="module")
def collection(make_collection):
    return make_collection(TRANSFERABLE)


@pytest.fixture(scope="module")
def soulbound(make_collection):
    return make_collection(SOULBOUND)


@pytest.fixture(scope="module")
def holding(make_collection):
    return make_collection(HOLDING, HOLD_SECONDS)


def reverts_with(error: str):
    """Expect a revert with the named custom error (brownie decodes it as 'Name: arg, ...')."""
    return brownie.reverts(revert_pattern=rf"{error}(: .*)?")
