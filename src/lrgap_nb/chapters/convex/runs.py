"""The convex chapter's cached runs: both schedules on many datasets, and the matched-loss map."""

from __future__ import annotations

import dataclasses

import numpy as np

from lrgap_nb import stats
from lrgap_nb.runs import Run

from .maths import DESIGNS, stop_both
from .params import ConvexParams

PROTOCOL = 1  # version of the "convex_datasets" computation: bump when its numbers change
MAP_PROTOCOL = 1  # version of the "convex_map" computation
TIE = 1e-9  # RMSE differences this small are ties (same point up to rounding), not wins


@dataclasses.dataclass(frozen=True)
class DatasetsRun:
    """One cached run of both schedules on `repeats` datasets: every setting that changes it."""

    design: str  # "gaussian" (the report's experiment) or "two-point" (its analytic section)
    n: int
    repeats: int
    lr_large: float
    lr_small: float
    anneal_step: int
    epsilon: float
    stop: str  # "first crossing" or "matched"
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class MapRun:
    """The matched-loss map for one design and n: every initial LR × anneal step, same datasets."""

    design: str
    n: int
    repeats: int
    lrs: tuple[float, ...]
    anneal_steps: tuple[int, ...]
    lr_small: float
    epsilon: float
    seed: int = 0


def report_runs(cfg: ConvexParams) -> dict[str, DatasetsRun]:
    """The report's Gaussian setting under both stopping rules, and the analytic section's
    two-point sampling at the demo's learning rates (matched loss), on many datasets."""
    gauss = dict(
        design="gaussian", n=cfg.gauss_n, repeats=cfg.gauss_repeats, lr_large=cfg.gauss_lr_large,
        lr_small=cfg.gauss_lr_small, anneal_step=cfg.gauss_anneal_step, epsilon=cfg.gauss_epsilon,
    )  # fmt: skip
    return {
        "matched": DatasetsRun(**gauss, stop="matched"),
        "first crossing": DatasetsRun(**gauss, stop="first crossing"),
        "two-point": DatasetsRun(
            "two-point",
            cfg.n_samples,
            cfg.gauss_repeats,
            cfg.lr_large,
            cfg.lr_small,
            cfg.anneal_step,
            cfg.epsilon,
            "matched",
        ),  # fmt: skip
    }


def map_runs(cfg: ConvexParams) -> list[MapRun]:
    lrs = tuple(sorted(set(cfg.lr_large_sweep)))
    return [
        MapRun(
            design,
            n,
            cfg.map_repeats,
            lrs,
            tuple(cfg.map_anneal_steps),
            cfg.gauss_lr_small,
            cfg.gauss_epsilon,
        )  # fmt: skip
        for design in DESIGNS
        for n in cfg.map_ns
    ]


def datasets_payload(run: DatasetsRun) -> dict:
    """Runner of one DatasetsRun (about a second at 10,000 datasets): per-dataset numbers."""
    out = stop_both(**dataclasses.asdict(run))
    return {key: values.tolist() if values.dtype == bool else _floats(values)
            for key, values in out.items()}  # fmt: skip


def _floats(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else float(v) for v in values]


def cell_summary(out: dict[str, np.ndarray], epsilon: float) -> dict:
    """One map cell: paired RMSE difference (small − large then small) with its t-interval, the
    win rate with its Clopper–Pearson interval, ties, divergence and how the runs stopped."""
    small, large = out["rmse, small throughout"], out["rmse, large then small"]
    kept = np.isfinite(small) & np.isfinite(large)
    diff = (small - large)[kept]
    wins, losses = int(np.sum(diff > TIE)), int(np.sum(diff < -TIE))
    low, high = stats.difference_ci(small[kept], large[kept], paired=True)
    win_low, win_high = stats.proportion_ci(wins, len(diff))
    moved = kept & out["start above epsilon"]
    gaps = [np.abs(out[f"train, {arm}"][moved] / epsilon - 1) for arm in ("small throughout", "large then small")]  # fmt: skip
    return {
        "datasets": int(kept.sum()),
        "diverged": int((~kept).sum()),
        "mean difference": float(diff.mean()),
        "difference CI low": low,
        "difference CI high": high,
        "wins": wins,
        "losses": losses,
        "ties": len(diff) - wins - losses,
        "win rate": wins / len(diff),
        "win rate CI low": win_low,
        "win rate CI high": win_high,
        "large phase cut short": float(np.mean(~out["large phase ran its full length"][moved])),
        "order reversed": float(np.mean(out["order reversed"][kept])),
        **_by_order(diff, out["order reversed"][kept]),
        "largest train-loss miss": float(max(np.max(g, initial=0.0) for g in gaps)),
    }


def _by_order(diff: np.ndarray, reversed_: np.ndarray) -> dict:
    """Wins among the datasets whose initial LR reverses the fitting order, and among the rest:
    the analytic argument predicts wins only in the first group."""
    out = {}
    for name, group in (("reversed", reversed_), ("not reversed", ~reversed_)):
        out[f"datasets, order {name}"] = int(group.sum())
        out[f"wins, order {name}"] = int(np.sum(diff[group] > TIE))
    return out


def map_payload(run: MapRun) -> dict:
    """Runner of one MapRun (seconds at 10,000 datasets): a summary per LR × anneal step cell."""
    cells = []
    for lr in run.lrs:
        for anneal in run.anneal_steps:
            out = stop_both(
                run.design, run.n, run.repeats, lr, run.lr_small, anneal, run.epsilon, "matched",
                run.seed,
            )  # fmt: skip
            cells.append({"lr_large": lr, "anneal_step": anneal, **cell_summary(out, run.epsilon)})
    return {"cells": cells}


def _datasets(run: DatasetsRun) -> Run:
    return Run("convex_datasets", f"{__name__}:datasets_payload", run, PROTOCOL)


def _map(run: MapRun) -> Run:
    return Run("convex_map", f"{__name__}:map_payload", run, MAP_PROTOCOL)


def report_results(cfg: ConvexParams) -> dict:
    """The results of `report_runs`, by name (from the results cache when present)."""
    return {name: _datasets(run).execute() for name, run in report_runs(cfg).items()}


def map_results(cfg: ConvexParams) -> dict:
    """The results of `map_runs`, by run (from the results cache when present)."""
    return {run: _map(run).execute() for run in map_runs(cfg)}


def chapter_runs(cfg: ConvexParams) -> list:
    """Every cached run this chapter needs, as picklable units of work (see lrgap_nb.sweep)."""
    return [*map(_datasets, report_runs(cfg).values()), *map(_map, map_runs(cfg))]
