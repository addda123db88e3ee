"""The set-up `make run` performs, step by step through the real commands: a persistent chain, the brownie
deploy and demo-drop scripts, a restart that keeps everything, and the health endpoint on top. And the set-up
from any path: a checkout in a folder whose path has dots and a package's name, with nothing machine-wide
(brownie's networks, py-solc-x's compiler) pointing into one checkout."""
import json
import time
import os
import shutil
import subprocess
import sys
from pathlib import Path

import solcx
import solcx.install
import yaml
from eth_account import Account

from hallmark import devchain
from hallmark.config import ROOT

from conftest import BIN, MNEMONIC, RUN_SCRIPT, _network_config_lock, free_port, run
from conftest import SETUP_NETWORK as CI_NETWORK, SETUP_PORT as CI_PORT


def test_chain_restart_keeps_deployment_and_drop(data_dir, app_for, tmp_path):
    env = {"HALLMARK_DATA_DIR": str(data_dir), "HALLMARK_ISSUER_KEY": ""}  # the dev keystore `chain up` makes
    spec = tmp_path / "drop.yaml"
    spec.write_text("slug: demo\nname: Fuhu Test\nsymbol: FUHU\nedition_size: 8\nissuer_name: Test Bank\n")
    try:
        up = run(["hallmark", "chain", "up", "--port", str(CI_PORT)], env)
        assert "ganache started" in up.stdout and "funded" in up.stdout
        deployed = run([*RUN_SCRIPT, "scripts/deploy.py", "--network", CI_NETWORK], env)
        assert "Registry 0x" in deployed.stdout
        record = json.loads((data_dir / "deployments" / f"{CI_NETWORK}.json").read_text())
        drop = run([*RUN_SCRIPT, "scripts/create_drop.py", "main", str(spec), "--network", CI_NETWORK], env)
        assert "is collection 0x" in drop.stdout
        assert "stopped" in run(["hallmark", "chain", "down"], env).stdout

        # the second `make run`: same chain from disk, nothing redeployed, nothing lost
        up = run(["hallmark", "chain", "up", "--port", str(CI_PORT)], env)
        assert "ganache started" in up.stdout and "funded" not in up.stdout
        again = run([*RUN_SCRIPT, "scripts/deploy.py", "--network", CI_NETWORK], env)
        assert f"Already deployed on {CI_NETWORK}: registry {record['registry']}" in again.stdout
        drop_again = run([*RUN_SCRIPT, "scripts/create_drop.py", "main", str(spec), "--network", CI_NETWORK], env)
        assert "already exists" in drop_again.stdout

        app = app_for(data_dir, CI_PORT, CI_NETWORK)  # its worker and indexer report in within a second or two
        try:
            with app.test_client() as client:
                deadline = time.monotonic() + 20
                while (health := client.get("/api/health")).status_code != 200 and time.monotonic() < deadline:
                    time.sleep(0.2)
        finally:
            app.extensions["hallmark.services"].stop()
        assert health.status_code == 200, health.get_json()
        assert health.get_json()["processes"]["worker"]["alive"] and health.get_json()["processes"]["indexer"]["alive"]
        body = health.get_json()
        assert body["ok"] and body["chain_id"] == 1337 and body["registry"] == record["registry"]
        assert body["block_number"] >= record["block_number"] and "demo" in body["drops"]
    finally:
        run(["hallmark", "chain", "down"], env, check=False)
    # the issuer key stays encrypted at rest and never reaches the record or the logs
    keystore = json.loads((data_dir / "keys" / "issuer.json").read_text())
    key = Account.decrypt(keystore, (data_dir / "keys" / "issuer.pass").read_text()).hex().removeprefix("0x")
    for path in (data_dir / "ganache.log", data_dir / "deployments" / f"{CI_NETWORK}.json"):
        assert key not in path.read_text().lower()


def test_health_reports_unreachable_node(data_dir, app_for):
    with app_for(data_dir, 1, START_WORKERS=False).test_client() as client:
        reply = client.get("/api/health")
    assert reply.status_code == 503
    assert reply.get_json()["error"].startswith("node unreachable")


def test_cli_errors_are_one_line(data_dir):
    proc = run(["hallmark", "chain", "status", "--port", "1"], {"HALLMARK_DATA_DIR": str(data_dir)}, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: no chain answers at http://127.0.0.1:1"


def test_brownie_script_error_is_one_line(data_dir):
    proc = run([*RUN_SCRIPT, "scripts/airdrop.py", "main", "demo", "missing.csv", "--network", CI_NETWORK],
               {"HALLMARK_DATA_DIR": str(data_dir)}, check=False)
    assert proc.returncode != 0
    assert "error: CSV file missing.csv does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


# ====================================================================== set-up from any path


def _copy_checkout(dest: Path) -> Path:
    """This checkout's files as they are on disk (tracked ones and new ones git does not ignore), as a clone has them."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    (dest / "node_modules").mkdir()
    for package in ROOT.joinpath("node_modules").iterdir():  # `npm ci` stands in for symlinks (saves a minute)
        (dest / "node_modules" / package.name).symlink_to(package)
    return dest


def _registered(network: str) -> dict | None:
    config = yaml.safe_load((Path.home() / ".brownie" / "network-config.yaml").read_text()) or {}
    return next((n for n in config.get("development") or [] if n.get("id") == network), None)


def test_checkout_in_a_dotted_package_named_path(tmp_path):
    """A checkout at <tmp>/li.wei/brownie.v1/hallmark: dots in the path (brownie's own `brownie run` imports a
    script as `...li.wei.brownie.v1.hallmark.scripts.deploy` and fails there) and folders named like Python
    packages. Its own compiler shim (py-solc-x folder of its own), its contracts compiled with the checkout's
    node_modules/solc gone, `hallmark deploy` on a Ganache on a free port, another script through the runner,
    and `make test-contracts`' wrapper (its network removed afterwards)."""
    checkout = _copy_checkout(tmp_path / "li.wei" / "brownie.v1" / "hallmark")
    solcx_home, data = tmp_path / "solcx.home", tmp_path / "data"
    port = free_port()
    network = f"hallmark-dot-{port}"
    issuer = Account.create()
    env = {**os.environ, "PATH": os.pathsep.join([str(BIN), str(checkout / "node_modules" / ".bin"), os.environ["PATH"]]),
           "PYTHONPATH": str(checkout / "backend"),  # the checkout's own backend, not this one's (same virtualenv)
           "SOLCX_BINARY_PATH": str(solcx_home), "HALLMARK_SOLC": "solcjs", "HALLMARK_DATA_DIR": str(data),
           "HALLMARK_ISSUER_KEY": "0x" + issuer.key.hex().removeprefix("0x")}

    def there(*cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, cwd=checkout, env=env, capture_output=True, text=True, timeout=300)

    solcx_home.mkdir()  # a shim from an older set-up, pointing into the checkout: replaced by a self-contained one
    (solcx_home / "solc-v0.8.30").write_text(f'#!/bin/sh\nHALLMARK_SOLCJS="{checkout}/node_modules/solc" exec node '
                                             f'"{checkout}/scripts/toolchain/solcjs-standard-json.js" "$@"\n')
    (solcx_home / "solc-v0.8.30").chmod(0o755)
    provided = there(sys.executable, "scripts/toolchain/provide_solc.py")
    assert provided.returncode == 0, provided.stdout + provided.stderr
    shim = (solcx_home / "solc-v0.8.30").read_text()
    assert str(checkout) not in shim and str(ROOT) not in shim
    assert f'"{solcx_home}/solcjs-0.8.30/node_modules/solc"' in shim
    (checkout / "node_modules" / "solc").unlink()  # the shim must not need the checkout's solc-js any more

    chain = devchain.start(port)
    try:
        devchain.fund(chain.url, issuer.address, 100)
        with _network_config_lock():
            run(["brownie", "networks", "add", "Development", network, "cmd=ganache", "host=http://127.0.0.1",
                 f"port={port}", "evm_version=shanghai", "accounts=10", f"mnemonic={MNEMONIC}", "chain_id=1337"], {})
        deployed = there(str(BIN / "hallmark"), "deploy", "--network", network)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert "Registry 0x" in deployed.stdout
        record = json.loads((data / "deployments" / f"{network}.json").read_text())
        assert record["artifacts"] == str(checkout / "build" / "contracts")  # compiled and deployed from there
        assert devchain.rpc(chain.url, "eth_getCode", [record["registry"], "latest"]) != "0x"

        failed = there(*RUN_SCRIPT, "scripts/airdrop.py", "main", "demo", "missing.csv", "--network", network)
        assert failed.returncode == 1 and failed.stderr.strip().splitlines()[-1] == (
            "error: CSV file missing.csv does not exist")
    finally:
        chain.stop()
        with _network_config_lock():
            run(["brownie", "networks", "delete", network], {}, check=False)

    tested = there(sys.executable, "scripts/toolchain/test_contracts.py", "-q", "-k", "deploy_writes_record")
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-3000:]
    assert "1 passed" in tested.stdout
    own_network = tested.stdout.split("brownie network ")[1].split(":")[0]
    assert own_network.startswith("hallmark-test-") and _registered(own_network) is None


def test_nothing_machine_wide_points_into_a_checkout():
    """`make setup`'s brownie networks run plain `ganache` from PATH, and the solc-js shim runs a copy of solc-js
    in py-solc-x's own folder: another checkout on the machine, or this one deleted, changes nothing for either."""
    for network in ("hallmark-local", "hallmark-test", CI_NETWORK):
        entry = _registered(network)
        assert entry is not None, f"brownie network {network} is not registered: run `make setup`"
        assert entry["cmd"] == "ganache", entry
    shim = solcx.install.get_executable("0.8.30")
    text = shim.read_text(errors="ignore")
    if "HALLMARK_SOLCJS" in text:  # solc-js (no native download here), not a native binary
        assert str(ROOT) not in text
        home = solcx.get_solcx_install_folder() / "solcjs-0.8.30"
        assert f'"{home}/node_modules/solc"' in text and f'"{home}/solcjs-standard-json.js"' in text
        assert (home / "node_modules" / "solc" / "soljson.js").exists()
        compiled = solcx.compile_standard({
            "language": "Solidity", "sources": {"A.sol": {"content": "pragma solidity 0.8.30; contract A {}"}},
            "settings": {"outputSelection": {"*": {"*": ["abi"]}}}}, solc_binary=shim)
        assert "A" in compiled["contracts"]["A.sol"]


def test_local_ganache_runs_with_two_malloc_arenas():
    """The node Hallmark starts limits glibc to two malloc arenas (its native memory grew 8-9 % over a 100,000-token
    run without it, bench/soak.py); an operator's own setting wins."""
    chain = devchain.start(free_port())
    try:
        environ = Path(f"/proc/{chain.process.pid}/environ").read_bytes().split(b"\0")
        assert b"MALLOC_ARENA_MAX=2" in environ
        assert devchain.rpc(chain.url, "eth_chainId", []) == hex(devchain.CHAIN_ID)
    finally:
        chain.stop()


def test_make_run_on_another_port_names_that_port_on_the_cards():
    """`make run PORT=...` serves on that port, so the demo's QR codes and metadata (made by `make deploy`) must name
    it too; an operator's HALLMARK_PUBLIC_BASE_URL wins."""
    def base_url(*args: str, **env: str) -> str:
        clean = {k: v for k, v in os.environ.items() if k != "HALLMARK_PUBLIC_BASE_URL"}
        out = subprocess.run(["make", "-s", "--eval=show-base-url: ; @echo $$HALLMARK_PUBLIC_BASE_URL",
                              "show-base-url", *args], cwd=ROOT, env={**clean, **env}, capture_output=True,
                             text=True, timeout=60, check=True)
        return out.stdout.strip()

    assert base_url() == "http://127.0.0.1:5000"
    assert base_url("PORT=8088") == "http://127.0.0.1:8088"
    assert base_url("PORT=8088", HALLMARK_PUBLIC_BASE_URL="https://nft.bank.example") == "https://nft.bank.example"
