"""The `hallmark` command: the local chain now; drops, minting and claims as the backend grows."""
from __future__ import annotations

import sys

import click

from . import config, devchain
from .chain import keys


@click.group()
def main():
    """Hallmark: digital collectibles for banks."""


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
        _fail(str(exc))
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
        _fail(f"no chain answers at {url}")
    block = int(devchain.rpc(url, "eth_blockNumber"), 16)
    click.echo(f"chain {int(devchain.rpc(url, 'eth_chainId'), 16)} at {url}, block {block}")


def _fail(message: str):
    click.echo(f"error: {message}", err=True)
    sys.exit(1)
