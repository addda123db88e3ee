# Hallmark: `make run` (set up, local chain, deploy, demo drop, serve) and `make test` (the whole suite).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export HALLMARK_DATA_DIR ?= $(CURDIR)/data
PORT ?= 5000
# the host the demo's cards (their QR codes, the metadata) and the foreign-link check name: the port served,
# unless the operator names the bank's public address
export HALLMARK_PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
NETWORK := hallmark-local
STAFF_LOGINS := $(HALLMARK_DATA_DIR)/keys/demo-staff.txt

.PHONY: setup run serve chain deploy demo stop test test-contracts test-backend test-faults test-fuzz test-e2e bench clean

setup: $(VENV)/.installed node_modules/.installed toolchain

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

toolchain: $(VENV)/.installed node_modules/.installed
	$(PY) scripts/toolchain/provide_solc.py
	scripts/toolchain/register_networks.sh
	brownie compile >/dev/null

chain: setup
	hallmark chain up

deploy: chain
	hallmark deploy --network $(NETWORK)
	HALLMARK_NETWORK=$(NETWORK) hallmark drop create --spec drops/fuhu-demo.yaml
	@hallmark staff demo --out $(STAFF_LOGINS)
	@echo "console sign-in for the demo (marketing, approver, branch, viewer, admin): $(STAFF_LOGINS)"

run: deploy demo serve

# every verdict to look at (once per data folder; later runs print the table again): data/demo.txt
demo: deploy
	HALLMARK_NETWORK=$(NETWORK) hallmark demo seed

# gunicorn (WEB_WORKERS processes), the worker and the indexer, each its own process, on the data folder's SQLite
WEB_WORKERS ?= 2
serve:
	@echo "Ctrl-C stops the app; \`make stop\` stops the chain too"
	exec hallmark run --port $(PORT) --workers $(WEB_WORKERS)

stop:
	-@test -f $(HALLMARK_DATA_DIR)/app.pid && kill $$(cat $(HALLMARK_DATA_DIR)/app.pid) 2>/dev/null; rm -f $(HALLMARK_DATA_DIR)/app.pid
	-@test -x $(VENV)/bin/hallmark && hallmark chain down

test: setup .venv-fuzz/.installed test-contracts test-backend test-faults test-fuzz test-e2e

# on a Ganache of its own (free port, network id of its own, removed afterwards): runs side by side with others
test-contracts:
	$(PY) scripts/toolchain/test_contracts.py

test-backend: /usr/lib/postgresql/15/bin/initdb /usr/bin/redis-server
	pytest -p no:pytest-brownie tests/backend -q

# real worker, indexer and gunicorn processes killed with real signals, against Ganache, Anvil and PostgreSQL
test-faults: /usr/lib/postgresql/15/bin/initdb
	pytest -p no:pytest-brownie tests/faults -q

# schemathesis against the real processes, checking every answer against /openapi.json; it needs a newer
# hypothesis than eth-brownie pins, so it has a virtual environment of its own, pinned in tests/fuzz/requirements.txt
.venv-fuzz/.installed: tests/fuzz/requirements.txt
	test -x .venv-fuzz/bin/python || python3 -m venv .venv-fuzz
	.venv-fuzz/bin/python -m pip install -q -r tests/fuzz/requirements.txt
	touch $@

test-fuzz: setup .venv-fuzz/.installed
	pytest -p no:pytest-brownie tests/fuzz -q

# The database tests start throw-away PostgreSQL servers (hallmark.devdb) from Debian's package, installed (as
# root) only when missing; the packaged `main` cluster is never used.
/usr/lib/postgresql/15/bin/initdb:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null

# The shared rate-limit test runs its own redis-server on a free port (never a system service); installed (as root)
# only when /usr/bin/redis-server is missing.
/usr/bin/redis-server:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null

# Browser tests drive Debian's Chromium (`playwright install` cannot download a browser here), with a CJK font
# for the Chinese pages; installed (as root) only when /usr/bin/chromium is missing.
/usr/bin/chromium:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null

test-e2e: setup /usr/bin/chromium
	pytest -p no:pytest-brownie tests/e2e -q

bench: setup /usr/lib/postgresql/15/bin/initdb
	$(PY) bench/gas.py
	$(PY) bench/airdrop.py
	$(PY) bench/claims.py
	$(PY) bench/lookup.py
	$(PY) bench/serving.py

clean: stop
	rm -rf build reports $(HALLMARK_DATA_DIR)
