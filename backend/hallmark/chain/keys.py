"""The issuer's signing key, from an encrypted keystore (passphrase from the environment) or a raw key.

Keys are signed with locally; node-side unlocked accounts are never used, so the same code runs on any network.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ..security.files import private_dir, write_private


class IssuerKeyError(Exception):
    """The issuer key cannot be loaded; the message says which setting to fix (never the key itself)."""


def load_issuer(data_dir: Path | None = None) -> LocalAccount:
    """HALLMARK_ISSUER_KEY (raw hex, development) or HALLMARK_KEYSTORE + HALLMARK_KEYSTORE_PASSWORD
    (or HALLMARK_KEYSTORE_PASSWORD_FILE); defaults to the dev keystore `make run` creates under data/keys."""
    raw = os.environ.get("HALLMARK_ISSUER_KEY")
    if raw:
        try:
            return Account.from_key(raw)
        except Exception:
            raise IssuerKeyError("HALLMARK_ISSUER_KEY is not a valid private key") from None
    keys = (data_dir or Path(os.environ.get("HALLMARK_DATA_DIR", "data"))) / "keys"
    keystore = Path(os.environ.get("HALLMARK_KEYSTORE", keys / "issuer.json"))
    if not keystore.exists():
        raise IssuerKeyError(f"no issuer key: set HALLMARK_ISSUER_KEY or HALLMARK_KEYSTORE (looked for {keystore})")
    password = os.environ.get("HALLMARK_KEYSTORE_PASSWORD")
    if password is None:
        pw_file = Path(os.environ.get("HALLMARK_KEYSTORE_PASSWORD_FILE", keystore.with_suffix(".pass")))
        if not pw_file.exists():
            raise IssuerKeyError("HALLMARK_KEYSTORE_PASSWORD (or HALLMARK_KEYSTORE_PASSWORD_FILE) is not set")
        password = pw_file.read_text().strip()
    try:
        return Account.from_key(Account.decrypt(json.loads(keystore.read_text()), password))
    except ValueError:
        raise IssuerKeyError(f"cannot decrypt {keystore}: wrong keystore password") from None


def create_dev_keystore(keys_dir: Path) -> LocalAccount:
    """Create (once) a random issuer key for a development chain, encrypted, with its passphrase beside it."""
    keystore, pw_file = keys_dir / "issuer.json", keys_dir / "issuer.pass"
    if keystore.exists() and pw_file.exists():
        return Account.from_key(Account.decrypt(json.loads(keystore.read_text()), pw_file.read_text().strip()))
    private_dir(keys_dir)
    os.chmod(keys_dir, 0o700)
    account = Account.create()
    password = secrets.token_urlsafe(24)
    write_private(pw_file, password)  # 0600 from the start, never readable by others for a moment
    # a light scrypt cost: this key guards a local test chain, not funds
    write_private(keystore, json.dumps(Account.encrypt(account.key, password, kdf="scrypt", iterations=2**14)))
    return account
