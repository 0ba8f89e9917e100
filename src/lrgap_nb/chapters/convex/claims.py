"""The convex chapter's claims, one function each, judged by `lrgap_nb.claims` (no torch).

Datasets are the statistical units: a difference between the schedules is paired by dataset,
and its 95% t-interval over datasets is what the rule reads.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from lrgap_nb import claims as engine
from lrgap_nb import stats

from . import maths
from .params import PAPER_GAUSS_RMSE, PAPER_GAUSS_WIN_RATE, ConvexParams
from .runs import TIE

CHAPTER = "convex"
SOURCE = "survey report, section 4"
MIN_RMSE_GAP = 0.004  # minimum effect: half the survey report's gap (0.2394 − 0.2311)
MATCH_TOLERANCE = 1e-6  # matched stop: |final train loss / epsilon − 1| at most this
SAME_LOSS = 0.01  # "the same train loss": mean final train losses within 1% of epsilon
SMALL, LARGE = "small throughout", "large then small"


def analytic(
    epsilons=(1e-3, 0.1, 2.5), betas=((1.0, 1.0), (-2.0, 0.5), (3.0, -7.0))
) -> engine.Claim:
    """Two points of train loss epsilon have test losses 0.75·epsilon and 1.5·epsilon."""
    deviations, ratios = [], None
    for eps, beta, repeated in itertools.product(epsilons, betas, (0, 1)):
        table = maths.analytic_table(eps, np.array(beta), repeated)
        ratio = table["test / epsilon"].to_numpy()
        deviations.append(float(np.max(np.abs(ratio - [0.75, 1.5]))))
        ratios = ratio
    arm = "largest deviation from 0.75 / 1.5"
    return engine.judge(
        CHAPTER, "equal train loss ε, test loss 0.75ε vs 1.5ε (analytic, n = 3 split two and one)",
        source=SOURCE + ".2", paper="0.75 / 1.5", values={arm: deviations},
        seeds=range(len(deviations)), scale=f"exact, {len(deviations)} (ε, β*, split) cases",
        rule=engine.at_most(arm, 1e-9), ours_text=f"{ratios[0]:g} / {ratios[1]:g}",
    )  # fmt: skip


def demo(path_table: pd.DataFrame, cfg: ConvexParams) -> engine.Claim:
    """The two-point demo: one dataset with settings chosen to show the effect, so no test."""
    test = dict(zip(path_table["schedule"], path_table["test / epsilon"], strict=True))
    return engine.judge(
        CHAPTER, "two-point demo: large then small stops at the better point",
        source=SOURCE + ".1 (figure)", paper="",
        values={SMALL: [test[SMALL]], LARGE: [test[LARGE]]}, seeds=[cfg.seed],
        scale=f"one dataset, n = {cfg.n_samples}",
        rule=engine.difference(SMALL, LARGE, 0.25, " ε (test loss)"),
        exploratory=f"a demonstration: LR {cfg.lr_large:g} then {cfg.lr_small:g} and seed "
        f"{cfg.seed} were chosen to sit where the effect shows",
        ours_text=f"test loss {test[LARGE]:.2f}ε (large then small) vs {test[SMALL]:.2f}ε (small)",
    )  # fmt: skip


def _rmse(out: dict[str, np.ndarray]) -> tuple[dict[str, list[float]], np.ndarray]:
    kept = np.isfinite(out[f"rmse, {SMALL}"] + out[f"rmse, {LARGE}"])
    return {arm: out[f"rmse, {arm}"][kept].tolist() for arm in (SMALL, LARGE)}, kept


def _ours(out: dict[str, np.ndarray], kept: np.ndarray) -> str:
    rmse = {arm: np.mean(out[f"rmse, {arm}"][kept]) for arm in (SMALL, LARGE)}
    train = {arm: np.mean(out[f"train, {arm}"][kept]) for arm in (SMALL, LARGE)}
    return (
        f"RMSE {rmse[LARGE]:.4f} vs {rmse[SMALL]:.4f} (large then small vs small); final train "
        f"loss {train[LARGE]:.4f} vs {train[SMALL]:.4f}"
    )


def _divergence(kept: np.ndarray) -> engine.Premise:
    lost = int((~kept).sum())
    return engine.Premise.run_protocol(
        "no dataset diverged", [f"{lost} of {len(kept)} datasets diverged"] if lost else []
    )


def gaussian_first_crossing(out: dict[str, np.ndarray], cfg: ConvexParams) -> engine.Claim:
    """The report's Gaussian setting as first run here: each run stops at the first step with
    train loss at most epsilon. The claim's premise, "the same train loss", is measured."""
    values, kept = _rmse(out)
    train_gap = abs(np.mean(out[f"train, {SMALL}"][kept]) - np.mean(out[f"train, {LARGE}"][kept]))
    annealed = float(
        np.mean(out["large phase ran its full length"][kept & out["start above epsilon"]])
    )
    return engine.judge(
        CHAPTER,
        "Gaussian data, first-crossing stop: large then small ends with lower test RMSE",
        source=SOURCE + ".3", paper=f"{PAPER_GAUSS_RMSE['large_then_small']} vs {PAPER_GAUSS_RMSE['small']}",
        values=values, seeds=np.flatnonzero(kept), scale=_scale(kept, cfg),
        rule=engine.difference(SMALL, LARGE, MIN_RMSE_GAP, " RMSE"),
        premises=[
            _divergence(kept),
            engine.Premise.at_most("both stop at the same train loss (gap, share of ε)",
                                   train_gap / cfg.gauss_epsilon, SAME_LOSS),
            engine.Premise.at_least("large-LR runs anneal before they stop (share)", annealed, 1.0),
        ],
        ours_text=_ours(out, kept),
    )  # fmt: skip


def gaussian_matched(out: dict[str, np.ndarray], cfg: ConvexParams) -> engine.Claim:
    """The survey's claim at matched loss: both stop at train loss exactly epsilon."""
    values, kept = _rmse(out)
    return engine.judge(
        CHAPTER, "Gaussian data, matched train loss: large then small ends with lower test RMSE",
        source=SOURCE + ".3", paper=f"{PAPER_GAUSS_RMSE['large_then_small']} vs {PAPER_GAUSS_RMSE['small']}",
        values=values, seeds=np.flatnonzero(kept), scale=_scale(kept, cfg),
        rule=engine.difference(SMALL, LARGE, MIN_RMSE_GAP, " RMSE"),
        premises=[_divergence(kept), _hits_epsilon(out, kept, cfg.gauss_epsilon)],
        ours_text=_ours(out, kept),
    )  # fmt: skip


def gaussian_win_rate(out: dict[str, np.ndarray], cfg: ConvexParams) -> engine.Claim:
    """The report's "around 75%", at matched loss: large then small wins in most datasets."""
    _, kept = _rmse(out)
    diff = out[f"rmse, {SMALL}"][kept] - out[f"rmse, {LARGE}"][kept]
    wins = (diff > TIE).astype(float)
    low, high = stats.proportion_ci(int(wins.sum()), len(wins))
    arm = "win (large then small lower RMSE)"
    return engine.judge(
        CHAPTER, "Gaussian data, matched train loss: large then small wins in most datasets",
        source=SOURCE + ".3", paper=f"~{PAPER_GAUSS_WIN_RATE:g}", values={arm: wins},
        seeds=np.flatnonzero(kept), scale=_scale(kept, cfg), rule=engine.at_least(arm, 0.5),
        premises=[_divergence(kept), _hits_epsilon(out, kept, cfg.gauss_epsilon)],
        ours_text=f"win rate {wins.mean():.4f} (Clopper–Pearson 95% [{low:.4f}, {high:.4f}]), "
        f"ties {int(np.sum(np.abs(diff) <= TIE))}",
    )  # fmt: skip


def two_point_matched(out: dict[str, np.ndarray], cfg: ConvexParams) -> engine.Claim:
    """Section 4.2's mechanism on its own sampling (x uniform on {e1, e2}, n = 3), at the demo's
    learning rates and matched loss, over many datasets rather than the demo's one."""
    values, kept = _rmse(out)
    eps = cfg.epsilon
    gap = np.sqrt(1.5 * eps) - np.sqrt(0.75 * eps)  # RMSE between the two analytic points
    return engine.judge(
        CHAPTER,
        f"two-point sampling (n = {cfg.n_samples}), matched train loss: large then small ends "
        "with lower test RMSE",
        source=SOURCE + ".2 (argument, no number)", paper="", values=values,
        seeds=np.flatnonzero(kept), scale=_scale(kept, cfg),
        rule=engine.difference(SMALL, LARGE, round(float(gap) / 4, 4), " RMSE"),
        premises=[_divergence(kept), _hits_epsilon(out, kept, eps)],
        ours_text=_ours(out, kept),
    )  # fmt: skip


def _hits_epsilon(out: dict[str, np.ndarray], kept: np.ndarray, epsilon: float) -> engine.Premise:
    moved = kept & out["start above epsilon"]
    miss = max(float(np.max(np.abs(out[f"train, {arm}"][moved] / epsilon - 1), initial=0.0))
               for arm in (SMALL, LARGE))  # fmt: skip
    return engine.Premise.at_most("both stop at train loss ε (largest miss, share of ε)", miss,
                                  MATCH_TOLERANCE)  # fmt: skip


def _scale(kept: np.ndarray, cfg: ConvexParams) -> str:
    return f"{int(kept.sum())} datasets ({cfg.profile})"


def claims(
    path_table: pd.DataFrame, runs: dict[str, dict[str, np.ndarray]], cfg: ConvexParams
) -> list[engine.Claim]:
    """Every claim of the chapter, in the order the chapter makes them."""
    return [
        analytic(),
        demo(path_table, cfg),
        gaussian_matched(runs["matched"], cfg),
        gaussian_win_rate(runs["matched"], cfg),
        gaussian_first_crossing(runs["first crossing"], cfg),
        two_point_matched(runs["two-point"], cfg),
    ]
