"""The demo seed of `make run`: something on the local chain for every verdict."""
