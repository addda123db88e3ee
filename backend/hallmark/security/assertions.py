"""Customer assertions: a claim to a custodial address names the customer only through a short-lived token the
bank's own systems signed after they authenticated the customer, never through a customer id the browser typed.

A token is `base64url(payload) "." base64url(HMAC-SHA256(key, base64url(payload)))` (unpadded base64url, the
signature over the encoded payload's ASCII bytes), the payload a JSON object:

    {"sub": "<customer id>", "iat": <issued, unix seconds>, "exp": <expires, unix seconds>, "aud": "hallmark-claim"}

with `exp - iat` at most 600 s. The key is shared between the bank's signer and Hallmark:
HALLMARK_CUSTOMER_ASSERTION_KEY (at least 32 bytes of secret text), else DATA_DIR/keys/customer-assertion.key
(created once, 0600; what the demo's `hallmark customer-token` signs with)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from pathlib import Path

from .files import create_once
from .sealing import new_key_text

ENV = "HALLMARK_CUSTOMER_ASSERTION_KEY"
AUDIENCE = "hallmark-claim"
MAX_LIFETIME = 600  # seconds between iat and exp
SKEW = 60  # seconds a signer's clock may run ahead
MIN_KEY_BYTES = 32
MAX_TOKEN = 2048
CUSTOMER_ID = re.compile(r"^\S{1,64}$")


class AssertionRefused(Exception):
    """Why a token is not accepted; `status` 422 (not a token at all) or 403 (not signed by the bank, expired,
    meant for something else)."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.status = status


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_key(configured: str | None, data_dir: Path) -> bytes:
    """The shared signing key: the configured secret, else the data folder's key file (made on first use)."""
    source = ENV
    if not configured:
        path = Path(data_dir) / "keys" / "customer-assertion.key"
        if not path.exists():
            create_once(path, new_key_text() + "\n")
        configured, source = path.read_text().strip(), str(path)
    key = configured.encode()
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the customer assertion key in {source} is shorter than {MIN_KEY_BYTES} bytes")
    return key


def sign(customer_id: str, key: bytes, lifetime: int = 300, now: float | None = None) -> str:
    """A token for `customer_id`, valid `lifetime` seconds: what the bank's systems (or the demo's signer) make."""
    if not CUSTOMER_ID.fullmatch(customer_id or ""):
        raise ValueError("a customer id is 1-64 characters without spaces")
    if not 1 <= lifetime <= MAX_LIFETIME:
        raise ValueError(f"a customer assertion lives 1-{MAX_LIFETIME} seconds")
    issued = int(time.time() if now is None else now)
    payload = _b64(json.dumps({"sub": customer_id, "iat": issued, "exp": issued + lifetime, "aud": AUDIENCE},
                              separators=(",", ":")).encode())
    return f"{payload}.{_b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())}"


def verify(token: str, key: bytes, now: float | None = None) -> str:
    """The customer id a valid token names; AssertionRefused (never quoting the token) otherwise."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN or token.count(".") != 1:
        raise AssertionRefused("not a customer assertion (payload.signature, base64url)", 422)
    payload, signature = token.split(".")
    try:
        given = _unb64(signature)
        body = json.loads(_unb64(payload))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise AssertionRefused("not a customer assertion (payload.signature, base64url)", 422) from None
    expected = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected):
        raise AssertionRefused("the customer assertion is not signed by the bank")
    if not isinstance(body, dict) or body.get("aud") != AUDIENCE:
        raise AssertionRefused(f"the customer assertion is not meant for claims (aud must be '{AUDIENCE}')")
    issued, expires, subject = body.get("iat"), body.get("exp"), body.get("sub")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (issued, expires)):
        raise AssertionRefused("the customer assertion has no valid iat and exp")
    if expires - issued > MAX_LIFETIME or expires <= issued:
        raise AssertionRefused(f"the customer assertion lives longer than {MAX_LIFETIME} s: the bank must sign "
                               "short-lived ones")
    moment = time.time() if now is None else now
    if issued > moment + SKEW:
        raise AssertionRefused("the customer assertion is issued in the future (check the signer's clock)")
    if expires <= moment:
        raise AssertionRefused("the customer assertion has expired: open the claim link from the bank's app again")
    if not isinstance(subject, str) or not CUSTOMER_ID.fullmatch(subject):
        raise AssertionRefused("the customer assertion names no valid customer id (sub)")
    return subject


def key_for(app) -> bytes:
    """The app's assertion key (loaded, or the key file made, on first use)."""
    key = app.extensions.get("hallmark.assertion_key")
    if key is None:
        key = load_key(app.config.get("CUSTOMER_ASSERTION_KEY"), app.config["DATA_DIR"])
        app.extensions["hallmark.assertion_key"] = key
    return key
