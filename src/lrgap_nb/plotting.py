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
SIZES = {"single": (6.5, 3.6), "wide": (11.0, 3.8), "square": (5.0, 5.0)}
BAND = "mean ± one standard deviation across seeds"
ANNEAL_STYLE = dict(color="grey", linestyle=":", linewidth=1.0)


def colour(name: str) -> str | None:
    return PALETTE.get(name)


def axes(ncols: int = 1, size: str = "single", **subplots) -> np.ndarray:
    """A row of `ncols` axes at one of the book's sizes (width scales with the columns)."""
    width, height = SIZES[size]
    _, grid = plt.subplots(
        1, ncols, figsize=(width * max(1, ncols / 2), height), squeeze=False, **subplots
    )
    return grid[0]


def rows(nrows: int, ncols: int = 2, size: str = "wide"):
    """A figure of `nrows` rows (one per network, say), each of the book's `size`; (fig, grid)."""
    width, height = SIZES[size]
    return plt.subplots(nrows, ncols, figsize=(width, height * nrows), squeeze=False)


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
    grid[0].legend(fontsize="small")
    return grid
