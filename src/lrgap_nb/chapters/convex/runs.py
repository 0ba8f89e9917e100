"""The convex chapter's cached runs: the Gaussian experiment, one run per initial LR."""

from __future__ import annotations

import dataclasses

from lrgap_nb.runs import Run

from .maths import gaussian_experiment
from .params import ConvexParams

PROTOCOL = 1  # version of the "convex_gaussian" computation: bump when its numbers change


@dataclasses.dataclass(frozen=True)
class GaussianRun:
    """One cached run of the Gaussian experiment: every setting that changes its numbers."""

    n: int
    repeats: int
    lr_large: float
    lr_small: float
    anneal_step: int
    epsilon: float
    seed: int = 0


def gaussian_runs(cfg: ConvexParams) -> list[GaussianRun]:
    """The survey report's setting first, then the same data with larger initial learning rates."""
    lrs = dict.fromkeys((cfg.gauss_lr_large, *cfg.lr_large_sweep))
    return [
        GaussianRun(
            cfg.gauss_n,
            cfg.gauss_repeats,
            lr,
            cfg.gauss_lr_small,
            cfg.gauss_anneal_step,
            cfg.gauss_epsilon,
        )
        for lr in lrs
    ]


def gaussian_payload(run: GaussianRun) -> dict:
    """Runner of one GaussianRun (well under a second): per-dataset RMSEs of both schedules."""
    return {"rmse": gaussian_experiment(**dataclasses.asdict(run)).to_dict("list")}


def chapter_runs(cfg: ConvexParams) -> list:
    """Every cached run this chapter needs, as picklable units of work (see lrgap_nb.sweep)."""
    return [
        Run("convex_gaussian", f"{__name__}:gaussian_payload", run, PROTOCOL)
        for run in gaussian_runs(cfg)
    ]
