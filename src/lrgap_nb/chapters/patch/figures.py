"""The patch chapter's figures: served examples (survey Figure 4) and accuracy against epochs
(Figure 5). Bands are plotting.BAND (mean ± one std across seeds)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from lrgap_nb import plotting


def examples(pixels: np.ndarray, titles: list[str], columns: int):
    """Images as 0-255 pixels (N, H, W, C), one montage with a title over each."""
    ax = plotting.axes(1)[0]
    x = np.asarray(pixels, dtype=float) / 255
    n, h, w, c = x.shape
    rows, pad, title = int(np.ceil(n / columns)), 2, 12  # pixels between images, above a row
    canvas = np.ones((rows * (h + title), columns * (w + pad), c))
    for i, image in enumerate(x):
        r, k = divmod(i, columns)
        top, left = r * (h + title) + title, k * (w + pad)
        canvas[top : top + h, left : left + w] = image
        ax.text(left + w / 2, top - 2, titles[i], ha="center", va="bottom", fontsize=9)
    ax.imshow(canvas.squeeze(), cmap="gray" if c == 1 else None, interpolation="nearest")
    ax.set_axis_off()
    return ax


def accuracy_curves(histories: Mapping[tuple, pd.DataFrame], anneal_epoch: int):
    """Clean (left) and patch-only (right) validation accuracy against epochs, anneal marked."""
    columns = {
        "test_acc": "clean validation accuracy (%)",
        "patch_only_acc": "patch-only accuracy (%)",
    }
    return plotting.history_panels(histories, columns, anneal_epoch + 0.5)


def calibration_curves(calibration: Mapping, memorised: float):
    """Train and patch-only accuracy of each calibration run (small LR, beta; one seed) against
    epochs, with the `memorised` threshold the calibration chooses by dashed."""
    runs = {(str(setting), 0): h for setting, h in calibration.items()}
    columns = {
        "train_acc": "train accuracy (%, running)",
        "patch_only_acc": "patch-only accuracy (%)",
    }
    return plotting.history_panels(runs, columns, gate=("patch_only_acc", memorised))
