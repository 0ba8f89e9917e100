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
    """Final validation and train accuracy (%) per method, mean ± std over seeds, beside the paper;
    one row saying so when no run is cached (the paper-width runs before the GPU check)."""
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
    return pd.DataFrame(rows or [{"method": "no run cached", "scale": scale}])


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


def settings(cfg, plan) -> pd.DataFrame:
    """The main runs at this profile, one setting per row (read from the parameters and the plan)."""
    chosen = " (the pilot's choice)" if cfg.lr_from_pilot else ""
    tenth = " (a tenth of the pilot's choice)" if cfg.lr_from_pilot else ""
    gated = " (from the gate calibration)" if cfg.epochs_from_gate else ""
    milestones = ", ".join(map(str, plan.milestones))
    patch = f"{cfg.noise_patch:g}, ×{cfg.noise_factor:g} at the first anneal"
    pilot = f"rates {', '.join(f'{lr:g}' for lr in cfg.pilot_lrs)}, {cfg.pilot_epochs} epochs each"
    steps = "equal SGD steps" if cfg.size_same_steps else "equal epochs"
    rows = {
        "network": network_name(cfg.model, cfg.model_width),
        "training data": f"{cfg.dataset} ({cfg.train_subset or train_size(cfg.dataset):,} images)",
        "batch size": f"{cfg.batch_size}",
        "initial LR, large LR + anneal": f"{plan.lr_large:g}{chosen}",
        "initial LR, small LR (+ noise)": f"{plan.lr_small:g}{tenth}",
        "epochs": f"{plan.epochs}{gated}",
        "LR schedule": f"×{cfg.lr_factor:g} after epoch(s) {milestones}",
        "noise, small LR + noise": f"{cfg.noise:g}, ×{cfg.noise_decay:g} per epoch",
        "noise, small LR + noise (patch level)": patch if cfg.noise_patch > 0 else "not run",
        "seeds": ", ".join(map(str, cfg.seeds)),
        "LR pilot": f"{pilot}, calibration seed {cfg.pilot_seed}",
        "gate": f"running train accuracy at least {100 * cfg.gate:g}%",
        "data-size table": f"{100 * cfg.size_fraction:g}% of the images against all, at {steps}",
    }
    return pd.DataFrame({"setting": list(rows), "value": list(rows.values())})


def pilot_choice(table: pd.DataFrame, cfg, plan) -> dict[str, float | str]:
    """The pilot's stable and unstable rates and the rates the main runs use, for the prose."""
    stable = table["trains stably"].astype(bool)
    return {
        "pilot_loss_drop": STABLE_LOSS_DROP,
        "pilot_stable": _rates(table.loc[stable, "LR"]),
        "pilot_unstable": _rates(table.loc[~stable, "LR"]),
        "lr_large": float(plan.lr_large),
        "lr_small": float(plan.lr_small),
        "lr_origin": (
            "the largest stable rate and a tenth of it (the papers' ratio)"
            if cfg.lr_from_pilot
            else "the official rates (the pilot is a check)"
        ),
    }


def _rates(lrs) -> str:
    return ", ".join(f"{lr:g}" for lr in lrs) or "none"


def schedule(cfg, plan) -> dict[str, float | int | str]:
    """The main runs' schedule and where it comes from, for the prose."""
    return {
        "epochs": int(plan.epochs),
        "anneal": int(plan.milestones[0]),
        "gate_margin": float(cfg.gate_margin),
        "schedule_origin": "the gate calibration's" if cfg.epochs_from_gate else "the profile's",
    }


def gate_calibration(cfg, plan, gate_history: pd.DataFrame | None) -> pd.DataFrame:
    """The gate calibration in one row (the small LR at a constant rate on the calibration seed);
    a row saying so where the profile has none."""
    if gate_history is None:
        return pd.DataFrame(
            [{"gate calibration": "not run at this profile: the schedule is the profile's"}]
        )
    acc = 100 * float(gate_history["train_acc"].iloc[-1])
    row = {
        "small LR (constant)": plan.lr_small,
        "calibration seed": cfg.pilot_seed,
        "epochs trained": len(gate_history),
        "last running train acc. (%)": round(acc, 2),
        "gate (%)": 100 * cfg.gate,
        "reached the gate": acc >= 100 * cfg.gate,
    }
    return pd.DataFrame([row])
