"""The convex chapter's figures: GD paths on the train- and test-loss surfaces, RMSE differences."""

from __future__ import annotations

import numpy as np

from lrgap_nb import plotting

from .maths import population_loss, train_loss

PATH_MARKERS = {"large then small": "o", "small throughout": "."}


def convex_contours(
    X: np.ndarray, y: np.ndarray, beta_star: np.ndarray, paths: dict[str, np.ndarray], axes=None
):
    """Train-loss and population-loss contours side by side, with the GD paths drawn on both."""
    if axes is None:
        axes = plotting.axes(2, "wide", sharex=True, sharey=True)
    points = np.concatenate([beta_star[None], np.zeros((1, 2)), *paths.values()])
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    half = (points.max(axis=0) - points.min(axis=0)).max() / 2 + 0.3
    low, high = centre - half, centre + half  # a square window, so circles look round
    g1, g2 = np.meshgrid(np.linspace(low[0], high[0], 160), np.linspace(low[1], high[1], 160))
    grid = np.stack([g1, g2], axis=-1)
    surfaces = {
        "train loss $\\hat L_n(\\beta)$": train_loss(grid, X, y),
        "test loss $L_D(\\beta)$": population_loss(grid, beta_star),
    }
    for ax, (title, surface) in zip(axes, surfaces.items(), strict=True):
        levels = np.quantile(surface, np.linspace(0.002, 0.9, 14))
        ax.contour(g1, g2, surface, levels=np.unique(levels), cmap="Greys", linewidths=0.8)
        for name, path in paths.items():
            final = path[-1]
            label = (
                f"{name}: {len(path) - 1} steps, train {float(train_loss(final, X, y)):.4f}, "
                f"test {float(population_loss(final, beta_star)):.4f}"
            )
            colour = plotting.colour(name)
            ax.plot(
                path[:, 0],
                path[:, 1],
                lw=1.2,
                ms=3,
                label=label,
                color=colour,
                marker=PATH_MARKERS.get(name),
            )
            ax.plot(*final, marker="*", ms=12, color=colour)
        ax.plot(*beta_star, marker="x", color="k", ms=8)
        ax.set(title=title, xlabel="$\\beta_1$", ylabel="$\\beta_2$", aspect="equal")
    axes[0].legend(loc="upper center", bbox_to_anchor=(1.05, -0.18), frameon=False)
    return axes


def difference_histogram(out: dict[str, np.ndarray], stop: str, ax=None):
    """Histogram over datasets of test-RMSE(small) − test-RMSE(large then small) for one stop."""
    import seaborn as sns

    if ax is None:
        (ax,) = plotting.axes(1)
    diff = out["rmse, small throughout"] - out["rmse, large then small"]
    diff = diff[np.isfinite(diff)]
    sns.histplot(diff, bins=40, ax=ax, color=plotting.colour("large then small"))
    ax.axvline(0, color="k", lw=1)
    ax.axvline(diff.mean(), color=plotting.colour("small throughout"), ls="--",
               label=f"mean {diff.mean():+.4f}")  # fmt: skip
    ax.set(title=stop, xlabel="test RMSE difference (small − large then small)", ylabel="datasets")
    ax.legend()
    return ax


def matched_map(frame, axes=None):
    """Heatmaps of the matched-loss map: the share of datasets large then small wins minus the
    share it loses (colour: ties count as neither, so a cell of ties is white), with the mean
    RMSE difference × 1000 written in each cell; one panel per anneal step, rows are design and
    n. Cells where most datasets diverged are blank."""
    steps = sorted(frame["anneal_step"].unique())
    if axes is None:
        axes = plotting.axes(len(steps), "wide", sharey=True)
    rows = list(dict.fromkeys(zip(frame["design"], frame["n"], strict=True)))
    lrs = sorted(frame["lr_large"].unique())
    for ax, step in zip(axes, steps, strict=True):
        cells = frame[frame["anneal_step"] == step]
        grid = np.full((len(rows), len(lrs)), np.nan)
        for _, cell in cells.iterrows():
            if cell["diverged share"] > 0.5:
                continue
            i, j = rows.index((cell["design"], cell["n"])), lrs.index(cell["lr_large"])
            grid[i, j] = (cell["wins"] - cell["losses"]) / cell["datasets"]
            ax.text(j, i, f"{1000 * cell['mean difference']:+.0f}", ha="center", va="center",
                    fontsize=plotting.MIN_FONT_PT)  # fmt: skip
        image = ax.imshow(grid, cmap="RdBu", vmin=-1, vmax=1, aspect="auto")
        ax.set_xticks(range(len(lrs)), [f"{lr:g}" for lr in lrs], rotation=90)
        ax.set(title=f"anneal after {step} steps", xlabel="initial LR")
    axes[0].set_yticks(range(len(rows)), [f"{d}, n = {n}" for d, n in rows])
    axes[0].figure.colorbar(image, ax=list(axes), label="wins − losses of large then small (share)")
    return axes
