"""A drop's items rendered, hashed and fingerprinted on every core.

Each chunk of serials goes to a process of a pool made for the drop; results come back in serial order, so the
caller can store them as they arrive and resume after a restart from the last stored serial. The pool's processes
are forked from a clean forkserver that has imported the renderer and made every art layer once (art.preload; the
worker process itself has threads, which must not be forked), so a pool starts warm in a fraction of a second.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import sys
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from typing import Iterator, NamedTuple

from .content import DropContent

_content: DropContent | None = None  # the drop a pool process renders, set once by its initializer


class ItemRecord(NamedTuple):
    serial: int
    image_sha256: bytes
    metadata_sha256: bytes
    phash_card: bytes
    phash_qr: bytes


def _adopt(content: DropContent) -> None:
    global _content
    _content = content


def _records(first: int, last: int) -> list[ItemRecord]:
    return [ItemRecord(serial, *_content.record(serial)) for serial in range(first, last + 1)]


def _context():
    context = multiprocessing.get_context("forkserver")
    # Each process runs the main script again before it starts (multiprocessing's rule for forkserver children), and
    # CPython 3.11's forkserver does not preload `__main__` as asked (it looks for a key its data no longer has):
    # the `hallmark` script's imports took a new render process 1.1 s. The server imports every hallmark module this
    # process has, so the script's imports are already there when a child runs it.
    loaded = sorted(name for name in sys.modules if name.partition(".")[0] == "hallmark")
    context.set_forkserver_preload([*loaded, __name__, "hallmark.art.preload"])
    return context


def warm_up() -> None:
    """Start the forkserver (a fresh interpreter that imports the renderer and draws its layers, a few seconds) before
    the first drop."""
    _context()
    multiprocessing.forkserver.ensure_running()


def default_processes() -> int:
    return len(os.sched_getaffinity(0))


_MIN_CHUNK = 20  # cards: a chunk's round trip (pickling, one database transaction) stays noise beside its rendering


def chunk_size(items: int, processes: int) -> int:
    """Small enough for steady progress (about 16 chunks a process), large enough that a chunk's round trip is noise."""
    return max(_MIN_CHUNK, min(1000, items // (processes * 16) or 1))


def chunks(first: int, last: int, processes: int) -> Iterator[tuple[int, int]]:
    """(first, last) serials of each chunk in order: chunk_size's, shrinking towards the end (at most half of what
    is left over the processes) so the processes finish together: the last chunk is what one of them renders
    while the others wait, 0.3 s of a 3,000-item drop's 10 with chunks of 93."""
    size = chunk_size(last - first + 1, processes)
    while first <= last:
        take = max(_MIN_CHUNK, min(size, (last - first + 1) // (2 * processes)))
        yield first, min(first + take - 1, last)
        first += take


class RenderPool:
    """Renders one drop; use as a context manager. `records` yields lists of ItemRecord in serial order."""

    def __init__(self, content: DropContent, processes: int | None = None):
        self.content = content
        self.processes = max(1, processes or default_processes())
        self._pool = ProcessPoolExecutor(self.processes, mp_context=_context(), initializer=_adopt,
                                         initargs=(content,))

    def __enter__(self) -> "RenderPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def records(self, first: int, last: int) -> Iterator[list[ItemRecord]]:
        """Serials first..last in chunks; at most two chunks a process in flight, so memory stays flat."""
        ranges = chunks(first, last, self.processes)
        pending: deque = deque()

        def submit() -> None:
            bounds = next(ranges, None)
            if bounds is not None:
                pending.append(self._pool.submit(_records, *bounds))

        for _ in range(2 * self.processes):
            submit()
        while pending:
            chunk = pending.popleft().result()
            submit()
            yield chunk
