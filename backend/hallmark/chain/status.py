"""What the node and the deployment record say right now (for health checks)."""
from __future__ import annotations

from pathlib import Path

from web3 import Web3

from . import deployment


def chain_status(rpc_url: str, deployment_file: Path) -> dict:
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 3}))
    report: dict = {"ok": False, "rpc_url": rpc_url, "chain_id": None, "block_number": None, "registry": None}
    try:
        report["chain_id"] = w3.eth.chain_id
        report["block_number"] = w3.eth.block_number
    except Exception as exc:
        report["error"] = f"node unreachable: {type(exc).__name__}"
        return report
    try:
        record = deployment.load(Path(deployment_file))
    except deployment.DeploymentMissing as exc:
        report["error"] = str(exc)
        return report
    problem = deployment.mismatch(record, w3)
    if problem:
        report["error"] = f"{problem}: redeploy"
        return report
    report.update(ok=True, registry=record.registry, drops={k: v["address"] for k, v in record.drops.items()})
    return report
