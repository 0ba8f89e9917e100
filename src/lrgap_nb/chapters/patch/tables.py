"""The patch chapter's tables (no torch); its claims are judged in `claims.py`.

Histories are lrgap_nb.train's per-epoch tables (accuracies as fractions; `epoch` counts completed
epochs, so the row epoch == anneal_epoch is the last before the anneal). Verdicts come from
lrgap_nb.stats; seeds are paired across methods (a seed fixes initial weights and batch order).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from lrgap_nb import stats
from lrgap_nb.datasets import train_size
from lrgap_nb.runs import network_name

from .params import LARGE, METHODS, NOISE, PAPER_FINAL, PAPER_SOURCE, SMALL

MIN_EFFECT = 1.0  # percentage points: the smallest clean-accuracy difference we call an effect
QUICK = 5  # "learns the patch quickly after the anneal": within this many epochs

Histories = Mapping[tuple, pd.DataFrame]


def memorises(history: pd.DataFrame, threshold: float) -> bool:
    """Whether the run's last patch-only validation accuracy reaches `threshold` (a fraction)."""
    return float(history["patch_only_acc"].iloc[-1]) >= threshold


def calibration_table(calibration: Mapping, chosen, threshold: float) -> pd.DataFrame:
    """Per setting tried (small LR, beta): small LR's last patch-only and clean accuracy and
    whether it memorised the patch; `calibration` maps a runs.Setting to its history."""
    rows = [
        {
            "small LR": setting.lr_small,
            "beta": setting.beta,
            "epochs": int(h["epoch"].iloc[-1]),
            "train acc. (%)": round(100 * float(h["train_acc"].iloc[-1]), 2),
            "patch-only acc. (%)": round(100 * float(h["patch_only_acc"].iloc[-1]), 2),
            "clean val. acc. (%)": round(100 * float(h["test_acc"].iloc[-1]), 2),
            f"memorised (>= {100 * threshold:g}%)": memorises(h, threshold),
            "used": setting == chosen,
        }
        for setting, h in calibration.items()
    ]
    return pd.DataFrame(rows)


def at(hist: Histories, method: str, epoch: int | None, column: str) -> list[float]:
    """Percent `column` for every seed of `method` after `epoch` completed epochs (None: last)."""
    out = []
    for key, h in sorted(hist.items()):
        if key[0] == method:
            row = h.iloc[-1] if epoch is None else h.loc[h["epoch"] == min(epoch, len(h))].iloc[0]
            out.append(100 * float(row[column]))
    return out


def max_until(hist: Histories, method: str, epoch: int, column: str) -> list[float]:
    """Per seed, the highest percent `column` over the first `epoch` epochs."""
    return [
        100 * float(h.loc[h["epoch"] <= epoch, column].max())
        for key, h in sorted(hist.items())
        if key[0] == method
    ]


def present(hist: Histories) -> list[str]:
    """The methods that have runs in `hist`, in the chapter's order."""
    return [m for m in METHODS if any(key[0] == m for key in hist)]


def phase_table(hist: Histories, anneal_epoch: int) -> pd.DataFrame:
    """Patch-only, clean and mixed validation accuracy (%) just before the anneal (Figure 5)."""
    rows = []
    for method in present(hist):
        row = {"method": method, "epoch": anneal_epoch}
        for column, name in (("patch_only_acc", "patch-only"), ("test_acc", "clean"),
                             ("mixed_acc", "mixed")):  # fmt: skip
            row[f"{name} (%)"] = stats.mean_std(at(hist, method, anneal_epoch, column), 2)
        row["highest patch-only so far (%)"] = stats.mean_std(
            max_until(hist, method, anneal_epoch, "patch_only_acc"), 2
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _best_on_mixed(h: pd.DataFrame) -> pd.Series:
    """The epoch the official code keeps: the best mixed validation accuracy (first on ties)."""
    return h.loc[h["mixed_acc"].idxmax()]


def final_table(hist: Histories, scale: str) -> pd.DataFrame:
    """Mixed / clean / patch-only accuracy (%) at the last epoch and at the best-on-mixed epoch."""
    rows = []
    for method in present(hist):
        runs = [h for key, h in sorted(hist.items()) if key[0] == method]
        last = [h.iloc[-1] for h in runs]
        best = [_best_on_mixed(h) for h in runs]
        paper_mixed, paper_clean = PAPER_FINAL[method]
        rows.append(
            {
                "method": method,
                "paper mixed / clean (%)": f"{paper_mixed} / {paper_clean}",
                "source": PAPER_SOURCE[method],
                "ours mixed, last (%)": stats.mean_std([100 * r["mixed_acc"] for r in last], 2),
                "ours clean, last (%)": stats.mean_std([100 * r["test_acc"] for r in last], 2),
                "ours patch-only, last (%)": stats.mean_std(
                    [100 * r["patch_only_acc"] for r in last], 2
                ),
                "ours clean, best-on-mixed epoch (%)": stats.mean_std(
                    [100 * r["test_acc"] for r in best], 2
                ),
                "best-on-mixed epochs": ", ".join(str(int(r["epoch"])) for r in best),
                "seeds": len(runs),
                "scale": scale,
            }
        )
    return pd.DataFrame(rows)


def reference_table(
    hist: Histories,
    references: Mapping[tuple[float, int], pd.DataFrame],
    own: Mapping[tuple[str, float, int], pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """The effective-sample reading: each patched run's clean accuracy against clean-only runs on
    a fraction of the images, with a 95% Welch interval of the difference. First the survey
    report's pair (small LR against 20% and large LR + anneal against 84%, both references
    trained by large LR + anneal), then every method against every fraction trained with that
    method's own schedule, where those references are cached (`own`)."""
    if not references:
        return pd.DataFrame()
    by_schedule = {(LARGE, f, s): h for (f, s), h in references.items()} | dict(own or {})
    fractions = sorted({f for f, _ in references})
    pairs = [(SMALL, LARGE, fractions[0]), (LARGE, LARGE, fractions[-1])]
    pairs += [
        (m, m, f) for m in METHODS for f in fractions if (m, m, f) not in pairs and own is not None
    ]
    rows = []
    for method, schedule, fraction in pairs:
        ref = [
            100 * float(h.iloc[-1]["test_acc"])
            for (m, f, _), h in sorted(by_schedule.items())
            if (m, f) == (schedule, fraction)
        ]
        ours = at(hist, method, None, "test_acc")
        if not ref or not ours:
            continue
        enough = len(ours) > 1 and len(ref) > 1
        low, high = stats.difference_ci(ours, ref) if enough else (np.nan,) * 2
        rows.append(
            {
                "patched run": method,
                "ours clean (%)": stats.mean_std(ours, 2),
                "clean-only reference": f"{fraction:.0%} of the images, {schedule}",
                "reference clean (%)": stats.mean_std(ref, 2),
                "reference seeds": len(ref),
                "difference (pts)": round(float(np.mean(ours) - np.mean(ref)), 2),
                "95% CI": f"[{low:.2f}, {high:.2f}]" if enough else "—",
            }
        )
    return pd.DataFrame(rows)


def images(cfg) -> int:
    """Training images of the main runs."""
    return cfg.train_subset or train_size(cfg.dataset)


def steps_per_epoch(cfg) -> int:
    return math.ceil(images(cfg) / cfg.batch_size)


def scale(cfg, setting=None) -> str:
    """The main runs' scale in one line, for tables and the claims table; `setting` (the
    calibration's choice) is named where it departs from the official rates and strength."""
    chosen = ""
    if setting is not None and (setting.lr_small, cfg.lr_large) != (0.004, 0.1):
        chosen += f", LR {cfg.lr_large:g} / {setting.lr_small:g}"
    if setting is not None and setting.beta != cfg.beta:
        chosen += f", patch beta {setting.beta:g}"
    return (
        f"{network_name(cfg.model, cfg.model_width)}, patched {cfg.dataset} ({images(cfg):,} images)"
        f"{chosen}, {cfg.epochs} epochs"
    )


def settings_table(cfg) -> pd.DataFrame:
    """What runs at this profile, one row per setting (values read from the parameters)."""
    calibrated = bool(cfg.calibration_lrs or cfg.calibration_betas)
    rates = ", ".join(f"{r:g}" for r in cfg.calibration_lrs or (cfg.lr_small,))
    betas = ", ".join(f"{b:g}" for b in cfg.calibration_betas or (cfg.beta,))
    rows = {
        "network and data": f"{scale(cfg, None)}, batch {cfg.batch_size}",
        "large LR": f"{cfg.lr_large:g}, annealed after epoch {cfg.anneal_epoch} "
        + (
            "to the small LR the calibration chooses"
            if cfg.calibration_lrs
            else f"(×{cfg.lr_factor:g})"
        ),
        "small LR": "the calibration's choice" if cfg.calibration_lrs else f"{cfg.lr_small:g}",
        "pre-activation noise": f"{cfg.noise:g}, ×{cfg.noise_factor:g} after epoch "
        f"{cfg.anneal_epoch}",
        "patch": f"sigma_z {cfg.sigma_z:g}, beta "
        + ("the calibration's choice" if cfg.calibration_betas else f"{cfg.beta:g}")
        + f", alpha {cfg.alpha:g}, {100 * cfg.clean_frac:g}% clean, patch-only probability "
        f"{cfg.patch_only_prob:g}",
        "patch-only validation images": f"{cfg.n_patch_eval:,}",
        "seeds": ", ".join(map(str, cfg.seeds)),
        "thresholds": f"memorised at {100 * cfg.memorised:g}% patch-only accuracy, near chance "
        f"at most {100 * cfg.near_chance:g}%",
        "calibration": (
            f"small LR {rates} in turn, each with beta {betas} in turn, "
            f"{cfg.calibration_length} epochs on seed {cfg.calibration_seed}; the first that "
            "memorises the patch is used"
            if calibrated
            else "none (the official small LR and patch strength)"
        ),
        "clean-only references": (
            ", ".join(f"{100 * f:g}%" for f in cfg.reference_fractions)
            + " of the images, large LR + anneal, equal SGD steps"
            if cfg.reference_fractions
            else "none at this profile"
        ),
    }
    return pd.DataFrame({"setting": list(rows), "value": list(rows.values())})


def calibration_facts(cfg, chosen, calibration: Mapping) -> dict[str, object]:
    """The setting the runs use and how the calibration reached it, for the prose to paste."""
    if not calibration:
        how = "this profile's fixed setting: it has no calibration"
    elif memorises(calibration[chosen], cfg.memorised):
        how = (
            f"the first of the {len(calibration)} settings tried that lets small LR memorise the "
            f"patch within {cfg.calibration_length} epochs"
        )
    else:
        how = (
            f"the last of the {len(calibration)} settings tried: none lets small LR memorise the "
            f"patch within {cfg.calibration_length} epochs, and the claims that need it say so"
        )
    anneal_to = chosen.lr_small if cfg.calibration_lrs else cfg.lr_large * cfg.lr_factor
    return {
        "chosen_lr": f"{chosen.lr_small:g}",
        "chosen_beta": f"{chosen.beta:g}",
        "calibration_choice": how,
        "lr_large": f"{cfg.lr_large:g}",
        "anneal_to": f"{anneal_to:g}",
    }


def paper_width_facts(hist: Histories, cfg, prefix: str = "pw_") -> dict[str, str]:
    """The numbers the paper-width reading quotes (means over seeds, "—" where a method has no
    cached run), keyed `prefix` + name."""

    def mean(values: list[float]) -> str:
        return f"{np.mean(values):.1f}" if values else "—"

    steps = cfg.anneal_epoch * steps_per_epoch(cfg)
    facts = {
        "runs": str(len(hist)),
        "seeds": str(len({key[1] for key in hist})),
        "anneal_epoch": str(cfg.anneal_epoch),
        "anneal_steps": f"{steps:,}",
        "small_patch_before": mean(at(hist, SMALL, cfg.anneal_epoch, "patch_only_acc")),
        "small_patch_last": mean(at(hist, SMALL, None, "patch_only_acc")),
        "large_patch_last": mean(at(hist, LARGE, None, "patch_only_acc")),
        "noise_patch_before": mean(at(hist, NOISE, cfg.anneal_epoch, "patch_only_acc")),
        "noise_patch_last": mean(at(hist, NOISE, None, "patch_only_acc")),
    }
    for method, name in ((LARGE, "large"), (SMALL, "small"), (NOISE, "noise")):
        facts[f"{name}_clean_last"] = mean(at(hist, method, None, "test_acc"))
    return {prefix + key: value for key, value in facts.items()}
