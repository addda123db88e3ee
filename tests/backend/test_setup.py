"""The set-up `make run` performs, step by step through the real commands: a persistent chain, the brownie
deploy and demo-drop scripts, a restart that keeps everything, and the health endpoint on top."""
import json

from eth_account import Account

from conftest import SETUP_NETWORK as CI_NETWORK, SETUP_PORT as CI_PORT, run


def test_chain_restart_keeps_deployment_and_drop(data_dir, app_for, tmp_path):
    env = {"HALLMARK_DATA_DIR": str(data_dir), "HALLMARK_ISSUER_KEY": ""}  # the dev keystore `chain up` makes
    spec = tmp_path / "drop.yaml"
    spec.write_text("slug: demo\nname: Fuhu Test\nsymbol: FUHU\nedition_size: 8\nissuer_name: Test Bank\n")
    try:
        up = run(["hallmark", "chain", "up", "--port", str(CI_PORT)], env)
        assert "ganache started" in up.stdout and "funded" in up.stdout
        deployed = run(["brownie", "run", "scripts/deploy.py", "--network", CI_NETWORK], env)
        assert "Registry 0x" in deployed.stdout
        record = json.loads((data_dir / "deployments" / f"{CI_NETWORK}.json").read_text())
        drop = run(["brownie", "run", "scripts/create_drop.py", "main", str(spec), "--network", CI_NETWORK], env)
        assert "is collection 0x" in drop.stdout
        assert "stopped" in run(["hallmark", "chain", "down"], env).stdout

        # the second `make run`: same chain from disk, nothing redeployed, nothing lost
        up = run(["hallmark", "chain", "up", "--port", str(CI_PORT)], env)
        assert "ganache started" in up.stdout and "funded" not in up.stdout
        again = run(["brownie", "run", "scripts/deploy.py", "--network", CI_NETWORK], env)
        assert f"Already deployed on {CI_NETWORK}: registry {record['registry']}" in again.stdout
        drop_again = run(["brownie", "run", "scripts/create_drop.py", "main", str(spec), "--network", CI_NETWORK], env)
        assert "already exists" in drop_again.stdout

        with app_for(data_dir, CI_PORT, CI_NETWORK, START_WORKERS=False).test_client() as client:
            health = client.get("/api/health")
        assert health.status_code == 200
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
    proc = run(["brownie", "run", "scripts/airdrop.py", "main", "demo", "missing.csv", "--network", CI_NETWORK],
               {"HALLMARK_DATA_DIR": str(data_dir)}, check=False)
    assert proc.returncode != 0
    assert "error: CSV file missing.csv does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
