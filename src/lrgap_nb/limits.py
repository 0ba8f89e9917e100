"""Size guards: a setting that asks for more memory than the machine has fails before any work.

Chapters call `require_memory` from their `ChapterParams.check()` with a lower bound of what the
setting allocates, so `gauss_repeats=100000000000` is a one-line ParameterError naming the
parameter, not a MemoryError inside the kernel.
"""

from __future__ import annotations

import os

from .params import ParameterError

GIB = 2**30


def physical_memory() -> int | None:
    """Bytes of RAM on this machine, or None where the platform does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def require_memory(needed: float, parameter: str, value: object, what: str) -> None:
    """Raise ParameterError if `needed` bytes (a lower bound) exceed this machine's memory."""
    have = physical_memory()
    if have is not None and needed > have:
        raise ParameterError(
            f"parameter {parameter!r} is {value!r}: {what} take at least "
            f"{needed / GIB:,.1f} GiB of memory; this machine has {have / GIB:,.1f} GiB"
        )
