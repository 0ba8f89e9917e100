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


def band(ax, x: Sequence[float], values: pd.DataFrame, name: str, **line) -> None:
    """Mean line of `values` (one column per seed) with the book's band, coloured for `name`."""
    values = pd.DataFrame(values)
    mean = values.mean(axis=1).to_numpy()
    std = values.std(axis=1, ddof=1).fillna(0.0).to_numpy()
    ax.plot(x, mean, color=colour(name), label=name, **line)
    ax.fill_between(x, mean - std, mean + std, color=colour(name), alpha=0.15, linewidth=0)


def mark_anneal(ax, at: float, label: str = "anneal") -> None:
    ax.axvline(at, label=label, **ANNEAL_STYLE)
