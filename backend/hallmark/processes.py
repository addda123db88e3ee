"""The real processes of a stack, started as a bank would run them (`hallmark worker`, `hallmark indexer`,
`hallmark web` under gunicorn), for fault tests and benchmarks: each its own OS process with the stack's
environment, stopped or killed with real signals."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

BIN = Path(sys.executable).parent


@dataclass
class Proc:
    kind: str
    popen: subprocess.Popen
    log: Path
    port: int | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            os.killpg(self.popen.pid, sig)  # the whole group: gunicorn's workers die with their arbiter

    def stop(self, timeout: float = 30) -> int | None:
        self.signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            return self.popen.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Processes:
    """Starts and tracks a stack's processes; `env` is the stack's configuration (HALLMARK_* variables)."""

    env: dict
    logs: Path
    running: list[Proc] = field(default_factory=list)

    def spawn(self, kind: str, *args: str, port: int | None = None, **extra_env) -> Proc:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{kind}-{len(self.running)}.log"
        cmd = [str(BIN / "hallmark"), kind, *args]
        if port is not None:
            cmd += ["--port", str(port)]
        env = {**os.environ, **self.env, **{k: str(v) for k, v in extra_env.items()},
               "PATH": f"{BIN}:{os.environ['PATH']}"}
        popen = subprocess.Popen(cmd, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        proc = Proc(kind, popen, log, port)
        self.running.append(proc)
        if kind == "web":
            wait_http(f"http://127.0.0.1:{port}/api/health", proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.running:
            proc.stop()
        self.running.clear()


def wait_http(url: str, proc: Proc | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.kind} exited with {proc.popen.returncode}:\n{proc.output()[-3000:]}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")
