"""The verdict on one item, in the vocabulary of verify/vocabulary.py (genuine, burned, not_issued, lookalike, ...),
with every reason behind it, from the index (and from the chain for addresses the registry never announced).

A drop's collection or a mint that the index has not read yet is taken from the sender's record of its receipt: the
indexer leaves the node to the sender while it has transactions in flight (run/indexer.py), and a customer who has
just claimed an item must not be told it is not issued, nor a new drop's first holder that it is not official."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from eth_abi.exceptions import DecodingError
from sqlalchemy import func, select
from web3.exceptions import Web3Exception

from ..art.commitment import ContentTree, leaf_hash, verify as verify_proof
from ..art.content import POLICY_NAMES, policy_index
from ..art.render import format_serial
from ..db import Database
from ..inputs import MAX_DB_INT, checked_address
from ..models import (ChainTx, Drop, IndexCursor, IndexedCollection, IndexedToken, IndexedTransfer, ItemHash, MintItem,
                      utcnow)
from . import vocabulary
from .lookalike import imitated

ZERO = "0x" + "00" * 20
ANSWER_CACHE = 10_000
ANSWER_TTL = 60.0
POSITION_TTL = 0.25


@dataclass
class Verdict:
    code: str = "genuine"
    params: dict = field(default_factory=dict)  # what the verdict's words name (the issuer, the imitated drop)
    checks: list[dict] = field(default_factory=list)

    def check(self, check: str, ok: bool | None, code: str, detail: str, **params) -> None:
        """ok: True passed, False speaks against the item, None could not be decided. code: vocabulary.REASONS."""
        self.checks.append({"check": check, "ok": ok, "code": code, "params": params, "detail": detail,
                            "text": vocabulary.say(f"reason.{code}", params)})


class Verifier:
    def __init__(self, db: Database, handles):
        self.db = db
        self.handles = handles  # read-only chain access, only for addresses the registry never announced
        self._trees: dict[int, ContentTree] = {}
        self._answers: dict[tuple, tuple[tuple, float, bytes]] = {}
        self._position_value: tuple = ()
        self._position_read_at = float("-inf")

    def tree(self, drop_id: int) -> ContentTree | None:
        if drop_id not in self._trees:
            with self.db.session() as s:
                rows = s.execute(select(ItemHash.serial, ItemHash.image_sha256, ItemHash.metadata_sha256)
                                 .where(ItemHash.drop_id == drop_id).order_by(ItemHash.serial)).all()
            if not rows:
                return None
            self._trees[drop_id] = ContentTree.build([leaf_hash(*row) for row in rows])
        return self._trees[drop_id]

    def by_drop(self, slug: str, serial: int) -> bytes | None:
        with self.db.session() as s:
            address = s.scalar(select(Drop.contract_address).where(Drop.slug == slug))
        return None if address is None else self.item_json(address, serial)

    def item(self, address: str, token_id: int, image_sha256: bytes | None = None,
             metadata_sha256: bytes | None = None) -> dict:
        """The answer changes only when the index moves, so it is cached per index position."""
        return json.loads(self.item_json(address, token_id, image_sha256, metadata_sha256))

    def item_json(self, address: str, token_id: int, image_sha256: bytes | None = None,
                  metadata_sha256: bytes | None = None) -> bytes:
        """The answer as JSON bytes, from the cache when the index has not moved since it was computed."""
        address = checked_address(address)  # AddressError (a ValueError) says why not
        key = (address, token_id, image_sha256, metadata_sha256)
        position, now = self._position(), time.monotonic()
        cached = self._answers.get(key)
        # reuse while the index has not moved; refresh after ANSWER_TTL what depends on the clock (holding
        # periods) or on the node (lookalikes), one entry at a time, never all at once
        if cached is not None and cached[0] == position and now - cached[1] < ANSWER_TTL:
            return cached[2]
        answer, indexed = self._answer(address, token_id, image_sha256, metadata_sha256)
        answer = json.dumps(answer).encode()
        if not indexed:  # about a serial the index does not hold (yet): a settled mint changes it, not the index
            return answer
        if len(self._answers) >= ANSWER_CACHE:
            self._answers.pop(next(iter(self._answers)))
        self._answers[key] = (position, now, answer)
        return answer

    def _position(self) -> tuple:
        """Where the index stands, re-read at most every POSITION_TTL seconds (well inside the 2 s freshness
        promise: the indexer itself polls every 0.5 s)."""
        now = time.monotonic()
        if now - self._position_read_at > POSITION_TTL:
            with self.db.session() as s:
                self._position_value = tuple(s.execute(select(IndexCursor.last_block, IndexCursor.rewinds)).all())
            self._position_read_at = now
        return self._position_value

    def _answer(self, address: str, token_id: int, image_sha256: bytes | None,
                metadata_sha256: bytes | None) -> tuple[dict, bool]:
        """(the answer, whether the index held the token it is about, when the collection is official)."""
        v = Verdict()
        # any uint256 is a fair question, but no column holds one past MAX_DB_INT (SQLite raises OverflowError),
        # and no official token has one: serials end at the edition size
        storable = token_id <= MAX_DB_INT
        with self.db.session() as s:
            drop = s.scalar(select(Drop).where(Drop.contract_address == address))
            coll = s.get(IndexedCollection, address) or (_settled_collection(s, drop) if drop is not None else None)
            token = s.get(IndexedToken, (address, token_id)) if storable else None
            history = [] if not storable else s.execute(select(
                IndexedTransfer.from_address, IndexedTransfer.to_address, IndexedTransfer.tx_hash,
                IndexedTransfer.block_number, IndexedTransfer.timestamp,
            ).where(IndexedTransfer.collection == address, IndexedTransfer.token_id == token_id
                    ).order_by(IndexedTransfer.block_number, IndexedTransfer.log_index)).all()
            stored = s.get(ItemHash, (drop.id, token_id)) if drop is not None and storable else None
            indexed = token is not None
            if token is None and drop is not None and storable:
                token, history = _settled_mint(s, drop.id, address, token_id)
        answer: dict = {"collection": {"address": address, "official": coll is not None, "contract": True},
                        "token_id": token_id}

        if coll is None:
            self._not_official(v, address, answer)
            return self._finish(v, answer), True
        v.check("registry", True, "registry.ok", "the contract was created by the bank's on-chain registry")
        answer["collection"].update(name=coll.name, symbol=coll.symbol, edition_size=coll.max_supply,
                                    created_at=_iso(coll.created_at), content_root=coll.content_root,
                                    paused=coll.paused)
        answer["serial_label"] = format_serial(token_id, coll.max_supply) if 1 <= token_id <= coll.max_supply else None
        if drop is not None:
            v.params["issuer"] = drop.issuer_name
            answer["drop"] = {"slug": drop.slug, "name": drop.name, "issuer": drop.issuer_name,
                              "description": drop.description}
            answer["verify_url"] = f"{drop.public_base_url}/v/{address}/{token_id}"

        if token is None:
            if 1 <= token_id <= coll.max_supply:
                v.code = "not_issued"
                v.check("token", False, "token.not_issued", f"serial {token_id} has not been minted (yet)", id=token_id)
            else:
                v.code = "invalid_serial"
                v.check("token", False, "token.outside", f"serial {token_id} is outside this edition "
                                                         f"(1..{coll.max_supply})", id=token_id, size=coll.max_supply)
            return self._finish(v, answer), indexed
        if drop is not None:  # art and metadata are public for minted items only (api/art.py)
            answer["image_url"] = f"{drop.public_base_url}/art/{address}/{token_id}.png"
            answer["metadata_url"] = f"{drop.public_base_url}/meta/{address.lower()}/{token_id}"
        if token.burned:
            v.code = "burned"
            v.check("token", False, "token.burned", "this item was burned: genuine, but it no longer exists",
                    id=token_id)
        else:
            v.check("token", True, "token.ok", f"token {token_id} exists", id=token_id)
        answer.update(
            owner=None if token.burned else token.owner,
            burned=token.burned,
            minted={"tx": token.minted_tx, "block": token.minted_block, "at": _iso(token.minted_at)},
            acquired_at=_iso(token.acquired_at),
            redeemed=token.redeemed_at is not None, redeemed_at=_iso(token.redeemed_at),
            history=[{"from": frm, "to": to, "tx": tx, "block": block, "at": _iso(when), "kind": _kind(frm, to)}
                     for frm, to, tx, block, when in history],
        )
        answer["policy"] = self._policy(coll, drop, token)
        self._content(v, coll, drop, stored, token_id, image_sha256, metadata_sha256, answer)
        return self._finish(v, answer), indexed

    # ------------------------------------------------------------------ the parts

    def _not_official(self, v: Verdict, address: str, answer: dict) -> None:
        """Not in the registry: no contract, a lookalike of an official drop, or some other contract. Reads the
        chain; a node that does not answer raises (503): nothing is decided then."""
        if not self.handles.w3.eth.get_code(address):
            v.code = "no_contract"
            answer["collection"]["contract"] = False
            v.check("registry", False, "registry.no_contract", "there is no contract at this address on this chain")
            return
        v.check("registry", False, "registry.not_official",
                "this contract is NOT in the bank's on-chain registry of official collections")
        contract = self.handles.collection(address)
        name = _read(contract.functions.name())
        symbol = _read(contract.functions.symbol())
        answer["collection"].update(name=name, symbol=symbol)
        original = imitated(self.db, name, symbol)
        if original is None:
            v.code = "unofficial"
            return
        v.code, v.params["name"] = "lookalike", original["name"]
        answer["imitates"] = original
        v.check("lookalike", False, "lookalike.imitates",
                f"its {original['matched_by']} copies that of the official drop '{original['name']}' "
                f"({original['address']}): a lookalike", name=original["name"])

    def _policy(self, coll, drop, token) -> dict:
        policy = {"name": POLICY_NAMES[coll.transfer_policy], "locked": coll.transfer_policy == 1}
        if coll.transfer_policy == 2 and drop is not None:
            unlocks = token.minted_at + timedelta(seconds=drop.holding_period)
            policy.update(holding_period=drop.holding_period, unlocks_at=_iso(unlocks), locked=utcnow() < unlocks)
        return policy

    def _content(self, v, coll, drop, stored, token_id, image_sha256, metadata_sha256, answer) -> None:
        tree = self.tree(drop.id) if drop is not None else None
        if tree is None:
            v.code = "unknown"
            v.check("content", None, "content.unavailable",
                    "this server does not hold the drop's artwork, so it cannot check it")
            return
        if "0x" + tree.root.hex() != coll.content_root:
            v.code = "altered"
            v.check("content", False, "content.mismatch", "the artwork and metadata served for this drop do not "
                                                          "match the on-chain commitment")
            return
        proof = tree.proof(token_id)
        answer["content"] = {"root": coll.content_root, "image_sha256": "0x" + stored.image_sha256.hex(),
                             "metadata_sha256": "0x" + stored.metadata_sha256.hex(),
                             "proof": ["0x" + p.hex() for p in proof]}
        image = image_sha256 or stored.image_sha256
        meta = metadata_sha256 or stored.metadata_sha256
        if not verify_proof(tree.root, leaf_hash(token_id, image, meta), proof):
            v.code = "altered"
            v.check("content", False, "content.altered", "the artwork or metadata given does not match the "
                                                         "on-chain commitment: an altered copy")
        else:
            v.check("content", True, "content.ok", "artwork and metadata match the on-chain content commitment")

    @staticmethod
    def _finish(v: Verdict, answer: dict) -> dict:
        return {"verdict": v.code, "verdict_text": vocabulary.verdict_text(v.code, v.params), "reasons": v.checks,
                **answer}


def _settled_collection(s, drop: Drop) -> IndexedCollection | None:
    """The drop's collection as the receipt of its creation through the registry left it, once the worker has made
    the drop live; a transient row, never stored."""
    created = s.get(ChainTx, drop.create_tx_id) if drop.status == "live" and drop.create_tx_id else None
    if created is None or created.status != "mined":
        return None
    return IndexedCollection(address=drop.contract_address, name=drop.name, symbol=drop.symbol,
                             max_supply=drop.edition_size, transfer_policy=policy_index(drop.transfer_policy),
                             content_root=drop.content_root, block_number=created.block_number,
                             tx_hash=created.tx_hash, created_at=created.mined_at, paused=drop.paused)


def _settled_mint(s, drop_id: int, address: str, token_id: int) -> tuple[IndexedToken | None, list]:
    """The token as its mint's receipt left it (held by its recipient), when the sender has settled that mint in a
    block the index has not read yet (none, so nothing to look at, once it has caught up); a transient row, never
    stored: the indexer writes the real one from the chain's logs."""
    read_up_to = s.scalar(select(func.min(IndexCursor.last_block)))
    unread = select(ChainTx.id).where(ChainTx.block_number > (-1 if read_up_to is None else read_up_to),
                                      ChainTx.status == "mined")
    row = s.execute(select(MintItem.recipient, ChainTx.tx_hash, ChainTx.block_number, ChainTx.mined_at)
                    .join(ChainTx, ChainTx.id == MintItem.tx_id)
                    .where(MintItem.tx_id.in_(unread), MintItem.drop_id == drop_id, MintItem.token_id == token_id,
                           MintItem.status == "minted")).first()
    if row is None:
        return None, []
    token = IndexedToken(collection=address, token_id=token_id, owner=row.recipient, minted_block=row.block_number,
                         minted_tx=row.tx_hash, minted_at=row.mined_at, acquired_at=row.mined_at,
                         acquired_block=row.block_number, burned=False, redeemed_at=None)
    return token, [(ZERO, row.recipient, row.tx_hash, row.block_number, row.mined_at)]


def _kind(frm: str, to: str) -> str:
    return "mint" if frm == ZERO else "burn" if to == ZERO else "transfer"


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() + "Z" if when else None


def _read(call) -> str | None:
    """An optional ERC-721 string (name, symbol): None when the contract has none; a node that does not answer
    raises (requests' errors are no Web3Exception)."""
    try:
        return call.call()
    except (Web3Exception, DecodingError, ValueError):  # reverted, no such function, not a string
        return None
