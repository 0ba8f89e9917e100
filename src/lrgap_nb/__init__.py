"""lrgap_nb: the thin package behind the lrgap book. Notebooks need only `import lrgap_nb as lg`.

Everything is imported on first use, so `lrgap --help` and `lrgap list` import no torch:
`lg.configure`, `lg.save_figure`, ... come from the shared core, `lg.<chapter>` is the chapter's
package (`lg.convex.tables`) and any other `lg.<module>` a core module (`lg.stats`).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__version__ = "0.2.0"

_NAMES = {
    "configure": "chapters",
    "chapter_config": "chapters",
    "execute": "chapters",
    "ParameterError": "params",
    "PROFILES": "params",
    "save_figure": "book.export",
    "save_table": "book.export",
    "downloads": "book.export",
    "outputs": "book.export",
}
_MODULES = {"report": "book.report", "export": "book.export"}  # lg.report in the notebooks


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{_MODULES[name]}")
    if name in _NAMES:
        return getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
    from .chapters import registry

    if name in registry():
        return importlib.import_module(f"{__name__}.chapters.{name}")
    try:
        module: ModuleType = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as err:
        if err.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    return module
