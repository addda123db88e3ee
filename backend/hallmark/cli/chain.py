"""`hallmark chain up|down|status` (the local Ganache of `make run`) and `hallmark deploy` (the brownie script)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .. import config, devchain
from ..chain import keys
from .root import fail, first_line, log, log_file, main


@main.group()
def chain():
    """The local Ganache chain of `make run` (persistent, under the data folder)."""


@chain.command("up")
@click.option("--port", default=8545, show_default=True)
def chain_up(port):
    """Start the chain if it is not running, and make sure the issuer key exists and has gas money."""
    data = config.data_dir()
    try:
        click.echo(devchain.up(data, port))
    except RuntimeError as exc:
        fail(str(exc))
    issuer = keys.create_dev_keystore(data / "keys")
    url = f"http://127.0.0.1:{port}"
    balance = int(devchain.rpc(url, "eth_getBalance", [issuer.address, "latest"]), 16)
    if balance < 100 * 10**18:
        devchain.fund(url, issuer.address, 10_000)
        click.echo(f"issuer {issuer.address} funded with 10000 ETH from the dev faucet")
    else:
        click.echo(f"issuer {issuer.address} has {balance / 10**18:.0f} ETH")


@chain.command("down")
def chain_down():
    """Stop the chain; its data stays on disk for the next `chain up`."""
    click.echo(devchain.down(config.data_dir()))


@chain.command("status")
@click.option("--port", default=8545, show_default=True)
def chain_status(port):
    """Whether the chain answers, with its chain id and block number."""
    url = f"http://127.0.0.1:{port}"
    if not devchain.is_up(url):
        fail(f"no chain answers at {url}")
    block = int(devchain.rpc(url, "eth_blockNumber"), 16)
    click.echo(f"chain {int(devchain.rpc(url, 'eth_chainId'), 16)} at {url}, block {block}")


# ---------------------------------------------------------------------- deploy (the brownie script)


@main.command()
@click.option("--network", default=lambda: config.Config().NETWORK, show_default="$HALLMARK_NETWORK or hallmark-local",
              help="brownie network to deploy on")
def deploy(network):
    """Deploy the registry and the collection implementation (scripts/deploy.py, as `brownie run` would).

    Deploys nothing when the network's deployment record still matches the chain."""
    url = _brownie_network_url(network)
    if url and not devchain.is_up(url):
        # brownie would start a throwaway Ganache, deploy there and record contracts that vanish with it
        fail(f"no chain answers at {url} (brownie network '{network}'): start it first, e.g. `hallmark chain up`")
    _run_deploy_script(network)


def _run_deploy_script(network: str) -> None:
    """scripts/deploy.py's main() in this process, through hallmark.chain.brownie_runner: not `brownie run`, which
    imports a script under a module name made of its absolute path and so fails from any path with a dot in it."""
    try:
        import brownie  # noqa: F401

        from ..chain import brownie_runner
    except ImportError:
        fail("brownie is not installed: run `make setup`")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), str(config.ROOT / "node_modules" / ".bin"),
                                          os.environ.get("PATH", "")])
    try:
        brownie_runner.run_script("scripts/deploy.py", network=network)
    except SystemExit as exc:  # the script's own one-line failure (scripts.common.fail)
        if exc.code not in (None, 0):
            fail(f"deploy on '{network}' failed: {str(exc.code).removeprefix('error:').strip()}")
    except Exception as exc:  # noqa: BLE001
        log.exception("deploy on %s failed", network)
        fail(f"deploy on '{network}' failed: {first_line(exc)} (details in {log_file()})")


def _brownie_network_url(network: str) -> str | None:
    """The URL of a development network brownie would launch a chain for; None for live networks."""
    import yaml

    path = Path.home() / ".brownie" / "network-config.yaml"
    try:
        networks = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        fail(f"brownie has no networks registered ({path} is missing): run `make setup`")
    for entry in networks.get("development") or []:
        if entry.get("id") == network:
            port = (entry.get("cmd_settings") or {}).get("port")
            return f"{entry.get('host', 'http://127.0.0.1')}:{port}" if port else entry.get("host")
    known = [n.get("id") for n in networks.get("development") or []]
    known += [n.get("id") for group in networks.get("live") or [] for n in group.get("networks") or []]
    if network not in known:
        fail(f"unknown brownie network '{network}' (hallmark networks: "
             f"{', '.join(n for n in known if str(n).startswith('hallmark')) or 'none'}; `make setup` registers them)")
    return None

