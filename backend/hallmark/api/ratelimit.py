"""Rate limits per client address on the public endpoints that cost the bank something or can be used to guess:
claims, ownership challenges and proofs, image checks and verdicts. Over the limit: a 429 JSON error with
`Retry-After` (seconds).

Limits (HALLMARK_RATELIMIT_CLAIMS, _OWNERSHIP, _IMAGE, _VERIFY, Flask-Limiter's notation such as "10 per
minute") are counted in a moving window, per group of endpoints and client address, in the storage of
HALLMARK_RATELIMIT_STORAGE_URI: Redis (`redis://host:6379/0`) shares the counts between every web process and
machine; without it (`memory://`, the embedded mode) each process counts on its own. If the Redis server cannot
be reached, each process counts in memory until it can (claims keep working).

The client address is the TCP peer's unless HALLMARK_TRUSTED_PROXIES says how many reverse proxies in front of
the app append to X-Forwarded-For: only then is that header believed (its last N entries, the ones those
proxies wrote; whatever a client puts in front of them is ignored)."""
from __future__ import annotations

import math
import time

from flask import Flask, jsonify
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from .openapi import add_responses

GROUPS = {"claims": "RATELIMIT_CLAIMS", "ownership": "RATELIMIT_OWNERSHIP", "image": "RATELIMIT_IMAGE",
          "verify": "RATELIMIT_VERIFY"}
MARK = "_hallmark_rate_limit"


def limited(group: str):
    """Put a view under its group's limit (shared by the group's endpoints), checked before anything else the
    view does; put it right under `@bp.route`."""
    if group not in GROUPS:
        raise ValueError(f"unknown rate limit group {group!r}")

    def mark(view):
        setattr(view, MARK, group)
        add_responses(view, 429)  # in /openapi.json
        return view

    return mark


def init_app(app: Flask) -> Limiter:
    """Wrap the app's marked views (after the blueprints are registered) with this app's limiter."""
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=0, x_host=0, x_port=0, x_prefix=0)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter = Limiter(get_remote_address, strategy="moving-window", key_prefix="hallmark",
                      in_memory_fallback_enabled=True, headers_enabled=False)
    limiter.init_app(app)
    app.extensions["hallmark.limiter"] = limiter
    for endpoint, view in list(app.view_functions.items()):
        group = getattr(view, MARK, None)
        if group is not None:
            app.view_functions[endpoint] = limiter.shared_limit(app.config[GROUPS[group]], scope=group)(view)

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded):
        current = limiter.current_limit
        wait = 60
        if current is not None:  # when the oldest counted request leaves the window (never past its length)
            wait = max(1, min(math.ceil(current.reset_at - time.time()), current.limit.get_expiry()))
        body = {"code": 429, "status": "Too Many Requests",
                "message": f"too many requests from your address (at most {exc.description}): retry in {wait} s"}
        return jsonify(body), 429, {"Retry-After": str(wait)}

    return limiter
