"""Ownership proof: the server issues a single-use, expiring EIP-4361 (Sign-In with Ethereum) challenge, the
holder signs it in their wallet, and the server checks the signature and that the signer holds the item now."""
from __future__ import annotations

import re
import secrets
import warnings
from datetime import timedelta, timezone
from urllib.parse import urlparse

from eth_keys.exceptions import BadSignature
from eth_utils import to_checksum_address
from sqlalchemy import select, update
from web3.exceptions import ContractLogicError

from ..art.render import format_serial
from ..db import Database
from ..inputs import MAX_DB_INT
from ..models import CustodialAccount, IndexedCollection, IndexedToken, OwnershipChallenge, utcnow

with warnings.catch_warnings():  # its ABNF grammar prints notes on import
    warnings.simplefilter("ignore")
    from siwe import SiweMessage
    from siwe.siwe import VerificationError

TTL = timedelta(minutes=5)
SIWE_HEADER = " wants you to sign in with your Ethereum account:"
NONCE_LINE = re.compile(r"^Nonce: ([0-9A-Za-z]{8,64})$", re.M)


class ProofRefused(Exception):
    def __init__(self, reason: str, field: str = "signature"):
        super().__init__(reason)
        self.field = field


class OwnershipProofs:
    def __init__(self, db: Database, handles, public_base_url: str, chain_id: int):
        self.db, self.handles = db, handles
        self.base = public_base_url
        self.domain = urlparse(public_base_url).netloc
        self.chain_id = chain_id

    def challenge(self, address: str, collection: str, token_id: int) -> dict:
        address, collection = to_checksum_address(address), to_checksum_address(collection)
        with self.db.session() as s:
            coll = s.get(IndexedCollection, collection)
            # no column holds a larger id, and no official token has one (serials go up to the edition size)
            token = s.get(IndexedToken, (collection, token_id)) if token_id <= MAX_DB_INT else None
        if coll is None:
            raise ProofRefused("this contract is not an official collection of the bank", "collection")
        if token is None or token.burned:
            raise ProofRefused(f"item {token_id} does not exist", "token_id")
        now = utcnow()
        nonce = secrets.token_hex(8)
        message = SiweMessage(
            domain=self.domain, address=address, uri=f"{self.base}/v/{collection}/{token_id}", version="1",
            chain_id=self.chain_id, nonce=nonce, issued_at=_stamp(now), expiration_time=_stamp(now + TTL),
            statement=f"I hold {coll.name} {format_serial(token_id, coll.max_supply)} and prove it to the bank.",
            resources=[f"{self.base}/v/{collection}/{token_id}"],
        ).prepare_message()
        with self.db.session() as s:
            s.add(OwnershipChallenge(nonce=nonce, collection=collection, token_id=token_id, address=address,
                                     message=message, issued_at=now, expires_at=now + TTL))
        return {"message": message, "nonce": nonce, "expires_at": _stamp(now + TTL)}

    def verify(self, message: str, signature: str) -> dict:
        # the message must be one this server issued before the siwe parser reads it: that parser takes seconds
        # on 2 KB of junk, so only its header and nonce lines are read first
        header = message.partition("\n")[0]
        domain, nonce = header.removesuffix(SIWE_HEADER), NONCE_LINE.search(message)
        if domain == header or nonce is None:
            raise ProofRefused("not a Sign-In with Ethereum message", "message")
        if domain != self.domain:
            raise ProofRefused(f"the message was made for another site ({domain[:100]})", "message")
        with self.db.session() as s:
            challenge = s.scalar(select(OwnershipChallenge).where(OwnershipChallenge.nonce == nonce.group(1)))
        if challenge is None or challenge.message != message:
            raise ProofRefused("this message was not issued by this server (or was altered)", "message")
        parsed = SiweMessage.from_message(message=message)
        if challenge.used_at is not None:
            raise ProofRefused("this challenge was already used: ask for a new one", "message")
        if utcnow() >= challenge.expires_at:
            raise ProofRefused("this challenge has expired: ask for a new one", "message")
        try:
            parsed.verify(signature, domain=self.domain, nonce=challenge.nonce)
        except VerificationError as exc:
            raise ProofRefused(f"the signature does not check out ({type(exc).__name__})") from None
        except (ValueError, BadSignature):  # e.g. r or s past the curve order
            raise ProofRefused("the signature is malformed") from None
        with self.db.session() as s:  # single use, also under concurrent submissions
            taken = s.execute(update(OwnershipChallenge).where(
                OwnershipChallenge.id == challenge.id, OwnershipChallenge.used_at.is_(None)).values(used_at=utcnow()))
            if taken.rowcount != 1:
                raise ProofRefused("this challenge was already used: ask for a new one", "message")
        try:
            owner = self.handles.collection(challenge.collection).functions.ownerOf(challenge.token_id).call()
        except ContractLogicError:  # ownerOf reverts for a token that no longer exists
            raise ProofRefused(f"item {challenge.token_id} was burned: nobody holds it now", "message") from None
        if owner != challenge.address:
            with self.db.session() as s:
                custodial = s.scalar(select(CustodialAccount.customer_id).where(CustodialAccount.address == owner))
            if custodial is not None:
                raise ProofRefused("the item is held in the bank's custody for a customer: prove it through "
                                   "bank staff", "signature")
            raise ProofRefused("the signer does not hold this item now")
        return {"proven": True, "holder": owner, "collection": challenge.collection, "token_id": challenge.token_id,
                "checked_at": _stamp(utcnow())}


def _stamp(when) -> str:
    return when.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")
