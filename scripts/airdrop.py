"""Airdrop one item of a drop to every address in a CSV file, in batched `airdrop` transactions.

    brownie run scripts/airdrop.py main fuhu-demo recipients.csv [batch_size] --network hallmark-local

The CSV has one address per row (first column; a header row is allowed). Every row is checked before
anything is sent. Progress is saved after each batch, so running the same command again resumes where it
stopped and never mints to a row twice.
"""
import hashlib
import json
from pathlib import Path

from brownie import web3
from tqdm import tqdm

from hallmark import config
from hallmark.minting.jobs import parse_recipients
from hallmark.security.files import private_dir, write_private

from scripts.common import fail, find_drop, issuer, require_record


def read_recipients(path: str) -> list[str]:
    """Every address of the CSV, or a one-line failure naming the first bad row (nothing is sent then)."""
    file = Path(path)
    if not file.exists():
        fail(f"CSV file {path} does not exist")
    good, bad = parse_recipients(file.read_text())
    if bad:
        fail(f"{path} line {bad[0]['row']}: '{bad[0]['value']}' is {bad[0]['reason']}; nothing was sent")
    if not good:
        fail(f"{path} has no addresses")
    return [address for _, address in good]


def main(drop: str, csv_path: str, batch_size: str = "500"):
    try:
        size = int(batch_size)
        assert 1 <= size <= 1000
    except (ValueError, AssertionError):
        fail(f"batch_size must be a whole number from 1 to 1000, not '{batch_size}'")
    recipients = read_recipients(csv_path)
    record = require_record()
    collection = find_drop(record, drop)

    digest = hashlib.sha256("\n".join(recipients).encode()).hexdigest()[:16]
    state_file = config.data_dir() / "airdrops" / f"{collection.address}-{digest}.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {"done": 0, "batches": []}
    pending = state.get("pending")
    if pending:  # a batch was sent but the script stopped before its receipt: settle it first
        receipt = web3.eth.wait_for_transaction_receipt(pending["tx"], timeout=120)
        if receipt.status == 1:
            state["done"] = pending["end"]
            state["batches"].append(pending["tx"])
        state.pop("pending")

    todo = recipients[state["done"]:]
    if not todo:
        print(f"All {len(recipients)} rows already went through ({len(state['batches'])} transactions)")
        return state
    remaining = collection.maxSupply() - collection.totalMinted()
    if len(todo) > remaining:
        fail(f"{len(todo)} rows to send but only {remaining} items of the drop remain; nothing was sent")

    account = issuer()
    private_dir(state_file.parent)  # the recipients' progress: owner-only, like everything under the data folder
    with tqdm(total=len(recipients), initial=state["done"], desc="Airdropping", unit="item") as bar:
        while state["done"] < len(recipients):
            start = state["done"]
            batch = recipients[start:start + size]
            try:
                tx = collection.airdrop(batch, {"from": account, "required_confs": 0, "silent": True})
                state["pending"] = {"tx": tx.txid, "end": start + len(batch)}
                _save(state_file, state)
                tx.wait(1)
                if tx.status != 1:
                    raise RuntimeError(f"transaction {tx.txid} reverted")
            except Exception as exc:  # report exactly what went through, then stop
                _save(state_file, state)
                reason = getattr(exc, "revert_msg", None) or str(exc).splitlines()[0]
                fail(f"batch at rows {start + 1}-{start + len(batch)} failed ({reason}); rows 1-{start} went through; "
                     "run the same command again to resume")
            state["done"] = start + len(batch)
            state["batches"].append(tx.txid)
            state.pop("pending")
            _save(state_file, state)
            bar.update(len(batch))
    print(f"Airdropped {len(recipients)} items of {collection.name()} in {len(state['batches'])} transactions")
    return state


def _save(path: Path, state: dict) -> None:
    write_private(path, json.dumps(state, indent=1))  # atomic, 0600
