"""The large-batch chapter's claims, one function per claim, judged by `lrgap_nb.claims` (no torch).

Every claim rests on the paper's premise, whatever the profile: the SB and LB solutions are
minimisers at 99% train accuracy or more (Keskar et al. 2017, Table 2), so a profile that trains
to a lower gate gets "precondition not met", never a verdict. A run that failed its own protocol
(stopped at the epoch cap below its gate, diverged, ended at or above the chance loss) makes every
claim using it "precondition not met" with the reason. Sharpness is a ratio claim, judged on
ln(LB / SB) with a minimum effect of a factor SHARPER_FACTOR.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from lrgap_nb import claims as engine
from lrgap_nb import stats

from .params import (
    EXTRA_NETWORK_DATA,
    NETWORKS,
    PAPER_ACCURACY,
    PAPER_SHARPNESS,
    REPORT_NETWORKS,
    REPORT_OPTIMIZERS,
    LargeBatchParams,
    network_width,
)

CHAPTER = "large_batch"
PAPER_GATE = 99.0  # percent train accuracy: every solution of Keskar's Table 2 is a minimiser
SHARPER_FACTOR = 2.0  # minimum effect of a sharpness claim: LB / SB at least this
GAP_SHARE = 0.5  # minimum effect of an accuracy gap: half the paper's gap for that network
LONGER_EFFECT = 0.1  # points: minimum effect of training LB to the gate instead of SB's epochs
FLOOR = 1e-12  # phi or an eigenvalue at or below zero counts as this on the log scale
TABLE2 = "Keskar et al. 2017, Table 2; survey report Fig. 7"
TABLE3 = "Keskar et al. 2017, Table 3; survey report Fig. 9"
TABLE4 = "Keskar et al. 2017, Table 4 (not copied by the survey report)"
SECTION32 = "survey report, section 3.2"
ADDED_SEEDS = (
    "seeds {added} were added after the first {first} read {early}: optional stopping, so the "
    "interval is wider than it reads"
)


def not_run_reason(network: str, cfg: LargeBatchParams) -> str:
    """Why `network` of Keskar's Table 2 has no runs at this profile."""
    if network == "f2":
        return "TIMIT features are licensed (LDC93S1) and not provided"
    if network in ("c2", "c3", "c4"):
        return f"needs full CIFAR and a GPU (not in profile {cfg.profile})"
    return f"not in profile {cfg.profile}"


def scale(cfg: LargeBatchParams, runs: pd.DataFrame) -> str:
    """What ran for one network and optimizer, in one line."""
    first = runs.iloc[0]
    width = network_width(first["network"], cfg)
    network = first["network"].upper() + ("" if width is None else f" at width {width}")
    return (
        f"{cfg.profile}: {network} ({first['optimizer']}) on {first['dataset']} "
        f"({int(first['train size']):,} train), batches {int(first['SB batch'])} / "
        f"{int(first['LB batch'])}, {len(runs)} seeds"
    )


def premises(runs: pd.DataFrame, labels: Sequence[str] = ("SB", "LB")) -> list[engine.Premise]:
    """The paper's 99% train accuracy at every solution, and every run's own protocol."""
    lowest = min(float(runs[f"train {label}"].min()) for label in labels)
    failures = [
        f"{label} seed {seed}: {failure}"
        for label in labels
        for seed, found in zip(runs["seed"], runs[f"{label} failures"], strict=True)
        for failure in found
    ]
    return [
        engine.Premise.at_least("train accuracy (lowest run)", lowest, PAPER_GATE, "%"),
        engine.Premise.run_protocol("runs followed their protocol", failures),
    ]


def _paper_pm(pair: tuple[float, float]) -> str:
    return f"{pair[0]:.2f} ± {pair[1]:.2f}"


def lb_tests_worse(cfg: LargeBatchParams, runs: pd.DataFrame) -> engine.Claim:
    """Keskar's headline (Table 2; with SGD and AdaGrad, the survey report's 3.2): at the same
    train accuracy, LB tests worse, by at least half the paper's gap (paired by seed)."""
    network, optimizer = runs["network"].iloc[0], runs["optimizer"].iloc[0]
    if optimizer == "adam" and network in PAPER_ACCURACY:
        paper = PAPER_ACCURACY[network]
        sb, lb = paper["test SB"], paper["test LB"]
        paper_text, gap, source = f"{_paper_pm(sb)} vs {_paper_pm(lb)} %", sb[0] - lb[0], TABLE2
    else:
        table = REPORT_OPTIMIZERS if network == "f1" else REPORT_NETWORKS
        sb, lb = table[optimizer if network == "f1" else network]
        source = SECTION32
        if lb is None:  # AdaGrad: the report has no LB; half of F1's gap with Adam
            adam = REPORT_OPTIMIZERS["adam"]
            paper_text, gap = f"{sb:.2f} vs — % (the report did not run LB)", adam[0] - adam[1]
        else:
            paper_text, gap = f"{sb:.2f} vs {lb:.2f} %", sb - lb
    label = network.upper() if optimizer == "adam" else f"{network.upper()} with {optimizer}"
    return engine.judge(
        CHAPTER,
        f"{label}: large batch (10% of the data) tests worse than the small batch, both at 99% "
        "train accuracy (fixed LR)",
        source=source,
        paper=paper_text,
        values={"test SB": list(runs["test SB"]), "test LB": list(runs["test LB"])},
        seeds=list(runs["seed"]),
        scale=scale(cfg, runs),
        rule=engine.difference("test SB", "test LB", GAP_SHARE * gap, " pts"),
        premises=premises(runs),
    )


def _log_ratio_claim(
    cfg: LargeBatchParams,
    runs: pd.DataFrame,
    statement: str,
    sb: Sequence[float],
    lb: Sequence[float],
    seeds: Sequence[int],
    *,
    source: str,
    paper: str,
    digits: int,
) -> engine.Claim:
    """LB / SB at least SHARPER_FACTOR, judged on the paired ln ratio across seeds."""
    sb, lb = np.asarray(sb, dtype=float), np.asarray(lb, dtype=float)
    log_sb, log_lb = np.log(np.maximum(sb, FLOOR)), np.log(np.maximum(lb, FLOOR))
    ratio = float(np.exp(np.mean(log_lb - log_sb))) if len(sb) else float("nan")
    return engine.judge(
        CHAPTER,
        statement,
        source=source,
        paper=paper,
        values={"ln LB": list(log_lb), "ln SB": list(log_sb), "SB": list(sb), "LB": list(lb)},
        seeds=seeds,
        scale=scale(cfg, runs),
        rule=engine.difference("ln LB", "ln SB", math.log(SHARPER_FACTOR)),
        premises=premises(runs),
        ours_text=f"{stats.mean_std(sb, digits)} vs {stats.mean_std(lb, digits)} "
        f"(geometric mean LB / SB ×{ratio:.1f})",
    )


def lb_sharper(
    cfg: LargeBatchParams, runs: pd.DataFrame, sharp: pd.DataFrame, space: str, epsilon: float
) -> engine.Claim:
    """Keskar's Tables 3 (full space) and 4 (subspace): LB's phi at least twice SB's."""
    network = runs["network"].iloc[0]
    at = sharp[(sharp["network"] == network) & (sharp["space"] == space)]
    at = at[at["epsilon"] == epsilon]
    side = {b: at[at["batch"] == b].sort_values("seed") for b in ("SB", "LB")}
    paper = ""
    if space == "full":
        sb, lb = PAPER_SHARPNESS[network][epsilon]
        paper = f"{_paper_pm(sb)} vs {_paper_pm(lb)}"
    where = "full space" if space == "full" else "random subspace"
    return _log_ratio_claim(
        cfg,
        runs,
        f"{network.upper()}: the LB minimum is sharper, phi at least {SHARPER_FACTOR:g} times "
        f"SB's (epsilon {epsilon:g}, {where})",
        side["SB"]["phi"],
        side["LB"]["phi"],
        list(side["SB"]["seed"]),
        source=TABLE3 if space == "full" else TABLE4,
        paper=paper,
        digits=3,
    )


def lb_larger_eigenvalue(
    cfg: LargeBatchParams, runs: pd.DataFrame, eigen: pd.DataFrame
) -> engine.Claim:
    """Beyond the paper: the quantity phi stands in for, the top Hessian eigenvalue."""
    network = runs["network"].iloc[0]
    at = eigen[eigen["network"] == network].sort_values("seed")
    return _log_ratio_claim(
        cfg,
        runs,
        f"{network.upper()}: LB has the larger top Hessian eigenvalue, at least "
        f"{SHARPER_FACTOR:g} times SB's (beyond the paper)",
        at["SB"],
        at["LB"],
        list(at["seed"]),
        source="beyond the paper (Keskar et al. 2017, section 2: what Metric 2.1 stands in for)",
        paper="",
        digits=2,
    )


def longer_lb_training_helps(cfg: LargeBatchParams, runs: pd.DataFrame) -> engine.Claim:
    """Hoffer et al.'s control: LB trained to the gate tests better than LB for SB's epochs."""
    network = runs["network"].iloc[0]
    return engine.judge(
        CHAPTER,
        f"{network.upper()}: training LB to the gate rather than for SB's epochs raises its test "
        "accuracy (fewer updates explain part of the gap)",
        source="Hoffer et al. 2017 (a control beyond Keskar et al.)",
        paper="",
        values={"test LB": list(runs["test LB"]), "test LB (SB's epochs)": list(
            runs["test LB (SB's epochs)"])},
        seeds=list(runs["seed"]),
        scale=scale(cfg, runs),
        rule=engine.difference("test LB", "test LB (SB's epochs)", LONGER_EFFECT, " pts"),
        premises=premises(runs, ("LB",)),
    )  # fmt: skip


def not_run_network(cfg: LargeBatchParams, network: str) -> engine.Claim:
    """A network of Keskar's Table 2 this profile does not train."""
    sb, lb = PAPER_ACCURACY[network]["test SB"], PAPER_ACCURACY[network]["test LB"]
    return engine.not_run(
        CHAPTER,
        f"{network.upper()}: large batch (10% of the data) tests worse than the small batch, "
        "both at 99% train accuracy (fixed LR)",
        source=TABLE2,
        paper=f"{_paper_pm(sb)} vs {_paper_pm(lb)} %",
        why=not_run_reason(network, cfg),
        rule=engine.difference("test SB", "test LB", GAP_SHARE * (sb[0] - lb[0]), " pts"),
    )


def not_run_extra_network(cfg: LargeBatchParams, network: str) -> engine.Claim:
    """A network of the survey report's 3.2 this profile does not train."""
    sb, lb = REPORT_NETWORKS[network]
    dataset = EXTRA_NETWORK_DATA[network]
    return engine.not_run(
        CHAPTER,
        f"{network}: large batch tests worse than the small batch (Adam, fixed LR)",
        source=SECTION32,
        paper=f"{sb:.2f} vs {lb:.2f} %",
        why=f"full {dataset} to 99% train accuracy is days on this 2-core CPU; it needs a GPU "
        f"(not in profile {cfg.profile})",
        rule=engine.difference("test SB", "test LB", GAP_SHARE * (sb - lb), " pts"),
    )


def claims(
    cfg: LargeBatchParams, frame: pd.DataFrame, sharp: pd.DataFrame, eigen: pd.DataFrame
) -> list[engine.Claim]:
    """Every claim of the chapter, judged (see `judged`). Where a profile gives a network more
    seeds than the chapter's first ones (`seeds`, `extra_seeds`), each claim is judged on the
    first ones too: one whose verdict the added seeds changed is labelled exploratory, since
    seeds were added after those verdicts were seen."""
    first = _first_seeds(cfg, frame)
    judged_all = judged(cfg, frame, sharp, eigen)
    if len(first) == len(frame):
        return judged_all
    seeds = set(cfg.seeds)
    early = {
        c.statement: c
        for c in judged(
            cfg, first, sharp[sharp["seed"].isin(seeds)], eigen[eigen["seed"].isin(seeds)]
        )
    }
    out = []
    for claim in judged_all:
        before = early[claim.statement]
        if before.seeds != claim.seeds and before.verdict.label != claim.verdict.label:
            added = ", ".join(str(s) for s in claim.seeds if s not in before.seeds)
            note = ADDED_SEEDS.format(
                added=added, first=len(before.seeds), early=f"'{before.verdict.label}'"
            )
            claim = dataclasses.replace(claim, exploratory=note)
        out.append(claim)
    return out


def _first_seeds(cfg: LargeBatchParams, frame: pd.DataFrame) -> pd.DataFrame:
    """The runs at the chapter's first seeds: `seeds` with Adam, `extra_seeds` otherwise."""
    adam = frame["optimizer"] == "adam"
    keep = (adam & frame["seed"].isin(cfg.seeds)) | (~adam & frame["seed"].isin(cfg.extra_seeds))
    return frame[keep]


def judged(
    cfg: LargeBatchParams, frame: pd.DataFrame, sharp: pd.DataFrame, eigen: pd.DataFrame
) -> list[engine.Claim]:
    """Every claim of the chapter: the gaps of Table 2, the sharpness of Tables 3-4, the top
    eigenvalue, Hoffer's control, the survey report's optimizers and networks."""
    runs = {
        key: at.sort_values("seed")
        for key, at in frame.groupby(["network", "optimizer"], sort=False)
    }
    adam = [(n, runs[(n, "adam")]) for n in NETWORKS if (n, "adam") in runs]
    out = [lb_tests_worse(cfg, at) for _, at in adam]
    out += [not_run_network(cfg, n) for n in NETWORKS if (n, "adam") not in runs]
    for space in ("full", "subspace"):
        for eps in sorted(cfg.epsilons, reverse=True):
            out += [
                lb_sharper(cfg, at, sharp, space, eps)
                for n, at in adam
                if len(sharp) and ((sharp["network"] == n) & (sharp["space"] == space)).any()
            ]
    out += [lb_larger_eigenvalue(cfg, at, eigen) for n, at in adam if (eigen["network"] == n).any()]
    out += [
        longer_lb_training_helps(cfg, at)
        for _, at in adam
        if "test LB (SB's epochs)" in at and at["test LB (SB's epochs)"].notna().all()
    ]
    out += [lb_tests_worse(cfg, runs[("f1", o)]) for o in cfg.extra_optimizers if ("f1", o) in runs]
    for network in EXTRA_NETWORK_DATA:
        if (network, "adam") in runs:
            out.append(lb_tests_worse(cfg, runs[(network, "adam")]))
        else:
            out.append(not_run_extra_network(cfg, network))
    return out
