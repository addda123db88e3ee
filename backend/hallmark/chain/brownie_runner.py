"""Run a script of this brownie project (scripts/*.py) without `brownie run`'s path-to-module import.

`brownie run scripts/deploy.py` imports the script as a module named after its absolute path with dots as
separators (/home/li.wei/hallmark/scripts/deploy.py becomes `home.li.wei.hallmark.scripts.deploy`), so it
fails from any folder whose path has a dot, and misfires when the first folder of the path has a package's
name (brownie issues #1081, #1281). This runner does what `brownie run` does without that: it loads the
project and its config, connects to the network (attaching to a node that already answers on the network's
port, launching one otherwise, exactly like brownie), imports the script from its file under a module name
of its own (`hallmark_scripts.<stem>`) and calls the function:

    python -m hallmark.chain.brownie_runner scripts/deploy.py --network hallmark-local
    python -m hallmark.chain.brownie_runner scripts/create_drop.py main drops/fuhu-demo.yaml --network hallmark-local
    python -m hallmark.chain.brownie_runner scripts/airdrop.py main fuhu-demo recipients.csv 500 --network hallmark-local

The arguments are those of `brownie run`. A script's own failures (`scripts.common.fail`) end it with their one
`error:` line on stderr and exit code 1; anything unexpected prints its traceback and exits 1.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import traceback
import types
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..config import ROOT

PACKAGE = "hallmark_scripts"  # the scripts' module names: hallmark_scripts.deploy, hallmark_scripts.airdrop, ...
PROJECT_NAME = "HallmarkProject"  # brownie would name the project after its folder; any folder name must work


def script_path(script: str | os.PathLike, root: Path = ROOT) -> Path:
    """The script's file: as given (relative to the working directory), else relative to the project root or to
    its scripts folder, like `brownie run` (`scripts/deploy.py`, `deploy.py` and `deploy` all name one file)."""
    given = Path(script)
    if given.suffix != ".py":
        given = given.with_name(given.name + ".py")
    for candidate in (given, root / given, root / "scripts" / given):
        if candidate.is_file():
            return candidate.resolve()
    raise FileNotFoundError(f"no script {script} (looked in {Path.cwd()}, {root} and {root / 'scripts'})")


def load_script(script: str | os.PathLike, root: Path = ROOT) -> types.ModuleType:
    """Import a script from its file as `hallmark_scripts.<stem>` (fresh on every call, as `brownie run` does).

    The scripts import `scripts.common` and the project's contracts (`from brownie import HallmarkRegistry`):
    both need the project loaded (see `project`), which puts the project root on sys.path."""
    path = script_path(script, root)
    package = sys.modules.get(PACKAGE)
    if package is None:
        package = types.ModuleType(PACKAGE, "Hallmark's brownie scripts, imported by hallmark.chain.brownie_runner")
        package.__path__ = []
        sys.modules[PACKAGE] = package
    if str(path.parent) not in package.__path__:
        package.__path__.append(str(path.parent))
    name = f"{PACKAGE}.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    setattr(package, path.stem, module)
    return module


@contextmanager
def _working_dir(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@contextmanager
def project(network: str | None, root: Path = ROOT):
    """The brownie project at root, loaded (compiled if its sources changed) and connected to `network`, as
    `brownie run` has it: the project's contracts importable from `brownie`, its brownie-config.yaml applied.

    Reuses a project and connection that are already there (inside `brownie test`, say); otherwise closes what it
    opened on the way out (a chain brownie launched for the run is stopped, one it attached to keeps running)."""
    from brownie import network as brownie_network
    from brownie import project as brownie_project

    root = Path(root).resolve()
    loaded = next((p for p in brownie_project.get_loaded_projects() if Path(p._path).resolve() == root), None)
    if loaded is None:
        with _working_dir(root):
            active = brownie_project.load(root, name=PROJECT_NAME)
        active.load_config()
        active._add_to_main_namespace()
    else:  # e.g. inside `brownie test`, which has done both
        active = loaded
    # brownie's own internal call on attaching; pytest.ini_options hides it for the tests the same way
    warnings.filterwarnings("ignore", message=r"rpc\.", category=FutureWarning)
    connected_here = False
    try:
        if not brownie_network.is_connected():
            brownie_network.connect(network)
            connected_here = True
        elif network and brownie_network.show_active() != network:
            raise RuntimeError(f"already connected to network '{brownie_network.show_active()}', not '{network}'")
        yield active
    finally:
        if connected_here:
            brownie_network.disconnect()
        if loaded is None:
            active.close(raises=False)


def run_script(script: str | os.PathLike, function: str = "main", args: Sequence[Any] = (),
               network: str | None = None, root: Path = ROOT) -> Any:
    """`brownie run <script> <function> <args...> --network <network>`, from any folder."""
    with project(network, root):
        module = load_script(script, root)
        func = getattr(module, function, None)
        if not callable(func):
            raise AttributeError(f"{script_path(script, root)} has no function '{function}'")
        print(f"Running {module.__name__}.{function} on network '{network or 'default'}'", flush=True)
        return func(*args)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hallmark.chain.brownie_runner",
        description="Run a brownie script of the Hallmark project (the arguments of `brownie run`), from any path.")
    parser.add_argument("script", help="e.g. scripts/deploy.py")
    parser.add_argument("function", nargs="?", default="main", help="function to call (default main)")
    parser.add_argument("args", nargs="*", help="arguments for the function (strings)")
    parser.add_argument("--network", help="brownie network id, e.g. hallmark-local")
    options = parser.parse_intermixed_args(argv)
    try:
        script_path(options.script)
    except FileNotFoundError as exc:
        sys.exit(f"error: {exc}")
    try:
        run_script(options.script, options.function, options.args, options.network)
    except SystemExit:  # a script's one-line failure: `error: ...`
        raise
    except KeyboardInterrupt:
        sys.exit("error: interrupted")
    except Exception as exc:  # noqa: BLE001  (brownie run prints the traceback too; the last line says what)
        traceback.print_exc()
        lines = str(exc).strip().splitlines()
        sys.exit(f"error: {type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": "))


if __name__ == "__main__":
    main()
