"""/openapi.json is the contract: schemathesis generates requests from it (its examples, coverage, fuzzing and
stateful phases, bounded in examples and time) against the real processes of a stack (`hallmark web` under
gunicorn, `hallmark worker`, `hallmark indexer`, a Ganache with the contracts deployed and a live drop), with a
staff key, and every answer must be no server error and match what the contract says of it: status code, content
type, headers and body schema.

schemathesis needs a newer hypothesis than eth-brownie pins, so it lives in a virtual environment of its own,
.venv-fuzz, built by `make test-fuzz` from tests/fuzz/requirements.txt. Without it the test fails, saying so. HALLMARK_FUZZ_EXAMPLES (test cases per operation and phase), HALLMARK_FUZZ_SEED and
HALLMARK_FUZZ_SECONDS (a time budget instead: the fuzzing and stateful phases repeat until it is spent) change the
run."""
from __future__ import annotations

import json
import os
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from hallmark.access.keys import create_api_key
from hallmark.access.permissions import KEY_SCOPES
from hallmark.db import Database
from hallmark.processes import Processes
from hallmark.testing import LocalStack, free_port

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = ROOT / ".venv-fuzz" / "bin" / "schemathesis"
PHASES = "examples,coverage,fuzzing,stateful"
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
          "response_schema_conformance")
MAX_EXAMPLES = int(os.environ.get("HALLMARK_FUZZ_EXAMPLES") or "20")
SEED = os.environ.get("HALLMARK_FUZZ_SEED") or "20240210"  # fixed, so that a CI run is the run a developer repeats
MAX_TIME = os.environ.get("HALLMARK_FUZZ_SECONDS") or None
HARD_TIMEOUT = (int(MAX_TIME) if MAX_TIME else 0) + 420  # seconds; schemathesis is killed past it
# gunicorn's access log line (hallmark.run.commands): 127.0.0.1 "GET /api/drops HTTP/1.1" 200 1196 6ms
ACCESS = re.compile(r'^\S+ "([A-Z]+) (\S+) HTTP/[\d.]+" (\d{3}) ', re.M)

if not SCHEMATHESIS.exists():
    raise RuntimeError(f"{SCHEMATHESIS} is missing: `make test-fuzz` builds it")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A stack with a live drop, its worker, indexer and web (2 gunicorn workers), and an admin key."""
    base = tmp_path_factory.mktemp("fuzz")
    stack = LocalStack(base / "data").__enter__()
    procs = None
    try:
        drop = stack.live_drop(50)
        db = Database(stack.database_url)
        db.upgrade()
        key = create_api_key(db, "fuzz", scopes=KEY_SCOPES)
        db.engine.dispose()
        many = "100000 per minute"  # the public limits stay on (and 429 documented) but out of the fuzzer's way
        procs = Processes(stack.env(HALLMARK_MINT_BATCH_SIZE=25, HALLMARK_RATELIMIT_CLAIMS=many,
                                    HALLMARK_RATELIMIT_OWNERSHIP=many, HALLMARK_RATELIMIT_IMAGE=many,
                                    HALLMARK_RATELIMIT_VERIFY=many), base / "logs")
        procs.spawn("worker")
        procs.spawn("indexer")
        web = procs.spawn("web", "--workers", "2", port=free_port())
        yield {"url": f"http://127.0.0.1:{web.port}", "key": key, "drop": drop, "web": web, "procs": procs,
               "base": base}
    finally:
        if procs is not None:
            procs.stop_all()
        stack.__exit__(None, None, None)


def test_openapi_fuzz(live, tmp_path):
    reports = tmp_path / "reports"
    cmd = [str(SCHEMATHESIS), "run", f"{live['url']}/openapi.json",
           "-H", f"Authorization: Bearer {live['key']}",
           "--phases", PHASES, "--checks", CHECKS,
           "--max-examples", str(MAX_EXAMPLES), "--seed", SEED, *(["--max-time", MAX_TIME] if MAX_TIME else []),
           # one worker: hypothesis describes strategies by parsing lambdas' source, which CPython 3.11's ast
           # can fail at when two threads do it at once ("AST constructor recursion depth mismatch")
           "--workers", "1", "--request-timeout", "30", "--generation-database", "none",
           "--no-color", "--report", "json", "--report-dir", str(reports)]
    try:  # from tmp_path: schemathesis keeps a .schemathesis folder in its working directory
        run = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=HARD_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"schemathesis ran past {HARD_TIMEOUT} s:\n{(exc.stdout or b'')[-6000:]!s}")
    output = run.stdout + run.stderr
    report_files = sorted(reports.glob("*.json"))
    assert report_files, f"schemathesis wrote no report (exit {run.returncode}):\n{output[-6000:]}"
    report = json.loads(report_files[-1].read_text())

    access = ACCESS.findall(live["web"].output())
    statuses = Counter(status for _, _, status in access)
    server_errors = [f"{method} {path} {status}" for method, path, status in access if status.startswith("5")]
    failures = [f"{f['code']} {f['title']}: {', '.join(f['operations'])}" for f in report["failures"]]
    summary = (f"schemathesis {report['schemathesis_version']}, seed {report['seed']}: "
               f"{report['operations']['tested']} operations, {report['test_cases']['generated']} test cases, "
               f"{len(access)} requests served ({dict(sorted(statuses.items()))}), {len(failures)} failures, "
               f"{len(report['errors'])} errors in {report['running_time']:.0f} s")
    print(summary)
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "fuzz.txt").write_text(summary + "\n\n" + output)

    assert report["operations"]["tested"] == report["operations"]["selected"] > 0, summary
    assert not server_errors, f"{summary}\nserver errors: {server_errors[:20]}\n{live['web'].output()[-6000:]}"
    assert "Traceback" not in live["web"].output(), f"{summary}\n{live['web'].output()[-6000:]}"
    assert not failures and not report["errors"], f"{summary}\n{failures}\n{output[-12000:]}"
    assert run.returncode == 0, f"{summary}\n{output[-6000:]}"
