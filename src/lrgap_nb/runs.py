"""A run as a plain, picklable unit of work: what to compute (a "module:function" runner), its
frozen config and the protocol version of its kind. Executing it goes through the results cache,
so any process can run it."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from typing import Any

from . import results


@dataclasses.dataclass(frozen=True)
class Run:
    kind: str  # cache namespace, e.g. "convex_gaussian"
    runner: str  # "package.module:function", called as function(config) -> JSON payload
    config: Any  # a frozen dataclass defined at module level (so it pickles)
    protocol: int  # the kind's protocol version: bump it when the runner's numbers change

    @property
    def key(self) -> str:
        return results.config_key(self.kind, self.config, self.protocol)

    def lookup(self) -> results.Result | None:
        return results.lookup(self.kind, self.config, self.protocol)

    def execute(self) -> results.Result:
        module_name, function_name = self.runner.split(":")
        function = getattr(importlib.import_module(module_name), function_name)
        return results.cached(self.kind, self.config, lambda: function(self.config), self.protocol)


def execute_run(run: Run) -> results.Result:
    """Module-level entry point for executors (pickled by reference)."""
    return run.execute()


def cached_histories(runs: dict[Any, Run]) -> dict[Any, Any]:
    """Key -> history table of the runs already cached (never computes one): what another
    machine computed and committed, shown whatever its number."""
    from .train import history_frame

    found = {key: run.lookup() for key, run in runs.items()}
    return {key: history_frame(result) for key, result in found.items() if result is not None}


def by_kind(done: dict[Any, results.Result]) -> dict[str, list[results.Result]]:
    """A chapter's results (config -> result, in listing order) grouped by kind."""
    grouped: dict[str, list[results.Result]] = {}
    for result in done.values():
        grouped.setdefault(result.kind, []).append(result)
    return grouped


def network_name(model: str, width: int | None) -> str:
    """A WRN's name with its channel widths, "WRN-16-1 (channels 16/16/32/64)", so that a base
    width of 4 never reads as WRN-16-4; other models keep their name."""
    if not model.startswith("wrn"):
        return model
    depth, k = (int(v) for v in model.removeprefix("wrn").split("_"))
    base = width or 16
    return f"WRN-{depth}-{k} (channels {base}/{base * k}/{2 * base * k}/{4 * base * k})"


class DirtyResults(RuntimeError):
    """Results computed from uncommitted code: no commit reproduces them."""


def commit_finished(runs: list[Run], allow_dirty: bool = False) -> list[str]:
    """Copy the finished runs' entries from the local cache into results/committed/ (JSON only),
    so the book and CI read them without training; unfinished runs are left for later. Returns
    the copied paths, relative to the repository, for `git add`.

    Refuses, copying nothing, when an entry's provenance names a `-dirty` git commit (computed
    with uncommitted changes), unless `allow_dirty`.
    """
    import shutil

    from . import paths

    todo = []
    for run in dict.fromkeys(runs):
        found = run.lookup()
        target = paths.committed_cache_dir() / run.kind / f"{run.key}.json"
        if found is not None and not target.exists():
            todo.append((found, target))
    dirty = [f for f, _ in todo if _dirty(f)]
    if dirty and not allow_dirty:
        commits = sorted({str(f.provenance["git_commit"]) for f in dirty})
        raise DirtyResults(
            f"{len(dirty)} of {len(todo)} results to commit were computed with uncommitted changes "
            f"(git {', '.join(commits)}): commit the code and recompute them, or pass "
            "allow_dirty=True to commit them anyway"
        )
    copied = []
    for found, target in todo:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(found.path, target)
        inside = target.is_relative_to(paths.project_root())
        copied.append(str(target.relative_to(paths.project_root()) if inside else target))
    return copied


def _dirty(result: results.Result) -> bool:
    return str(result.provenance.get("git_commit") or "").endswith("-dirty")


def _history_length(payload: dict[str, Any]) -> int:
    return len(payload.get("history", []))


def wall_times(
    groups: dict[str, dict[Any, Any]],
    done: dict[Any, results.Result],
    epochs: Callable[[dict[str, Any]], int] = _history_length,
):
    """Each run's wall time, in a table: group (e.g. "main"), its key (e.g. method and seed),
    epochs trained, seconds (of all attempts, for a run killed and resumed) and attempts, then
    the total. `groups` maps a name to key -> config, `done` maps config -> result (as a
    chapter's `execute` returns); a run in two groups counts once. `epochs` reads the epochs a
    payload trained (default: its history's length)."""
    import pandas as pd

    rows, seen = [], set()
    for group, configs in groups.items():
        for key, config in configs.items():
            if config in seen:
                continue
            seen.add(config)
            result = done[config]
            rows.append(
                {
                    "runs": group,
                    "key": ", ".join(map(str, key if isinstance(key, tuple) else (key,))),
                    "epochs": epochs(result.payload),
                    "wall time (s)": round(result.provenance["wall_time_s"], 1),
                    "attempts": result.provenance.get("attempts", 1),
                    "device": result.provenance["device"],
                }
            )
    table = pd.DataFrame(rows)
    total = {"runs": "total", "key": "", "epochs": int(table["epochs"].sum()), "device": ""}
    total["attempts"] = int(table["attempts"].sum())
    total["wall time (s)"] = round(float(table["wall time (s)"].sum()), 1)
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)
