"""lrgap_nb: the thin package behind the lrgap book. Notebooks need only `import lrgap_nb as lg`."""

__version__ = "0.1.0"

from . import (  # noqa: E402
    convex,
    export,
    large_batch,
    large_lr,
    learning_order,
    patch,
    plotting,
    plotting_large_batch,
    plotting_large_lr,
    plotting_learning_order,
    report,
    synthetic,
    widgets,
)
from .chapters import chapter_config  # noqa: E402
from .export import downloads, save_figure, save_table  # noqa: E402
from .params import PROFILES, ParameterError  # noqa: E402
from .report import show_markdown  # noqa: E402

__all__ = [
    "PROFILES",
    "ParameterError",
    "chapter_config",
    "convex",
    "downloads",
    "export",
    "large_batch",
    "large_lr",
    "learning_order",
    "patch",
    "plotting",
    "plotting_large_batch",
    "plotting_large_lr",
    "plotting_learning_order",
    "report",
    "save_figure",
    "save_table",
    "show_markdown",
    "synthetic",
    "widgets",
]
