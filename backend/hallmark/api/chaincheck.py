"""What the verify page needs to check an item against the chain itself, from the visitor's browser
(frontend/static/js/chaincheck.js), so that the check does not rest on this server's word: the public JSON-RPC
endpoint (HALLMARK_PUBLIC_RPC_URL), the registry and the chain id the deployment record names."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import current_app

from ..chain import deployment

HOST = re.compile(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]")  # nothing that could end or extend a CSP directive


def browser_chain() -> dict:
    """The page's data-* values; no registry when there is no deployment record (the page then says its own
    check could not run)."""
    config = current_app.config
    try:
        record = deployment.load(config["DEPLOYMENT_FILE"])
    except deployment.DeploymentMissing:
        return {"rpc_url": config["PUBLIC_RPC_URL"], "registry": "", "chain_id": ""}
    return {"rpc_url": config["PUBLIC_RPC_URL"], "registry": record.registry, "chain_id": record.chain_id}


def rpc_origin(url: str) -> str | None:
    """The endpoint's origin for the page's connect-src (never its credentials), None for anything but a plain
    http(s) URL."""
    parts = urlsplit(url)
    try:
        port = parts.port  # ValueError for a port that is not a number
    except ValueError:
        return None
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    if parts.scheme not in ("http", "https") or not HOST.fullmatch(host):
        return None
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")
