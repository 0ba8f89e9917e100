"""The large-LR chapter's tables, gate, verdicts and claims (no torch).

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
from lrgap_nb.runs import network_name

from .params import (
    DATASET_SIZES,
    LARGE,
    NOISE,
    NOISE_PATCH,
    PAPER_CIFAR10,
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


def _at(hist: Histories, method: str, epoch: int | None, column: str) -> list[float]:
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
            "seeds": _at(hist, SMALL, anneal_epoch, "train_acc"),
        }
    ]
    rows += [
        {"check": f"{m} at the end", "seeds": _at(hist, m, None, "train_acc")}
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


def gate_verdicts(gate: pd.DataFrame) -> dict[str, stats.Verdict | None]:
    """`precondition` results: "before" (small LR fits first) and "end" (all fit by the end)."""
    threshold = 100 * gate.attrs["gate"]

    def unmet(rows: pd.DataFrame, what: str) -> stats.Verdict | None:
        failing = rows[~rows["passes"]].to_dict("records")
        told = "; ".join(f"{r['check']}: lowest seed {r['lowest seed (%)']:.2f}%" for r in failing)
        return stats.precondition(not failing, f"{what} below {threshold:g}% train acc.: {told}")

    return {
        "before": unmet(gate.iloc[:1], "small LR before the anneal"),
        "end": unmet(gate.iloc[1:], "a method at the end"),
    }


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
            row[f"train, {name}"] = stats.mean_std(_at(hist, method, epoch, "train_acc"), 2)
            row[f"val., {name}"] = stats.mean_std(_at(hist, method, epoch, "test_acc"), 2)
        rows.append(row)
    return pd.DataFrame(rows)


def claim_verdicts(hist: Histories, anneal_epoch: int, gate: pd.DataFrame) -> pd.DataFrame:
    """The chapter's five claims, each a paired comparison over seeds beyond MIN_EFFECT points."""
    unmet = gate_verdicts(gate)
    pts = " pts"

    def row(claim, a, b, epoch, column, when):
        verdict = stats.compare(
            _at(hist, a, epoch, column), _at(hist, b, epoch, column), MIN_EFFECT, pts, True,
            unmet[when],
        )  # fmt: skip
        return {"claim": claim, "verdict": verdict.label, "reason": verdict.reason}

    rows = [
        row("small LR ahead in train acc. before the anneal", SMALL, LARGE, anneal_epoch,
            "train_acc", "before"),
        row("small LR ahead in val. acc. before the anneal", SMALL, LARGE, anneal_epoch,
            "test_acc", "before"),
        row("large LR ahead in val. acc. right after the anneal", LARGE, SMALL, anneal_epoch + 1,
            "test_acc", "end"),
        row("large LR + anneal ends with better val. acc.", LARGE, SMALL, None, "test_acc", "end"),
    ]  # fmt: skip
    for noisy in present(hist, (NOISE, NOISE_PATCH)):
        rows.append(
            row(f"{noisy} ends above small LR (recovers part of the gap)", noisy, SMALL, None,
                "test_acc", "end")
        )  # fmt: skip
    return pd.DataFrame(rows)


def final_table(hist: Histories, paper: Mapping[str, float], scale: str) -> pd.DataFrame:
    """Final validation and train accuracy (%) per method, mean ± std over seeds, beside the paper."""
    rows = []
    for method in present(hist, (LARGE, SMALL, NOISE, NOISE_PATCH)):
        val = _at(hist, method, None, "test_acc")
        rows.append(
            {
                "method": method,
                "paper val. acc. (%)": paper.get(method, "—"),
                "ours val. acc. (%)": stats.mean_std(val, 2),
                "ours train acc. (%)": stats.mean_std(_at(hist, method, None, "train_acc"), 2),
                "seeds": len(val),
                "scale": scale,
                "gap to small LR, ours vs paper": _gap(hist, method, paper),
            }
        )
    return pd.DataFrame(rows)


def _gap(hist: Histories, method: str, paper: Mapping[str, float]) -> str:
    if method == SMALL:
        return "reference"
    ours = float(
        np.mean(_at(hist, method, None, "test_acc")) - np.mean(_at(hist, SMALL, None, "test_acc"))
    )
    if method not in paper:
        return f"{ours:+.2f} pts (paper: no number)"
    theirs = paper[method] - paper[SMALL]
    return f"{ours:+.2f} vs {theirs:+.2f} pts: {stats.size_vs_paper(ours, theirs)}"


def cifar100_table(hist: Histories | None, scale: str, reason: str) -> pd.DataFrame:
    """The survey report's CIFAR-100 pair beside ours; when it did not run, says why."""
    rows = []
    for method, value in PAPER_CIFAR100.items():
        val = _at(hist, method, None, "test_acc") if hist else []
        rows.append(
            {
                "method": method,
                "paper val. acc. (%)": value,
                "ours val. acc. (%)": stats.mean_std(val, 2) if val else "",
                "seeds": len(val),
                "scale": scale if val else "-",
            }
        )
    table = pd.DataFrame(rows)
    if hist:
        verdict = stats.compare(_at(hist, LARGE, None, "test_acc"), _at(hist, SMALL, None,
                                "test_acc"), MIN_EFFECT, " pts", paired=True)  # fmt: skip
        table.attrs["verdict"] = verdict.label
    else:
        table.attrs["verdict"] = f"not run: {reason}"
    return table


def size_table(hist: Mapping[tuple[str, float, int], pd.DataFrame], images: Mapping[float, int],
               epochs: Mapping[float, int], gate: float) -> pd.DataFrame:  # fmt: skip
    """Final clean validation accuracy (%) per training-set fraction, large vs small LR; a size's
    verdict needs every run on it to end at the gate (its training set fitted)."""
    rows = []
    for fraction in sorted({k[1] for k in hist}):
        runs = {k: h.iloc[-1] for k, h in sorted(hist.items()) if k[1] == fraction}
        acc = {m: [100 * float(r["test_acc"]) for k, r in runs.items() if k[0] == m]
               for m in (LARGE, SMALL)}  # fmt: skip
        lowest = min(runs.items(), key=lambda item: item[1]["train_acc"])
        unmet = stats.precondition(
            lowest[1]["train_acc"] >= gate,
            f"a run on {images[fraction]:,} images ends below {100 * gate:g}% train acc.: "
            f"{lowest[0][0]}, seed {lowest[0][2]}, {100 * lowest[1]['train_acc']:.2f}%",
        )
        verdict = stats.compare(acc[LARGE], acc[SMALL], MIN_EFFECT, " pts", True, unmet)
        rows.append(
            {
                "training images": images[fraction],
                "fraction": fraction,
                "epochs": epochs[fraction],
                "large LR val. acc. (%)": stats.mean_std(acc[LARGE], 2),
                "small LR val. acc. (%)": stats.mean_std(acc[SMALL], 2),
                "lowest final train acc. (%)": round(100 * float(lowest[1]["train_acc"]), 2),
                "paper (survey, 10k / 50k of CIFAR-10)": _paper_size(fraction),
                "large LR ahead?": str(verdict),
            }
        )
    return pd.DataFrame(rows)


def _paper_size(fraction: float) -> str:
    key = next((f for f in PAPER_SIZES[LARGE] if math.isclose(f, fraction)), None)
    if key is None:
        return "—"
    return f"{PAPER_SIZES[LARGE][key]} vs {PAPER_SIZES[SMALL][key]}"


def verdict_markdown(claims: pd.DataFrame, gate: pd.DataFrame) -> str:
    """The chapter's closing verdict, from the numbers (Markdown)."""
    lines = [
        f"- Gate (train accuracy at least {100 * gate.attrs['gate']:g}%): "
        + "; ".join(
            f"{r['check']}: lowest seed {r['lowest seed (%)']:.2f}% "
            f"({'passes' if r['passes'] else 'FAILS'})"
            for r in gate.to_dict("records")
        )
        + "."
    ]
    lines += [f"- {r.claim}: **{r.verdict}** ({r.reason})." for r in claims.itertuples()]
    return "\n".join(lines)


def claims(claim_table: pd.DataFrame, final: pd.DataFrame, phases: pd.DataFrame,
           cifar100: pd.DataFrame, scale: str) -> list[dict]:  # fmt: skip
    """This chapter's rows of the book's summary table."""
    fin = final.set_index("method")
    pha = phases.set_index("method")
    before = [c for c in phases.columns if c.startswith("val., before")][0]
    before_train = [c for c in phases.columns if c.startswith("train, before")][0]
    after = [c for c in phases.columns if c.startswith("val., after")][0]
    ours = {
        0: f"{pha.loc[SMALL, before_train]} vs {pha.loc[LARGE, before_train]}",
        1: f"{pha.loc[SMALL, before]} vs {pha.loc[LARGE, before]}",
        2: f"{pha.loc[LARGE, after]} vs {pha.loc[SMALL, after]}",
        3: f"{fin.loc[LARGE, 'ours val. acc. (%)']} vs {fin.loc[SMALL, 'ours val. acc. (%)']}",
    }
    paper = {3: f"{PAPER_CIFAR10[LARGE]} vs {PAPER_CIFAR10[SMALL]}"}
    rows = []
    for i, r in enumerate(claim_table.to_dict("records")):
        if i > 3:  # a noise method against small LR
            method = r["claim"].split(" ends above")[0]
            ours[i] = (
                f"{fin.loc[method, 'ours val. acc. (%)']} vs {fin.loc[SMALL, 'ours val. acc. (%)']}"
            )
            paper[i] = f"{PAPER_CIFAR10[NOISE]} vs {PAPER_CIFAR10[SMALL]} (level not stated)"
        rows.append(
            {
                "claim": f"WRN-16 CIFAR-10: {r['claim']}",
                "paper": paper.get(i, "(figure only)"),
                "ours": ours[i],
                "scale": scale,
                "verdict": r["verdict"],
            }
        )
    c100 = cifar100.set_index("method")
    rows.append(
        {
            "claim": "WRN-16 CIFAR-100: large LR + anneal beats small LR",
            "paper": f"{PAPER_CIFAR100[LARGE]} vs {PAPER_CIFAR100[SMALL]}",
            "ours": f"{c100.loc[LARGE, 'ours val. acc. (%)']} vs {c100.loc[SMALL, 'ours val. acc. (%)']}",
            "scale": c100.loc[LARGE, "scale"],
            "verdict": cifar100.attrs["verdict"],
        }
    )
    return rows


def scale(cfg, plan) -> str:
    """The main runs' scale in one line, for tables and the claims table."""
    images = cfg.train_subset or DATASET_SIZES[cfg.dataset]
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
    images = cfg.train_subset or DATASET_SIZES[cfg.dataset]
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
