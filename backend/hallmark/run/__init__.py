"""The processes: web (any number, under gunicorn), worker (the one sender per key and chain, others on standby),
indexer (one active); `embedded` runs all three for `make run`."""
