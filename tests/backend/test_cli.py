"""The `hallmark` command, run as a subprocess the way staff and `make run` run it, against the session chain."""
import csv
import hashlib
import json
import os
import stat
import time

import pytest
from eth_account import Account
from sqlalchemy import select
from web3 import Web3

from hallmark import devchain
from hallmark.chain import artifacts
from hallmark.db import Database
from hallmark.models import ApiKey

from conftest import CI_NETWORK, CI_PORT, SETUP_NETWORK, SETUP_PORT, run

W3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{CI_PORT}"))


def collection(address):
    return W3.eth.contract(address=address, abi=artifacts.load("HallmarkCollection")["abi"])


@pytest.fixture
def cli(stack, deployed_data):
    """`hallmark ...` in a fresh data folder holding the session's deployment record."""
    data = deployed_data
    env = {
        "HALLMARK_DATA_DIR": str(data), "HALLMARK_RPC_URL": f"http://127.0.0.1:{CI_PORT}",
        "HALLMARK_NETWORK": CI_NETWORK, "HALLMARK_ISSUER_KEY": "0x" + stack["issuer"].key.hex().removeprefix("0x"),
        "HALLMARK_MINT_BATCH_SIZE": "3",
    }

    def hallmark(*args, **extra_env):
        return run(["hallmark", *map(str, args)], {**env, **extra_env}, check=False)

    hallmark.data, hallmark.env, hallmark.issuer = data, env, stack["issuer"].address
    return hallmark


def write_spec(path, **fields):
    spec = {"slug": f"cli-{time.time_ns()}", "name": "Fuhu CLI", "symbol": "FUHU", "issuer_name": "Test Bank",
            "edition_size": 10, "transfer_policy": "transferable", "holding_period_days": 0, "royalty_bps": 250,
            "artwork": "fuhu", **fields}
    path.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in spec.items()))
    return spec


def ok(proc):
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc.stdout


def one_line_error(proc) -> str:
    assert proc.returncode == 1, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def test_drop_create_list_mint_and_airdrop(cli, tmp_path):
    spec = write_spec(tmp_path / "drop.yaml")
    out = ok(cli("drop", "create", "--spec", tmp_path / "drop.yaml"))
    address = Web3.to_checksum_address(out.split("collection ")[-1].split()[0])
    assert f"drop '{spec['slug']}' (id 1): live, 0/10 minted, collection {address}" in out
    coll = collection(address)
    assert coll.functions.name().call() == "Fuhu CLI" and coll.functions.maxSupply().call() == 10
    assert coll.functions.royaltyInfo(1, 10_000).call()[1] == 250
    record = json.loads((cli.data / "deployments" / f"{CI_NETWORK}.json").read_text())
    assert record["drops"][spec["slug"]]["address"] == address  # the brownie scripts and /api/health know it

    # idempotent: the same spec again shows the drop and sends nothing
    nonce = W3.eth.get_transaction_count(cli.issuer)
    again = ok(cli("drop", "create", "--spec", tmp_path / "drop.yaml"))
    assert f"drop '{spec['slug']}' (id 1): live" in again and "note:" not in again
    assert W3.eth.get_transaction_count(cli.issuer) == nonce
    write_spec(tmp_path / "changed.yaml", **{**spec, "edition_size": 20})
    changed = ok(cli("drop", "create", "--spec", tmp_path / "changed.yaml"))
    assert "differs from the existing drop in edition_size" in changed
    assert W3.eth.get_transaction_count(cli.issuer) == nonce

    holder = Account.create().address
    minted = ok(cli("mint", spec["slug"], holder.lower()))
    assert f"minted {spec['slug']} #1 to {holder} (tx 0x" in minted
    assert coll.functions.ownerOf(1).call() == holder

    recipients = [Account.create().address for _ in range(4)]
    (tmp_path / "list.csv").write_text("address\n" + "\n".join(recipients[:2]) + "\nnot-an-address\n"
                                       + "\n".join(recipients[2:]) + "\n")
    proc = cli("airdrop", spec["slug"], tmp_path / "list.csv")
    assert "list.csv line 4: 'not-an-address' skipped: not an Ethereum address" in proc.stdout
    assert "job 1 finished: 4 minted, 1 not minted, 2 transactions" in proc.stdout  # batches of 3
    assert "gas per token" in proc.stdout
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: 1 of 5 rows of " + str(tmp_path / "list.csv") + " were not minted (lines listed above); "
        "the other 4 were, so do not send the whole file again")
    assert [coll.functions.balanceOf(r).call() for r in recipients] == [1] * 4
    assert coll.functions.totalMinted().call() == 5

    clean = tmp_path / "clean.csv"
    clean.write_text("\n".join(Account.create().address for _ in range(2)) + "\n")
    assert "job 2 finished: 2 minted, 0 not minted" in ok(cli("airdrop", spec["slug"], clean))

    listed = ok(cli("drop", "list")).splitlines()
    assert listed[0].split() == ["id", "slug", "status", "minted/edition", "contract"]
    assert listed[1].split() == ["1", spec["slug"], "live", "7/10", address]


def test_apikey_create_and_revoke(cli, tmp_path):
    out = ok(cli("apikey", "create", "--name", "console", "--role", "marketing")).splitlines()
    assert out[0] == "API key 'console' (marketing) created; it is shown only this once:"
    key = out[1]
    assert key.startswith("hk_") and len(key) > 40
    db = Database(f"sqlite:///{cli.data / 'hallmark.db'}")
    with db.session() as s:
        row = s.scalar(select(ApiKey).where(ApiKey.key_hash == hashlib.sha256(key.encode()).hexdigest()))
    assert (row.name, row.role) == ("console", "marketing")

    target = cli.data / "keys" / "partner-key"
    made = ok(cli("apikey", "create", "--name", "crm", "--scope", "drops.read", "--scope", "ledger.export",
                  "--drop", "1", "--expires-days", "30", "--out", target))
    assert "written to" in made
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600 and target.read_text().startswith("hk_")
    with db.session() as s:
        crm = s.scalar(select(ApiKey).where(ApiKey.name == "crm"))
    assert (crm.role, crm.scopes, crm.drop_ids) == ("custom", "drops.read ledger.export", "1")
    assert crm.expires_at is not None
    refused = cli("apikey", "create", "--name", "x", "--role", "admin", "--out", target)
    assert "already exists" in one_line_error(refused)
    assert one_line_error(cli("apikey", "create", "--name", "x", "--role", "boss")).startswith(
        "error: Invalid value for '--role'")
    assert "either --role or --scope" in one_line_error(cli("apikey", "create", "--name", "x"))
    assert one_line_error(cli("apikey", "create", "--name", "x", "--scope", "keys.manage")).startswith(
        "error: Invalid value for '--scope'")

    assert "revoked" in ok(cli("apikey", "revoke", crm.prefix))
    with db.session() as s:
        assert s.get(ApiKey, crm.id).revoked_at is not None
    assert "0 keys start with" in one_line_error(cli("apikey", "revoke", "hk_nothing"))


def test_staff_demo_and_first_admin(cli, tmp_path):
    out = cli.data / "keys" / "demo-staff.txt"
    assert "5 demo accounts created" in ok(cli("staff", "demo", "--out", out))
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    written = out.read_text()
    assert [line.split()[0] for line in written.splitlines()] == ["marketing", "approver", "branch", "viewer", "admin"]
    assert "totp secret" in written.splitlines()[-1]
    assert "exist already" in ok(cli("staff", "demo", "--out", out))
    assert out.read_text() == written  # existing accounts untouched, nothing new written

    password_file = tmp_path / "pw"
    password_file.write_text("a long admin passphrase\n")
    made = ok(cli("staff", "create-admin", "--username", "root", "--password-file", password_file))
    assert "otpauth://totp/Hallmark:root" in made
    assert "username: root is taken" in one_line_error(
        cli("staff", "create-admin", "--username", "root", "--password-file", password_file))
    password_file.write_text("short\n")
    assert "password:" in one_line_error(
        cli("staff", "create-admin", "--username", "other", "--password-file", password_file))


def test_errors_are_one_line(cli, tmp_path, data_dir):
    bad = tmp_path / "bad.yaml"
    write_spec(bad, symbol="lower")
    assert one_line_error(cli("drop", "create", "--spec", bad)) == "error: symbol: 1-16 upper-case letters or digits."
    write_spec(bad, transfer_policy="frozen")
    assert one_line_error(cli("drop", "create", "--spec", bad)).startswith("error: transfer_policy: Must be one of")
    write_spec(bad, edition_sise=5)
    assert one_line_error(cli("drop", "create", "--spec", bad)) == "error: edition_sise: Unknown field."
    bad.write_text("slug: [unclosed\n")
    assert "is not valid YAML" in one_line_error(cli("drop", "create", "--spec", bad))
    assert one_line_error(cli("drop", "create", "--spec", tmp_path / "none.yaml")) == (
        f"error: drop spec {tmp_path / 'none.yaml'} does not exist")
    assert one_line_error(cli("drop", "create")) == (
        "error: Missing option '--spec'. (see `hallmark drop create --help`)")

    assert one_line_error(cli("mint", "no-such-drop", Account.create().address)) == (
        "error: unknown drop 'no-such-drop' (known drops: none yet)")
    assert one_line_error(cli("mint", "no-such-drop", "0x1234")) == "error: address: Not an Ethereum address."
    assert "does not exist" in one_line_error(cli("airdrop", "no-such-drop", tmp_path / "missing.csv"))

    # no chain at the configured URL
    spec = tmp_path / "ok.yaml"
    write_spec(spec)
    assert one_line_error(cli("drop", "create", "--spec", spec, HALLMARK_RPC_URL="http://127.0.0.1:1")) == (
        "error: no chain answers at http://127.0.0.1:1: start it (`hallmark chain up`) or set HALLMARK_RPC_URL")
    # a chain, but nothing deployed for this network in this data folder
    line = one_line_error(cli("drop", "create", "--spec", spec, HALLMARK_DATA_DIR=str(data_dir)))
    assert line.startswith("error: the chain is not ready: no deployment record at")
    assert f"`hallmark deploy --network {CI_NETWORK}`" in line
    # a record whose registry is not on this chain (e.g. a chain started afresh)
    record = json.loads((cli.data / "deployments" / f"{CI_NETWORK}.json").read_text())
    record["registry"] = "0x" + "11" * 20
    (cli.data / "deployments" / f"{CI_NETWORK}.json").write_text(json.dumps(record))
    assert "which is not on the chain" in one_line_error(cli("drop", "create", "--spec", spec))


def test_deploy_runs_the_brownie_script_once(cli, data_dir):
    env = {"HALLMARK_DATA_DIR": str(data_dir)}
    out = ok(cli("deploy", "--network", CI_NETWORK, **env))
    assert "Registry 0x" in out
    record = json.loads((data_dir / "deployments" / f"{CI_NETWORK}.json").read_text())
    assert W3.eth.get_code(record["registry"])
    again = ok(cli("deploy", "--network", CI_NETWORK, **env))
    assert f"Already deployed on {CI_NETWORK}: registry {record['registry']}" in again

    assert one_line_error(cli("deploy", "--network", "no-such-network", **env)).startswith(
        "error: unknown brownie network 'no-such-network'")
    if not devchain.is_up(f"http://127.0.0.1:{SETUP_PORT}"):  # never let brownie start a throwaway chain
        assert one_line_error(cli("deploy", "--network", SETUP_NETWORK, **env)) == (
            f"error: no chain answers at http://127.0.0.1:{SETUP_PORT} (brownie network '{SETUP_NETWORK}'): "
            "start it first, e.g. `hallmark chain up`")


def test_claim_codes_export(cli, tmp_path):
    spec = write_spec(tmp_path / "drop.yaml")
    ok(cli("drop", "create", "--spec", tmp_path / "drop.yaml"))
    out = tmp_path / "codes.csv"
    printed = ok(cli("claim-codes", spec["slug"], "--count", 5, "--out", out,
                     HALLMARK_PUBLIC_BASE_URL="https://collect.bank.example"))
    assert f"5 claim codes for '{spec['slug']}'" in printed
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["code", "claim_url"] and len(rows) == 6
    codes = [r[0] for r in rows[1:]]
    assert len(set(codes)) == 5 and all(codes)
    # the code in the fragment: browsers never send it, so no server log holds it
    assert [r[1] for r in rows[1:]] == [f"https://collect.bank.example/claim#code={c}" for c in codes]
    assert "already exists" in one_line_error(cli("claim-codes", spec["slug"], "--count", 1, "--out", out))
