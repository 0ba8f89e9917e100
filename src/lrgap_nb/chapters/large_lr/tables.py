"""The large-LR chapter's tables and gate (no torch); its claims are judged in `claims.py`.

Histories are the per-epoch tables of lrgap_nb.train (accuracies as fractions; `epoch` counts
completed epochs, so the row with epoch == m is the last one before the anneal after 0-based
milestone m). Every verdict comes from lrgap_nb.stats; seeds are paired across methods (a seed
fixes the initial weights and the batch order).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from lrgap_nb import stats
from lrgap_nb.datasets import train_size
from lrgap_nb.runs import network_name

from .params import (
    LARGE,
    NOISE,
    NOISE_PATCH,
    PAPER_CIFAR100,
    PAPER_SIZES,
    SMALL,
)

MIN_EFFECT = 1.0  # percentage points: the smallest accuracy difference we call an effect
STABLE_LOSS_DROP = 0.9  # a pilot rate trains stably if its last train loss <= 0.9 x its first

Histories = Mapping[tuple, pd.DataFrame]


def largest_stable_lr(pilot: Mapping[float, pd.DataFrame]) -> float | None:
    """The largest pilot LR whose train loss stays finite and ends at most 0.9 x its first
    epoch's; None if no rate does."""
    return max((lr for lr, h in pilot.items() if _stable(h)), default=None)


def _stable(history: pd.DataFrame) -> bool:
    loss = history["train_loss"].to_numpy()
    return bool(np.isfinite(loss).all() and loss[-1] <= STABLE_LOSS_DROP * loss[0])


def pilot_table(pilot: Mapping[float, pd.DataFrame]) -> pd.DataFrame:
    """Per pilot LR: first and last train loss, last train and validation accuracy, stable?"""
    chosen = largest_stable_lr(pilot)
    rows = [
        {
            "LR": lr,
            "first-epoch train loss": h["train_loss"].iloc[0],
            "last train loss": h["train_loss"].iloc[-1],
            "last train acc. (%)": 100 * h["train_acc"].iloc[-1],
            "last val. acc. (%)": 100 * h["test_acc"].iloc[-1],
            "trains stably": _stable(h),
            "role": "large" if lr == chosen else "",
        }
        for lr, h in sorted(pilot.items())
    ]
    return pd.DataFrame(rows).round(3)


def at(hist: Histories, method: str, epoch: int | None, column: str) -> list[float]:
    """Percent `column` of every seed of `method` after `epoch` completed epochs (None: last)."""
    out = []
    for key, h in sorted(hist.items()):
        if key[0] == method:
            row = h.iloc[-1] if epoch is None else h.loc[h["epoch"] == epoch].iloc[0]
            out.append(100 * float(row[column]))
    return out


def present(hist: Histories, methods: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(m for m in methods if any(k[0] == m for k in hist))


def gate_table(hist: Histories, anneal_epoch: int, gate: float) -> pd.DataFrame:
    """Train accuracy (running, %) per seed: small LR before the anneal, every method at the end."""
    rows = [
        {
            "check": f"small LR before the anneal (epoch {anneal_epoch})",
            "seeds": at(hist, SMALL, anneal_epoch, "train_acc"),
        }
    ]
    rows += [
        {"check": f"{m} at the end", "seeds": at(hist, m, None, "train_acc")}
        for m in present(hist, (LARGE, SMALL, NOISE, NOISE_PATCH))
    ]
    for row in rows:
        lowest = min(row["seeds"])
        row["lowest seed (%)"] = round(lowest, 2)
        row["passes"] = lowest >= 100 * gate
        row["seeds"] = ", ".join(f"{v:.2f}" for v in row["seeds"])
    table = pd.DataFrame(rows)
    table.attrs["gate"] = gate
    return table


def phase_table(hist: Histories, anneal_epoch: int) -> pd.DataFrame:
    """Train and validation accuracy (%, mean ± std over seeds) before, right after and at the end."""
    moments = {
        f"before the anneal (epoch {anneal_epoch})": anneal_epoch,
        f"after the anneal (epoch {anneal_epoch + 1})": anneal_epoch + 1,
        "end": None,
    }
    rows = []
    for method in present(hist, (LARGE, SMALL, NOISE, NOISE_PATCH)):
        row = {"method": method}
        for name, epoch in moments.items():
            row[f"train, {name}"] = stats.mean_std(at(hist, method, epoch, "train_acc"), 2)
            row[f"val., {name}"] = stats.mean_std(at(hist, method, epoch, "test_acc"), 2)
        rows.append(row)
    return pd.DataFrame(rows)


def final_table(hist: Histories, paper: Mapping[str, float], scale: str) -> pd.DataFrame:
    """Final validation and train accuracy (%) per method, mean ± std over seeds, beside the paper."""
    rows = []
    for method in present(hist, (LARGE, SMALL, NOISE, NOISE_PATCH)):
        val = at(hist, method, None, "test_acc")
        rows.append(
            {
                "method": method,
                "paper val. acc. (%)": paper.get(method, "—"),
                "ours val. acc. (%)": stats.mean_std(val, 2),
                "ours train acc. (%)": stats.mean_std(at(hist, method, None, "train_acc"), 2),
                "seeds": len(val),
                "scale": scale,
                "gap to small LR, ours vs paper": _gap(hist, method, paper),
            }
        )
    return pd.DataFrame(rows)


def _gap(hist: Histories, method: str, paper: Mapping[str, float]) -> str:
    if method == SMALL:
        return "reference"
    if SMALL not in present(hist, (SMALL,)):
        return "no small-LR run to compare with"
    ours = float(
        np.mean(at(hist, method, None, "test_acc")) - np.mean(at(hist, SMALL, None, "test_acc"))
    )
    if method not in paper:
        return f"{ours:+.2f} pts (paper: no number)"
    theirs = paper[method] - paper[SMALL]
    levels = [float(np.mean(at(hist, m, None, "test_acc"))) for m in (method, SMALL)]
    size = stats.size_vs_paper(ours, theirs, levels, [paper[method], paper[SMALL]])
    return f"{ours:+.2f} vs {theirs:+.2f} pts: {size}"


def cifar100_table(hist: Histories | None, scale: str) -> pd.DataFrame:
    """The survey report's CIFAR-100 pair beside ours; when it did not run, says why."""
    rows = []
    for method, value in PAPER_CIFAR100.items():
        val = at(hist, method, None, "test_acc") if hist else []
        rows.append(
            {
                "method": method,
                "paper val. acc. (%)": value,
                "ours val. acc. (%)": stats.mean_std(val, 2) if val else "",
                "seeds": len(val),
                "scale": scale if val else "-",
            }
        )
    return pd.DataFrame(rows)


def size_table(hist: Mapping[tuple[str, float, int], pd.DataFrame], images: Mapping[float, int],
               epochs: Mapping[float, int]) -> pd.DataFrame:  # fmt: skip
    """Final clean validation accuracy (%) per training-set fraction, large vs small LR, and the
    lowest final train accuracy (a size's claim needs every run on it to end at the gate)."""
    rows = []
    for fraction in sorted({k[1] for k in hist}):
        runs = {k: h.iloc[-1] for k, h in sorted(hist.items()) if k[1] == fraction}
        acc = {m: [100 * float(r["test_acc"]) for k, r in runs.items() if k[0] == m]
               for m in (LARGE, SMALL)}  # fmt: skip
        lowest = min(float(r["train_acc"]) for r in runs.values())
        rows.append(
            {
                "training images": images[fraction],
                "fraction": fraction,
                "epochs": epochs[fraction],
                "large LR val. acc. (%)": stats.mean_std(acc[LARGE], 2),
                "small LR val. acc. (%)": stats.mean_std(acc[SMALL], 2),
                "lowest final train acc. (%)": round(100 * lowest, 2),
                "paper (survey, 10k / 50k of CIFAR-10)": _paper_size(fraction),
            }
        )
    return pd.DataFrame(rows)


def _paper_size(fraction: float) -> str:
    key = next((f for f in PAPER_SIZES[LARGE] if math.isclose(f, fraction)), None)
    if key is None:
        return "—"
    return f"{PAPER_SIZES[LARGE][key]} vs {PAPER_SIZES[SMALL][key]}"


def scale(cfg, plan) -> str:
    """The main runs' scale in one line, for tables and the claims table."""
    images = cfg.train_subset or train_size(cfg.dataset)
    network = network_name(cfg.model, cfg.model_width)
    return f"{network}, {cfg.dataset} ({images:,} images), {plan.epochs} epochs"


def describe(cfg, plan) -> str:
    """What the main runs are at this profile, in Markdown (numbers read from parameters and plan)."""
    origin = " (the pilot's choice)" if cfg.lr_from_pilot else ""
    when = " (from the gate calibration)" if cfg.epochs_from_gate else ""
    milestones = ", ".join(str(m) for m in plan.milestones)
    noise = f"{cfg.noise:g} (×{cfg.noise_decay:g} per epoch)"
    if cfg.noise_patch > 0:
        noise += f" and {cfg.noise_patch:g} (×{cfg.noise_factor:g} at the first anneal)"
    images = cfg.train_subset or train_size(cfg.dataset)
    return "\n".join(
        [
            f"- network and data: {network_name(cfg.model, cfg.model_width)}, {cfg.dataset} "
            f"({images:,} images), batch {cfg.batch_size};",
            f"- initial learning rates{origin}: large {plan.lr_large:g}, small {plan.lr_small:g};",
            f"- schedule{when}: {plan.epochs} epochs, LR ×{cfg.lr_factor:g} after epoch(s) "
            f"{milestones};",
            f"- pre-activation noise of small LR + noise: {noise};",
            f"- seeds {', '.join(map(str, cfg.seeds))}; pilot rates "
            f"{', '.join(f'{lr:g}' for lr in cfg.pilot_lrs)} for {cfg.pilot_epochs} epochs on "
            f"calibration seed {cfg.pilot_seed};",
            f"- gate: running train accuracy at least {100 * cfg.gate:g}%;",
            f"- data-size table: {100 * cfg.size_fraction:g}% of the images against all of them"
            + (", at equal SGD steps." if cfg.size_same_steps else ", at equal epochs."),
        ]
    )


def schedule_sentence(cfg, plan, gate_history: pd.DataFrame | None) -> str:
    """How the schedule was chosen (Markdown)."""
    if gate_history is None:
        return (
            f"The schedule is the profile's: {plan.epochs} epochs, anneal after epoch(s) "
            f"{', '.join(map(str, plan.milestones))}."
        )
    acc = 100 * float(gate_history["train_acc"].iloc[-1])
    epochs = len(gate_history)
    reached = acc >= 100 * cfg.gate
    told = (
        f"reached {acc:.2f}% running train accuracy after {epochs} epochs"
        if reached
        else f"did NOT reach the gate in {epochs} epochs (last {acc:.2f}%)"
    )
    return (
        f"Gate calibration: the small LR ({plan.lr_small:g}, constant) on calibration seed "
        f"{cfg.pilot_seed} {told}. The main runs anneal after {plan.milestones[0]} epochs "
        f"({cfg.gate_margin:g} times that, rounded up) and train {plan.epochs} in all."
    )


def pilot_sentence(table: pd.DataFrame, cfg, large: float, small: float) -> str:
    """Which rates the pilot found stable and which rates the main runs use, and why."""
    stable = [f"{lr:g}" for lr in table.loc[table["trains stably"], "LR"]]
    unstable = [f"{lr:g}" for lr in table.loc[~table["trains stably"], "LR"]]
    rule = f"finite train loss, the last at most {STABLE_LOSS_DROP:g} times the first epoch's"
    text = f"Rates that train stably ({rule}): {', '.join(stable) or 'none'}"
    text += f"; not stably: {', '.join(unstable)}. " if unstable else ". "
    if cfg.lr_from_pilot:
        return text + (
            f"The main runs use the largest stable rate, **{large:g}**, and a tenth of it, "
            f"**{small:g}**, as the small rate."
        )
    return text + f"The main runs use the official rates, {large:g} and {small:g}."
