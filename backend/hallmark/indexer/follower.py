"""Follows the registry and every official collection's logs into the index tables.

Pages through block ranges (halving the page when the node refuses a large query), stays `confirmations`
blocks behind the head, resumes from its cursor after a restart, and before each step checks that the last
block it indexed is still on the chain: when a stored hash no longer matches (a reorg, or a chain that was
reset or replaced) it rewinds to the newest block that still matches, or starts over, instead of serving
stale answers.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from cchecksum import to_checksum_address  # compiled EIP-55: 2 µs an address, eth_utils' 80 (two per Transfer)
from eth_abi import decode
from eth_utils import keccak
from sqlalchemy import delete, select, update

from ..db import Database, insert_rows
from ..models import IndexCursor, IndexedBlock, IndexedCollection, IndexedToken, IndexedTransfer
from ..webhooks import sources as webhook_sources

log = logging.getLogger(__name__)
ZERO = "0x" + "00" * 20
ZERO_TOPIC = "0x" + "00" * 32


def _topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


TRANSFER = _topic("Transfer(address,address,uint256)")
REDEEMED = _topic("Redeemed(uint256,address,address)")
METADATA_UPDATE = _topic("MetadataUpdate(uint256)")
BATCH_METADATA_UPDATE = _topic("BatchMetadataUpdate(uint256,uint256)")
PAUSED, UNPAUSED = _topic("Paused(address)"), _topic("Unpaused(address)")
CREATED = _topic("CollectionCreated(address,address,bytes32,string,string,uint64,uint8,bytes32)")
COLLECTION_TOPICS = [TRANSFER, REDEEMED, METADATA_UPDATE, BATCH_METADATA_UPDATE, PAUSED, UNPAUSED]


def _addr(topic: str) -> str:
    return to_checksum_address("0x" + topic[-40:])


def _int(hex_value: str) -> int:
    return int(hex_value, 16)


class Indexer:
    def __init__(self, db: Database, w3, registry: str, start_block: int, confirmations: int = 0,
                 page_size: int = 2000):
        self.db, self.w3 = db, w3
        self.registry = to_checksum_address(registry)
        self.start_block = start_block
        self.confirmations, self.page_size = confirmations, page_size
        self._block_cache: dict[int, tuple[str, datetime]] = {}

    def catch_up(self) -> int:
        """Index everything up to the (confirmed) head now; returns the last indexed block."""
        while self.step():
            pass
        return self.cursor()

    # ------------------------------------------------------------------ one step

    def _rpc(self, method: str, params: list):
        reply = self.w3.provider.make_request(method, params)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error'].get('message')}")
        return reply["result"]

    def _block(self, number: int) -> tuple[str, datetime] | None:
        if number in self._block_cache:
            return self._block_cache[number]
        block = self._rpc("eth_getBlockByNumber", [hex(number), False])
        if block is None:
            return None
        value = (block["hash"], datetime.fromtimestamp(_int(block["timestamp"]), timezone.utc).replace(tzinfo=None))
        if len(self._block_cache) > 10_000:
            self._block_cache.clear()
        self._block_cache[number] = value
        return value

    def cursor(self) -> int:
        with self.db.session() as s:
            row = s.scalar(select(IndexCursor).where(IndexCursor.registry_address == self.registry))
            return row.last_block if row else self.start_block - 1

    def step(self, max_blocks: int | None = None) -> bool:
        """Index the next page (at most `max_blocks` blocks, when given); False when already at the head."""
        self._check_chain()
        head = _int(self._rpc("eth_blockNumber", [])) - self.confirmations
        start = self.cursor() + 1
        if start > head:
            return False
        end = min(start + min(self.page_size, max_blocks or self.page_size) - 1, head)
        logs = self._fetch(start, end)
        if logs is None:  # the node refused the range: try a smaller page next time
            self.page_size = max(1, self.page_size // 2)
            return True
        self._apply(start, end, logs)
        return True

    def _fetch(self, start: int, end: int) -> list[dict] | None:
        span = {"fromBlock": hex(start), "toBlock": hex(end)}
        try:
            created = self._rpc("eth_getLogs", [{**span, "address": self.registry, "topics": [CREATED]}])
            with self.db.session() as s:
                known = list(s.scalars(select(IndexedCollection.address)))
            addresses = known + [_addr(entry["topics"][1]) for entry in created]
            logs = created
            if addresses:
                logs = logs + self._rpc("eth_getLogs", [{**span, "address": addresses, "topics": [COLLECTION_TOPICS]}])
        except RuntimeError as exc:
            if end > start and any(w in str(exc).lower() for w in ("range", "limit", "too many", "exceed")):
                return None
            raise
        return sorted(logs, key=lambda e: (_int(e["blockNumber"]), _int(e["logIndex"])))

    # ------------------------------------------------------------------ applying logs

    def _apply(self, start: int, end: int, logs: list[dict]) -> None:
        new_tokens: dict[tuple[str, int], dict] = {}
        transfers, blocks = [], {}
        end_block = self._block(end)
        if end_block is None:
            return  # the head moved back under us: the next step's check rewinds
        blocks[end] = end_block
        contracts: dict[str, str] = {}  # a page's logs come from a few contracts: checksummed once each
        with self.db.session() as s:
            for entry in logs:
                number = _int(entry["blockNumber"])
                if number not in blocks:
                    blocks[number] = self._block(number)
                when = blocks[number][1]
                address = contracts.get(entry["address"]) or contracts.setdefault(
                    entry["address"], to_checksum_address(entry["address"]))
                topics, tx = entry["topics"], entry["transactionHash"]
                kind = topics[0]
                if kind == CREATED and address == self.registry:
                    name, symbol, max_supply, policy, root = decode(
                        ["string", "string", "uint64", "uint8", "bytes32"], bytes.fromhex(entry["data"][2:]))
                    s.add(IndexedCollection(address=_addr(topics[1]), name=name, symbol=symbol, max_supply=max_supply,
                                            transfer_policy=policy, content_root="0x" + root.hex(),
                                            block_number=number, tx_hash=tx, created_at=when))
                elif kind == TRANSFER:
                    sender = ZERO if topics[1] == ZERO_TOPIC else _addr(topics[1])  # a mint: most of them
                    receiver, token_id = _addr(topics[2]), _int(topics[3])
                    transfers.append({"collection": address, "token_id": token_id, "from_address": sender,
                                      "to_address": receiver, "block_number": number, "tx_hash": tx,
                                      "log_index": _int(entry["logIndex"]), "timestamp": when})
                    key = (address, token_id)
                    if ZERO not in (sender, receiver):
                        webhook_sources.transferred(s, address, token_id, sender, receiver, tx, _int(entry["logIndex"]),
                                                    number, when)
                    if sender == ZERO:
                        new_tokens[key] = {"collection": address, "token_id": token_id, "owner": receiver,
                                           "minted_block": number, "minted_tx": tx, "minted_at": when,
                                           "acquired_at": when, "acquired_block": number, "burned": False}
                    else:
                        change = {"owner": receiver, "acquired_at": when, "acquired_block": number,
                                  "burned": receiver == ZERO}
                        if key in new_tokens:
                            new_tokens[key].update(change)
                        else:
                            self._flush(s, new_tokens, transfers)
                            s.execute(update(IndexedToken).where(IndexedToken.collection == address,
                                                                 IndexedToken.token_id == token_id).values(**change))
                elif kind == REDEEMED:
                    self._flush(s, new_tokens, transfers)
                    webhook_sources.redeemed(s, address, _int(topics[1]), _addr(topics[2]), _addr(topics[3]), tx,
                                             _int(entry["logIndex"]), number, when)
                    s.execute(update(IndexedToken).where(
                        IndexedToken.collection == address, IndexedToken.token_id == _int(topics[1])
                    ).values(redeemed_at=when, redeemed_tx=tx, redeemed_block=number))
                elif kind == METADATA_UPDATE:
                    self._flush(s, new_tokens, transfers)
                    s.execute(update(IndexedToken).where(
                        IndexedToken.collection == address, IndexedToken.token_id == _int(entry["data"][2:66])
                    ).values(metadata_updated_at=when))
                elif kind in (PAUSED, UNPAUSED):
                    s.execute(update(IndexedCollection).where(IndexedCollection.address == address)
                              .values(paused=kind == PAUSED))
            self._flush(s, new_tokens, transfers)
            for number, (block_hash, when) in blocks.items():
                s.merge(IndexedBlock(number=number, hash=block_hash, timestamp=when))
            cursor = s.scalar(select(IndexCursor).where(IndexCursor.registry_address == self.registry))
            if cursor is None:
                s.add(IndexCursor(registry_address=self.registry, last_block=end))
            else:
                cursor.last_block = end

    @staticmethod
    def _flush(s, new_tokens: dict, transfers: list) -> None:
        # plain rows in bulk (the ORM's bulk insert adds per-row work for nothing here)
        insert_rows(s, IndexedToken.__table__, list(new_tokens.values()))
        new_tokens.clear()
        insert_rows(s, IndexedTransfer.__table__, transfers)
        transfers.clear()

    # ------------------------------------------------------------------ reorgs and replaced chains

    def _check_chain(self) -> None:
        with self.db.session() as s:
            stored = list(s.execute(select(IndexedBlock.number, IndexedBlock.hash)
                                    .order_by(IndexedBlock.number.desc()).limit(64)))
        if not stored or self._matches(*stored[0]):
            return
        keep = next((number for number, block_hash in stored[1:] if self._matches(number, block_hash)), None)
        if keep is None:
            log.warning("indexed chain is gone (reset or replaced): rebuilding the index from block %s",
                        self.start_block)
            self.rewind(self.start_block - 1)
        else:
            log.warning("reorg: rewinding the index to block %s", keep)
            self.rewind(keep)

    def _matches(self, number: int, block_hash: str) -> bool:
        self._block_cache.pop(number, None)
        current = self._block(number)
        return current is not None and current[0] == block_hash

    def rewind(self, to_block: int) -> None:
        """Forget everything after `to_block`, then rebuild the affected tokens from the transfers that remain."""
        self._block_cache.clear()
        with self.db.session() as s:
            touched = set(s.execute(select(IndexedTransfer.collection, IndexedTransfer.token_id)
                                    .where(IndexedTransfer.block_number > to_block)).all())
            s.execute(delete(IndexedTransfer).where(IndexedTransfer.block_number > to_block))
            s.execute(delete(IndexedToken).where(IndexedToken.minted_block > to_block))
            s.execute(delete(IndexedCollection).where(IndexedCollection.block_number > to_block))
            s.execute(delete(IndexedBlock).where(IndexedBlock.number > to_block))
            s.execute(update(IndexedToken).where(IndexedToken.redeemed_block > to_block)
                      .values(redeemed_at=None, redeemed_tx=None, redeemed_block=None))
            for collection, token_id in touched:
                last = s.scalar(select(IndexedTransfer).where(
                    IndexedTransfer.collection == collection, IndexedTransfer.token_id == token_id
                ).order_by(IndexedTransfer.block_number.desc(), IndexedTransfer.log_index.desc()).limit(1))
                if last is not None:
                    s.execute(update(IndexedToken).where(
                        IndexedToken.collection == collection, IndexedToken.token_id == token_id
                    ).values(owner=last.to_address, acquired_at=last.timestamp, acquired_block=last.block_number,
                             burned=last.to_address == ZERO))
            cursor = s.scalar(select(IndexCursor).where(IndexCursor.registry_address == self.registry))
            if cursor is not None:
                cursor.last_block = to_block
                cursor.rewinds += 1
