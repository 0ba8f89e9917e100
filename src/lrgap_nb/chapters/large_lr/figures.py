"""The large-LR chapter's figures: the LR pilot, the gate calibration, accuracy against epochs
(survey Figures 1 and 3) and accuracy against training-set size. Bands are plotting.BAND (mean
± one std across seeds)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lrgap_nb import plotting

from .params import LARGE, SMALL


def pilot(histories: Mapping[float, pd.DataFrame], chosen: float | None):
    """Train loss and train accuracy against epochs for each pilot LR (one calibration seed)."""
    axes = plotting.axes(2, "wide")
    shades = plt.cm.viridis(np.linspace(0, 0.9, len(histories)))
    for shade, (lr, h) in zip(shades, sorted(histories.items()), strict=True):
        style = dict(color=shade, linewidth=2.5 if lr == chosen else 1.2)
        label = f"LR {lr:g}" + (" (chosen large LR)" if lr == chosen else "")
        axes[0].plot(h["epoch"], h["train_loss"], label=label, **style)
        axes[1].plot(h["epoch"], 100 * h["train_acc"], label=label, **style)
    axes[0].set(xlabel="epoch", ylabel="train loss (running mean)")
    axes[1].set(xlabel="epoch", ylabel="train accuracy (%, running)")
    plotting.legend_below(axes)
    return axes


def gate_calibration(history: pd.DataFrame | None, gate: float, anneal_epoch: int):
    """The small LR's gate calibration on the calibration seed: running train and validation
    accuracy against epochs, the gate and the anneal it sets; a note where the profile has none."""
    ax = plotting.axes(1)[0]
    if history is None:
        ax.text(0.5, 0.5, "no gate calibration at this profile:\nthe schedule is the profile's",
                ha="center", va="center", transform=ax.transAxes)  # fmt: skip
        ax.set_axis_off()
        return ax
    colour = plotting.colour(SMALL)
    ax.plot(history["epoch"], 100 * history["train_acc"], color=colour, label="train (running)")
    ax.plot(history["epoch"], 100 * history["test_acc"], color=colour, linestyle=":",
            label="validation")  # fmt: skip
    plotting.mark_gate(ax, gate)
    plotting.mark_anneal(ax, anneal_epoch + 0.5, "anneal of the main runs")
    ax.set(xlabel="epoch", ylabel="accuracy (%)")
    ax.legend()
    return ax


def accuracy_curves(histories: Mapping[tuple, pd.DataFrame], anneal_epoch: int, gate: float):
    """Train (left) and validation (right) accuracy against epochs, anneal and gate marked."""
    columns = {"train_acc": "train accuracy (%, running)", "test_acc": "validation accuracy (%)"}
    return plotting.history_panels(histories, columns, anneal_epoch + 0.5, ("train_acc", gate))


def size_curve(hist: Mapping[tuple[str, float, int], pd.DataFrame], images: Mapping[float, int]):
    """Final validation accuracy against training images, large vs small LR, mean ± std."""
    ax = plotting.axes(1)[0]
    for method in (LARGE, SMALL):
        fractions = sorted({k[1] for k in hist if k[0] == method})
        accs = [
            [100 * float(h.iloc[-1]["test_acc"]) for k, h in hist.items() if k[:2] == (method, f)]
            for f in fractions
        ]
        ax.errorbar(
            [images[f] for f in fractions],
            [np.mean(a) for a in accs],
            yerr=[np.std(a, ddof=1) if len(a) > 1 else 0.0 for a in accs],
            marker="o",
            capsize=3,
            color=plotting.colour(method),
            label=method,
        )
    sizes = sorted({images[k[1]] for k in hist})
    ax.set(xscale="log", xlabel="training images", ylabel="final validation accuracy (%)")
    ax.set_xticks(sizes, [f"{n:,}" for n in sizes], minor=False)
    ax.set_xticks([], minor=True)
    ax.legend()
    return ax
