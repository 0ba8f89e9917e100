"""Figures of the large-batch chapter (Keskar et al. 2017). Functions take `ax=None` (or
`axes=None`), draw and return the axes; they never train."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

COLORS = {"SB": "tab:blue", "LB": "tab:red"}
SET_STYLES = {"train": "--", "test": "-"}


def flat_sharp_sketch(ax=None):
    """Training loss with a flat and a sharp minimum, and the same curve shifted as the test loss
    (Keskar et al. 2017, Fig. 1; seed report Fig. 6), drawn from `large_batch.sketch_loss`."""
    from .large_batch import FLAT_WELL, SHARP_WELL, SKETCH_SHIFT, sketch_loss

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    w = np.linspace(-4.0, 2.6, 1200)
    ax.plot(w, sketch_loss(w), color="k", label="training function")
    ax.plot(w, sketch_loss(w, SKETCH_SHIFT), color="tab:gray", ls="--", label="testing function")
    for (centre, _, _), name in ((FLAT_WELL, "flat minimum"), (SHARP_WELL, "sharp minimum")):
        train_value = float(sketch_loss(centre))
        test_value = float(sketch_loss(centre, SKETCH_SHIFT))
        ax.plot([centre, centre], [train_value, test_value], color="tab:red", lw=2)
        ax.annotate(
            f"{name}\ntest - train = {test_value - train_value:.3f}",
            (centre, test_value),
            xytext=(60, 40) if centre < 0 else (-170, 40),
            textcoords="offset points",
            ha="left",
            fontsize=9,
            arrowprops=dict(arrowstyle="-", color="tab:gray", lw=0.6),
            bbox=dict(fc="white", ec="none", alpha=0.9),
        )
    ax.set(xlabel="parameter w", ylabel="f(w)", ylim=(-0.05, 1.25), yticks=[])
    ax.legend(loc="upper left", fontsize=9)
    return ax


def accuracy_curves(history: pd.DataFrame, axes=None):
    """Train and test accuracy against epochs, SB and LB, mean and min-max band over seeds
    (Keskar et al. 2017, Fig. 2; seed report Fig. 8). One panel per network."""
    networks = list(dict.fromkeys(history["network"]))
    if axes is None:
        _, axes = plt.subplots(1, len(networks), figsize=(5.5 * len(networks), 3.8), squeeze=False)
        axes = axes[0]
    for ax, network in zip(axes, networks, strict=True):
        frame = history[history["network"] == network]
        for (batch, split), style in (
            ((b, s), (COLORS[b], SET_STYLES[s])) for b in COLORS for s in SET_STYLES
        ):
            curve = (
                frame[frame["batch"] == batch].groupby("epoch")[split].agg(["mean", "min", "max"])
            )
            ax.plot(
                curve.index,
                curve["mean"],
                color=style[0],
                ls=style[1],
                marker="o",
                ms=3,
                label=f"{batch} {split}",
            )
            ax.fill_between(curve.index, curve["min"], curve["max"], color=style[0], alpha=0.12)
        ax.set(title=network.upper(), xlabel="epoch (0: the shared initial weights)")
    axes[0].set_ylabel("accuracy (%)")
    axes[0].legend(fontsize=8, loc="lower right")
    return axes


def interpolation(frame: pd.DataFrame, network: str, axes=None):
    """Loss (log scale) and accuracy along w(a) = a w_LB + (1 - a) w_SB, train and test, one column
    per BN treatment (Keskar et al. 2017, Fig. 3). a = 0 is SB, a = 1 is LB."""
    frame = frame[frame["network"] == network]
    modes = list(dict.fromkeys(frame["bn"]))
    if axes is None:
        _, axes = plt.subplots(1, len(modes), figsize=(6 * len(modes), 3.8), squeeze=False)
        axes = axes[0]
    for ax, bn in zip(axes, modes, strict=True):
        twin = ax.twinx()
        for split, ls in SET_STYLES.items():
            at = frame[(frame["bn"] == bn) & (frame["set"] == split)].sort_values("alpha")
            ax.plot(at["alpha"], at["loss"], color="tab:blue", ls=ls, label=f"{split} loss")
            twin.plot(
                at["alpha"], 100 * at["accuracy"], color="tab:red", ls=ls, label=f"{split} accuracy"
            )
        for a in (0.0, 1.0):
            ax.axvline(a, color="k", lw=0.6, ls=":")
        ax.set(yscale="log", xlabel="alpha (0: SB, 1: LB)", title=f"BN statistics: {bn}")
        ax.set_ylabel("cross-entropy", color="tab:blue")
        twin.set_ylabel("accuracy (%)", color="tab:red")
        twin.set_ylim(0, 100)
        lines = ax.get_lines()[:2] + twin.get_lines()[:2]
        ax.legend(lines, [line.get_label() for line in lines], fontsize=8, loc="upper center")
    return axes
