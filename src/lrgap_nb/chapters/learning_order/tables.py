"""The learning-order chapter's tables, from the cached runs (no torch).

The claims and their verdicts are in `claims`; the premises they rest on in `premises`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrgap_nb import stats

from . import theory
from .params import LearningOrderParams

GROUPS = ("P only", "Q only", "both")
TRAIN_GROUPS = tuple(f"train {g}" for g in GROUPS)

MIN_ERROR_GAP = 0.01  # the sweep's per-size verdicts: one point of overall test error
MAX_STEPS_FIT = np.inf  # a group never fitted within the run counts as fitted at infinity


# --- frames from the cached results ---------------------------------------------------------------


def runs_of(results) -> list[dict]:
    return [run for result in results for run in result.payload["runs"]]


def final_errors(results, cfg: LearningOrderParams) -> pd.DataFrame:
    """Final test error per run and group; 'overall' is the mixture p0·P + q0·Q + (1-p0-q0)·both."""
    rows = []
    for run in runs_of(results):
        h = run["history"]
        err = {g: 1.0 - h[g][-1] for g in GROUPS}
        overall = (
            cfg.p0 * err["P only"] + cfg.q0 * err["Q only"] + (1 - cfg.p0 - cfg.q0) * err["both"]
        )
        rows.append(
            {
                "algorithm": run["algorithm"],
                "seed": run["seed"],
                "overall": overall,
                **err,
                "steps": run["stop_step"],
                "annealed at": run["anneal_step"],
                "final train loss": h["train_loss"][-1],
            }
        )
    return pd.DataFrame(rows)


def history_frame(results) -> pd.DataFrame:
    """Long table of every recorded evaluation: algorithm, seed, step, loss, curvature, accuracies."""
    frames = []
    for run in runs_of(results):
        frame = pd.DataFrame(run["history"])
        frame.insert(0, "seed", run["seed"])
        frame.insert(0, "algorithm", run["algorithm"])
        frame["anneal_step"] = run["anneal_step"]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def per_seed(history: pd.DataFrame, algorithm: str, column: str) -> pd.DataFrame:
    """step × seed table of one column; a stopped run keeps its last value (it is frozen)."""
    frame = history[history["algorithm"] == algorithm]
    return frame.pivot(index="step", columns="seed", values=column).ffill()


def summary(frame: pd.DataFrame, columns: list[str], by: str = "algorithm") -> pd.DataFrame:
    """'mean ± std' over seeds per group of `by` (stats.mean_std), with the number of seeds."""
    rows = []
    for name, group in frame.groupby(by, sort=False):
        row = {by: name, "seeds": len(group)}
        row |= {c: stats.mean_std(group[c].dropna(), digits=3) for c in columns}
        rows.append(row)
    return pd.DataFrame(rows)


def final_table(errors: pd.DataFrame) -> pd.DataFrame:
    columns = ["overall", *GROUPS, "steps", "annealed at", "final train loss"]
    return summary(errors, columns)


def _first_step(run: pd.DataFrame, column: str, at_least: float) -> float:
    reached = run.loc[run[column] >= at_least, "step"]
    return float(reached.iloc[0]) if len(reached) else MAX_STEPS_FIT


def learning_order(history: pd.DataFrame, algorithms: list[str]) -> pd.DataFrame:
    """Per seed: L-S's anneal step; for each algorithm its P/Q accuracy and Q-curvature at the last
    evaluation before that step, its final Q-curvature, and the first step at which it classifies
    all its P-only (Q-only) training examples."""
    rows = []
    ls = history[history["algorithm"] == "L-S"]
    for seed, run in ls.groupby("seed"):
        anneal = int(run["anneal_step"].iloc[0])
        window = anneal if anneal >= 0 else int(run["step"].max()) + 1
        row = {"seed": seed, "L-S anneal step": anneal}
        for algorithm in algorithms:
            other = history[(history["algorithm"] == algorithm) & (history["seed"] == seed)]
            before = other[other["step"] < max(window, 1)]
            last = before.iloc[-1] if len(before) else other.iloc[0]
            row[f"{algorithm}: P acc"] = last["P only"]
            row[f"{algorithm}: Q acc"] = last["Q only"]
            row[f"{algorithm}: Q curvature"] = last["q_curvature"]
            row[f"{algorithm}: final Q curvature"] = other["q_curvature"].iloc[-1]
            row[f"{algorithm}: P fit at"] = _first_step(other, "train P only", 1.0)
            row[f"{algorithm}: Q fit at"] = _first_step(other, "train Q only", 1.0)
        rows.append(row)
    return pd.DataFrame(rows)


def effective_sample_table(main_errors: pd.DataFrame, ref_errors: pd.DataFrame) -> pd.DataFrame:
    """P-only test error of S and L-S beside the two references trained on P alone, and where each
    lies between them (0: like the (1-q0)·N reference, 1: like the p0·N one)."""
    frame = pd.concat([main_errors, ref_errors], ignore_index=True)
    wide = frame.pivot(index="seed", columns="algorithm", values="P only")
    few, many = wide["S on P, P only"], wide["S on P, with P"]
    position = {a: (wide[a] - many.mean()) / (few.mean() - many.mean()) for a in ("S", "L-S")}
    rows = []
    for name, trained in (
        ("S on P, P only", "p0·N P-only examples (reference)"),
        ("S", "all N (claim: effectively p0·N)"),
        ("L-S", "all N (claim: effectively (1-q0)·N)"),
        ("S on P, with P", "(1-q0)·N examples containing P (reference)"),
    ):
        low, high = stats.mean_ci(wide[name])
        rows.append(
            {
                "algorithm": name,
                "trained on": trained,
                "P-only error": stats.mean_std(wide[name], digits=3),
                "95% CI": f"[{low:.3f}, {high:.3f}]",
                "position (0: (1-q0)·N, 1: p0·N)": (
                    stats.mean_std(position[name], digits=2) if name in position else ""
                ),
            }
        )
    return pd.DataFrame(rows)


def noise_table(noise_result, cfg: LearningOrderParams) -> pd.DataFrame:
    """Measured effective pre-activation noise on Q inputs beside S + noise's levels."""
    sigma = np.asarray(noise_result.payload["sigma"])
    low, high = stats.mean_ci(sigma)
    rows = [
        {
            "quantity": f"L-S: pre-activation noise on Q-only inputs after {cfg.noise_probe_steps} "
            "steps at eta_1 (twin runs)",
            "value": stats.mean_std(sigma, digits=3),
            "95% CI": f"[{low:.3f}, {high:.3f}]",
        }
    ]
    rows += [
        {
            "quantity": ("S + noise (matched)" if f == 1.0 else f"S + noise ×{f:g}")
            + ": pre-activation noise std",
            "value": f"{cfg.pre_noise * f:.3f}",
            "95% CI": "",
        }
        for f in cfg.pre_noise_factors
    ]
    return pd.DataFrame(rows)


def sweep_frame(sweep_results, cfg: LearningOrderParams, main_results=()) -> pd.DataFrame:
    """Final overall test error of L-S and S per N, and the paired gap S − L-S with its verdict.

    At the main N the sweep reuses the main runs' first `sweep_seeds` seeds (`main_results`).
    """
    results = [*sweep_results, *main_results]
    errors = final_errors(results, cfg)
    errors["N"] = [run["n_train"] for run in _n_of(results)]
    errors = errors[errors["algorithm"].isin(["L-S", "S"]) & (errors["seed"] < cfg.sweep_seeds)]
    rows = []
    for n, at_n in errors.groupby("N"):
        wide = at_n.pivot(index="seed", columns="algorithm", values="overall")
        row = {"N": n, "seeds": len(wide)}
        for algorithm in ("L-S", "S"):
            low, high = stats.mean_ci(wide[algorithm])
            row |= {
                f"{algorithm} error": wide[algorithm].mean(),
                f"{algorithm} CI low": low,
                f"{algorithm} CI high": high,
            }
        low, high = stats.difference_ci(wide["S"], wide["L-S"], paired=True)
        verdict = stats.compare(wide["S"], wide["L-S"], MIN_ERROR_GAP, paired=True)
        row |= {
            "gap S − L-S": (wide["S"] - wide["L-S"]).mean(),
            "gap CI low": low,
            "gap CI high": high,
            "verdict": verdict.label,
        }
        rows.append(row)
    return pd.DataFrame(rows)


def _n_of(results) -> list[dict]:
    return [
        {"n_train": result.config["n_train"]} for result in results for _ in result.payload["runs"]
    ]


# --- numbers the prose quotes, computed from the parameters ---------------------------------------


def setting_table(cfg: LearningOrderParams) -> pd.DataFrame:
    """The sizes and noise levels of this profile, with the stationary weight noise per
    coordinate at each rate (`theory.stationary_weight_noise`)."""
    noise = [
        theory.stationary_weight_noise(lr, cfg.weight_decay, cfg.grad_noise)
        for lr in (cfg.lr_large, cfg.lr_small)
    ]
    rows = [
        ("d", "dimension of each component", f"{cfg.d}"),
        ("N", "training examples", f"{cfg.n_train}"),
        ("p0·N", "P-only examples (what S learns P from)", f"{cfg.p0 * cfg.n_train:g}"),
        ("(1-q0)·N", "examples containing P (what L-S learns P from)",
         f"{(1 - cfg.q0) * cfg.n_train:g}"),
        ("τ_ξ", "std of the gradient noise", f"{cfg.grad_noise:g}"),
        ("λ", "weight decay", f"{cfg.weight_decay:g}"),
        ("η₁", "L-S's large rate", f"{cfg.lr_large:g}"),
        ("η₂", "the small rate", f"{cfg.lr_small:g}"),
        ("τ_ξ·sqrt(η₁/2λ)", "stationary weight noise at η₁", f"{noise[0]:.3g}"),
        ("τ_ξ·sqrt(η₂/2λ)", "stationary weight noise at η₂", f"{noise[1]:.3g}"),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["symbol", "meaning", "value"])


def cost(results) -> dict:
    """What the runs on this page cost, from the wall times in their provenance."""
    entries = [r for kind in results.values() for r in kind]
    seconds = sum(r.provenance.get("wall_time_s", 0.0) for r in entries)
    return {"units": len(entries), "hours": seconds / 3600}
