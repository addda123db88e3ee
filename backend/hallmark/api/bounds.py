"""Bounds every request meets before a view runs, so that no database or chain call sees what it cannot hold:
integers in paths within their column (or uint256 for token ids), JSON bodies of a sane size, depth and number
length. Each refusal is a 4xx that names what it refused."""
from __future__ import annotations

import json
import re

from flask import Flask, current_app, request
from flask_smorest import abort
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from ..inputs import MAX_DB_INT, UINT256_MAX

MAX_JSON_DEPTH = 32
MAX_JSON_BYTES = 64 * 1024
# the JSON bodies that may be larger (up to MAX_CONTENT_LENGTH): base64 artwork, airdrop recipient lists
LARGE_JSON = {"drops.Drops", "stats.preview", "drops.airdrop"}
MAX_NUMBER_DIGITS = 100  # uint256 has 78; Python's int() refuses (ValueError, a 500) from 4,300

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKET = re.compile(rb"[\[\]{}]")
_LONG_NUMBER = re.compile(rb"[0-9]{%d,}" % (MAX_NUMBER_DIGITS + 1))


class DatabaseId(IntegerConverter):
    """`<int:...>`: an id of an Integer column (int4 on PostgreSQL). Digits of any length match, so that an id out
    of range is refused naming its field instead of a bare 404 (or SQLite's OverflowError, a 500)."""

    bound = MAX_DB_INT
    refusal = f"Must be at most {MAX_DB_INT}."

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, *args, **kwargs)
        self.max = self.bound  # for /openapi.json only: to_python below does not refuse, check_path_ints does

    def to_python(self, value: str) -> int:
        return int(value) if len(value) <= 80 else UINT256_MAX + 1  # past every bound, without int() of 5000 digits


class TokenId(DatabaseId):
    """`<uint256:...>`: an ERC-721 token id (a serial): any uint256 is a question with an answer (not issued)."""

    bound = UINT256_MAX
    refusal = "Must be at most 2**256 - 1 (a uint256)."


def init_app(app: Flask) -> None:
    """Before the blueprints are registered: their rules bind these converters."""
    app.url_map.converters["int"] = DatabaseId
    app.url_map.converters["uint256"] = TokenId
    app.before_request(check_path_ints)
    app.before_request(check_json_body)


def check_path_ints() -> None:
    rule = request.url_rule
    for name, value in (request.view_args or {}).items():
        converter = rule._converters.get(name) if rule is not None else None
        if isinstance(converter, DatabaseId) and value > converter.bound:
            abort(422, message=f"{name}: {converter.refusal}", errors={"path": {name: [converter.refusal]}})


def check_json_body() -> None:
    """Refuse a JSON body too large, nested too deep (json.loads recurses: a RecursionError near 1,000 levels) or
    with numbers too long to read, before webargs or a view parses it."""
    if not request.is_json:
        return
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if request.endpoint not in LARGE_JSON:
        limit = min(limit or MAX_JSON_BYTES, MAX_JSON_BYTES)
    if limit is not None and (request.content_length or 0) > limit:
        _too_large(limit)
    request.max_content_length = limit
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:  # a chunked body without a Content-Length
        _too_large(limit)
    if problem := json_problem(body):
        abort(400, message=f"the JSON body is refused: {problem}", errors={"json": [problem]})


def _too_large(limit: int) -> None:
    message = f"The JSON body is larger than {limit} bytes."
    abort(413, message=message, errors={"json": [message]})


def json_problem(body: bytes) -> str | None:
    """Why a JSON body is refused (None if it is not): strings are blanked first, so that brackets and digits
    inside them do not count."""
    skeleton = _STRING.sub(b'""', body)
    if _LONG_NUMBER.search(skeleton):
        return f"a number has more than {MAX_NUMBER_DIGITS} digits"
    depth = 0
    for bracket in _BRACKET.finditer(skeleton):
        depth += 1 if bracket.group() in (b"[", b"{") else -1
        if depth > MAX_JSON_DEPTH:
            return f"nested deeper than {MAX_JSON_DEPTH} levels"
    try:  # "\ud800" reads as a string no database or hash can encode (UnicodeEncodeError, a 500)
        json.dumps(json.loads(body), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return "a string holds an unpaired UTF-16 surrogate (\\ud800-\\udfff)"
    except ValueError:  # not JSON: webargs answers that
        pass
    return None
