"""Give py-solc-x (and so brownie) the Solidity compiler pinned in brownie-config.yaml.

Native solc from solcx.install_solc when it can be downloaded; otherwise the pinned npm solc-js,
wrapped by solcjs-standard-json.js so that it answers like a native binary. Idempotent.
"""
import os
import stat
import sys
from pathlib import Path

import solcx
import solcx.install
import yaml

ROOT = Path(__file__).resolve().parents[2]
SHIM = Path(__file__).with_name("solcjs-standard-json.js")


def pinned_version() -> str:
    config = yaml.safe_load((ROOT / "brownie-config.yaml").read_text())
    return str(config["compiler"]["solc"]["version"])


def install_shim(version: str) -> Path:
    solcjs = ROOT / "node_modules" / "solc"
    if not solcjs.exists():
        sys.exit("solc-js is missing: run `npm ci` first")
    target = solcx.get_solcx_install_folder() / f"solc-v{version}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "#!/bin/sh\n"
        f'HALLMARK_SOLCJS="{solcjs}" exec node "{SHIM}" "$@"\n'
    )
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return target


def main() -> None:
    version = pinned_version()
    if any(str(v) == version for v in solcx.get_installed_solc_versions()):
        existing = solcx.install.get_executable(version)
        if "HALLMARK_SOLCJS" not in existing.read_text(errors="ignore"):
            print(f"solc {version}: native binary already installed")
            return
        # a shim from another checkout: point it at this one's node_modules
        print(f"solc {version}: solc-js shim refreshed at {install_shim(version)}")
        return
    if os.environ.get("HALLMARK_SOLC") != "solcjs":
        try:
            solcx.install_solc(version, show_progress=False)
            print(f"solc {version}: native binary installed")
            return
        except Exception as exc:  # no route to the download host: fall back to solc-js
            print(f"solc {version}: native download unavailable ({type(exc).__name__}); using npm solc-js")
    print(f"solc {version}: solc-js shim at {install_shim(version)}")


if __name__ == "__main__":
    main()
