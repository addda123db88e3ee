"""`hallmark demo seed`: on the local chain, through the app's own services, one of everything a verify page can
say: items held in wallets and in custody, a redeemed, a burned and a holding-period item, a lookalike contract, an
unminted serial and an address without a contract, and a few unused claim codes.

The bank's transactions (mints, the redemption, the second drop, the holder's gas money) go through the worker's
sender with the issuer key. The demo holders' keys are derived from a random mnemonic created once (0600) under
the data folder's keys/; a holder signs its own burn. Every step can run again (request refs, transaction purposes,
files created once), and the finished seed is an audit entry (`demo.seed`) holding what it made: a second run
only shows it again."""
from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import select
from web3.exceptions import ContractCustomError, ContractLogicError

from ..access.models import AuditEntry
from ..chain import keys
from ..chain.contracts import calldata
from ..chain.sender import Sender
from ..minting import claims, jobs, redemptions
from ..minting.queue import wait_until_idle
from ..models import Claim, MintItem
from ..security.files import create_once
from ..testing import deploy_lookalike, fresh_addresses

MARKER = "demo.seed"
CUSTOMER = "demo-customer"
WALLETS_FILE = "demo-wallets.mnemonic"
CODES_FILE = "demo-claim-codes.txt"
UNUSED_CODES = 5
TIMEOUT = 120  # seconds for any one transaction or mint
REF = "demo-seed"


class SeedError(Exception):
    """A step of the seed did not go through; the message says which."""


def finished(db) -> dict | None:
    """What an earlier seed made, or None."""
    with db.session() as s:
        after = s.scalar(select(AuditEntry.after).where(AuditEntry.action == MARKER)
                         .order_by(AuditEntry.seq.desc()).limit(1))
    return json.loads(after) if after else None


def wallets(data_dir: Path, count: int = 2) -> list[LocalAccount]:
    """The demo holders: keys derived from a mnemonic made once for this data folder (never in the repo)."""
    path = Path(data_dir) / "keys" / WALLETS_FILE
    Account.enable_unaudited_hdwallet_features()
    if not path.exists():
        create_once(path, Account.create_with_mnemonic()[1] + "\n")
    phrase = path.read_text().strip()
    return [Account.from_mnemonic(phrase, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count)]


class Seeder:
    def __init__(self, backend, slug: str):
        self.backend, self.db = backend, backend.db
        self.services = backend.sending()
        self.w3 = self.services.handles.w3
        self.data_dir = Path(backend.app.config["DATA_DIR"])
        self.drop = backend.drop(slug)
        # the issuer key's sender, sharing the worker's nonces and confirmer through the database
        self.sender = Sender(self.w3, keys.load_issuer(self.data_dir), self.db)

    def run(self) -> dict:
        from ..access.audit_commands import record_cli

        holder, other = wallets(self.data_dir)
        locked_drop = self._locked_drop()  # rendered by the worker while the first mints go out
        minted = self._mint({"genuine": (self.drop.id, holder.address), "redeemed": (self.drop.id, holder.address),
                             "second": (self.drop.id, other.address), "burned": (self.drop.id, other.address)})
        custodial_address, custodial_id = self._custodial_claim()
        self._redeem(minted["redeemed"])
        self._burn(other, minted["burned"])
        lookalike = deploy_lookalike(self.backend.app.config["RPC_URL"], {
            "name": self.drop.name, "symbol": self.drop.symbol, "edition_size": self.drop.edition_size,
            "content_root": self.drop.content_root})
        locked_drop = _wait_live(self.backend, locked_drop.id)
        locked = self._mint({"locked": (locked_drop.id, holder.address)})["locked"]
        codes_file = self._unused_codes()
        result = {
            "drop": self.drop.slug, "name": self.drop.name, "contract": self.drop.contract_address,
            "locked_contract": locked_drop.contract_address, "lookalike": lookalike,
            "no_contract": fresh_addresses(b"hallmark-demo-no-contract", 1)[0],
            "wallets": [holder.address, other.address], "customer": CUSTOMER, "custodial_address": custodial_address,
            "items": {**{k: minted[k] for k in ("genuine", "second", "redeemed", "burned")},
                      "custodial": custodial_id, "locked": locked},
            "not_issued": self.drop.edition_size,  # the last serial: minted last, if ever
            "codes_file": str(codes_file),
        }
        record_cli(self.db, MARKER, "drop", self.drop.id, after=result)
        return result

    # ------------------------------------------------------------------ the bank's side

    def _mint(self, wanted: dict[str, tuple[int, str]]) -> dict[str, int]:
        """{name: (drop id, address)} -> {name: token id}, each queued once (request ref) and minted by the worker."""
        item_ids = {name: jobs.queue_single(self.db, drop_id, to, request_ref=f"{REF}:{name}")
                    for name, (drop_id, to) in wanted.items()}
        return self._wait_minted(item_ids)

    def _wait_minted(self, item_ids: dict[str, int]) -> dict[str, int]:
        if not wait_until_idle(self.db, list(item_ids.values()), TIMEOUT):
            raise SeedError(f"the demo items were not minted within {TIMEOUT} s (is the chain up?)")
        with self.db.session() as s:
            items = {name: s.get(MintItem, item_id) for name, item_id in item_ids.items()}
        failed = {name: item.error for name, item in items.items() if item.status != "minted"}
        if failed:
            raise SeedError(f"demo mints failed: {failed}")
        return {name: item.token_id for name, item in items.items()}

    def _locked_drop(self):
        """The second drop: a small holding-period edition, so its items stay locked for 30 days."""
        from ..access.audit_commands import record_cli
        from ..api.schemas import DropCreateSchema
        from ..cli.drops import find_slug

        slug = f"{self.drop.slug}-locked"[:64]
        existing = find_slug(self.db, slug)
        if existing is not None:
            return existing
        data = DropCreateSchema().load({
            "slug": slug, "name": "福虎守岁", "symbol": "FUHUL", "issuer_name": self.drop.issuer_name,
            "description": "持有期藏品：铸造后 30 天内不可转让。", "language": self.drop.language,
            "edition_size": 10, "transfer_policy": "holding_period", "holding_period_days": 30})
        created = self.services.drops.create(data, request_ref=f"{REF}:locked-drop")
        record_cli(self.db, "drop.create", "drop", created.id, link="Drop",
                   after={"slug": created.slug, "edition_size": created.edition_size, "spec": "demo seed"})
        return created

    def _custodial_claim(self) -> tuple[str, int]:
        """One code claimed for the demo customer: the item is minted to their custodial address."""
        with self.db.session() as s:
            item_id = s.scalar(select(Claim.item_id).where(Claim.customer_id == CUSTOMER,
                                                           Claim.drop_id == self.drop.id))
        if item_id is None:
            code = claims.generate_codes(self.db, self.drop.id, 1, request_ref=f"{REF}:custody")["codes"][0]
            status, _ = self.services.claims.claim(code, customer_id=CUSTOMER)
            with self.db.session() as s:
                item_id = s.scalar(select(Claim.item_id).where(Claim.public_id == status["claim_id"]))
        with self.db.session() as s:
            address = s.get(MintItem, item_id).recipient
        return address, self._wait_minted({"custodial": item_id})["custodial"]

    def _redeem(self, token_id: int) -> None:
        """The perk of one item redeemed through the redemption service; the worker sends it."""
        from flask import g

        from ..access.audit_commands import cli_actor
        from ..access.permissions import Principal

        actor = cli_actor()
        with self.backend.app.test_request_context():  # the audit entry names the operator, not "public"
            g.principal = Principal("cli", 0, actor.name, actor.role, frozenset())
            row = redemptions.request(self.db, self.drop.id, token_id, g.principal, "demo seed",
                                      request_ref=f"{REF}:redeem")
        _poll(lambda: redemptions.status(self.db, row.id)["status"] not in redemptions.ACTIVE)
        state = redemptions.status(self.db, row.id)
        if state["status"] != "redeemed":
            raise SeedError(f"the demo redemption {state['status']}: {state['error']}")

    def _fund(self, address: str, wei: int) -> None:
        """Gas money for a demo holder, from the issuer key through the sender (once per address)."""
        with self.sender.signing() as s:
            tx_id = self.sender.sign(s, f"{REF}:gas:{address}", address, b"", 21_000, value=wei).id
        self.sender.broadcast(tx_id)
        row = self.sender.wait(tx_id, TIMEOUT)  # settled by the worker's confirmer
        if row.status != "mined":
            raise SeedError(f"the gas for demo holder {address} was not delivered (transaction {row.status})")

    # ------------------------------------------------------------------ the holder's side

    def _burn(self, holder: LocalAccount, token_id: int) -> None:
        """The holder burns its item, signing with its own key."""
        collection = self.services.handles.collection(self.drop.contract_address)
        try:
            collection.functions.ownerOf(token_id).call()
        except (ContractCustomError, ContractLogicError):
            return  # burned by an earlier, interrupted run
        tx = {"from": holder.address, "to": self.drop.contract_address,
              "data": self.w3.to_hex(calldata(collection.functions.burn(token_id)))}
        gas = self.w3.eth.estimate_gas(tx)
        max_fee, priority = self.sender.fees()
        if self.w3.eth.get_balance(holder.address) < gas * max_fee:
            self._fund(holder.address, 2 * gas * max_fee)
        signed = holder.sign_transaction({
            **tx, "type": 2, "chainId": self.sender.chain_id, "gas": gas, "value": 0,
            "nonce": self.w3.eth.get_transaction_count(holder.address, "pending"),
            "maxFeePerGas": max_fee, "maxPriorityFeePerGas": min(priority, max_fee)})
        receipt = self.w3.eth.wait_for_transaction_receipt(self.w3.eth.send_raw_transaction(signed.raw_transaction),
                                                           timeout=TIMEOUT)
        if receipt.status != 1:
            raise SeedError(f"the demo burn of #{token_id} reverted")

    # ------------------------------------------------------------------ claim codes

    def _unused_codes(self) -> Path:
        """A few codes nobody claimed, written once (0600) beside the keys; they are never printed or logged."""
        path = self.data_dir / "keys" / CODES_FILE
        if not path.exists():
            base = self.backend.app.config["PUBLIC_BASE_URL"]
            codes = claims.generate_codes(self.db, self.drop.id, UNUSED_CODES, request_ref=f"{REF}:codes")["codes"]
            create_once(path, "".join(f"{code}  {claims.claim_link(base, code)}\n" for code in codes))
        return path


def _wait_live(backend, drop_id: int):
    from ..cli.drops import remember_in_record, wait_live as wait

    drop = wait(backend, drop_id)
    remember_in_record(backend, drop)
    return drop


def _poll(done, timeout: float = TIMEOUT, every: float = 0.1) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SeedError(f"a demo step did not finish within {timeout} s (is the chain up?)")
        time.sleep(every)
