"""Figures of the large-LR and patch chapters; every function takes `ax=None` and returns it."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

# The seed report's colours: large LR blue, small LR red; green for the noise mitigation.
COLOURS = {"large LR + anneal": "tab:blue", "small LR": "tab:red", "small LR + noise": "tab:green"}


def _axes(ax: plt.Axes | None, size: tuple[float, float] = (5.0, 3.5)) -> plt.Axes:
    return ax if ax is not None else plt.subplots(figsize=size)[1]


def accuracy_curves(
    histories: Mapping[tuple, pd.DataFrame],
    column: str,
    anneal_epoch: int | None,
    ax: plt.Axes | None = None,
    dashed: str | None = None,
    title: str = "",
) -> plt.Axes:
    """Accuracy (%) against epochs per method: mean over seeds, band = ±1 std (seed Figures 1, 5).

    `column` is drawn solid and `dashed` (e.g. running train accuracy) dashed; the grey dotted
    line marks the anneal, between epoch `anneal_epoch` and the next.
    """
    ax = _axes(ax)
    methods = dict.fromkeys(key[0] for key in histories)
    for method in methods:
        runs = [h for key, h in histories.items() if key[0] == method]
        epochs = runs[0]["epoch"].to_numpy()
        for col, style in ((column, "-"), (dashed, "--")):
            if col is None:
                continue
            values = 100 * np.stack([h[col].to_numpy() for h in runs])
            mean, std = values.mean(0), values.std(0)
            label = method if style == "-" else None
            ax.plot(epochs, mean, style, color=COLOURS.get(method), label=label)
            ax.fill_between(epochs, mean - std, mean + std, color=COLOURS.get(method), alpha=0.15)
    if anneal_epoch is not None:
        ax.axvline(anneal_epoch + 0.5, color="grey", linestyle=":", label="anneal")
    ax.set(xlabel="epoch", ylabel="accuracy (%)", title=title)
    ax.legend(fontsize="small")
    return ax


def size_curve(
    histories: Mapping[tuple[str, int, int], pd.DataFrame],
    paper: Mapping[str, Mapping[int, float]],
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """Final clean validation accuracy against training-set size, ours (mean ± std) and the paper's."""
    ax = _axes(ax)
    for method in dict.fromkeys(key[0] for key in histories):
        sizes = sorted({s for (m, s, _) in histories if m == method})
        accs = [
            [
                100 * h.iloc[-1]["test_acc"]
                for (m, s, _), h in histories.items()
                if (m, s) == (method, size)
            ]
            for size in sizes
        ]
        ax.errorbar(
            sizes,
            [np.mean(a) for a in accs],
            yerr=[np.std(a) for a in accs],
            marker="o",
            capsize=3,
            color=COLOURS.get(method),
            label=f"{method} (ours)",
        )
        theirs = sorted(paper.get(method, {}).items())
        if theirs:
            ax.plot(
                *zip(*theirs, strict=True),
                "x:",
                color=COLOURS.get(method),
                label=f"{method} (paper)",
            )
    ax.set(xscale="log", xlabel="clean training images", ylabel="validation accuracy (%)")
    ax.legend(fontsize="small")
    return ax


def patch_grid(
    images: torch.Tensor,
    titles: list[str],
    mean: tuple[float, ...],
    std: tuple[float, ...],
    columns: int,
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """Normalised images (N, C, H, W) shown as one montage, un-normalised and clipped (Figure 4)."""
    ax = _axes(ax, (1.3 * columns, 1.5 * np.ceil(len(images) / columns)))
    x = images.detach().cpu().float() * torch.tensor(std).view(1, -1, 1, 1)
    x = (x + torch.tensor(mean).view(1, -1, 1, 1)).clamp(0, 1).permute(0, 2, 3, 1).numpy()
    n, h, w, c = x.shape
    rows = int(np.ceil(n / columns))
    pad = 2
    canvas = np.ones((rows * (h + pad), columns * (w + pad), c))
    for i, image in enumerate(x):
        r, k = divmod(i, columns)
        canvas[r * (h + pad) : r * (h + pad) + h, k * (w + pad) : k * (w + pad) + w] = image
        ax.text(k * (w + pad) + w / 2, r * (h + pad) - 1, titles[i], ha="center", fontsize=6)
    ax.imshow(canvas.squeeze(), cmap="gray" if c == 1 else None, interpolation="nearest")
    ax.set_axis_off()
    return ax
