"""The one vocabulary of verify answers: verdict codes and reason codes, said in Chinese and English.

The words live in the pages' dictionaries (frontend/static/i18n/zh.json + en.json: `verdict.<code>`,
`verdict.<code>.sub`, `reason.<code>`), so the API, the verify page and the search page say the same thing, and
the language switch works in the browser without asking the server again."""
from __future__ import annotations

import json
import re
from functools import lru_cache

from ..config import ROOT

LANGS = ("zh", "en")
# verdict code -> what it means (the OpenAPI description and the README table say the same)
VERDICTS = {
    "genuine": "an official item that exists now, and its artwork matches the on-chain commitment",
    "burned": "an official item that was burned: genuine, but it no longer exists",
    "not_issued": "an official collection, but this serial has not been minted (yet)",
    "invalid_serial": "an official collection, but this serial is outside its edition: no such item can exist",
    "altered": "an official item, but the artwork or metadata checked differs from what was committed on chain",
    "lookalike": "not an official collection: its name or symbol imitates an official drop (named in `imitates`)",
    "unofficial": "a contract that is not an official collection (and imitates none by name or symbol)",
    "no_contract": "there is no contract at this address on this chain",
    "unknown": "cannot be decided by this server now (e.g. it does not hold the drop's artwork)",
}
# reason code -> placeholders its words use
REASONS = {
    "registry.ok": (), "registry.not_official": (), "registry.no_contract": (),
    "token.ok": ("id",), "token.not_issued": ("id",), "token.burned": ("id",), "token.outside": ("id", "size"),
    "content.ok": (), "content.altered": (), "content.mismatch": (), "content.unavailable": (),
    "lookalike.imitates": ("name",),
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@lru_cache(maxsize=None)
def dictionary(lang: str) -> dict[str, str]:
    return json.loads((ROOT / "frontend" / "static" / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def _fill(lang: str, key: str, params: dict) -> str:
    return _PLACEHOLDER.sub(lambda m: str(params.get(m.group(1), m.group(0))), dictionary(lang)[key])


def say(key: str, params: dict | None = None) -> dict[str, str]:
    """{"zh": ..., "en": ...} for one dictionary key, placeholders filled as the browser fills them."""
    return {lang: _fill(lang, key, params or {}) for lang in LANGS}


def verdict_text(code: str, params: dict) -> dict[str, dict[str, str]]:
    """{"zh": {"title", "sub"}, "en": {...}}: the headline and the sentence under it. An official collection this
    server did not create has no issuer on record: its items are "issued by the bank"."""
    words = {}
    for lang in LANGS:
        filled = {"issuer": dictionary(lang)["verdict.bank"], **params}
        words[lang] = {"title": _fill(lang, f"verdict.{code}", filled), "sub": _fill(lang, f"verdict.{code}.sub", filled)}
    return words
