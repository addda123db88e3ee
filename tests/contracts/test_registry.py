from brownie import HallmarkCollection, HallmarkRegistry, accounts

from conftest import EDITION, HOLDING, TRANSFERABLE, config, reverts_with

SALT = "0x" + "ab" * 32


def test_create_lists_collection_and_emits_event(registry, admin, operator, content):
    predicted = registry.predictCollectionAddress(SALT)
    tx = registry.createCollection(config(admin, operator, content[0].root), SALT, {"from": admin})
    assert tx.return_value == predicted
    assert registry.isOfficial(predicted)
    assert registry.collectionCount() == 1
    assert registry.collectionAt(0) == predicted
    event = tx.events["CollectionCreated"]
    assert event["collection"] == predicted
    assert event["name"] == "Fuhu" and event["maxSupply"] == EDITION
    assert event["contentRoot"] == "0x" + content[0].root.hex()


def test_collection_is_initialised_once(registry, admin, operator, content):
    tx = registry.createCollection(config(admin, operator, content[0].root), SALT, {"from": admin})
    coll = HallmarkCollection.at(tx.return_value)
    assert coll.name() == "Fuhu" and coll.symbol() == "FUHU"
    assert coll.registry() == registry.address
    with reverts_with("InvalidInitialization"):
        coll.initialize(config(admin, operator, content[0].root), {"from": admin})


def test_implementation_cannot_be_initialised(implementation, admin, operator, content):
    with reverts_with("InvalidInitialization"):
        implementation.initialize(config(admin, operator, content[0].root), {"from": admin})


def test_only_issuer_creates(registry, admin, operator, stranger, content):
    with reverts_with("AccessControlUnauthorizedAccount"):
        registry.createCollection(config(admin, operator, content[0].root), SALT, {"from": stranger})
    registry.grantRole(registry.ISSUER_ROLE(), stranger, {"from": admin})
    registry.createCollection(config(admin, operator, content[0].root), SALT, {"from": stranger})
    assert registry.collectionCount() == 1


def test_same_salt_twice_reverts(registry, admin, operator, content):
    registry.createCollection(config(admin, operator, content[0].root), SALT, {"from": admin})
    with reverts_with("FailedDeployment"):
        registry.createCollection(config(admin, operator, content[0].root), SALT, {"from": admin})


def test_lookalike_is_not_official(registry, implementation, admin, operator, stranger, content):
    # someone else deploys the same implementation and a registry of their own
    fake_impl = HallmarkCollection.deploy({"from": stranger})
    fake_registry = HallmarkRegistry.deploy(fake_impl, stranger, "https://nft.bank.example/meta/", {"from": stranger})
    tx = fake_registry.createCollection(config(stranger, stranger, content[0].root), SALT, {"from": stranger})
    assert fake_registry.isOfficial(tx.return_value)
    assert not registry.isOfficial(tx.return_value)
    assert not registry.isOfficial(fake_impl)


def test_invalid_configs_revert_with_named_errors(registry, admin, operator, content):
    root = content[0].root
    bad = list(config(admin, operator, root))
    for size in (0, 2**32):
        bad[3] = size
        with reverts_with("InvalidMaxSupply"):
            registry.createCollection(tuple(bad), SALT, {"from": admin})
    with reverts_with("InvalidHoldingPeriod"):
        registry.createCollection(config(admin, operator, root, HOLDING, 0), SALT, {"from": admin})
    with reverts_with("InvalidHoldingPeriod"):
        registry.createCollection(config(admin, operator, root, TRANSFERABLE, 60), SALT, {"from": admin})


def test_zero_operator_reverts(registry, admin, content):
    zero = "0x" + "00" * 20
    cfg = config(admin, zero, content[0].root)
    with reverts_with("ZeroAddress"):
        registry.createCollection(cfg, SALT, {"from": admin})


def test_collection_at_out_of_range(registry):
    with reverts_with("IndexOutOfRange"):
        registry.collectionAt(0)


def test_constructor_rejects_codeless_implementation(admin):
    with reverts_with("InvalidImplementation"):
        HallmarkRegistry.deploy(accounts[5], admin, "", {"from": admin})



def test_metadata_host_is_set_by_admin(registry, admin, stranger):
    tx = registry.setMetadataBaseURI("https://cdn.bank.example/m/", {"from": admin})
    assert tx.events["MetadataBaseURIUpdated"]["metadataBaseURI"] == "https://cdn.bank.example/m/"
    assert registry.metadataBaseURI() == "https://cdn.bank.example/m/"
    with reverts_with("AccessControlUnauthorizedAccount"):
        registry.setMetadataBaseURI("https://evil.example/", {"from": stranger})
