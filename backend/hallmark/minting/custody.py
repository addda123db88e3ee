"""Custodial wallets: customers without a wallet of their own get a bank-held address, derived hierarchically
(BIP-44, m/44'/60'/0'/0/<index>) from one custody seed. The seed is a BIP-39 mnemonic from
HALLMARK_CUSTODY_MNEMONIC, else DATA_DIR/keys/custody.mnemonic (created once, mode 600). Only addresses leave
this module: the mnemonic and the keys are never returned or logged."""
from __future__ import annotations

import os
import threading
from pathlib import Path

from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_account.signers.local import LocalAccount
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..models import CustodialAccount, Drop, MintItem
from ..security.files import create_once

ENV = "HALLMARK_CUSTODY_MNEMONIC"
PATH = "m/44'/60'/0'/0/{index}"


class CustodyError(Exception):
    """The custody seed cannot be loaded; the message names the setting, never the seed."""


def _create_seed_file(path: Path) -> None:
    _, phrase = Account.create_with_mnemonic()
    # atomic and never overwrites (a seed that may already hold tokens must not change): if another process
    # created it first, everyone uses that one
    create_once(path, phrase + "\n")


class CustodyService:
    def __init__(self, db, data_dir: Path):
        self.db = db
        self.seed_file = Path(data_dir) / "keys" / "custody.mnemonic"
        self._lock = threading.Lock()
        self._phrase: str | None = None
        self._seed: bytes | None = None

    def _mnemonic(self) -> str:
        if self._phrase is None:
            Account.enable_unaudited_hdwallet_features()
            phrase, source = os.environ.get(ENV, "").strip(), ENV
            if not phrase:
                if not self.seed_file.exists():
                    _create_seed_file(self.seed_file)
                phrase, source = self.seed_file.read_text().strip(), str(self.seed_file)
            try:
                Account.from_mnemonic(phrase, account_path=PATH.format(index=0))
            except Exception:  # eth-account's message quotes the words: replace it
                raise CustodyError(f"the custody seed in {source} is not a valid BIP-39 mnemonic") from None
            self._phrase = phrase
        return self._phrase

    def _account(self, index: int) -> LocalAccount:
        if self._seed is None:
            self._seed = seed_from_mnemonic(self._mnemonic(), "")
        return Account.from_key(key_from_seed(self._seed, PATH.format(index=index)))

    def _address(self, index: int) -> str:
        return self._account(index).address

    def signer(self, s, address: str) -> LocalAccount:
        """The key of one custodial address, for the worker to sign that customer's withdrawal with (it never
        leaves the worker's memory)."""
        index = s.scalar(select(CustodialAccount.id).where(CustodialAccount.address == address))
        if index is None:
            raise CustodyError(f"{address} is not a custodial address")
        account = self._account(index)
        if account.address != address:  # the seed changed under accounts made with another one
            raise CustodyError(f"the custody seed does not derive {address}: was the seed replaced?")
        return account

    @staticmethod
    def existing_address(s, customer_id: str) -> str | None:
        """The customer's custodial address if they have one (in the caller's session)."""
        return s.scalar(select(CustodialAccount.address).where(CustodialAccount.customer_id == customer_id))

    def allocate(self, s, customer_id: str) -> str:
        """A new custodial account for the customer, in the caller's transaction (so it exists only if that
        commits). Concurrent allocations collide on the unique columns at flush: the caller retries."""
        index = (s.scalar(select(func.max(CustodialAccount.id))) or 0) + 1
        address = self._address(index)
        s.add(CustodialAccount(id=index, customer_id=customer_id, address=address))
        s.flush()
        return address

    def address_for(self, customer_id: str) -> str:
        """The customer's custodial address, created on first use; the same customer always gets the same one
        (for staff tools: a claim allocates through `allocate`, inside its own transaction)."""
        for _ in range(20):  # max(id) + 1 races between processes: the unique columns decide, the loser re-reads
            try:
                with self._lock, self.db.session() as s:
                    address = self.existing_address(s, customer_id) or self.allocate(s, customer_id)
                return address
            except IntegrityError:
                continue
        raise CustodyError("could not allocate a custodial address: too many concurrent requests, retry")


def list_accounts(db, page: int, per_page: int, customer_id: str | None = None) -> dict:
    """One page of custodial accounts, oldest first, each with the token ids minted to it per drop."""
    query = select(CustodialAccount)
    if customer_id is not None:
        query = query.where(CustodialAccount.customer_id == customer_id)
    with db.session() as s:
        total = s.scalar(select(func.count()).select_from(query.subquery()))
        accounts = list(s.scalars(query.order_by(CustodialAccount.id).offset((page - 1) * per_page).limit(per_page)))
        held: dict[str, dict[int, dict]] = {a.address: {} for a in accounts}
        rows = s.execute(
            select(MintItem.recipient, MintItem.token_id, Drop.id, Drop.slug, Drop.contract_address)
            .join(Drop, Drop.id == MintItem.drop_id)
            .where(MintItem.status == "minted", MintItem.recipient.in_(list(held)))
            .order_by(Drop.id, MintItem.token_id)
        ) if held else []
        for recipient, token_id, drop_id, slug, contract in rows:
            held[recipient].setdefault(drop_id, {"drop_id": drop_id, "slug": slug, "contract_address": contract,
                                                 "token_ids": []})["token_ids"].append(token_id)
    items = [{"customer_id": a.customer_id, "address": a.address, "created_at": a.created_at,
              "tokens": list(held[a.address].values())} for a in accounts]
    return {"total": total, "page": page, "per_page": per_page, "items": items}
