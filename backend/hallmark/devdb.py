"""A throw-away PostgreSQL server for tests and benchmarks (the sibling of `devchain`, which starts Ganache).

    cluster = devdb.start(tmp_dir)          # initdb (once per folder), pg_ctl -w start on a free port
    url = cluster.create_database("t1")     # postgresql+psycopg://hallmark@127.0.0.1:PORT/t1
    cluster.stop()

Debian's server binaries (/usr/lib/postgresql/<version>/bin; `make test-backend` installs the package). The
server refuses to run as root, so as root (CI) the cluster belongs to the `postgres` user and every server
command runs through `runuser -u postgres`. Trust authentication, on 127.0.0.1 only, and a Unix socket inside
the cluster folder: nothing reaches it from outside this machine and the packaged `main` cluster stays down.
"""
from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

PG_ROOT = Path("/usr/lib/postgresql")
USER = "hallmark"  # the cluster's superuser
DBNAME = "hallmark"


def bin_dir() -> Path:
    """The newest installed server's bin folder (HALLMARK_PG_BIN overrides)."""
    if env := os.environ.get("HALLMARK_PG_BIN"):
        return Path(env)
    found = sorted((p.parent for p in PG_ROOT.glob("*/bin/initdb")),
                   key=lambda b: [int(x) for x in re.findall(r"\d+", b.parent.name)] or [0])
    if found:
        return found[-1]
    if initdb := shutil.which("initdb"):
        return Path(initdb).parent
    raise RuntimeError(f"no PostgreSQL server found under {PG_ROOT}: `apt-get install postgresql` "
                       "(`make test-backend` does it)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cluster:
    dir: Path  # data/, the log and the socket
    port: int
    bin: Path
    run_as: str | None  # "postgres" when we are root
    scratch: Path | None = None  # the folder asked for, when dir is a private temporary one (removed by stop())
    log: Path = field(init=False)

    def __post_init__(self):
        self.log = self.dir / "postgres.log"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the cluster's `hallmark` database."""
        return self.url_for(DBNAME)

    def url_for(self, dbname: str) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres"):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=USER, dbname=dbname, autocommit=True)

    def create_database(self, name: str) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        from psycopg import sql

        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        from psycopg import sql

        with self.connect() as conn:  # FORCE ends sessions still connected (a test's pooled connections)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def is_running(self) -> bool:
        return self.dir.exists() and _pg(self, "pg_ctl", "-D", self.dir / "data", "status", check=False).returncode == 0

    def stop(self) -> None:
        if (self.dir / "data" / "postmaster.pid").exists():
            _pg(self, "pg_ctl", "-D", self.dir / "data", "-m", "fast", "-w", "stop", check=False)
        if self.scratch:
            shutil.rmtree(self.dir, ignore_errors=True)
            (self.scratch / "cluster").unlink(missing_ok=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start(dir: Path | str, port: int | None = None, settings: dict[str, str] | None = None) -> Cluster:
    """Start a server whose cluster lives in `dir` (created by initdb the first time, reused after), listening
    on 127.0.0.1:`port` (a free one by default). `settings` become `-c name=value` server options."""
    base = Path(dir).resolve()
    base.mkdir(parents=True, exist_ok=True)
    run_as, scratch = None, None
    if os.geteuid() == 0:
        run_as = "postgres"
        try:
            owner = pwd.getpwnam(run_as)
        except KeyError:
            raise RuntimeError("no `postgres` user: install Debian's postgresql package") from None
        os.chown(base, owner.pw_uid, owner.pw_gid)
        if _as(run_as, ["test", "-w", str(base), "-a", "-x", str(base)], base).returncode != 0:
            # a folder the postgres user cannot reach (pytest's are under a root-only /tmp/pytest-of-root):
            # the cluster goes to a private temporary folder instead, linked from `dir`
            base = Path(tempfile.mkdtemp(prefix="hallmark-pg-"))
            os.chown(base, owner.pw_uid, owner.pw_gid)
            scratch = Path(dir).resolve()
            (scratch / "cluster").unlink(missing_ok=True)
            (scratch / "cluster").symlink_to(base)
    cluster = Cluster(base, 0, bin_dir(), run_as, scratch)
    if not (base / "data" / "PG_VERSION").exists():
        _pg(cluster, "initdb", "-D", base / "data", "-A", "trust", "-U", USER, "-E", "UTF8", "--locale=C",
            "--no-sync")
    options = {"listen_addresses": "127.0.0.1", **(settings or {})}
    for attempt in range(3):  # a free port can be taken between our probe and the server's bind
        cluster.port = port or free_port()
        args = ["-p", str(cluster.port), "-k", str(base)] + [a for k, v in options.items() for a in ("-c", f"{k}={v}")]
        proc = _pg(cluster, "pg_ctl", "-D", base / "data", "-l", cluster.log, "-w", "-t", "60",
                   "-o", shlex.join(args), "start", check=False)
        if proc.returncode == 0:
            break
        if port or attempt == 2:
            log = cluster.log.read_text(errors="replace")[-2000:] if cluster.log.exists() else ""
            cluster.stop()
            raise RuntimeError(f"PostgreSQL did not start:\n{proc.stdout}{proc.stderr}\n{log}")
    with cluster.connect() as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DBNAME,)).fetchone():
            conn.execute(f'CREATE DATABASE "{DBNAME}"')
    return cluster


def _as(user: str | None, cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    # cwd: the server's user may not be allowed into ours (root's home)
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LC_ALL": "C"})


def _pg(cluster: Cluster, tool: str, *args, check: bool = True) -> subprocess.CompletedProcess:
    proc = _as(cluster.run_as, [str(cluster.bin / tool), *map(str, args)], cluster.dir)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{tool} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return proc
