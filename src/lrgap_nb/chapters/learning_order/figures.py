"""The learning-order chapter's figures (Li, Wei & Ma 2019, Sec. 4-5); bands are the book's
mean ± one standard deviation across seeds (lrgap_nb.plotting.BAND)."""

from __future__ import annotations

import pandas as pd

from lrgap_nb import plotting

from .tables import GROUPS, per_seed

LINE_STYLES = {"S + noise ×0.5": ":", "S + noise ×2": "--"}


def _anneal(ax, history: pd.DataFrame) -> None:
    steps = history.loc[history["algorithm"] == "L-S"].groupby("seed")["anneal_step"].first()
    steps = steps[steps > 0]
    if len(steps):
        plotting.mark_anneal(ax, float(steps.median()), "L-S anneal (median)")


def _curves(ax, history: pd.DataFrame, column: str, algorithms: list[str]) -> None:
    for algorithm in algorithms:
        values = per_seed(history, algorithm, column)
        # every S + noise level takes S + noise's colour; the line style tells them apart
        role = "S + noise" if algorithm.startswith("S + noise") else algorithm
        style = LINE_STYLES.get(algorithm, "-")
        plotting.band(ax, values.index, values, role, linestyle=style)
        ax.lines[-1].set_label(algorithm)
    _anneal(ax, history)
    ax.set_xscale("symlog", linthresh=100)
    ax.set(xlabel="step (linear to 100, then log)", xlim=(0, None))


def accuracy_curves(history: pd.DataFrame, algorithms: list[str], axes=None):
    """Test accuracy on the P-only, Q-only and both-component sets over training."""
    if axes is None:
        axes = plotting.axes(3, "wide", sharey=True)
    for ax, group in zip(axes, GROUPS, strict=True):
        _curves(ax, history, group, algorithms)
        ax.axhline(0.5, color="k", lw=0.6)
        ax.set(title=f"test accuracy, {group}")
    axes[0].set_ylabel("accuracy")
    axes[0].legend(loc="lower right")
    return axes


def curvature_curves(history: pd.DataFrame, algorithms: list[str], ax=None):
    """|g(z+ζ) + g(z−ζ) − 2g(z)| over training per algorithm (Lemma 4.2)."""
    if ax is None:
        (ax,) = plotting.axes(1)
    _curves(ax, history, "q_curvature", algorithms)
    ax.set(ylabel="Q-curvature", yscale="log")
    ax.legend()
    return ax


def fit_curves(history: pd.DataFrame, algorithms: list[str], axes=None):
    """Training accuracy on the P-only and Q-only training examples: which group is fit first."""
    if axes is None:
        axes = plotting.axes(2, "wide", sharey=True)
    for ax, group in zip(axes, ("train P only", "train Q only"), strict=True):
        _curves(ax, history, group, algorithms)
        ax.set(title=f"training accuracy, {group.removeprefix('train ')} examples")
    axes[0].set_ylabel("accuracy")
    axes[0].legend(loc="lower right")
    return axes


def sweep_gap(sweep: pd.DataFrame, ax=None):
    """Final test error of L-S and S against N, mean with 95% intervals over seeds."""
    if ax is None:
        (ax,) = plotting.axes(1)
    for algorithm in ("L-S", "S"):
        mean = sweep[f"{algorithm} error"]
        err = [mean - sweep[f"{algorithm} CI low"], sweep[f"{algorithm} CI high"] - mean]
        ax.errorbar(
            sweep["N"],
            mean,
            yerr=err,
            marker="o",
            capsize=3,
            color=plotting.colour(algorithm),
            label=algorithm,
        )
    ax.set(xscale="log", xlabel="training examples N", ylabel="final test error (mixture)")
    ax.set_xticks(sweep["N"], [str(n) for n in sweep["N"]])
    ax.legend()
    return ax


def regime_map(frame: pd.DataFrame):
    """The premise-satisfaction map: candidates (rows) × premises, the fraction of seeds held."""
    columns = ["(a)", "(b)", "(c)", "protocol", "all"]
    fig, ax = plotting.plt.subplots(figsize=(5, 0.35 * max(len(frame), 1) + 1.2))
    values = frame[columns].to_numpy(dtype=float) if len(frame) else [[float("nan")] * 5]
    image = ax.imshow(values, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(columns)), columns)
    labels = [
        f"d={r['d']:g} N={r['N']:g} r={r['r']:g} η₁={r['η₁']:g} τ={r['τ_ξ']:.2g}"
        for _, r in frame.iterrows()
    ]
    ax.set_yticks(range(len(labels)), labels)
    fig.colorbar(image, ax=ax, label="fraction of seeds")
    return ax
