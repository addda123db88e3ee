"""Stored responses sealed with a key that never enters the database.

The Idempotency-Key store keeps each write's first response so that a retry can be answered with it; one of
those responses is a batch of claim codes, which the database otherwise keeps only as hashes. Every stored
response is therefore sealed (AES-256-GCM, bound to its key and scope) with the response key:
HALLMARK_RESPONSE_KEY (base64url of 32 random bytes; the same on every machine that serves the API), else
DATA_DIR/keys/response.key (created once, 0600). A copy of the database, or of its backups, alone reveals none
of them. Losing the key only makes the stored responses unreadable: a replay then answers 410."""
from __future__ import annotations

import base64
import binascii
import os
import secrets
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .files import create_once

ENV = "HALLMARK_RESPONSE_KEY"
PREFIX = "sealed:v1:"
KEY_BYTES = 32


class SealError(Exception):
    """A stored response cannot be opened (another key, or altered); the message never quotes it."""


def _b64decode(text: str) -> bytes:
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode().rstrip("=")


def load_key(configured: str | None, data_dir: Path) -> bytes:
    """The response key: the configured one (HALLMARK_RESPONSE_KEY), else the data folder's key file, made on
    first use."""
    source = ENV
    if not configured:
        path = Path(data_dir) / "keys" / "response.key"
        if not path.exists():
            create_once(path, new_key_text() + "\n")
        configured, source = path.read_text(), str(path)
    try:
        key = _b64decode(configured)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise SealError(f"the response key in {source} must be {KEY_BYTES} random bytes, base64url-encoded")
    return key


class Sealer:
    def __init__(self, key: bytes):
        self._aead = AESGCM(key)

    def seal(self, text: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, text.encode(), context.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, stored: str, context: str) -> str:
        if not is_sealed(stored):
            raise SealError("the stored response is not sealed")
        try:
            raw = _b64decode(stored[len(PREFIX):])
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError):
            raise SealError("the stored response cannot be opened with this response key") from None


def is_sealed(stored: str | None) -> bool:
    return bool(stored) and stored.startswith(PREFIX)


_lock = threading.Lock()


def sealer_for(app) -> Sealer:
    """The app's sealer, its key loaded (or the key file made) on first use."""
    sealer = app.extensions.get("hallmark.sealer")
    if sealer is None:
        with _lock:
            sealer = app.extensions.get("hallmark.sealer")
            if sealer is None:
                sealer = Sealer(load_key(app.config.get("RESPONSE_KEY"), app.config["DATA_DIR"]))
                app.extensions["hallmark.sealer"] = sealer
    return sealer
