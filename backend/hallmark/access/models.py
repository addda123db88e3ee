"""Tables of access: staff accounts and their server-side sessions, approvals (maker-checker), the audit trail
and perk redemptions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ..models import utcnow


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(20))  # viewer | marketing | approver | branch | admin
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, via argon2-cffi
    totp_secret: Mapped[str | None] = mapped_column(Text)  # sealed (security.sealing); None = not enrolled
    totp_last_step: Mapped[int | None]  # the last accepted time step: a code is accepted once
    failed_logins: Mapped[int] = mapped_column(default=0)  # consecutive
    locked_until: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class StaffSession(Base):
    """A signed-in console session. The cookie carries a random token; only its hash is kept, so a copy of the
    database cannot be replayed. Sign-out, a password change or disabling the account ends it on the server."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    second_factor: Mapped[bool] = mapped_column(default=False)  # a TOTP code was given at sign-in
    client: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]  # absolute end; idle sessions end earlier (config SESSION_IDLE_SECONDS)
    ended_at: Mapped[datetime | None]


class Approval(Base):
    """A maker's request (create a drop, an airdrop, a single mint, pause/resume) waiting for a checker. Nothing
    is rendered, queued or signed until a different person with the approve permission approves it."""

    __tablename__ = "approvals"
    __table_args__ = (Index("ix_approvals_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # drop | airdrop | mint | pause | resume
    drop_id: Mapped[int | None] = mapped_column(ForeignKey("drops.id"), index=True)
    payload: Mapped[str] = mapped_column(Text)  # JSON: what will be done, exactly as the maker submitted it
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)  # e.g. a drop's uploaded base image
    summary: Mapped[str] = mapped_column(Text)  # JSON: what the checker is shown (counts, digest, gas estimate)
    # pending -> approved (then carried out: `result`) | rejected (with `reason`) | cancelled by the maker
    status: Mapped[str] = mapped_column(String(12), default="pending")
    maker_kind: Mapped[str] = mapped_column(String(8))  # staff | key
    maker_id: Mapped[int]
    maker_name: Mapped[str] = mapped_column(String(100))
    checker_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    checker_name: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)  # why it was rejected
    result: Mapped[str | None] = mapped_column(Text)  # JSON: what approving it made (drop id, job id, item id)
    error: Mapped[str | None] = mapped_column(Text)  # approved but could not be carried out
    request_ref: Mapped[str | None] = mapped_column(String(64), unique=True)  # the idempotent request that made it
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.id"))  # the entry of the request
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One append-only record of a staff or system action. `entry_hash` covers every field and the previous
    entry's hash, so editing, inserting or deleting any entry breaks the chain (`hallmark audit verify`)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)  # 1, 2, 3... with no gaps: a deleted entry is a gap
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_kind: Mapped[str] = mapped_column(String(8))  # staff | key | system | cli
    actor_id: Mapped[int | None]
    actor_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40), index=True)  # e.g. drop.create.request, approval.approve
    object_type: Mapped[str] = mapped_column(String(20), default="")
    object_id: Mapped[str] = mapped_column(String(80), default="")
    before: Mapped[str | None] = mapped_column(Text)  # JSON
    after: Mapped[str | None] = mapped_column(Text)  # JSON
    request_id: Mapped[str | None] = mapped_column(String(64))
    client: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class Redemption(Base):
    """Branch staff redeeming an item's perk: sent by the worker's sender (`redeem(tokenId)`), settled from the
    chain's Redeemed event."""

    __tablename__ = "redemptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id"), index=True)
    token_id: Mapped[int]
    # queued -> sending -> redeemed | failed (e.g. AlreadyRedeemed)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    tx_id: Mapped[int | None] = mapped_column(ForeignKey("chain_txs.id"))
    error: Mapped[str | None] = mapped_column(Text)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    branch_note: Mapped[str] = mapped_column(String(200), default="")  # e.g. the branch and the perk handed over
    request_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    redeemed_at: Mapped[datetime | None]
