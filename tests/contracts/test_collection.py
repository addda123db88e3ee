from brownie import chain, web3
from eth_utils import keccak

from conftest import EDITION, HOLD_SECONDS, REGISTRY_BASE, reverts_with

ZERO = "0x" + "00" * 20


def role(name):
    return keccak(text=name)


# ---------------------------------------------------------------- minting and roles

def test_mint_assigns_serials_in_order(collection, operator, alice, bob):
    assert collection.mint(alice, {"from": operator}).return_value == 1
    assert collection.mint(bob, {"from": operator}).return_value == 2
    assert collection.ownerOf(1) == alice and collection.ownerOf(2) == bob
    assert collection.totalMinted() == 2 and collection.totalSupply() == 2


def test_airdrop_mints_consecutive_serials(collection, operator, accounts):
    recipients = list(accounts[2:8])
    tx = collection.airdrop(recipients, {"from": operator})
    assert tx.return_value == 1
    assert [collection.ownerOf(i + 1) for i in range(6)] == recipients
    assert len(tx.events["Transfer"]) == 6
    tx = collection.airdrop(recipients[:2], {"from": operator})
    assert tx.return_value == 7


def test_only_minter_mints(collection, stranger, alice):
    with reverts_with("AccessControlUnauthorizedAccount"):
        collection.mint(alice, {"from": stranger})
    with reverts_with("AccessControlUnauthorizedAccount"):
        collection.airdrop([alice], {"from": stranger})


def test_admin_can_grant_minter(collection, admin, stranger, alice):
    collection.grantRole(role("MINTER_ROLE"), stranger, {"from": admin})
    collection.mint(alice, {"from": stranger})
    assert collection.balanceOf(alice) == 1


def test_roles_given_at_creation(collection, admin, operator):
    assert collection.hasRole("0x" + "00" * 32, admin)
    for name in ("MINTER_ROLE", "REDEEMER_ROLE", "PAUSER_ROLE"):
        assert collection.hasRole(role(name), operator)
        assert not collection.hasRole(role(name), admin)


def test_supply_cap(collection, operator, alice, bob):
    collection.airdrop([alice] * (EDITION - 1), {"from": operator})
    with reverts_with("SupplyExceeded: 2, 1"):
        collection.airdrop([alice, bob], {"from": operator})
    collection.mint(bob, {"from": operator})
    with reverts_with("SupplyExceeded: 1, 0"):
        collection.mint(bob, {"from": operator})
    assert collection.totalMinted() == EDITION


def test_empty_airdrop(collection, operator):
    with reverts_with("EmptyRecipients"):
        collection.airdrop([], {"from": operator})


def test_mint_to_zero_address(collection, operator):
    with reverts_with("ERC721InvalidReceiver"):
        collection.mint(ZERO, {"from": operator})


def test_burn_by_owner_only(collection, operator, alice, bob):
    collection.mint(alice, {"from": operator})
    with reverts_with("NotOwnerNorApproved"):
        collection.burn(1, {"from": bob})
    collection.burn(1, {"from": alice})
    assert collection.totalSupply() == 0 and collection.totalMinted() == 1
    with reverts_with("ERC721NonexistentToken"):
        collection.ownerOf(1)


# ---------------------------------------------------------------- transfer policies

def test_transferable_moves(collection, operator, alice, bob):
    collection.mint(alice, {"from": operator})
    assert not collection.locked(1)
    collection.transferFrom(alice, bob, 1, {"from": alice})
    assert collection.ownerOf(1) == bob


def test_soulbound_never_moves(soulbound, operator, alice, bob):
    tx = soulbound.mint(alice, {"from": operator})
    assert tx.events["Locked"]["tokenId"] == 1
    assert soulbound.locked(1)
    with reverts_with("TokenLocked: 1"):
        soulbound.transferFrom(alice, bob, 1, {"from": alice})
    with reverts_with("TokenLocked: 1"):
        soulbound.safeTransferFrom(alice, bob, 1, {"from": alice})
    chain.sleep(10 * 365 * 86400)
    chain.mine()
    assert soulbound.locked(1)
    soulbound.burn(1, {"from": alice})  # a holder may still give it up


def test_soulbound_airdrop_emits_locked_per_token(soulbound, operator, alice, bob):
    tx = soulbound.airdrop([alice, bob], {"from": operator})
    assert [e["tokenId"] for e in tx.events["Locked"]] == [1, 2]


def test_holding_period_ends_exactly_on_time(holding, operator, alice, bob):
    tx = holding.mint(alice, {"from": operator})
    minted = chain[tx.block_number].timestamp
    assert holding.mintedAt(1) == minted
    unlocks = minted + HOLD_SECONDS
    assert holding.unlockTime(1) == unlocks
    assert holding.locked(1)
    with reverts_with(f"HoldingPeriodActive: 1, {unlocks}"):
        holding.transferFrom(alice, bob, 1, {"from": alice})
    # mined in a block stamped one second before the end: refused
    early = mined_at(unlocks - 1, lambda opts: holding.transferFrom(alice, bob, 1, opts), alice)
    assert early.status == 0 and holding.ownerOf(1) == alice
    # mined in the block stamped exactly at the end: allowed
    on_time = mined_at(unlocks, lambda opts: holding.transferFrom(alice, bob, 1, opts), alice)
    assert on_time.status == 1 and holding.ownerOf(1) == bob
    assert not holding.locked(1)


def mined_at(timestamp, send, sender):
    """Send a transaction and mine it alone in a block with exactly `timestamp`."""
    web3.provider.make_request("miner_stop", [])
    try:
        tx = send({"from": sender, "gas_limit": 200_000, "required_confs": 0, "allow_revert": True})
        web3.provider.make_request("evm_mine", [{"timestamp": timestamp}])
    finally:
        web3.provider.make_request("miner_start", [])
    tx.wait(1)
    assert chain[tx.block_number].timestamp == timestamp
    return tx


def test_holding_period_is_per_mint_batch(holding, operator, alice, bob):
    first = holding.airdrop([alice, alice], {"from": operator})
    chain.sleep(3600)
    second = holding.mint(alice, {"from": operator})
    t1, t2 = chain[first.block_number].timestamp, chain[second.block_number].timestamp
    assert holding.mintedAt(1) == holding.mintedAt(2) == t1
    assert holding.mintedAt(3) == t2 and t2 >= t1 + 3600
    chain.mine(timestamp=t1 + HOLD_SECONDS)
    holding.transferFrom(alice, bob, 2, {"from": alice})
    with reverts_with("HoldingPeriodActive"):
        holding.transferFrom(alice, bob, 3, {"from": alice})


def test_transferable_has_no_unlock_time(collection, operator, alice):
    collection.mint(alice, {"from": operator})
    assert collection.unlockTime(1) == 0 and collection.mintedAt(1) == 0


def test_locked_reverts_for_missing_token(collection):
    with reverts_with("ERC721NonexistentToken: 5"):
        collection.locked(5)


# ---------------------------------------------------------------- redemption

def test_redeem_marks_without_burning(collection, operator, alice):
    collection.mint(alice, {"from": operator})
    tx = collection.redeem(1, {"from": operator})
    assert tx.events["Redeemed"]["tokenId"] == 1 and tx.events["Redeemed"]["holder"] == alice
    assert tx.events["MetadataUpdate"]["_tokenId"] == 1
    assert collection.isRedeemed(1) and collection.ownerOf(1) == alice
    with reverts_with("AlreadyRedeemed: 1"):
        collection.redeem(1, {"from": operator})


def test_only_redeemer_redeems(collection, operator, alice):
    collection.mint(alice, {"from": operator})
    with reverts_with("AccessControlUnauthorizedAccount"):
        collection.redeem(1, {"from": alice})


def test_redeem_missing_token(collection, operator):
    with reverts_with("ERC721NonexistentToken"):
        collection.redeem(3, {"from": operator})


# ---------------------------------------------------------------- pause

def test_pause_stops_mint_transfer_redeem(collection, operator, alice, bob):
    collection.mint(alice, {"from": operator})
    collection.pause({"from": operator})
    assert collection.dropDetails()["paused"]
    with reverts_with("EnforcedPause"):
        collection.mint(alice, {"from": operator})
    with reverts_with("EnforcedPause"):
        collection.transferFrom(alice, bob, 1, {"from": alice})
    with reverts_with("EnforcedPause"):
        collection.redeem(1, {"from": operator})
    collection.unpause({"from": operator})
    collection.transferFrom(alice, bob, 1, {"from": alice})


def test_only_pauser_pauses(collection, alice):
    with reverts_with("AccessControlUnauthorizedAccount"):
        collection.pause({"from": alice})


# ---------------------------------------------------------------- content commitment

def test_content_commitment(collection, content):
    tree, hashes = content
    assert collection.contentRoot() == "0x" + tree.root.hex()
    for serial in (1, 7, EDITION):
        image, meta = hashes[serial - 1]
        assert collection.verifyContent(serial, image, meta, tree.proof(serial))
    image, meta = hashes[2]
    assert not collection.verifyContent(3, b"\x01" * 32, meta, tree.proof(3))  # altered artwork
    assert not collection.verifyContent(4, image, meta, tree.proof(3))  # another serial's content


# ---------------------------------------------------------------- metadata, royalties, interfaces

def test_token_uri_is_registry_host_plus_address_plus_serial(collection, registry, operator, admin, alice):
    collection.mint(alice, {"from": operator})
    assert collection.tokenURI(1) == f"{REGISTRY_BASE}{collection.address.lower()}/1"
    registry.setMetadataBaseURI("https://cdn.bank.example/m/", {"from": admin})
    assert collection.tokenURI(1) == f"https://cdn.bank.example/m/{collection.address.lower()}/1"


def test_own_base_uri_overrides_registry_host(collection, operator, admin, alice):
    collection.mint(alice, {"from": operator})
    tx = collection.setBaseURI("https://drop.bank.example/x/", {"from": admin})
    assert tx.events["BatchMetadataUpdate"]["_fromTokenId"] == 1
    assert collection.tokenURI(1) == "https://drop.bank.example/x/1"
    with reverts_with("AccessControlUnauthorizedAccount"):
        collection.setBaseURI("x", {"from": operator})


def test_token_uri_of_missing_token(collection):
    with reverts_with("ERC721NonexistentToken: 1"):
        collection.tokenURI(1)


def test_royalty(collection, admin):
    receiver, amount = collection.royaltyInfo(1, 10_000)
    assert receiver == admin and amount == 500
    collection.setDefaultRoyalty(admin, 250, {"from": admin})
    assert collection.royaltyInfo(1, 10_000)[1] == 250


def test_drop_details(holding, operator, alice):
    holding.airdrop([alice] * 3, {"from": operator})
    d = holding.dropDetails()
    assert (d["maxSupply"], d["totalMinted"], d["transferPolicy"], d["holdingPeriod"]) == (EDITION, 3, 2, HOLD_SECONDS)


def test_supports_interfaces(collection):
    for iface in ("0x01ffc9a7", "0x80ac58cd", "0x5b5e139f", "0x2a55205a", "0x49064906", "0xb45a3c0e",
                  "0x7965db0b"):
        assert collection.supportsInterface(iface), iface
    assert not collection.supportsInterface("0xffffffff")
    assert not collection.supportsInterface("0x780e9d63")  # not ERC721Enumerable


def test_revoked_operator_can_no_longer_mint(collection, admin, operator, alice):
    # the operator's mints skip the role lookup through a cache; revoking the role must clear it
    collection.revokeRole(role("MINTER_ROLE"), operator, {"from": admin})
    with reverts_with("AccessControlUnauthorizedAccount"):
        collection.mint(alice, {"from": operator})
    collection.grantRole(role("MINTER_ROLE"), operator, {"from": admin})
    collection.mint(alice, {"from": operator})  # back through AccessControl


def test_renounced_operator_can_no_longer_mint(collection, operator, alice):
    collection.renounceRole(role("MINTER_ROLE"), operator, {"from": operator})
    with reverts_with("AccessControlUnauthorizedAccount"):
        collection.airdrop([alice], {"from": operator})


def test_pause_twice_and_unpause_when_running(collection, operator):
    with reverts_with("ExpectedPause"):
        collection.unpause({"from": operator})
    tx = collection.pause({"from": operator})
    assert tx.events["Paused"]["account"] == operator and collection.paused()
    with reverts_with("EnforcedPause"):
        collection.pause({"from": operator})
