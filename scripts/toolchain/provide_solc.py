"""Give py-solc-x (and so brownie) the Solidity compiler pinned in brownie-config.yaml.

Native solc from solcx.install_solc when it can be downloaded; otherwise the pinned npm solc-js, wrapped by
solcjs-standard-json.js so that it answers like a native binary. Idempotent.

The solc-js compiler is machine-wide state (py-solc-x's install folder, `~/.solcx` or $SOLCX_BINARY_PATH), shared
by every checkout on the machine, so nothing in it points into one checkout: solc-js, the npm packages it needs at
run time and the wrapper are copied into a versioned folder beside the shim (`~/.solcx/solcjs-<version>/`), and
the shim `solc-v<version>` runs them from there. Deleting or moving the checkout that installed them breaks
nothing; a shim written by an older set-up (pointing into a checkout) is replaced.
"""
import json
import os
import shutil
import stat
import sys
from pathlib import Path

import solcx
import solcx.install
import yaml

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = Path(__file__).with_name("solcjs-standard-json.js")
MARKER = "HALLMARK_SOLCJS"  # in every shim this script writes (and in the older, checkout-bound ones)
COMPLETE = ".complete"  # written last into a copied solc-js folder


def pinned_version() -> str:
    config = yaml.safe_load((ROOT / "brownie-config.yaml").read_text())
    return str(config["compiler"]["solc"]["version"])


def _package_dir(name: str, start: Path, top: Path) -> Path:
    """Where Node finds package `name` required from the package at `start`: the nearest node_modules/<name>
    walking up from start, no higher than the node_modules folder `top`."""
    here = start
    while True:
        candidate = here / "node_modules" / name
        if candidate.is_dir():
            return candidate
        if here == top.parent or here == here.parent:
            raise FileNotFoundError(f"npm package {name} (needed by {start.name}) is missing: run `npm ci`")
        here = here.parent
        if here.name == "node_modules":  # from node_modules/<pkg> (or @scope/<pkg>) up to the folder holding it
            here = here.parent
        elif here.parent.name == "node_modules" and here.name.startswith("@"):
            here = here.parent.parent


def runtime_packages(package: Path, top: Path) -> set[Path]:
    """The package folder and those of every package it requires at run time (dependencies and optional
    dependencies, transitively), as Node would resolve them inside the node_modules folder `top`."""
    found, todo = set(), [package]
    while todo:
        pkg = todo.pop()
        if pkg in found:
            continue
        found.add(pkg)
        meta = json.loads((pkg / "package.json").read_text())
        names = {**meta.get("dependencies", {}), **meta.get("optionalDependencies", {})}
        for name in names:
            try:
                todo.append(_package_dir(name, pkg, top))
            except FileNotFoundError:
                if name not in meta.get("optionalDependencies", {}):
                    raise
    return found


def solcjs_home(version: str) -> Path:
    return solcx.get_solcx_install_folder() / f"solcjs-{version}"


def copy_solcjs(version: str) -> Path:
    """solc-js with its run-time packages and the wrapper, self-contained in the install folder (idempotent)."""
    home = solcjs_home(version)
    if (home / COMPLETE).exists() and (home / "solcjs-standard-json.js").read_bytes() == WRAPPER.read_bytes():
        return home
    modules = ROOT / "node_modules"
    solcjs = modules / "solc"
    if not solcjs.exists():
        sys.exit("solc-js is missing: run `npm ci`")
    packaged = json.loads((solcjs / "package.json").read_text())["version"]
    if packaged != version:
        sys.exit(f"node_modules/solc is solc-js {packaged}, brownie-config.yaml pins solc {version}: run `npm ci`")
    staging = home.with_name(f".{home.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    for package in sorted(runtime_packages(solcjs, modules)):
        shutil.copytree(package, staging / "node_modules" / package.relative_to(modules), symlinks=False,
                        dirs_exist_ok=True, ignore=shutil.ignore_patterns(".bin"))
    shutil.copy2(WRAPPER, staging / "solcjs-standard-json.js")
    (staging / COMPLETE).write_text(f"npm solc {packaged}, copied by Hallmark's scripts/toolchain/provide_solc.py\n")
    old = home.with_name(f".{home.name}.{os.getpid()}.old")
    if home.exists():  # incomplete, or an older wrapper: replace it whole
        home.rename(old)
    try:
        staging.rename(home)
    except OSError:  # another set-up (another checkout) finished the same copy first: keep that one
        shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    return home


def shim_text(home: Path) -> str:
    return (
        "#!/bin/sh\n"
        f"# solc-js {home.name.removeprefix('solcjs-')} as a native-like solc for py-solc-x and brownie; "
        "written by Hallmark's scripts/toolchain/provide_solc.py\n"
        f'{MARKER}="{home / "node_modules" / "solc"}" exec node "{home / "solcjs-standard-json.js"}" "$@"\n'
    )


def install_shim(version: str) -> Path:
    home = copy_solcjs(version)
    target = solcx.get_solcx_install_folder() / f"solc-v{version}"
    target.parent.mkdir(parents=True, exist_ok=True)
    text = shim_text(home)
    if not target.exists() or target.read_text(errors="ignore") != text:
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        tmp.replace(target)
    return target


def main() -> None:
    version = pinned_version()
    if any(str(v) == version for v in solcx.get_installed_solc_versions()):
        existing = solcx.install.get_executable(version)
        if MARKER not in existing.read_text(errors="ignore"):
            print(f"solc {version}: native binary already installed")
            return
        # our shim: make sure it is the self-contained one (an older one pointed into a checkout's node_modules)
        print(f"solc {version}: solc-js shim at {install_shim(version)} (runs {solcjs_home(version)})")
        return
    if os.environ.get("HALLMARK_SOLC") != "solcjs":
        try:
            solcx.install_solc(version, show_progress=False)
            print(f"solc {version}: native binary installed")
            return
        except Exception as exc:  # no route to the download host: fall back to solc-js
            print(f"solc {version}: native download unavailable ({type(exc).__name__}); using npm solc-js")
    print(f"solc {version}: solc-js shim at {install_shim(version)} (runs {solcjs_home(version)})")


if __name__ == "__main__":
    main()
