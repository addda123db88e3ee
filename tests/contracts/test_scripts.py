"""The brownie scripts, run in-process against the test chain, signing with a key from the environment.

They are imported the way the project runs them (hallmark.chain.brownie_runner, not brownie's path-to-module
import, which fails from a folder whose path has a dot)."""
import pytest
from brownie import HallmarkCollection, HallmarkRegistry, network
from eth_account import Account

from hallmark.chain.brownie_runner import load_script

deploy, create_drop, airdrop = (load_script(f"scripts/{name}.py") for name in ("deploy", "create_drop", "airdrop"))

Account.enable_unaudited_hdwallet_features()
MNEMONIC = "test test test test test test test test test test test junk"
RECIPIENTS = [Account.create().address for _ in range(5)]


@pytest.fixture
def env(tmp_path, monkeypatch):
    key = Account.from_mnemonic(MNEMONIC, account_path="m/44'/60'/0'/0/5").key
    monkeypatch.setenv("HALLMARK_ISSUER_KEY", "0x" + key.hex())
    monkeypatch.setenv("HALLMARK_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def spec(env):
    path = env / "drop.yaml"
    path.write_text("slug: test-drop\nname: Test Drop\nsymbol: TST\nedition_size: 6\nissuer_name: Test Bank\n")
    return str(path)


def write_csv(env, rows):
    path = env / "recipients.csv"
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def test_deploy_writes_record_and_is_idempotent(env):
    record = deploy.main()
    assert (env / "deployments" / f"{network.show_active()}.json").exists()
    registry = HallmarkRegistry.at(record.registry)
    assert registry.hasRole(registry.ISSUER_ROLE(), record.issuer)
    assert deploy.main().registry == record.registry


def test_create_drop_commits_content_and_is_idempotent(spec):
    record = deploy.main()
    address = create_drop.main(spec)
    registry = HallmarkRegistry.at(record.registry)
    assert registry.isOfficial(address) and registry.collectionCount() == 1
    collection = HallmarkCollection.at(address)
    assert collection.maxSupply() == 6 and collection.name() == "Test Drop"
    assert collection.contentRoot() != "0x" + "00" * 32
    assert create_drop.main(spec) == address
    assert registry.collectionCount() == 1


def test_airdrop_in_batches_then_nothing_twice(env, spec, capsys):
    deploy.main()
    collection = HallmarkCollection.at(create_drop.main(spec))
    state = airdrop.main("test-drop", write_csv(env, ["address", *RECIPIENTS]), "2")
    assert len(state["batches"]) == 3
    assert [collection.ownerOf(i + 1) for i in range(5)] == RECIPIENTS
    airdrop.main("test-drop", write_csv(env, ["address", *RECIPIENTS]), "2")
    assert collection.totalMinted() == 5
    assert "already went through" in capsys.readouterr().out


def test_airdrop_resumes_after_a_failed_batch(env, spec, monkeypatch):
    record = deploy.main()
    collection = HallmarkCollection.at(create_drop.main(spec))
    issuer = record.issuer

    class PauseAfterFirstBatch(airdrop.tqdm):
        def update(self, n=1):
            super().update(n)
            if not collection.paused():
                collection.pause({"from": issuer})

    monkeypatch.setattr(airdrop, "tqdm", PauseAfterFirstBatch)
    csv = write_csv(env, RECIPIENTS)
    with pytest.raises(SystemExit, match="rows 3-4 failed .* rows 1-2 went through"):
        airdrop.main("test-drop", csv, "2")
    assert collection.totalMinted() == 2
    monkeypatch.undo()
    collection.unpause({"from": issuer})
    monkeypatch.setenv("HALLMARK_ISSUER_KEY", "0x" + Account.from_mnemonic(
        MNEMONIC, account_path="m/44'/60'/0'/0/5").key.hex())
    monkeypatch.setenv("HALLMARK_DATA_DIR", str(env))
    airdrop.main("test-drop", csv, "2")
    assert [collection.balanceOf(r) for r in RECIPIENTS] == [1] * 5


def test_bad_csv_row_names_its_line_and_sends_nothing(env, spec):
    deploy.main()
    collection = HallmarkCollection.at(create_drop.main(spec))
    csv = write_csv(env, ["address", RECIPIENTS[0], "0xnot-an-address", RECIPIENTS[1]])
    with pytest.raises(SystemExit, match="line 3: '0xnot-an-address' is not an Ethereum address; nothing was sent"):
        airdrop.main("test-drop", csv)
    assert collection.totalMinted() == 0


def test_airdrop_larger_than_remaining_supply(env, spec):
    deploy.main()
    create_drop.main(spec)
    with pytest.raises(SystemExit, match="7 rows to send but only 6 items"):
        airdrop.main("test-drop", write_csv(env, RECIPIENTS + RECIPIENTS[:2]))


def test_unknown_drop_and_missing_record(env, spec):
    with pytest.raises(SystemExit, match=f"no live deployment for network '{network.show_active()}'"):
        create_drop.main(spec)
    deploy.main()
    with pytest.raises(SystemExit, match="unknown drop 'nope'"):
        airdrop.main("nope", write_csv(env, RECIPIENTS))


def test_bad_spec_names_the_field(env):
    path = env / "bad.yaml"
    path.write_text("slug: x\nname: X\nsymbol: X\nedition_size: 10\ntransfer_policy: frozen\n")
    with pytest.raises(SystemExit, match="field 'transfer_policy'"):
        create_drop.load_spec(str(path))
    path.write_text("slug: x\nname: X\nsymbol: X\n")
    with pytest.raises(SystemExit, match="field 'edition_size' is required"):
        create_drop.load_spec(str(path))


def test_missing_key_is_one_clear_line(env, monkeypatch):
    monkeypatch.delenv("HALLMARK_ISSUER_KEY")
    with pytest.raises(SystemExit, match="no issuer key: set HALLMARK_ISSUER_KEY"):
        deploy.main()
