"""The book's figure style, set once: palette, sizes and what a shaded band means.

Chapters draw their figures in their own `figures.py` with these helpers; no notebook builds a
layout. Every band in the book is the mean ± one standard deviation across seeds (`BAND`), and
every caption says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

# One colour per method, shared by every chapter (the same role gets the same colour).
PALETTE = {
    "large LR + anneal": "tab:blue",
    "large then small": "tab:blue",
    "L-S": "tab:blue",
    "SB": "tab:blue",
    "small LR": "tab:red",
    "small throughout": "tab:red",
    "S": "tab:red",
    "LB": "tab:red",
    "small LR + noise": "tab:green",
    "small LR + noise (patch level)": "tab:olive",
    "S + noise": "tab:green",
    "LB (SB's epochs)": "tab:orange",
}
# The book's article column is about 7 inches at the 100 dpi of a notebook's figures: a figure
# no wider is shown at its own size, so a font of MIN_FONT_PT points reads as that on screen.
PAGE_WIDTH_IN = 7.0
MIN_FONT_PT = 9.0
SIZES = {"single": (6.5, 3.6), "wide": (PAGE_WIDTH_IN, 3.4), "square": (5.0, 5.0)}
STYLE = {
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.framealpha": 0.8,
}
plt.rcParams.update(STYLE)
BAND = "mean ± one standard deviation across seeds"
ANNEAL_STYLE = dict(color="grey", linestyle=":", linewidth=1.0)


def colour(name: str) -> str | None:
    return PALETTE.get(name)


def axes(ncols: int = 1, size: str = "single", **subplots) -> np.ndarray:
    """A row of `ncols` axes at one of the book's sizes, never wider than the page (more than
    two panels wrap into rows of two)."""
    width, height = SIZES[size]
    nrows = int(np.ceil(ncols / 2)) if ncols > 2 else 1
    _, grid = plt.subplots(
        nrows, min(ncols, 2) if ncols > 2 else ncols,
        figsize=(min(width * max(1, ncols / 2), PAGE_WIDTH_IN), height * nrows),
        squeeze=False, **subplots,
    )  # fmt: skip
    flat = grid.ravel()
    for extra in flat[ncols:]:
        extra.set_visible(False)
    return flat[:ncols]


def legibility(fig) -> dict[str, float]:
    """The figure's width and its smallest visible text, as drawn and as shown in the book's
    column (a figure wider than the column is shrunk to fit it, and its text with it)."""
    fig.canvas.draw()
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(lambda o: hasattr(o, "get_fontsize") and hasattr(o, "get_text"))
        if t.get_visible() and t.get_text().strip()
    ]
    box = fig.get_tightbbox(fig.canvas.get_renderer())
    width = float(box.width)
    smallest = float(min(sizes)) if sizes else float("nan")
    return {
        "width (in)": round(width, 2),
        "smallest text (pt)": smallest,
        "smallest text on the page (pt)": round(smallest * min(1.0, PAGE_WIDTH_IN / width), 2),
    }


def rows(nrows: int, ncols: int = 2, size: str = "wide"):
    """A figure of `nrows` rows (one per network, say), each of the book's `size`; (fig, grid)."""
    width, height = SIZES[size]
    return plt.subplots(
        nrows, ncols, figsize=(min(width, PAGE_WIDTH_IN), height * nrows), squeeze=False
    )


def band(
    ax,
    x: Sequence[float],
    values: pd.DataFrame,
    name: str,
    bounds: tuple[float, float] | None = None,
    **line,
) -> None:
    """Mean line of `values` (one column per seed) with the book's band, coloured for `name`;
    `bounds` clips the band to the quantity's range (an accuracy band never leaves 0-100%)."""
    values = pd.DataFrame(values)
    mean = values.mean(axis=1).to_numpy()
    std = values.std(axis=1, ddof=1).fillna(0.0).to_numpy()
    low, high = mean - std, mean + std
    if bounds is not None:
        low, high = np.clip(low, *bounds), np.clip(high, *bounds)
    ax.plot(x, mean, color=colour(name), label=name, **line)
    ax.fill_between(x, low, high, color=colour(name), alpha=0.15, linewidth=0)


def mark_anneal(ax, at: float, label: str = "anneal") -> None:
    ax.axvline(at, label=label, **ANNEAL_STYLE)


def mark_gate(ax, gate: float) -> None:
    """The train-accuracy gate (a fraction) as a dashed line on a percent axis."""
    ax.axhline(100 * gate, color="black", linewidth=0.8, linestyle="--", label="gate")


def history_panels(
    histories: dict,
    columns: dict[str, str],
    anneal_at: float | None = None,
    gate: tuple[str, float] | None = None,
) -> np.ndarray:
    """One panel per history column (percent of a fraction), each method with the book's band.

    `histories` maps (method, ..., seed) to per-epoch tables; `anneal_at` marks the anneal and
    `gate` = (column, fraction) draws a dashed threshold on that column's panel.
    """
    grid = axes(len(columns), "wide", sharex=True)
    methods = list(dict.fromkeys(key[0] for key in histories))
    for ax, (column, label) in zip(grid, columns.items(), strict=True):
        for method in methods:
            seeds = {
                k[-1]: h.set_index("epoch")[column] for k, h in histories.items() if k[0] == method
            }
            values = 100 * pd.DataFrame(seeds)
            band(ax, values.index, values, method, bounds=(0.0, 100.0))
        if anneal_at is not None:
            mark_anneal(ax, anneal_at)
        if gate is not None and gate[0] == column:
            mark_gate(ax, gate[1])
        ax.set(xlabel="epoch", ylabel=label)
    legend_below(grid)
    return grid


def legend_below(axes) -> None:
    """One legend for a row of panels, under them, off the data (from the first panel's lines)."""
    first = axes.flat[0] if hasattr(axes, "flat") else axes[0]
    handles, labels = first.get_legend_handles_labels()
    figure = first.figure
    figure.tight_layout()
    figure.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                  ncol=min(3, len(labels)), frameon=False)  # fmt: skip
