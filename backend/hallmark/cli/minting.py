"""`hallmark mint`, `airdrop` and `claim-codes`: queued through the service layer, sent by the mint worker."""
from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import click

from ..access.audit_commands import record_cli
from .backend import POLL, Backend, progress_bar
from .root import CliError, main

STALL_SECONDS = 180  # an airdrop that makes no progress for this long is reported, not waited on forever


@main.command()
@click.argument("drop_ref", metavar="DROP")
@click.argument("address")
@click.option("--timeout", default=120, show_default=True, help="seconds to wait for the transaction")
def mint(drop_ref, address, timeout):
    """Mint the drop's next serial to ADDRESS (DROP is its slug or id)."""
    from marshmallow import ValidationError

    from ..api.schemas import MintSchema
    from ..minting import jobs
    from ..minting.queue import wait_until_idle

    try:
        to = MintSchema().load({"to": address})["to"]
    except ValidationError as exc:
        raise CliError(f"address: {exc.messages['to'][0]}") from None
    with Backend() as backend:
        drop = backend.drop(drop_ref)
        item_id = jobs.queue_single(backend.db, drop.id, to)
        record_cli(backend.db, "mint.create", "mint_item", item_id, after={"drop_id": drop.id, "to": to},
                   link="MintItem")
        backend.sending()
        if not wait_until_idle(backend.db, [item_id], timeout):
            raise CliError(f"not minted within {timeout} s (mint {item_id} stays queued and is sent by the next "
                           "mint worker: the app server or another hallmark command)")
        item, tx_hash = _mint_item(backend.db, item_id)
    if item.status != "minted":
        raise CliError(f"mint to {to} failed: {item.error}")
    click.echo(f"minted {drop.slug} #{item.token_id} to {to} (tx {tx_hash})")


def _mint_item(db, item_id: int):
    from ..models import ChainTx, MintItem

    with db.session() as s:
        item = s.get(MintItem, item_id)
        tx = s.get(ChainTx, item.tx_id) if item.tx_id else None
    return item, (tx.tx_hash if tx else None)


@main.command()
@click.argument("drop_ref", metavar="DROP")
@click.argument("csv_file", metavar="FILE.csv")
def airdrop(drop_ref, csv_file):
    """Mint one item of DROP to every address in a CSV file (first column; a header row is allowed).

    Rows that are not addresses are reported with their line number and skipped; the other rows are minted in
    batched transactions by the mint worker, with a progress bar until every one is confirmed."""
    from ..minting import jobs

    path = Path(csv_file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CliError(f"CSV file {csv_file} does not exist") from None
    except UnicodeDecodeError:
        raise CliError(f"CSV file {csv_file} is not UTF-8 text") from None
    except OSError as exc:
        raise CliError(f"cannot read CSV file {csv_file}: {exc.strerror}") from None
    good, bad = jobs.parse_recipients(text)
    for row in bad:
        click.echo(f"{csv_file} line {row['row']}: '{row['value']}' skipped: {row['reason']}")
    if not good:
        raise CliError(f"{csv_file} has no valid addresses" + (f" ({len(bad)} bad rows listed above)" if bad else ""))

    with Backend() as backend:
        drop = backend.drop(drop_ref)
        job_id = jobs.create_job(backend.db, drop.id, good, bad)
        record_cli(backend.db, "airdrop.create", "airdrop_job", job_id, link="AirdropJob",
                   after={"drop_id": drop.id, "recipients": len(good), "bad_rows": len(bad), "file": csv_file})
        backend.sending()
        click.echo(f"airdrop job {job_id}: {len(good)} recipients of '{drop.slug}'"
                   + (f", {len(bad)} bad rows skipped" if bad else ""))
        status = _follow_job(backend, job_id, len(good))
    chain_failures = [f for f in status["failures"] if f["row"] not in {b["row"] for b in bad}]
    for f in chain_failures:
        click.echo(f"{csv_file} line {f['row']}: {f['address']} not minted: {f['reason']}")
    gas = sum(t["gas_used"] or 0 for t in status["transactions"])
    click.echo(f"job {job_id} finished: {status['done']} minted, {status['failed']} not minted, "
               f"{len(status['transactions'])} transactions, {status['tokens_per_second']} tokens/s"
               + (f", {gas / status['done']:,.0f} gas per token" if status["done"] else ""))
    if status["failed"]:
        raise CliError(f"{status['failed']} of {status['total']} rows of {csv_file} were not minted (lines listed "
                       f"above); the other {status['done']} were, so do not send the whole file again")


def _follow_job(backend: Backend, job_id: int, valid: int) -> dict:
    from ..minting import jobs

    status = jobs.job_status(backend.db, job_id)
    last_change, last_seen = time.monotonic(), None
    with progress_bar(total=valid, desc="minting", unit="token") as bar:
        try:
            while status["status"] != "finished":
                time.sleep(POLL)
                status = jobs.job_status(backend.db, job_id)
                progress = (status["done"], status["failed"], len(status["transactions"]))
                if progress != last_seen:
                    last_seen, last_change = progress, time.monotonic()
                    bar.update(status["done"] - bar.n)
                elif time.monotonic() - last_change > STALL_SECONDS:
                    raise CliError(f"job {job_id} made no progress for {STALL_SECONDS} s ({status['done']} of "
                                   f"{valid} minted; is the chain up?): the rest stays queued and is sent by the "
                                   f"next mint worker, see `GET /api/jobs/{job_id}`")
        except KeyboardInterrupt:
            raise CliError(f"interrupted: job {job_id} has {status['done']} of {valid} minted; the rest stays queued "
                           "and is sent by the next mint worker (the app server or another hallmark command)") from None
        bar.update(status["done"] - bar.n)
    return status


# ---------------------------------------------------------------------- claim codes


@main.command("claim-codes")
@click.argument("drop_ref", metavar="DROP")
@click.option("--count", required=True, type=click.IntRange(1, 100_000), help="how many codes")
@click.option("--out", "out", required=True, metavar="FILE.csv", help="new CSV file for the codes (code,claim_url)")
def claim_codes(drop_ref, count, out):
    """Generate claim codes for DROP and export them as CSV (code,claim_url).

    Codes are stored only as hashes: this file is the one copy, so it is created with mode 600 and an
    existing file is never overwritten."""
    out_path = Path(out)
    if out_path.exists():
        raise CliError(f"{out} already exists: claim codes are shown only once, so it is never overwritten")
    with Backend() as backend:
        drop = backend.drop(drop_ref)
        try:
            from ..minting import claims
            generate = claims.generate_codes
        except ModuleNotFoundError as exc:
            if exc.name != "hallmark.minting.claims":
                raise
            raise CliError("claim codes are not available in this version (no hallmark.minting.claims)") from None
        except AttributeError:
            raise CliError("claim codes are not available in this version (no claims.generate_codes)") from None
        base = backend.app.config["PUBLIC_BASE_URL"].rstrip("/")
        try:
            fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileNotFoundError:
            raise CliError(f"cannot create {out}: its folder does not exist") from None
        except OSError as exc:
            raise CliError(f"cannot create {out}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "w", newline="") as fh:
                result = generate(backend.db, drop.id, count)
                if isinstance(result, dict):  # {"batch", "count", "codes"}
                    batch, codes = result["batch"], result["codes"]
                else:  # (batch, codes)
                    batch, codes = result
                writer = csv.writer(fh)
                writer.writerow(["code", "claim_url"])
                writer.writerows([code, claims.claim_link(base, code)] for code in codes)
        except BaseException:
            out_path.unlink(missing_ok=True)
            raise
        record_cli(backend.db, "claim_codes.create", "drop", drop.id, after={"batch": batch, "count": len(codes)})
    click.echo(f"{len(codes)} claim codes for '{drop.slug}' (batch {batch}) written to {out} (mode 600): "
               "keep it secret, the codes are not shown again")
