"""What people type, checked the same way by the API, the CSV parser and the CLI: addresses and display text."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from cchecksum import to_checksum_address  # compiled EIP-55 (2 µs; eth_utils' 80): an airdrop checks 100,000

UINT256_MAX = 2**256 - 1  # the largest ERC-721 token id
MAX_DB_INT = 2**31 - 1  # the largest id or token id an Integer column holds (int4 on PostgreSQL)
HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
NOT_AN_ADDRESS = "not an Ethereum address"
CHECKSUM_MISMATCH = "checksum does not match: check the address for a typo"
# control characters, bidirectional overrides and isolates (U+202A-E, U+2066-9), marks (U+200E/F), zero-width and
# other invisible format characters, line/paragraph separators, surrogates and private use: they let a name show
# something other than what it is
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}


class AddressError(ValueError):
    pass


def checked_address(value: str) -> str:
    """The checksummed form of a typed address. All-lowercase and all-uppercase hex carry no checksum and are
    taken as they are; mixed case is an EIP-55 checksum and must match, since eth_utils' is_address takes any case
    and a one-character typo would send the item to an address nobody holds."""
    if not isinstance(value, str) or not HEX_ADDRESS.fullmatch(value):
        raise AddressError(NOT_AN_ADDRESS)
    return _checksummed(value)


@lru_cache(maxsize=65_536)  # verify and wallet pages ask for the same addresses again and again: one keccak each
def _checksummed(value: str) -> str:
    digits, checksummed = value[2:], to_checksum_address(value)
    if digits != digits.lower() and digits != digits.upper() and value != checksummed:
        raise AddressError(CHECKSUM_MISMATCH)
    return checksummed


def hidden_character(text: str, allow: str = "") -> str | None:
    """A description of the first invisible or direction-changing character in `text` (None if there is none)."""
    for position, char in enumerate(text, start=1):
        if char not in allow and unicodedata.category(char) in _HIDDEN_CATEGORIES:
            return f"U+{ord(char):04X} at character {position}"
    return None
