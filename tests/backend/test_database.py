"""The two stores: SQLite (embedded default) and PostgreSQL (scale-out, a real throw-away server from
hallmark.devdb). Migrations build the models' schema on both, adopt databases made before migrations, run once
when several processes start together; SQLite files are private; PostgreSQL row locks skip what others hold."""
import os
import stat
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from eth_account import Account
from flask import Flask
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import OperationalError

from hallmark import create_app, db as db_module, migrations
from hallmark.access.keys import create_api_key
from hallmark.access.permissions import KEY_SCOPES
from hallmark.config import Config
from hallmark.db import Base, Database, check_schema
from hallmark.minting import jobs, wake
from hallmark.models import ApiKey, Drop, MintItem
from hallmark.run.worker import Worker

from conftest import CI_NETWORK, CI_PORT


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """An empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'hallmark.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def database(url):
    db_module.private_sqlite_file(url)
    database = Database(url)
    yield database
    database.engine.dispose()


def revision(database):
    with database.engine.connect() as conn:
        return migrations.current(conn)


def model_tables():
    return set(Base.metadata.tables)


def test_migrations_build_the_models_schema(database):
    database.upgrade()
    assert revision(database) == migrations.head()
    assert set(inspect(database.engine).get_table_names()) == model_tables() | {"alembic_version"}
    assert check_schema(database.engine) == []
    database.upgrade()  # the next start: nothing to do
    assert revision(database) == migrations.head()


def test_revisions_go_down_and_up_again(database):
    from alembic import command

    database.upgrade()
    with database.engine.begin() as conn:
        command.downgrade(migrations.config(conn), "base")
    assert set(inspect(database.engine).get_table_names()) == {"alembic_version"}
    database.upgrade()
    assert check_schema(database.engine) == []


def test_drift_is_reported(database):
    database.upgrade()
    with database.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_tokens_wallet"))
        conn.execute(text("CREATE TABLE stray (id INTEGER PRIMARY KEY)"))
    found = {diff[0] if isinstance(diff, tuple) else diff[0][0] for diff in check_schema(database.engine)}
    assert found == {"add_index", "remove_table"}


def test_a_create_all_database_is_adopted(database):
    """What the versions before migrations left: the baseline's tables (and data), no alembic_version."""
    migrations.upgrade(database.engine, migrations.BASELINE)
    with database.engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("INSERT INTO api_keys (name, role, prefix, key_hash, created_at) "
                          "VALUES ('kept', 'marketing', 'hk_kept', 'a1b2', CURRENT_TIMESTAMP)"))
    database.upgrade()
    assert revision(database) == migrations.head()
    assert check_schema(database.engine) == []
    with database.session() as s:
        kept = s.scalar(select(ApiKey).where(ApiKey.name == "kept"))
        assert kept.scopes.split() == ["drops.read", "drops.create", "airdrops.create", "mints.create", "drops.pause",
                                       "claim_codes.create", "custody.read"]


def test_an_incomplete_old_database_is_refused_untouched(database):
    Base.metadata.create_all(database.engine)
    with database.engine.begin() as conn:
        conn.execute(text("DROP TABLE ix_blocks"))
    with pytest.raises(migrations.SchemaError, match="missing ix_blocks"):
        database.upgrade()
    tables = set(inspect(database.engine).get_table_names())
    assert "alembic_version" not in tables and tables == model_tables() - {"ix_blocks"}


def test_processes_starting_together_migrate_once(url, tmp_path):
    """Four app processes on one empty database: one migrates (under the lock), the others wait and find head."""
    db_module.private_sqlite_file(url)
    script = textwrap.dedent("""
        import sys
        from hallmark.db import Database, check_schema
        database = Database(sys.argv[1])
        database.upgrade()
        assert check_schema(database.engine) == []
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for _ in range(4)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, outputs
    database = Database(url)
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [migrations.head()]
    database.engine.dispose()


def test_the_check_command_finds_no_drift():
    out = subprocess.run([sys.executable, "-m", "hallmark.migrations", "check"], capture_output=True, text=True,
                         cwd="/", timeout=120)  # any folder: the configuration lives in the package
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().endswith("no drift")


def test_sqlite_file_and_folders_are_owner_only(tmp_path):
    url = f"sqlite:///{tmp_path / 'new' / 'deeper' / 'hallmark.db'}"
    app = Flask("modes")
    app.config["DATABASE_URL"] = url
    old_umask = os.umask(0)  # the modes do not depend on the caller's umask
    try:
        database = db_module.init_app(app)
        create_api_key(database, "write something", scopes=KEY_SCOPES)  # WAL: the -wal and -shm files appear
    finally:
        os.umask(old_umask)
    mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)  # noqa: E731
    assert mode(tmp_path / "new") == mode(tmp_path / "new" / "deeper") == 0o700
    db_file = tmp_path / "new" / "deeper" / "hallmark.db"
    assert mode(db_file) == 0o600
    assert mode(f"{db_file}-wal") == mode(f"{db_file}-shm") == 0o600
    database.engine.dispose()

    # a database file from before is made private too; a folder that existed already is left alone
    old = tmp_path / "old"
    old.mkdir(mode=0o755)
    (old / "hallmark.db").touch(mode=0o644)
    os.chmod(old / "hallmark.db", 0o644)
    db_module.private_sqlite_file(f"sqlite:///{old / 'hallmark.db'}")
    assert mode(old / "hallmark.db") == 0o600 and mode(old) == 0o755


def test_skip_locked_on_postgres(pg_url):
    """The queue pattern for several workers: each takes rows no one else holds, without waiting."""
    database = Database(pg_url)
    database.upgrade()
    for name in ("first", "second"):
        create_api_key(database, name, "admin")
    pick = select(ApiKey.name).order_by(ApiKey.id).limit(1).with_for_update(skip_locked=True)
    with database.engine.connect() as one, database.engine.connect() as two:
        assert one.execute(pick).scalar() == "first"  # holds its row until it ends its transaction
        assert two.execute(pick).scalar() == "second"  # skips the held row instead of waiting
        two.rollback()
        with pytest.raises(OperationalError, match="could not obtain lock"):
            two.execute(select(ApiKey.name).where(ApiKey.name == "first").with_for_update(nowait=True))
        two.rollback()
        one.commit()
        assert two.execute(pick).scalar() == "first"
        two.rollback()
    database.engine.dispose()


def test_a_queued_job_wakes_the_worker_on_postgres(pg_url, tmp_path, monkeypatch):
    """The job's transaction notifies the worker as it commits (NOTIFY, which the worker LISTENs to), so the
    node need not wait for the worker's next idle poll."""
    monkeypatch.setenv("HALLMARK_ISSUER_KEY", "0x" + "11" * 32)
    database = Database(pg_url)
    database.upgrade()
    with database.session() as s:
        drop = Drop(slug=f"wake-{time.time_ns()}", name="Wake", symbol="WAKE", issuer_name="Bank", edition_size=10,
                    transfer_policy="transferable", public_base_url="http://127.0.0.1", status="live",
                    contract_address="0x" + "22" * 20, content_root="0x" + "33" * 32, rendered=10)
        s.add(drop)
        s.flush()
        drop_id = drop.id
    worker = Worker({"DATA_DIR": tmp_path, "RPC_URL": "http://127.0.0.1:9"}, database)  # never reaches a node
    listener = threading.Thread(target=worker._listen, daemon=True)
    listener.start()
    try:
        while not worker._wake.is_set():  # the listener is subscribed once a notification reaches it
            with database.session() as s:
                wake.notify_queue(s)
            worker._wake.wait(0.2)
        worker._wake.clear()
        jobs.create_job(database, drop_id, [(1, Account.create().address)], [])
        assert worker._wake.wait(30)
    finally:
        worker.stop()
        listener.join(10)
        database.engine.dispose()


def test_batch_sized_statements_are_not_prepared_on_postgres(pg_url):
    """psycopg prepares a statement run 5 times on a connection; one with a batch's IN list would keep its parse
    trees and plans (a megabyte or more) in every connection, so only statements with few parameters are."""
    database = Database(pg_url)
    database.upgrade()
    for name in ("first", "second"):
        create_api_key(database, name, "admin")
    batch = select(ApiKey.name).where(ApiKey.id.in_(range(1, db_module.MAX_PREPARED_PARAMS + 2)))
    one = select(ApiKey.name).where(ApiKey.id == 1)
    with database.engine.connect() as conn:
        for _ in range(6):
            assert sorted(conn.scalars(batch)) == ["first", "second"]
            assert conn.scalar(one) == "first"
        prepared = conn.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
    assert any(s.startswith("SELECT api_keys.name") and "= $1" in s for s in prepared)
    assert not any(" IN (" in s for s in prepared)
    database.engine.dispose()


def test_a_companion_thread_keeps_its_own_connections_on_postgres(pg_url, tmp_path):
    """A long-lived thread beside the main one (the broadcaster, the webhook deliverer) runs on a pool of its own:
    each PostgreSQL connection keeps the catalog entries and plans of what it ran, so threads sharing connections
    make each learn every thread's statements. SQLite keeps nothing per connection: one pool."""
    database = Database(pg_url)
    companion = database.companion()
    assert companion is not database and companion.engine is not database.engine
    backend = text("SELECT pg_backend_pid()")
    with database.session() as s:
        main_pid = s.scalar(backend)  # now idle in the main pool, the first one it would hand out again
    with companion.session() as s:
        assert s.scalar(backend) != main_pid
    with database.session() as s:
        assert s.scalar(backend) == main_pid
    companion.engine.dispose()
    database.engine.dispose()
    sqlite = Database(f"sqlite:///{tmp_path / 'one.db'}")
    assert sqlite.companion() is sqlite
    sqlite.engine.dispose()


def test_the_app_runs_on_postgres(pg_url, deployed_data, stack, monkeypatch):
    """The whole app on the session chain with DATABASE_URL pointing at PostgreSQL, its worker and indexer
    running: a drop is created through the API and goes live (how other tests can run on PostgreSQL too)."""
    monkeypatch.setenv("HALLMARK_ISSUER_KEY", stack["issuer_key"])
    app = create_app(Config(
        DATA_DIR=deployed_data, RPC_URL=f"http://127.0.0.1:{CI_PORT}", NETWORK=CI_NETWORK,
        DEPLOYMENT_FILE=deployed_data / "deployments" / f"{CI_NETWORK}.json", TESTING=True,
        DATABASE_URL=pg_url, MINT_BATCH_SIZE=50, APPROVALS=(),
    ))
    try:
        database = app.extensions["hallmark.db"]
        assert database.engine.dialect.name == "postgresql"
        assert not (deployed_data / "hallmark.db").exists()
        client = app.test_client()
        staff = {"Authorization": f"Bearer {create_api_key(database, 'pg', scopes=KEY_SCOPES)}"}

        body = {"slug": "pg-drop", "name": "On PostgreSQL", "symbol": "PG", "edition_size": 5}
        reply = client.post("/api/drops", json=body, headers={**staff, "Idempotency-Key": "pg-drop"})
        assert reply.status_code == 202, reply.get_json()
        drop_id = reply.get_json()["id"]
        drop = wait_for(lambda: client.get(f"/api/drops/{drop_id}", headers=staff).get_json(),
                        lambda d: d["status"] in ("live", "failed"))
        assert drop["status"] == "live", drop
        assert [d["slug"] for d in client.get("/api/drops", headers=staff).get_json()] == ["pg-drop"]
        with database.session() as s:
            assert s.scalar(select(func.count()).select_from(Drop).where(Drop.status == "live")) == 1

        health = wait_for(lambda: client.get("/api/health"), lambda r: r.status_code == 200)
        assert health.status_code == 200, health.get_json()
        assert health.get_json()["processes"]["worker"]["alive"]

        # an airdrop's rows go in through COPY on PostgreSQL: every row kept, in order, the bad one reported
        recipients = [Account.create().address for _ in range(3)]
        reply = client.post(f"/api/drops/{drop_id}/airdrops", json={"recipients": [recipients[0], "0xnope",
                                                                                    *recipients[1:]]},
                            headers={**staff, "Idempotency-Key": "pg-airdrop"})
        assert reply.status_code == 202, reply.get_json()
        job = wait_for(lambda: client.get(f"/api/jobs/{reply.get_json()['id']}", headers=staff).get_json(),
                       lambda j: j["status"] == "finished")
        assert (job["done"], job["failed"]) == (3, 1), job
        assert [(f["row"], f["address"]) for f in job["failures"]] == [(2, "0xnope")]
        with database.session() as s:
            minted = s.execute(select(MintItem.row_no, MintItem.recipient, MintItem.token_id).where(
                MintItem.drop_id == drop_id, MintItem.status == "minted").order_by(MintItem.id)).all()
        assert [(r, a) for r, a, _ in minted] == [(1, recipients[0]), (3, recipients[1]), (4, recipients[2])]
        coll = app.extensions["hallmark.services"].handles.collection(drop["contract_address"])
        assert [(token, coll.functions.ownerOf(token).call()) for _, _, token in minted] == \
            [(1, recipients[0]), (2, recipients[1]), (3, recipients[2])]
    finally:
        if "hallmark.services" in app.extensions:
            app.extensions["hallmark.services"].stop()
        app.extensions["hallmark.db"].engine.dispose()


def wait_for(probe, done, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)
