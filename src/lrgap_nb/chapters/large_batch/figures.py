"""Figures of the large-batch chapter (Keskar et al. 2017), in the book's style (lrgap_nb.plotting);
they draw and return the axes and never train."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrgap_nb import plotting

from .sketch import FLAT_WELL, SHARP_WELL, SKETCH_SHIFT, sketch_loss

SET_STYLES = {"train": "--", "test": "-"}
LOSS, ACCURACY = "tab:blue", "tab:red"  # the two axes of Keskar's Figure 3
BUDGET_STYLE = {"ls": "--", "lw": 2.5}  # LB for SB's epochs follows LB's path until it stops


def flat_sharp_sketch(ax=None):
    """Training loss with a flat and a sharp minimum, and the same curve shifted as the test loss
    (Keskar et al. 2017, Fig. 1; survey report Fig. 6), drawn from `sketch.sketch_loss`."""
    if ax is None:
        (ax,) = plotting.axes(1)
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


def accuracy_curves(history: pd.DataFrame):
    """Train (left) and test (right) accuracy against epochs for SB, LB and LB at SB's epochs,
    one row per network (Keskar et al. 2017, Fig. 2; survey report Fig. 8). The line is the mean
    over the seeds still training at that epoch, the band plotting.BAND."""
    networks = list(dict.fromkeys(history["network"]))
    fig, grid = plotting.rows(len(networks))
    for row, network in zip(grid, networks, strict=True):
        frame = history[history["network"] == network]
        for ax, split in zip(row, ("train", "test"), strict=True):
            for batch in dict.fromkeys(frame["batch"]):
                at = frame[frame["batch"] == batch]
                values = at.pivot_table(index="epoch", columns="seed", values=split)
                style = BUDGET_STYLE if batch == "LB (SB's epochs)" else {"marker": "o", "ms": 2}
                plotting.band(ax, values.index, values, batch, bounds=(0.0, 100.0), **style)
            ax.set(
                title=f"{network.upper()}: {split} accuracy",
                xlabel="epoch (0: the shared initial weights)",
                ylabel="accuracy (%)",
            )
        row[0].legend(loc="lower right")
    fig.tight_layout()
    return grid


def interpolation(frame: pd.DataFrame):
    """Loss (log scale) and accuracy along w(a) = a w_LB + (1 - a) w_SB, train and test, one row
    per network and one column per BN treatment (Keskar et al. 2017, Fig. 3). a = 0 is SB."""
    networks = list(dict.fromkeys(frame["network"]))
    fig, grid = plotting.rows(len(networks))
    for row, network in zip(grid, networks, strict=True):
        at_network = frame[frame["network"] == network]
        for ax, bn in zip(row, ("batch", "recomputed"), strict=True):
            twin = ax.twinx()
            for split, ls in SET_STYLES.items():
                at = at_network[(at_network["bn"] == bn) & (at_network["set"] == split)]
                at = at.sort_values("alpha")
                ax.plot(at["alpha"], at["loss"], color=LOSS, ls=ls, label=f"{split} loss")
                twin.plot(
                    at["alpha"],
                    100 * at["accuracy"],
                    color=ACCURACY,
                    ls=ls,
                    label=f"{split} accuracy",
                )
            for a in (0.0, 1.0):
                ax.axvline(a, color="k", lw=0.6, ls=":")
            ax.set(
                yscale="log",
                xlabel="alpha (0: SB, 1: LB)",
                title=f"{network.upper()}: BN statistics {bn}",
            )
            ax.set_ylabel("cross-entropy", color=LOSS)
            twin.set_ylabel("accuracy (%)", color=ACCURACY)
            twin.set_ylim(0, 100)
            lines = ax.get_lines()[:2] + twin.get_lines()[:2]
            ax.legend(lines, [line.get_label() for line in lines], loc="center left")
    fig.tight_layout()
    return grid
