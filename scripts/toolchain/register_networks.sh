#!/usr/bin/env bash
# Register the two Ganache 7 networks with brownie (idempotent): hallmark-local is the persistent chain of
# `make run` (port 8545, attached to, never launched by brownie); hallmark-test (port 8555) is for running
# `brownie test` by hand. `make test-contracts` registers a network of its own on a free port for each run
# (scripts/toolchain/test_contracts.py), and the backend tests do the same for the chains they start.
#
# ~/.brownie/network-config.yaml is shared by every checkout on the machine, so nothing registered here points
# into this one: the command is plain `ganache`, found on PATH (the Makefile and the test fixtures put this
# checkout's node_modules/.bin first), so deleting one checkout leaves another's networks working.
set -euo pipefail
cd "$(dirname "$0")/../.."
BROWNIE=.venv/bin/brownie
MNEMONIC="test test test test test test test test test test test junk"
LOCK="$HOME/.brownie/network-config.lock"  # the lock the test fixtures take around the same file
mkdir -p "$HOME/.brownie"
register() {
  local id=$1 port=$2
  (
    flock 9
    $BROWNIE networks delete "$id" >/dev/null 2>&1 || true
    $BROWNIE networks add Development "$id" cmd=ganache host=http://127.0.0.1 port="$port" \
      evm_version=shanghai accounts=10 mnemonic="$MNEMONIC" chain_id=1337 gas_limit=30000000 >/dev/null
  ) 9>"$LOCK"
  echo "brownie network $id: ganache on port $port"
}
register hallmark-local "${HALLMARK_PORT:-8545}"
register hallmark-test "${HALLMARK_TEST_PORT:-8555}"
