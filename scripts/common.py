"""Helpers shared by the brownie scripts: the issuer account, the deployment record, one-line failures."""
from __future__ import annotations

from pathlib import Path

from brownie import HallmarkCollection, accounts, network, web3
from hallmark.chain import deployment, keys
from hallmark.chain.deployment import Deployment, DeploymentMissing


def fail(message: str):
    """Stop the script with one clear line (brownie prints tracebacks for exceptions, not for SystemExit)."""
    raise SystemExit(f"error: {message}")


def issuer():
    """The issuer's key, signed with locally (keystore or HALLMARK_ISSUER_KEY), never an unlocked node account."""
    try:
        return accounts.add(keys.load_issuer().key)
    except keys.IssuerKeyError as exc:
        fail(str(exc))


def record_path() -> Path:
    return deployment.record_path(network.show_active())


def live_record() -> Deployment | None:
    """The deployment record for the active network if its registry is still on this chain, else None."""
    path = record_path()
    try:
        record = deployment.load(path)
    except DeploymentMissing:
        return None
    return None if deployment.mismatch(record, web3) else record


def require_record() -> Deployment:
    record = live_record()
    if record is None:
        fail(f"no live deployment for network '{network.show_active()}' ({record_path()}): "
             f"run `brownie run scripts/deploy.py --network {network.show_active()}` first")
    return record


def find_drop(record: Deployment, drop: str):
    """A drop by the slug it was created with, or by its collection address."""
    if drop in record.drops:
        return HallmarkCollection.at(record.drops[drop]["address"])
    for info in record.drops.values():
        if info["address"].lower() == drop.lower():
            return HallmarkCollection.at(info["address"])
    known = ", ".join(record.drops) or "none yet"
    fail(f"unknown drop '{drop}' (known drops: {known})")
