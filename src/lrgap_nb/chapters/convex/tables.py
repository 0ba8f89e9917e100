"""The convex chapter's tables: where the demo's paths stop, the two stopping rules side by side,
and the matched-loss map (no torch)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .maths import population_loss, train_loss
from .params import PAPER_GAUSS_RMSE, PAPER_GAUSS_WIN_RATE
from .runs import cell_summary

ARMS = ("small throughout", "large then small")


def per_dataset(result) -> dict[str, np.ndarray]:
    """A convex_datasets run's per-dataset numbers as arrays (None, a diverged run, as NaN)."""
    return {
        key: np.array([np.nan if v is None else v for v in values])
        for key, values in result.payload.items()
    }


def stop_rule_table(
    by_stop: dict[str, dict[str, np.ndarray]], epsilon: float, min_effect: float
) -> pd.DataFrame:
    """The report's Gaussian setting under each stopping rule, with the survey report's row.

    Per rule: both schedules' mean test RMSE and mean final train loss, the paired mean
    difference (small − large then small) with its 95% t-interval, the win rate of large then
    small with its Clopper–Pearson interval, and how many "large then small" runs never reached
    their anneal (first crossing: stopped by the large LR; matched: large phase cut short).
    """
    rows = [
        {
            "stopping rule": "survey report (10 datasets)",
            "mean test RMSE, small throughout": PAPER_GAUSS_RMSE["small"],
            "mean test RMSE, large then small": PAPER_GAUSS_RMSE["large_then_small"],
            "win rate of large then small": PAPER_GAUSS_WIN_RATE,
        }
    ]
    for stop, out in by_stop.items():
        cell = cell_summary(out, epsilon)
        kept = np.isfinite(out["rmse, small throughout"] + out["rmse, large then small"])
        rows.append(
            {
                "stopping rule": stop,
                "datasets": cell["datasets"],
                **{f"mean test RMSE, {a}": float(np.mean(out[f"rmse, {a}"][kept])) for a in ARMS},
                **{
                    f"mean final train loss, {a}": float(np.mean(out[f"train, {a}"][kept]))
                    for a in ARMS
                },  # fmt: skip
                "mean difference (small − large then small)": cell["mean difference"],
                "difference, 95% t-interval": _interval(cell, "difference", "{:+.4f}"),
                "win rate of large then small": cell["win rate"],
                "win rate, 95% Clopper–Pearson": _interval(cell, "win rate", "{:.4f}"),
                "ties": cell["ties"],
                "large phase ended before its anneal step": cell["large phase cut short"],
            }
        )
    table = pd.DataFrame(rows).astype({"datasets": "Int64", "ties": "Int64"})
    table.attrs["min_effect"] = min_effect
    return table


def _interval(cell: dict, name: str, fmt: str) -> str:
    return f"[{fmt.format(cell[f'{name} CI low'])}, {fmt.format(cell[f'{name} CI high'])}]"


def path_summary(
    paths: dict[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    beta_star: np.ndarray,
    epsilon: float,
) -> pd.DataFrame:
    """Where each schedule stopped: steps, final train loss and test loss in units of epsilon."""
    rows = []
    for name, path in paths.items():
        final = path[-1]
        test = float(population_loss(final, beta_star))
        rows.append(
            {
                "schedule": name,
                "steps": len(path) - 1,
                "final train loss": float(train_loss(final, X, y)),
                "test loss": test,
                "test / epsilon": test / epsilon,
            }
        )
    return pd.DataFrame(rows)


# --- the matched-loss map --------------------------------------------------------------------


def map_frame(results_by_run: dict) -> pd.DataFrame:
    """One row per map cell (design, n, initial LR, anneal step), with intervals and effect."""
    rows = []
    for run, result in results_by_run.items():
        for cell in result.payload["cells"]:
            rows.append({"design": run.design, "n": run.n, **cell})
    frame = pd.DataFrame(rows)
    frame["diverged share"] = frame["diverged"] / (frame["datasets"] + frame["diverged"])
    return frame


def effect(frame: pd.DataFrame, min_effect: float) -> pd.Series:
    """Each cell in words: "helps" or "hurts" when the t-interval of the mean difference is clear
    of zero and the mean reaches `min_effect`, "negligible" when clear but smaller, "unclear"
    when the interval contains zero or every dataset tied, "diverges" when most runs diverged."""
    mean = frame["mean difference"]
    low, high = frame["difference CI low"], frame["difference CI high"]
    clear = (low > 0) | (high < 0)
    words = np.where(
        ~clear, "unclear", np.where(mean.abs() < min_effect, "negligible",
                                    np.where(mean > 0, "helps", "hurts")),
    )  # fmt: skip
    words = np.where(frame["ties"] == frame["datasets"], "unclear", words)
    return pd.Series(np.where(frame["diverged share"] > 0.5, "diverges", words), index=frame.index)


def map_effects(frame: pd.DataFrame, min_effect: float) -> pd.DataFrame:
    """Per design and n, over every anneal step: the initial LRs at which large then small helps,
    hurts, or wins or loses by less than `min_effect` at matched loss, and (cells where most runs
    diverged left out) its win rate (%) where its initial LR reverses the fitting order and where
    it does not, and the share of ties (%)."""
    frame = frame.assign(effect=effect(frame, min_effect))
    rows = []
    for (design, n), cells in frame.groupby(["design", "n"], sort=False):
        diff, word = cells["mean difference"], cells["effect"]
        groups = {
            "helps at initial LR": word == "helps",
            "hurts at initial LR": word == "hurts",
            "loses by less than the minimum effect at": (word == "negligible") & (diff < 0),
            "wins by less than the minimum effect at": (word == "negligible") & (diff > 0),
        }
        row = {"design": design, "n": n}
        for name, where in groups.items():
            row[name] = _lrs(sorted(set(cells.loc[where, "lr_large"]))) or "none"
        ran = cells[word != "diverges"]
        for name in ("reversed", "not reversed"):
            total = ran[f"datasets, order {name}"].sum()
            wins = ran[f"wins, order {name}"].sum()
            row[f"wins where the order is {name} (%)"] = 100 * wins / total if total else np.nan
        row["ties (%)"] = 100 * ran["ties"].sum() / max(ran["datasets"].sum(), 1)
        rows.append(row)
    return pd.DataFrame(rows).round(1)


def _lrs(lrs: list[float]) -> str:
    return ", ".join(f"{lr:g}" for lr in lrs)


def map_table(frame: pd.DataFrame, min_effect: float) -> pd.DataFrame:
    """The map as a downloadable table: every cell with its intervals and effect in words."""
    out = frame.assign(effect=effect(frame, min_effect))
    out["difference, 95% t-interval"] = [
        f"[{lo:+.4f}, {hi:+.4f}]"
        for lo, hi in zip(
            out["difference CI low"], out["difference CI high"], strict=True
        )  # fmt: skip
    ]
    out["win rate, 95% Clopper–Pearson"] = [
        f"[{lo:.4f}, {hi:.4f}]"
        for lo, hi in zip(out["win rate CI low"], out["win rate CI high"], strict=True)  # fmt: skip
    ]
    columns = [
        "design", "n", "lr_large", "anneal_step", "datasets", "diverged", "mean difference",
        "difference, 95% t-interval", "win rate", "win rate, 95% Clopper–Pearson", "losses", "ties",
        "order reversed", "datasets, order reversed", "wins, order reversed",
        "datasets, order not reversed", "wins, order not reversed", "large phase cut short", "largest train-loss miss", "effect",
    ]  # fmt: skip
    return out[columns]
