"""The book's chapters: each is a package `lrgap_nb.chapters.<name>` that registers itself.

A chapter package holds the same few modules: `params` (its parameters, profiles and the paper's
numbers), `runs` (what it trains, through the results cache; torch lives here), `tables` (tables,
verdicts and claims; no torch) and `figures`, plus whatever only that chapter uses. Its
`__init__.py` defines `CHAPTER` and imports nothing heavy, so `lrgap list` needs no torch.
Adding a chapter: its folder, its notebook and one `_toc.yml` line (see CONTRIBUTING.md).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import pkgutil
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

from ..params import ChapterParams, ParameterError, resolve


@runtime_checkable
class RunsModule(Protocol):
    """A chapter's `runs`: every cached unit its notebook needs, in stage order (later stages are
    listed once the earlier ones are cached); optionally `calibration_runs(cfg)`, the stages
    `lrgap calibrate` computes, and `write_calibration_log()`, the log it then writes."""

    def chapter_runs(self, cfg: ChapterParams) -> list: ...


@runtime_checkable
class ClaimsModule(Protocol):
    """A chapter's `claims`: one function per claim, and `claims(...)` listing them all as
    `lrgap_nb.claims.Claim` records (no torch)."""

    def claims(self, *inputs: Any) -> list: ...


CONTRACT = {"runs": RunsModule, "claims": ClaimsModule}  # plus params, tables and figures


@dataclasses.dataclass(frozen=True)
class Chapter:
    name: str  # the package's name, used on the command line
    notebook: str  # stem of notebooks/<stem>.py
    title: str
    params: str  # name of the ChapterParams subclass in the chapter's params module

    def module(self, name: str) -> ModuleType:
        return importlib.import_module(f"{__name__}.{self.name}.{name}")

    def breaks_contract(self) -> list[str]:
        """What the chapter's package lacks of the contract every chapter implements."""
        missing = [f"{name}.py" for name in ("params", "tables", "figures") if not self._has(name)]
        for name, protocol in CONTRACT.items():
            if not self._has(name) or not isinstance(self.module(name), protocol):
                missing.append(f"{name}.py with {protocol.__name__}'s functions")
        return missing

    def _has(self, name: str) -> bool:
        return importlib.util.find_spec(f"{__name__}.{self.name}.{name}") is not None

    def params_class(self) -> type[ChapterParams]:
        return getattr(self.module("params"), self.params)

    def runs(self, cfg: ChapterParams) -> list:
        """The cached runs the chapter declares for `cfg` (what `lrgap sweep` computes)."""
        return self.module("runs").chapter_runs(cfg)

    def calibration(self, cfg: ChapterParams) -> list:
        """The runs of its calibration stages listed so far (none for a chapter without one)."""
        runs = self.module("runs")
        return runs.calibration_runs(cfg) if hasattr(runs, "calibration_runs") else []

    def execute(self, cfg: ChapterParams) -> dict[Any, Any]:
        """Config -> result of every run, computing what is not cached (earlier stages first)."""
        from ..sweep import execute_chapter

        return execute_chapter(lambda: self.runs(cfg), getattr(cfg, "workers", 1))


def submodules(package: str) -> Callable[[str], ModuleType]:
    """A module `__getattr__` that imports a chapter's submodules on first use (`lg.convex.maths`)."""

    def load(name: str) -> ModuleType:
        try:
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{package}.{name}":
                raise
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None

    return load


@functools.cache
def registry() -> Mapping[str, Chapter]:
    """Every chapter package's CHAPTER, in notebook order."""
    found = [
        importlib.import_module(f"{__name__}.{info.name}").CHAPTER
        for info in pkgutil.iter_modules(__path__)
        if info.ispkg
    ]
    return {c.name: c for c in sorted(found, key=lambda c: c.notebook)}


def get_chapter(name: str) -> Chapter:
    chapters = registry()
    if name not in chapters:
        raise ParameterError(f"unknown chapter {name!r}; chapters: {', '.join(chapters)}")
    return chapters[name]


def execute(name: str, cfg: ChapterParams) -> dict[Any, Any]:
    """Config -> result of every run of chapter `name` at `cfg` (what its notebook reads)."""
    return get_chapter(name).execute(cfg)


def chapter_config(name: str, profile: str = "smoke", **overrides: Any) -> ChapterParams:
    """Validated parameters of chapter `name` at `profile`; None overrides take the profile's."""
    return resolve(get_chapter(name).params_class(), profile, overrides)


def configure(name: str, namespace: Mapping[str, Any]) -> ChapterParams:
    """The chapter's parameters from a notebook's namespace (its generated `parameters` cell)."""
    import dataclasses as dc

    fields = [f.name for f in dc.fields(get_chapter(name).params_class())]
    missing = [n for n in fields if n not in namespace]
    if missing:
        raise ParameterError(
            f"the parameters cell lacks {', '.join(missing)}: run `lrgap pair {name}`"
        )
    values = {n: namespace[n] for n in fields}
    return chapter_config(name, values.pop("profile"), **values)
