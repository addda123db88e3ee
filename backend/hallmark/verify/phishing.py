"""Where a verify link points: a code or QR code naming an official item on a host that is not the bank's own verify
address is a phishing lure (a lookalike site shows "authentic" for whatever it likes), so it is flagged even when
the contract and serial are genuine."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

# the authority of a URL (scheme optional, as people paste "bank.example/v/..."), up to its path
_AUTHORITY = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//([^/?#\s]*)|^\s*([^/?#\s:]+(?::\d+)?)/v/", re.I)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _host(authority: str, scheme: str = "") -> str | None:
    """host[:port] as the browser would connect: after any user-info ("bank.example@evil.example" is evil.example),
    lower case, the scheme's default port dropped."""
    try:
        parts = urlsplit("//" + authority)
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number or out of range
        return authority.lower() or None
    if not host:
        return None
    return host if port in (None, _DEFAULT_PORTS.get(scheme.lower())) else f"{host}:{port}"


def link_host(code: str) -> str | None:
    """The host a verify link points at, or None for a bare <contract>/<token id> code."""
    match = _AUTHORITY.match(code)
    if not match:
        return None
    scheme = code.strip().split(":", 1)[0] if match.group(1) is not None and "://" in code else ""
    return _host(match.group(1) if match.group(1) is not None else match.group(2), scheme)


def bank_host(public_base_url: str) -> str:
    parts = urlsplit(public_base_url)
    return _host(parts.netloc, parts.scheme) or ""


def foreign_host(code: str, public_base_url: str) -> list[dict]:
    """The answer's `warnings`: one `foreign_host` entry when the link's host is not the bank's verify host."""
    host, expected = link_host(code), bank_host(public_base_url)
    if host is None or host == expected:
        return []
    return [{"warning": "foreign_host", "host": host, "expected_host": expected,
             "detail": f"this link points to {host}, not to the bank's verify address {expected}: it may be a "
                       "phishing site, whatever it shows"}]
