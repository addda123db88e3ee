"""Claim codes and claims: staff print one-time codes, a customer redeems one for the drop's next serial, minted
to their wallet (or to a custodial address) with the bank paying the gas. Accepted claims are queued mint
items; the mint worker batches claims that arrive close together into one `airdrop` transaction."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from urllib.parse import quote

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..models import ChainTx, Claim, ClaimCode, Drop, MintItem, iso_utc, utcnow
from .custody import CustodyError, CustodyService
from .drops import DropError
from .jobs import remaining_supply, unqueued_to

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I: codes are read off paper and typed in
GROUPS, GROUP_LEN = 3, 4
MAX_CODES = 10_000


def normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def new_code() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LEN))
    return "-".join(chars[i:i + GROUP_LEN] for i in range(0, len(chars), GROUP_LEN))


def claim_link(base_url: str, code: str) -> str:
    """The link printed beside a code. The code is in the fragment, which browsers never send to a server, so it
    reaches no access log or proxy; the claim page reads it from there."""
    return f"{base_url.rstrip('/')}/claim#code={quote(code)}"


def generate_codes(db, drop_id: int, count: int, request_ref: str | None = None) -> dict:
    """Create `count` one-time codes for a drop. Only their hashes are stored: this is the one time the codes
    themselves are visible."""
    if not 1 <= count <= MAX_CODES:
        raise DropError(f"count must be between 1 and {MAX_CODES}", 422, "count")
    batch = request_ref[:40] if request_ref else uuid.uuid4().hex
    codes: set[str] = set()
    while len(codes) < count:  # 60 random bits each: a repeat is practically impossible, but must not shrink the batch
        codes.add(new_code())
    with db.session() as s:
        drop = s.get(Drop, drop_id)
        if drop is None:
            raise DropError(f"no drop {drop_id}", 404, "drop_id")
        if drop.status == "failed":
            raise DropError(f"drop '{drop.slug}' failed to deploy: its codes could never be claimed", 409, "drop_id")
        # a retry of a request that died before answering: nobody ever saw its codes (a response is stored before
        # it is sent), so they are voided and replaced rather than left claimable by no one
        s.execute(delete(ClaimCode).where(ClaimCode.batch == batch, ClaimCode.claimed_at.is_(None)))
        s.execute(insert(ClaimCode), [{"drop_id": drop_id, "code_hash": code_hash(c), "batch": batch} for c in codes])
    return {"batch": batch, "count": count, "codes": sorted(codes)}


def claim_status(db, public_id: str) -> dict | None:
    with db.session() as s:
        row = s.execute(select(Claim, MintItem, Drop).join(MintItem, MintItem.id == Claim.item_id)
                        .join(Drop, Drop.id == Claim.drop_id).where(Claim.public_id == public_id)).first()
        if row is None:
            return None
        claim, item, drop = row
        tx_hash = s.scalar(select(ChainTx.tx_hash).where(ChainTx.id == item.tx_id)) if item.tx_id else None
    minted = item.status == "minted"
    return {
        "claim_id": claim.public_id, "status": item.status, "drop_id": drop.id, "drop_slug": drop.slug,
        "contract_address": drop.contract_address, "wallet": claim.wallet, "custodial": claim.customer_id is not None,
        "token_id": item.token_id, "tx_hash": tx_hash, "error": item.error, "created_at": iso_utc(claim.created_at),
        "verify_url": f"{drop.public_base_url}/v/{drop.contract_address}/{item.token_id}" if minted else None,
    }


class ClaimService:
    def __init__(self, db, custody: CustodyService):
        self.db, self.custody = db, custody

    def claim(self, code: str, wallet: str | None = None, customer_id: str | None = None) -> tuple[dict, bool]:
        """Accept a claim and queue its mint. Returns (claim status, created); re-submitting a code with the
        same wallet or customer returns the existing claim (created False), so retries are safe.

        `customer_id` comes from a customer assertion the bank signed (hallmark.security.assertions), never from
        the request as typed. Its custodial address is allocated in the claim's own transaction, after the code,
        the window, the limits and the supply have passed: a refused claim leaves no account behind."""
        digest = code_hash(code)
        with self.db.session() as s:
            code_row = s.scalar(select(ClaimCode).where(ClaimCode.code_hash == digest))
        if code_row is None:
            raise DropError("unknown claim code", 404, "code")
        recipient_field = "wallet" if customer_id is None else "customer_assertion"

        # The drop's row lock serialises its claims across every web process, so the per-wallet limit and the
        # supply checks below cannot both pass for two concurrent requests; the conditional update guards the code.
        # Two first claims of different drops may race for the next custodial index: the unique columns decide,
        # and the loser's whole claim (nothing of it committed) runs again.
        for _ in range(20):
            try:
                with self.db.locked_session() as s:
                    drop = s.get(Drop, code_row.drop_id, with_for_update=True)
                    public_id = self._existing(s, code_row.id, wallet, customer_id)
                    if public_id is None:
                        taken = s.execute(update(ClaimCode).where(
                            ClaimCode.id == code_row.id, ClaimCode.claimed_at.is_(None)).values(claimed_at=utcnow()))
                        if taken.rowcount != 1:  # claimed by another request since _existing looked
                            public_id = self._existing(s, code_row.id, wallet, customer_id)
                    created = public_id is None
                    if created:
                        recipient = wallet if customer_id is None else self.custody.existing_address(s, customer_id)
                        self._check_drop(s, drop, recipient, recipient_field)
                        if recipient is None:
                            recipient = self.custody.allocate(s, customer_id)
                        item = MintItem(drop_id=drop.id, recipient=recipient, source="claim")
                        s.add(item)
                        s.flush()
                        public_id = secrets.token_urlsafe(16)
                        s.add(Claim(public_id=public_id, drop_id=drop.id, code_id=code_row.id, wallet=recipient,
                                    customer_id=customer_id, item_id=item.id))
                return claim_status(self.db, public_id), created
            except IntegrityError:
                if customer_id is None:
                    raise
        raise CustodyError("could not allocate a custodial address: too many concurrent requests, retry")

    @staticmethod
    def _existing(s, code_id: int, wallet: str | None, customer_id: str | None) -> str | None:
        """The public id of this code's claim if it was made by the same claimant; a 409 if by someone else."""
        claim = s.scalar(select(Claim).where(Claim.code_id == code_id))
        if claim is None:
            return None
        same = claim.customer_id == customer_id if customer_id is not None else (
            claim.customer_id is None and claim.wallet == wallet)
        if not same:
            raise DropError("this code has already been used", 409, "code")
        return claim.public_id

    @staticmethod
    def _check_drop(s, drop: Drop, wallet: str | None, recipient_field: str) -> None:
        """Refuse a claim the drop cannot take now; `wallet` None: a new custodial account, which holds nothing."""
        if drop.status != "live":
            raise DropError(f"drop '{drop.slug}' is {drop.status}, not live", 409, "code")
        if drop.paused:
            raise DropError(f"drop '{drop.slug}' is paused: claims are not accepted", 409, "code")
        now = utcnow()
        if drop.claim_start and now < drop.claim_start:
            raise DropError(f"the claim window is not open yet (opens {drop.claim_start.isoformat()}Z)", 409, "code")
        if drop.claim_end and now >= drop.claim_end:
            raise DropError(f"the claim window is closed (closed {drop.claim_end.isoformat()}Z)", 409, "code")
        # every live item to this wallet counts, whatever its source (airdrop, single mint or claim)
        held = 0 if wallet is None else s.scalar(select(func.count()).select_from(MintItem).where(
            MintItem.drop_id == drop.id, MintItem.recipient == wallet,
            MintItem.status.in_(("queued", "sending", "minted")))) + unqueued_to(s, drop.id, wallet)
        if held >= drop.per_wallet_limit:
            raise DropError(f"this wallet already has the drop's limit of {drop.per_wallet_limit} per wallet",
                            409, recipient_field)
        if remaining_supply(s, drop) < 1:
            raise DropError(f"drop '{drop.slug}' is sold out", 409, "code")
