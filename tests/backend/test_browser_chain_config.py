"""What the verify page gives the browser for its own chain check: the public JSON-RPC endpoint (allowed by the
page's connect-src), the registry and chain id of the deployment, and the locally served ethers bundle. The check
itself runs in Chromium: tests/e2e/test_browser_chain_check.py."""
import json
import re

import pytest

from hallmark.api.chaincheck import rpc_origin
from hallmark.config import Config

from conftest import CI_NETWORK, CI_PORT

ITEM = f"/v/0x{'11' * 20}/1"


@pytest.mark.parametrize("url, origin", [
    ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
    ("https://rpc.example.com/v1/key?x=1", "https://rpc.example.com"),
    ("https://user:secret@rpc.example.com:8443/", "https://rpc.example.com:8443"),
    ("http://[::1]:8545/", "http://[::1]:8545"),
    ("ws://127.0.0.1:8546", None),
    ("http://host:85x/", None),
    ("http://host; script-src *", None),
    ("http://host 'unsafe-inline'", None),
    ("", None),
])
def test_rpc_origin(url, origin):
    assert rpc_origin(url) == origin


def test_public_rpc_url_defaults_to_the_rpc_url(monkeypatch):
    monkeypatch.delenv("HALLMARK_PUBLIC_RPC_URL", raising=False)
    assert Config(RPC_URL="http://10.0.0.5:8545").PUBLIC_RPC_URL == "http://10.0.0.5:8545"
    monkeypatch.setenv("HALLMARK_PUBLIC_RPC_URL", "https://rpc.example.com")
    assert Config(RPC_URL="http://10.0.0.5:8545").PUBLIC_RPC_URL == "https://rpc.example.com"


def chaincheck_box(html: str) -> dict:
    tag = re.search(r'<section class="chaincheck"[^>]*>', html).group(0)
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag))


def test_verify_page_names_the_endpoint_registry_and_chain(client, deployed_data):
    reply = client.get(ITEM)
    record = json.loads((deployed_data / "deployments" / f"{CI_NETWORK}.json").read_text())
    assert chaincheck_box(reply.text) == {"rpc-url": f"http://127.0.0.1:{CI_PORT}", "registry": record["registry"],
                                          "chain-id": str(record["chain_id"])}
    assert f"connect-src 'self' http://127.0.0.1:{CI_PORT}" in reply.headers["Content-Security-Policy"]
    # the other pages call only this origin
    assert "connect-src" not in client.get("/claim").headers["Content-Security-Policy"]


def test_a_public_endpoint_replaces_the_private_one(app_for, deployed_data):
    app = app_for(deployed_data, CI_PORT, PUBLIC_RPC_URL="https://rpc.example.com/key")
    reply = app.test_client().get(ITEM)
    app.extensions["hallmark.services"].stop()
    assert chaincheck_box(reply.text)["rpc-url"] == "https://rpc.example.com/key"
    csp = reply.headers["Content-Security-Policy"]
    assert "connect-src 'self' https://rpc.example.com;" in csp + ";" and f":{CI_PORT}" not in csp


def test_an_endpoint_that_is_not_a_plain_url_adds_nothing_to_the_policy(app_for, deployed_data):
    app = app_for(deployed_data, CI_PORT, PUBLIC_RPC_URL="http://x; script-src 'unsafe-inline'")
    reply = app.test_client().get(ITEM)
    app.extensions["hallmark.services"].stop()
    assert reply.status_code == 200
    assert "connect-src" not in reply.headers["Content-Security-Policy"]  # the browser's check then cannot run


def test_without_a_deployment_record_the_page_names_no_registry(app_for, tmp_path):
    app = app_for(tmp_path, CI_PORT)
    reply = app.test_client().get(ITEM)
    assert reply.status_code == 200
    assert chaincheck_box(reply.text)["registry"] == ""


def test_ethers_bundle_is_served_and_nothing_else_of_it(client):
    bundle = client.get("/vendor/ethers/ethers.min.js")
    assert bundle.status_code == 200 and bundle.mimetype in ("text/javascript", "application/javascript")
    assert b'version="6.17.0"' in bundle.data[:2000]
    for path in ("/vendor/ethers/ethers.js", "/vendor/ethers/ethers.umd.min.js", "/vendor/ethers/../package.json"):
        assert client.get(path).status_code == 404, path
