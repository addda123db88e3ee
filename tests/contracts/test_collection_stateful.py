"""Stateful property tests (brownie's hypothesis state machine) of HallmarkCollection against a plain Python model.

Random sequences of packed airdrops (2+ recipients: one data contract per batch), airdrops of one and single mints
(storage-minted), transfers, approvals followed by transferFrom by the approved, burns, redemptions, pauses and
(for holding-period drops) the passing of time. After every step, ownerOf of every serial ever minted, balanceOf
of every holder, totalSupply and totalMinted must equal the model's; every step's Transfer (and ERC-5192 Locked)
events must be the ones the model expects, and every refused step must revert with the expected custom error.
The number of examples is kept small so `make test-contracts` stays within a couple of minutes of its old time.
"""
import importlib.util
from pathlib import Path

import brownie.test
import pytest
from brownie import chain
from brownie.test import strategy

from conftest import HOLD_SECONDS, HOLDING, SOULBOUND, TRANSFERABLE, reverts_with

# eth-brownie 1.22.2 ships brownie/test/stateful.py compiled by mypyc, and the compiled `state_machine` (the
# `state_machine` fixture) fails on every run: "TypeError: brownie.test.stateful._BrownieStateMachine object
# expected; got test_collection_stateful.BrownieStateMachine". The package also ships that module's Python source:
# loaded from it, the same code runs uncompiled and works.
_spec = importlib.util.spec_from_file_location(
    "brownie_stateful_source", Path(brownie.test.__file__).with_name("stateful.py"))
_stateful = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_stateful)
state_machine = _stateful.state_machine

ZERO = "0x" + "00" * 20
EDITION = 30
HOLDERS = 4  # accounts[2..5]
SETTINGS = {TRANSFERABLE: {"max_examples": 10, "stateful_step_count": 12},
            SOULBOUND: {"max_examples": 4, "stateful_step_count": 10},
            HOLDING: {"max_examples": 5, "stateful_step_count": 10}}


class CollectionModel:
    recipients = strategy("uint8[]", min_length=1, max_length=7, max_value=HOLDERS - 1)
    holder = strategy("uint8", max_value=HOLDERS - 1)
    pick = strategy("uint16")

    def __init__(self, collection, operator, holders, stranger, policy):
        self.c, self.operator, self.holders, self.stranger, self.policy = (
            collection, operator, list(holders), stranger, policy)

    def setup(self):
        self.owner = {}  # serial -> holder, for live tokens
        self.minted = 0
        self.minted_at = {}
        self.redeemed = set()
        self.approved = {}
        self.paused = False

    # ------------------------------------------------------------ helpers

    def _pick(self, pick, live_only=False):
        ids = sorted(self.owner) if live_only else list(range(1, self.minted + 1))
        return ids[pick % len(ids)] if ids else None

    def _transfer_refusal(self, token):
        """The custom error a transfer of a live token must revert with, None if it must pass, ... if unsure."""
        if self.paused:
            return "EnforcedPause"
        if self.policy == SOULBOUND:
            return f"TokenLocked: {token}"
        if self.policy == HOLDING:
            unlocks = self.minted_at[token] + HOLD_SECONDS
            if abs(chain.time() - unlocks) < 120:
                return ...
            if chain.time() < unlocks:
                return "HoldingPeriodActive"
        return None

    def _transfer(self, token, to, sender):
        """transferFrom(owner, to, token) sent by `sender`: refused as the policy says, or checked and modelled."""
        frm = self.owner[token]
        refusal = self._transfer_refusal(token)
        if refusal is ...:
            return False
        if refusal:
            with reverts_with(refusal):
                self.c.transferFrom(frm, to, token, {"from": sender})
            return False
        self._moved(self.c.transferFrom(frm, to, token, {"from": sender}), token, frm, to)
        return True

    def _mint_checks(self, tx, tos, first):
        assert tx.return_value == first
        ids = list(range(first, first + len(tos)))
        assert [(e["from"], e["to"], e["tokenId"]) for e in tx.events["Transfer"]] == [
            (ZERO, to, i) for to, i in zip(tos, ids)]
        if self.policy == SOULBOUND:
            assert [e["tokenId"] for e in tx.events["Locked"]] == ids
        else:
            assert "Locked" not in tx.events
        stamp = chain[tx.block_number].timestamp
        for to, i in zip(tos, ids):
            self.owner[i] = to
            self.minted_at[i] = stamp
        self.minted += len(tos)

    def _moved(self, tx, token, frm, to):
        assert [(e["from"], e["to"], e["tokenId"]) for e in tx.events["Transfer"]] == [(frm, to, token)]
        self.approved.pop(token, None)
        if to == ZERO:
            del self.owner[token]
        else:
            self.owner[token] = to

    # ------------------------------------------------------------ rules

    def rule_airdrop(self, recipients):
        tos = [self.holders[i] for i in recipients]
        if self.paused:
            with reverts_with("EnforcedPause"):
                self.c.airdrop(tos, {"from": self.operator})
        elif len(tos) > EDITION - self.minted:
            with reverts_with(f"SupplyExceeded: {len(tos)}, {EDITION - self.minted}"):
                self.c.airdrop(tos, {"from": self.operator})
        else:
            self._mint_checks(self.c.airdrop(tos, {"from": self.operator}), tos, self.minted + 1)

    def rule_mint(self, holder):
        to = self.holders[holder]
        if self.paused:
            with reverts_with("EnforcedPause"):
                self.c.mint(to, {"from": self.operator})
        elif self.minted == EDITION:
            with reverts_with("SupplyExceeded: 1, 0"):
                self.c.mint(to, {"from": self.operator})
        else:
            self._mint_checks(self.c.mint(to, {"from": self.operator}), [to], self.minted + 1)

    def rule_transfer(self, pick, holder):
        token = self._pick(pick)
        if token is None:
            return
        to = self.holders[holder]
        if token not in self.owner:
            with reverts_with(f"ERC721NonexistentToken: {token}"):
                self.c.transferFrom(to, to, token, {"from": to})
            return
        self._transfer(token, to, self.owner[token])

    def rule_approve_then_transfer_from(self, pick, holder):
        token = self._pick(pick, live_only=True)
        if token is None:
            return
        frm, spender, to = self.owner[token], self.stranger, self.holders[holder]
        tx = self.c.approve(spender, token, {"from": frm})
        assert tx.events["Approval"]["approved"] == spender and self.c.getApproved(token) == spender
        self.approved[token] = spender
        other = next(h for h in self.holders if h != frm)  # neither owner nor approved
        with reverts_with("ERC721InsufficientApproval"):
            self.c.transferFrom(frm, to, token, {"from": other})
        if self._transfer(token, to, spender):
            assert self.c.getApproved(token) == ZERO

    def rule_burn(self, pick):
        token = self._pick(pick)
        if token is None:
            return
        if token not in self.owner:
            with reverts_with(f"ERC721NonexistentToken: {token}"):
                self.c.burn(token, {"from": self.stranger})
            return
        frm = self.owner[token]
        if self.approved.get(token) != self.stranger:
            with reverts_with("NotOwnerNorApproved"):
                self.c.burn(token, {"from": self.stranger})
        if self.paused:
            with reverts_with("EnforcedPause"):
                self.c.burn(token, {"from": frm})
        else:
            self._moved(self.c.burn(token, {"from": frm}), token, frm, ZERO)

    def rule_redeem(self, pick):
        token = self._pick(pick)
        if token is None:
            return
        if self.paused:
            error = "EnforcedPause"
        elif token not in self.owner:
            error = f"ERC721NonexistentToken: {token}"
        elif token in self.redeemed:
            error = f"AlreadyRedeemed: {token}"
        else:
            tx = self.c.redeem(token, {"from": self.operator})
            assert tx.events["Redeemed"]["tokenId"] == token and tx.events["Redeemed"]["holder"] == self.owner[token]
            assert "Transfer" not in tx.events
            self.redeemed.add(token)
            return
        with reverts_with(error):
            self.c.redeem(token, {"from": self.operator})

    def rule_pause_or_unpause(self):
        if self.paused:
            self.c.unpause({"from": self.operator})
        else:
            self.c.pause({"from": self.operator})
        self.paused = not self.paused

    def rule_let_time_pass(self):
        if self.policy == HOLDING:
            chain.sleep(HOLD_SECONDS + 3600)
            chain.mine()

    # ------------------------------------------------------------ invariant

    def invariant_owners_balances_supply(self):
        for token in range(1, self.minted + 1):
            if token in self.owner:
                assert self.c.ownerOf(token) == self.owner[token], token
            else:
                with reverts_with(f"ERC721NonexistentToken: {token}"):
                    self.c.ownerOf(token)
        for holder in self.holders + [self.stranger]:
            assert self.c.balanceOf(holder) == sum(1 for o in self.owner.values() if o == holder), holder
        assert self.c.totalSupply() == len(self.owner)
        assert self.c.totalMinted() == self.minted
        assert self.c.paused() == self.paused


@pytest.mark.parametrize("policy", [TRANSFERABLE, SOULBOUND, HOLDING])
def test_collection_matches_model(make_collection, operator, accounts, stranger, policy):
    collection = make_collection(policy, HOLD_SECONDS if policy == HOLDING else 0, EDITION)
    state_machine(CollectionModel, collection, operator, accounts[2:2 + HOLDERS], stranger, policy,
                  settings={**SETTINGS[policy], "deadline": None})
