#!/usr/bin/env bash
# Register the two Ganache 7 networks with brownie (idempotent): hallmark-local is the persistent chain of
# `make run` (port 8545, attached to, never launched by brownie); hallmark-test is launched by `brownie test`.
# (The backend tests register networks of their own, on free ports, for the chains they start.)
set -euo pipefail
cd "$(dirname "$0")/../.."
BROWNIE=.venv/bin/brownie
GANACHE="$PWD/node_modules/.bin/ganache"
MNEMONIC="test test test test test test test test test test test junk"
register() {
  local id=$1 port=$2
  $BROWNIE networks delete "$id" >/dev/null 2>&1 || true
  $BROWNIE networks add Development "$id" cmd="$GANACHE" host=http://127.0.0.1 port="$port" \
    evm_version=shanghai accounts=10 mnemonic="$MNEMONIC" chain_id=1337 gas_limit=30000000 >/dev/null
  echo "brownie network $id: ganache on port $port"
}
register hallmark-local "${HALLMARK_PORT:-8545}"
register hallmark-test "${HALLMARK_TEST_PORT:-8555}"
