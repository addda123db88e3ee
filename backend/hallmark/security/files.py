"""Files and folders under the data folder readable by their owner only: folders 0700, files 0600, whatever
the umask (the `hallmark` command also sets a umask of 077 for everything its processes create)."""
from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

FOLDER_MODE, FILE_MODE = 0o700, 0o600


def private_dir(path: Path) -> Path:
    """Make `path` and any missing parents owner-only folders. Folders that exist already are left as they are
    (the data folder could live under /tmp), except `path` itself when it is ours and open to others."""
    path = Path(path)
    missing = [d for d in (path, *path.parents) if not d.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:  # made by another process just now
            continue
        folder.chmod(FOLDER_MODE)  # mkdir's mode is filtered by the umask
    return path


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.{secrets.token_hex(4)}")


def write_private(path: Path, data: bytes | str) -> Path:
    """Replace `path` atomically with `data`, mode 0600, in an owner-only folder (a reader never sees half a file
    or, for a moment, a world-readable one)."""
    path = Path(path)
    private_dir(path.parent)
    tmp = _tmp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def create_once(path: Path, data: bytes | str) -> bool:
    """Create `path` (0600) holding `data` unless it exists; never overwrites, also when processes race: the
    first one wins and everyone uses its file. True if this call created it."""
    path = Path(path)
    private_dir(path.parent)
    tmp = _tmp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
    try:
        os.link(tmp, path)  # atomic, and fails if the file exists
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink()


def open_private(path: Path, mode: str = "ab"):
    """`open(path, mode)` for a log or pid file: created 0600 in an owner-only folder."""
    path = Path(path)
    private_dir(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    return os.fdopen(os.open(path, flags, FILE_MODE), mode)
