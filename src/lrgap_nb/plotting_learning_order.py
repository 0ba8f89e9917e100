"""Figures of the learning-order chapter. Functions take `ax=None` (or `axes=None`), draw and return
the axes; they never train (Li, Wei & Ma 2019, Sec. 4-5)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

COLORS = {"L-S": "tab:blue", "S": "tab:red", "S + noise": "tab:green"}
GROUPS = ("P only", "Q only", "both")


def _anneal_marks(ax, history: pd.DataFrame, algorithm: str) -> None:
    steps = history.loc[history["algorithm"] == algorithm].groupby("seed")["anneal_step"].first()
    steps = steps[steps > 0]
    if len(steps):
        ax.axvline(steps.median(), color=COLORS[algorithm], ls=":", lw=1)


def accuracy_curves(history: pd.DataFrame, axes=None):
    """Test accuracy on the P-only, Q-only and both-component sets over training, mean over seeds,
    with each annealing algorithm's median anneal step dotted."""
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=True)
    for ax, group in zip(axes, GROUPS, strict=True):
        for algorithm, frame in history.groupby("algorithm", sort=False):
            curve = frame.groupby("step")[group].agg(["mean", "min", "max"])
            ax.plot(curve.index, curve["mean"], color=COLORS[algorithm], label=algorithm)
            ax.fill_between(
                curve.index, curve["min"], curve["max"], color=COLORS[algorithm], alpha=0.15
            )
            _anneal_marks(ax, history, algorithm)
        ax.set_xscale("symlog", linthresh=100)
        ax.set(
            title=f"test accuracy, {group}", xlabel="step (linear to 100, then log)", xlim=(0, None)
        )
        ax.axhline(0.5, color="k", lw=0.6)
    axes[0].set_ylabel("accuracy (mean, band: min–max over seeds)")
    axes[0].legend(loc="lower right")
    return axes


def curvature_curves(history: pd.DataFrame, ax=None):
    """|g(z+ζ) + g(z−ζ) − 2g(z)| over training per algorithm (Lemmas 4.1–4.2), mean over seeds."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.6))
    for algorithm, frame in history.groupby("algorithm", sort=False):
        curve = frame.groupby("step")["q_curvature"].mean()
        ax.plot(curve.index, curve.to_numpy(), color=COLORS[algorithm], label=algorithm)
        _anneal_marks(ax, history, algorithm)
    ax.set_xscale("symlog", linthresh=100)
    ax.set(
        xlabel="step (linear to 100, then log)", ylabel="Q curvature", yscale="log", xlim=(0, None)
    )
    ax.legend()
    return ax


def sweep_gap(sweep: pd.DataFrame, ax=None):
    """Final test error of L-S and S against N, mean with 95% intervals over seeds."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.6))
    for algorithm in ("L-S", "S"):
        mean = sweep[f"{algorithm} error"]
        err = [mean - sweep[f"{algorithm} CI low"], sweep[f"{algorithm} CI high"] - mean]
        ax.errorbar(
            sweep["N"],
            mean,
            yerr=err,
            marker="o",
            capsize=3,
            color=COLORS[algorithm],
            label=algorithm,
        )
    ax.set(xscale="log", xlabel="training examples N", ylabel="final test error (mixture)")
    ax.set_xticks(sweep["N"], [str(n) for n in sweep["N"]])
    ax.legend()
    return ax
