"""The book's chapters: which notebook, which parameter class, which profile defaults.

Parameter classes are named as "module:Class" so `lrgap list` needs no torch import.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from .params import ParameterError, resolve


@dataclasses.dataclass(frozen=True)
class Chapter:
    name: str
    notebook: str  # stem of notebooks/<stem>.py
    title: str
    params_ref: str  # "module:Class"; the module also defines DEFAULTS[profile]
    runs_ref: str | None = None  # "module:function", cfg -> list[Run] that a sweep can execute

    def params_class(self) -> type:
        module_name, class_name = self.params_ref.split(":")
        return getattr(importlib.import_module(f"lrgap_nb.{module_name}"), class_name)

    def runs(self, cfg) -> list:
        """The runs the chapter declares for `cfg` (empty if it trains nothing worth spreading)."""
        if self.runs_ref is None:
            return []
        module_name, function_name = self.runs_ref.split(":")
        return getattr(importlib.import_module(f"lrgap_nb.{module_name}"), function_name)(cfg)

    def defaults(self) -> dict[str, dict[str, Any]]:
        module_name = self.params_ref.split(":")[0]
        return importlib.import_module(f"lrgap_nb.{module_name}").DEFAULTS


CHAPTERS: dict[str, Chapter] = {
    c.name: c
    for c in [
        Chapter(
            "convex",
            "01_convex",
            "Large LR in a convex problem",
            "convex:ConvexParams",
            "convex:chapter_runs",
        ),
        Chapter(
            "learning_order",
            "02_learning_order",
            "Learning order on Li, Wei & Ma's distribution",
            "learning_order:LearningOrderParams",
            "learning_order:chapter_runs",
        ),
        Chapter(
            "large_lr",
            "03_large_lr",
            "Large LR + anneal versus small LR on WRN-16",
            "large_lr:LargeLRParams",
            "large_lr:chapter_runs",
        ),
        Chapter(
            "patch",
            "04_patch",
            "The patch-augmented CIFAR-10 experiment",
            "patch:PatchParams",
            "patch:chapter_runs",
        ),
        Chapter(
            "large_batch",
            "05_large_batch",
            "Small versus large batch, sharp minima (Keskar et al. 2017)",
            "large_batch:LargeBatchParams",
            "large_batch:chapter_runs",
        ),
    ]
}


def get_chapter(name: str) -> Chapter:
    if name not in CHAPTERS:
        raise ParameterError(f"unknown chapter {name!r}; chapters: {', '.join(CHAPTERS)}")
    return CHAPTERS[name]


def chapter_config(name: str, profile: str = "smoke", **overrides: Any):
    """Validated parameters of chapter `name` at `profile`; None overrides take the profile default."""
    chapter = get_chapter(name)
    return resolve(chapter.params_class(), profile, chapter.defaults(), overrides)
