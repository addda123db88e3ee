"""The Fuhu tiger layers kept on disk between starts of the render server, so a worker's first drop does not wait
for them to be drawn again (27 layers, about 2.5 s on a quiet machine, 4 s on a busy one, every start).

The file is named after a hash of what draws the layers (fuhu.py's source and the Pillow and numpy versions): code
that draws different pixels reads no file but its own, so the cache cannot change a card, and therefore cannot
change a committed drop's hashes. It is written once, atomically (a temporary file renamed over it), by whichever
process drew the layers first; a missing, unreadable or foreign file is drawn again, never an error. numpy's format
without pickles: reading it runs no code.
"""
from __future__ import annotations

import hashlib
import logging
import tempfile
from pathlib import Path

import numpy as np
import PIL
from PIL import Image

from ..config import ROOT

log = logging.getLogger(__name__)
DEFAULT_DIR = ROOT / "build" / "art"

Kind = tuple[str, str, int]  # fur, stripes, stripe count


def path(folder: Path = DEFAULT_DIR) -> Path:
    drawer = hashlib.sha256(Path(__file__).with_name("fuhu.py").read_bytes())
    drawer.update(f"Pillow {PIL.__version__} numpy {np.__version__}".encode())
    return Path(folder) / f"tiger-layers-{drawer.hexdigest()[:16]}.npz"


def _label(kind: Kind) -> str:
    return "|".join(map(str, kind))


def read(kinds: list[Kind], folder: Path = DEFAULT_DIR) -> dict[Kind, Image.Image]:
    """The layers of `kinds` from this code's file, or {} when it has none that holds exactly them."""
    file = path(folder)
    try:
        with np.load(file, allow_pickle=False) as stored:
            if stored["kinds"].tolist() != [_label(k) for k in kinds]:
                raise ValueError("other kinds of tiger")
            layers = stored["layers"]
    except FileNotFoundError:
        return {}
    except Exception as exc:  # a damaged file (BadZipFile, EOFError, ValueError...): drawn and written again
        log.warning("art layer cache %s not used: %s", file, exc)
        return {}
    return {kind: Image.fromarray(layer, "RGBA") for kind, layer in zip(kinds, layers)}


def write(layers: dict[Kind, Image.Image], folder: Path = DEFAULT_DIR) -> None:
    """Stores `layers` for the next start; a folder that cannot be written only costs that start the drawing."""
    file = path(folder)
    partial = None
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=file.parent, prefix=".tiger-layers-", suffix=".npz",
                                         delete=False) as out:
            partial = Path(out.name)
            np.savez(out, kinds=np.array([_label(k) for k in layers]),
                     layers=np.stack([np.asarray(img) for img in layers.values()]))
        partial.chmod(0o644)  # as the build folder's other files: any process of the install may read it
        partial.replace(file)
    except OSError as exc:  # a full disk leaves no partial file behind
        log.warning("art layer cache %s not written: %s", file, exc)
        if partial is not None:
            partial.unlink(missing_ok=True)
