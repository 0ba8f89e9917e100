"""The convex chapter's parameters, its profiles and the survey report's numbers (section 4)."""

from __future__ import annotations

import dataclasses

import numpy as np

from lrgap_nb.params import ChapterParams, param, positive


@dataclasses.dataclass(frozen=True)
class ConvexParams(ChapterParams):
    lr_large: float = param(1.4, 'initial LR of "large then small"', paper=False, check=positive())
    lr_small: float = param(
        0.05, 'LR after the anneal and of "small throughout"', paper=False, check=positive()
    )
    anneal_step: int = param(
        4, "GD steps at lr_large before the anneal", paper=False, check=positive()
    )
    epsilon: float = param(
        0.01,
        "stop at the first step with train loss at most epsilon",
        paper=False,
        check=positive(),
    )
    n_samples: int = param(3, "samples in the two-point demo", check=positive())
    seed: int = param(
        2,
        "seed of the demo's samples (2 draws two at e1, one at e2)",
        paper=False,
        check={"min": 0},
    )
    gauss_n: int = param(10, "examples per Gaussian dataset", check=positive())
    gauss_repeats: int = param(10, "Gaussian datasets", check=positive())
    gauss_lr_large: float = param(0.1, "initial LR in the Gaussian experiment", check=positive())
    gauss_lr_small: float = param(0.01, "LR after the anneal (and throughout)", check=positive())
    gauss_anneal_step: int = param(
        10,
        "steps at gauss_lr_large before the anneal (not in the report)",
        paper=False,
        check=positive(),
    )
    gauss_epsilon: float = param(0.1, "early-stopping train loss", check=positive())
    lr_large_sweep: tuple[float, ...] = param(
        (0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4),
        "further initial LRs on the same datasets",
        paper=False,
        check=positive(),
    )
    map_anneal_steps: tuple[int, ...] = param(
        (2, 10, 40), "anneal steps of the matched-loss map", paper=False, check=positive()
    )
    map_ns: tuple[int, ...] = param(
        (1, 3, 10), "examples per dataset in the matched-loss map", paper=False, check=positive()
    )
    map_repeats: int = param(
        10000, "datasets per cell of the matched-loss map", paper=False, check=positive()
    )

    def check(self) -> None:
        """The Gaussian experiment holds every dataset at once: refuse sizes this machine lacks."""
        from lrgap_nb.limits import require_memory

        floats = self.gauss_repeats * (4 * self.gauss_n + 8)  # X, y, beta*, residual, iterates
        what = f"{self.gauss_repeats} Gaussian datasets of {self.gauss_n} examples"
        require_memory(8 * floats, "gauss_repeats", self.gauss_repeats, what)
        n = max(self.map_ns)
        what = f"{self.map_repeats} map datasets of {n} examples"
        require_memory(8 * self.map_repeats * (4 * n + 8), "map_repeats", self.map_repeats, what)

    profiles = {
        "smoke": {"gauss_repeats": 200, "map_repeats": 100},
        "cpu": {"gauss_repeats": 1000, "map_repeats": 1000},
        "overnight": {"gauss_repeats": 10000},
        "full": {"gauss_repeats": 10000},
    }


BETA_STAR = np.array([1.0, 1.0])  # ground truth of the two-point demo

PAPER_GAUSS_RMSE = {"small": 0.2394, "large_then_small": 0.2311}  # survey report, section 4.3
PAPER_GAUSS_WIN_RATE = 0.75  # survey report: "around 75%"
