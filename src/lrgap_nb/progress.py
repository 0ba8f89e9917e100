"""Progress bars go to the terminal that runs `lrgap`, never into a rendered page.

`lrgap run` sets LRGAP_PROGRESS to a log file that it copies to its own stderr while the kernel
works; worker processes inherit it. Inside a Jupyter kernel without it, bars are off (worker
processes would otherwise write through the kernel's captured stderr into the cell's output).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

ENV = "LRGAP_PROGRESS"


def target() -> str | None:
    """Where bars of this process (and the workers it starts) go: a path, or None for stderr."""
    if path := os.environ.get(ENV):
        return path
    return os.devnull if "ipykernel" in sys.modules else None


def set_target(path: str | None) -> None:
    """Make a worker process write its bars where its parent's go (see `target`)."""
    if path is not None:
        os.environ[ENV] = path


def bar(iterable: Iterable | None = None, **options: Any) -> tqdm:
    """A tqdm bar on this process's progress stream."""
    path = target()
    if path == os.devnull:
        return tqdm(iterable, **{**options, "disable": True})
    stream: TextIO = open(path, "a", buffering=1) if path else sys.stderr  # noqa: SIM115
    return tqdm(iterable, file=stream, **options)


@contextlib.contextmanager
def to_terminal(poll_s: float = 0.2) -> Iterator[None]:
    """While the block runs, copy everything written to LRGAP_PROGRESS to this stderr."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "progress.log"
        log.touch()
        previous = os.environ.get(ENV)
        os.environ[ENV] = str(log)
        done = threading.Event()
        copier = threading.Thread(target=_copy, args=(log, done, poll_s), daemon=True)
        copier.start()
        try:
            yield
        finally:
            done.set()
            copier.join()
            if previous is None:
                os.environ.pop(ENV, None)
            else:
                os.environ[ENV] = previous


def _copy(log: Path, done: threading.Event, poll_s: float) -> None:
    with open(log) as source:
        while True:
            finished = done.is_set()
            if chunk := source.read():
                sys.stderr.write(chunk)
                sys.stderr.flush()
            if finished:
                return
            time.sleep(poll_s)
