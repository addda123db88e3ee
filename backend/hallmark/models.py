"""Typed SQLAlchemy 2 models. Drops, the mint queue and its transactions, claims, idempotency, API keys; staff,
approvals and the audit trail live in access.models, webhooks in webhooks.models (both registered below)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def iso_utc(when: datetime | None) -> str | None:
    """ISO 8601 with the zone, as every answer writes a time: naive values (the database's) are UTC."""
    if when is None:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    return when.isoformat() + "Z"


class Drop(Base):
    __tablename__ = "drops"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    symbol: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    issuer_name: Mapped[str] = mapped_column(String(100))
    edition_size: Mapped[int]
    transfer_policy: Mapped[str] = mapped_column(String(20))  # transferable | soulbound | holding_period
    holding_period: Mapped[int] = mapped_column(default=0)  # seconds
    royalty_bps: Mapped[int] = mapped_column(default=0)
    artwork: Mapped[str] = mapped_column(String(10), default="fuhu")  # fuhu | image
    # the cards' labels (zh | en) and how they are drawn: the commitment is over the bytes, so a drop keeps the
    # renderer it was created with (1: Pillow's bundled font, English labels; 2: the pinned CJK font; 3: the same
    # card, drawn faster for 100,000-item drops: see art.render)
    language: Mapped[str] = mapped_column(String(5), default="zh", server_default="en")
    render_version: Mapped[int] = mapped_column(default=3, server_default="1")
    base_image: Mapped[bytes | None] = mapped_column(LargeBinary)
    seed: Mapped[str] = mapped_column(String(64), default="")
    public_base_url: Mapped[str] = mapped_column(String(200))
    claim_start: Mapped[datetime | None]
    claim_end: Mapped[datetime | None]
    per_wallet_limit: Mapped[int] = mapped_column(default=1)
    contract_address: Mapped[str] = mapped_column(String(42), unique=True)  # CREATE2-predicted at creation
    content_root: Mapped[str | None] = mapped_column(String(66))
    # rendering -> deploying -> live (paused is a flag, not a status); failed keeps `error`
    status: Mapped[str] = mapped_column(String(12), default="rendering")
    rendered: Mapped[int] = mapped_column(default=0)
    paused: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text)
    create_tx_id: Mapped[int | None] = mapped_column(ForeignKey("chain_txs.id"))
    pause_wanted: Mapped[bool | None]  # set by staff, carried out on chain by the worker
    # the audit entry of the pause/resume request being carried out: its transaction links back to it
    pause_audit_id: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.id"))
    request_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.id"))  # the entry that caused it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ItemHash(Base):
    """Each serial's content hashes: the leaves of the drop's on-chain content commitment."""

    __tablename__ = "item_hashes"

    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id"), primary_key=True)
    serial: Mapped[int] = mapped_column(primary_key=True)
    image_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    metadata_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    phash_card: Mapped[bytes] = mapped_column(LargeBinary(32))  # perceptual fingerprints, see art.fingerprint
    phash_qr: Mapped[bytes] = mapped_column(LargeBinary(32))


class ChainTx(Base):
    """One transaction the sender owns: a nonce of the signing key, for one purpose. Its signed attempts (the first
    and any fee-bumped replacements of the same nonce) are stored before they are broadcast; whichever attempt the
    chain mines settles it. A nonce is never given up: the chain alone decides a transaction's fate."""

    __tablename__ = "chain_txs"
    # one owner per (key, chain, nonce): a second sender that signs the same nonce cannot store it
    __table_args__ = (UniqueConstraint("chain_id", "signer", "nonce"),
                      Index("ix_chain_txs_pending", "status", "chain_id", "signer", "nonce"))

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(80), unique=True)
    chain_id: Mapped[int]
    signer: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int]
    to_address: Mapped[str] = mapped_column(String(42))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    gas: Mapped[int]
    # wei sent along: custody gas top-ups (custodial withdrawals); contract calls send none
    value: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    tx_hash: Mapped[str] = mapped_column(String(66))  # the latest attempt's, or the one that mined
    # pending -> mined | reverted, or replaced (the nonce was taken by a transaction that is none of our attempts)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    block_number: Mapped[int | None] = mapped_column(index=True)
    block_hash: Mapped[str | None] = mapped_column(String(66))
    gas_used: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    # the audit entry that caused it (drop creation, pause, redemption); batched mints link through their items
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    mined_at: Mapped[datetime | None]


class TxAttempt(Base):
    """One signed form of a ChainTx (same nonce, its own fees and hash), saved before it is broadcast."""

    __tablename__ = "tx_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    chain_tx_id: Mapped[int] = mapped_column(ForeignKey("chain_txs.id"), index=True)
    tx_hash: Mapped[str] = mapped_column(String(66), unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    max_fee_per_gas: Mapped[int] = mapped_column(BigInteger)
    max_priority_fee_per_gas: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    broadcast_at: Mapped[datetime | None]  # the last time it was sent, or seen in the node's pool
    last_error: Mapped[str | None] = mapped_column(Text)


class Lease(Base):
    """Who is the active sender for a key and chain, or the active indexer: renewed while alive, taken over by a
    standby once it expires."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class ProcessBeat(Base):
    """A background process's heartbeat, for /api/health: alive, active or standby, last progress, problem."""

    __tablename__ = "process_beats"

    holder: Mapped[str] = mapped_column(String(120), primary_key=True)  # host:pid:random
    kind: Mapped[str] = mapped_column(String(20))  # worker | indexer
    role: Mapped[str] = mapped_column(String(10), default="standby")  # active | standby
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(default=utcnow)
    progress_at: Mapped[datetime] = mapped_column(default=utcnow)
    problem: Mapped[str | None] = mapped_column(Text)  # e.g. node unreachable, chain replaced


class AirdropJob(Base):
    __tablename__ = "airdrop_jobs"
    __table_args__ = (Index("ix_airdrop_jobs_pending", "pending", "drop_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id"))
    total: Mapped[int]
    request_ref: Mapped[str | None] = mapped_column(String(64), unique=True)  # the idempotent request that made it
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.id"))  # the entry that caused it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # its items minted and failed so far, changed in the transaction that changes their status: progress reads
    # this row instead of counting the job's items (10,000 rows at each poll and each settled batch)
    minted: Mapped[int] = mapped_column(default=0, server_default="0")
    failed: Mapped[int] = mapped_column(default=0, server_default="0")
    # its valid rows not yet queued as mint items: the request stores them here in one short transaction and the
    # worker queues them a batch at a time (minting/jobs.expand), counting them in the drop's supply meanwhile.
    # `recipients`: those rows as fixed-width lines (jobs.LINE), cleared once all are queued
    pending: Mapped[int] = mapped_column(default=0, server_default="0")
    recipients: Mapped[str | None] = mapped_column(Text)


class MintItem(Base):
    """One token to mint. Airdrop rows, single mints and claims all queue here; the mint worker coalesces
    a drop's queued items into batched `airdrop` transactions."""

    __tablename__ = "mint_items"
    __table_args__ = (Index("ix_mint_items_queue", "status", "drop_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id"))
    recipient: Mapped[str] = mapped_column(String(42))
    source: Mapped[str] = mapped_column(String(10))  # airdrop | single | claim
    job_id: Mapped[int | None] = mapped_column(ForeignKey("airdrop_jobs.id"), index=True)
    row_no: Mapped[int | None]  # line in the uploaded CSV / index in the list
    # queued -> sending (in a signed transaction) -> minted | failed
    status: Mapped[str] = mapped_column(String(10), default="queued")
    tx_id: Mapped[int | None] = mapped_column(ForeignKey("chain_txs.id"), index=True)
    token_id: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    request_ref: Mapped[str | None] = mapped_column(String(64), unique=True)  # single mints: the request that made it
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.id"))  # single mints: the entry
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    minted_at: Mapped[datetime | None]


class ClaimCode(Base):
    __tablename__ = "claim_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the code: codes are bearer secrets
    batch: Mapped[str] = mapped_column(String(40))  # one generation request
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]


class Claim(Base):
    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id"), index=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("claim_codes.id"), unique=True)
    wallet: Mapped[str] = mapped_column(String(42), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64))  # set for custodial claims
    item_id: Mapped[int] = mapped_column(ForeignKey("mint_items.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustodialAccount(Base):
    """A bank-held address derived from the custody seed for a customer without a wallet."""

    __tablename__ = "custodial_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)  # also the derivation index
    customer_id: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[str] = mapped_column(String(42), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustodialWithdrawal(Base):
    """A custodial customer moving an item the bank holds for them to their own wallet. The worker first sends the
    custodial address the gas (from the issuer key, through the sender), then signs the transfer with the custody
    key; the chain's Transfer event settles it."""

    __tablename__ = "custodial_withdrawals"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    collection: Mapped[str] = mapped_column(String(42))
    token_id: Mapped[int]
    from_address: Mapped[str] = mapped_column(String(42))  # the customer's custodial address
    to_address: Mapped[str] = mapped_column(String(42))  # the customer's own wallet
    # queued -> funding (gas sent) -> sending (transfer signed) -> done | failed
    status: Mapped[str] = mapped_column(String(10), default="queued")
    fund_tx_id: Mapped[int | None] = mapped_column(ForeignKey("chain_txs.id"))
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    raw_tx: Mapped[bytes | None] = mapped_column(LargeBinary)  # the signed transfer, saved before broadcast
    error: Mapped[str | None] = mapped_column(Text)
    request_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]


class IdempotencyRecord(Base):
    __tablename__ = "idempotency"
    __table_args__ = (UniqueConstraint("key", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(200))  # method + route + caller
    body_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]  # None while the first request is still running
    response: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(100))
    # while no response is stored, the request holds the key until then; a crashed one's lease runs out and a
    # retry runs the view again, which finds the work the first attempt committed (by `ref`) instead of repeating it
    lease_until: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """A partner system's credential: named, scoped to permissions (and optionally to drops), expiring,
    revocable. Only a hash of the key is kept; the key itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))  # the role whose permissions it was made from, or "custom"
    scopes: Mapped[str] = mapped_column(Text, default="")  # space-separated permissions (access.permissions)
    drop_ids: Mapped[str | None] = mapped_column(Text)  # space-separated drop ids it is limited to; None = all
    prefix: Mapped[str] = mapped_column(String(12))  # shown in lists; the rest is only ever hashed
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


# ---------------------------------------------------------------- the chain index (rebuilt from logs by `indexer`)

class IndexedCollection(Base):
    """An official collection, as announced by the registry's CollectionCreated event."""

    __tablename__ = "ix_collections"

    address: Mapped[str] = mapped_column(String(42), primary_key=True)  # checksummed
    name: Mapped[str] = mapped_column(String(100))
    symbol: Mapped[str] = mapped_column(String(32))
    max_supply: Mapped[int]
    transfer_policy: Mapped[int]
    content_root: Mapped[str] = mapped_column(String(66))
    block_number: Mapped[int]
    tx_hash: Mapped[str] = mapped_column(String(66))
    created_at: Mapped[datetime]
    paused: Mapped[bool] = mapped_column(default=False)


class IndexedToken(Base):
    __tablename__ = "ix_tokens"
    # the wallet page: equality on owner/burned, newest first, straight from the index (no sort, no table scan)
    __table_args__ = (Index("ix_tokens_wallet", "owner", "burned", "acquired_block", "collection", "token_id"),)

    collection: Mapped[str] = mapped_column(String(42), primary_key=True)
    token_id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(42))  # zero address once burned
    minted_block: Mapped[int]
    minted_tx: Mapped[str] = mapped_column(String(66))
    minted_at: Mapped[datetime]
    acquired_at: Mapped[datetime]  # when the current owner received it
    acquired_block: Mapped[int]
    burned: Mapped[bool] = mapped_column(default=False)
    redeemed_at: Mapped[datetime | None]
    redeemed_tx: Mapped[str | None] = mapped_column(String(66))
    redeemed_block: Mapped[int | None]
    metadata_updated_at: Mapped[datetime | None]


class IndexedTransfer(Base):
    __tablename__ = "ix_transfers"
    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index"),
        Index("ix_transfers_token", "collection", "token_id", "block_number"),
        Index("ix_transfers_block", "block_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    collection: Mapped[str] = mapped_column(String(42))
    token_id: Mapped[int]
    from_address: Mapped[str] = mapped_column(String(42))
    to_address: Mapped[str] = mapped_column(String(42))
    block_number: Mapped[int]
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int]
    timestamp: Mapped[datetime]


class IndexedBlock(Base):
    """Hashes of blocks the index stands on: a hash that no longer matches means a reorg or a replaced chain."""

    __tablename__ = "ix_blocks"

    number: Mapped[int] = mapped_column(primary_key=True)
    hash: Mapped[str] = mapped_column(String(66))
    timestamp: Mapped[datetime]


class IndexCursor(Base):
    __tablename__ = "ix_cursor"

    id: Mapped[int] = mapped_column(primary_key=True)  # one row per registry
    registry_address: Mapped[str] = mapped_column(String(42), unique=True)
    last_block: Mapped[int]  # everything up to and including this block is indexed
    rewinds: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OwnershipChallenge(Base):
    """A single-use, expiring EIP-4361 (Sign-In with Ethereum) message a holder signs to prove ownership."""

    __tablename__ = "ownership_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(32), unique=True)
    collection: Mapped[str] = mapped_column(String(42))
    token_id: Mapped[int]
    address: Mapped[str] = mapped_column(String(42))
    message: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


from .access import models as _access_models  # noqa: E402,F401  (registers staff, approvals, audit, redemptions)
from .webhooks import models as _webhook_models  # noqa: E402,F401  (registers endpoints, outbox, deliveries)
