"""`brownie test tests/contracts` on a Ganache of its own: a free port, under a brownie network id of its own.

brownie launches the chain of a development network on that network's fixed port, and the networks live in the
machine-wide ~/.brownie/network-config.yaml: two checkouts (or two runs) testing at once on one fixed network
would meet on one port. So each run registers `hallmark-test-<port>` on a free port, runs the tests there, and
removes the network afterwards (also when the tests fail or the run is interrupted).

    .venv/bin/python scripts/toolchain/test_contracts.py [extra brownie test arguments]
"""
import fcntl
import os
import signal
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BROWNIE = str(BIN / "brownie") if (BIN / "brownie").exists() else "brownie"
MNEMONIC = "test test test test test test test test test test test junk"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def network_config_lock():
    """The lock tests/backend/conftest.py and register_networks.sh take around ~/.brownie/network-config.yaml."""
    path = Path.home() / ".brownie" / "network-config.lock"
    path.parent.mkdir(exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def brownie_networks(*args: str, check: bool = True) -> None:
    with network_config_lock():
        proc = subprocess.run([BROWNIE, "networks", *args], cwd=ROOT, capture_output=True, text=True)
    if check and proc.returncode != 0:
        sys.exit(f"error: brownie networks {args[0]} failed:\n{proc.stdout}{proc.stderr}")


def main(extra: list[str]) -> int:
    port = free_port()
    network = f"hallmark-test-{port}"
    # plain `ganache` from PATH (this checkout's node_modules/.bin first): nothing registered points into a checkout
    env = {**os.environ, "PATH": os.pathsep.join([str(BIN), str(ROOT / "node_modules" / ".bin"), os.environ["PATH"]])}
    brownie_networks("add", "Development", network, "cmd=ganache", "host=http://127.0.0.1", f"port={port}",
                     "evm_version=shanghai", "accounts=10", f"mnemonic={MNEMONIC}", "chain_id=1337",
                     "gas_limit=30000000")
    try:
        print(f"brownie network {network}: ganache on port {port}, for this run only", flush=True)
        tests = subprocess.Popen([BROWNIE, "test", "tests/contracts", "--network", network, *extra], cwd=ROOT, env=env)
        # stopped from outside: let brownie stop the Ganache it launched (it does on SIGINT, not on SIGTERM)
        signal.signal(signal.SIGTERM, lambda *_: tests.send_signal(signal.SIGINT))
        while True:
            try:
                return tests.wait()
            except KeyboardInterrupt:  # Ctrl-C reached brownie too: wait for it to clean up
                continue
    finally:
        brownie_networks("delete", network, check=False)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
