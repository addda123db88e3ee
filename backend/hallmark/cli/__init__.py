"""The `hallmark` command: the local chain, deployment, drops, minting, airdrops, claim codes and API keys.

Everything except `chain` and `deploy` goes through the backend's service layer (the same code the HTTP API
calls): the command builds the app with `create_app()`, queues work, and runs the app's own mint worker and
drop builder in this process until the work is done. The command never signs a transaction itself.

Every failure is one line on stderr starting with `error:` and exit code 1, never a traceback (details of
unexpected errors go to `<data>/hallmark-cli.log`).

- root: the `hallmark` group and its one-line errors; backend: the app's services in this process
- chain: `chain up|down|status` and `deploy`
- drops: `drop create|list`; minting: `mint`, `airdrop`, `claim-codes`
- registered from their own packages: the processes (web, worker, indexer, run), API keys, staff, audit, demo
"""
from __future__ import annotations

from ..access.audit_commands import register as register_audit
from ..access.commands import register as register_access
from ..demo.commands import register as register_demo
from ..run.commands import register as register_processes
from ..security.commands import register as register_security
from . import chain, minting  # noqa: F401  (their commands join `main` as they load)
from .drops import load_spec
from .root import main

__all__ = ["load_spec", "main"]

register_processes(main)
register_security(main)
register_access(main)
register_audit(main)
register_demo(main)
