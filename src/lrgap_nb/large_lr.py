"""Large LR + anneal versus small LR on WRN-16 (Li, Wei & Ma 2019, Figure 1 and section 6).

Three methods on CIFAR-10 without augmentation: a large initial LR annealed by the official
multi-step schedule, a small LR throughout (same anneals, as the seed report trains "all models"
with them), and a small LR with pre-activation noise that is annealed at the first milestone.
Also the seed report's CIFAR-100 run (section 3.1) and its clean-data-size table, which asks
whether the patch experiment's small-LR model behaves like one trained on fewer images.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import field

import numpy as np
import pandas as pd

from .params import choice, non_negative, positive
from .report import mean_std


@dataclasses.dataclass(frozen=True)
class LargeLRParams:
    profile: str = field(metadata=choice("smoke", "cpu", "full"))
    seeds: tuple[int, ...] = field(metadata=non_negative())  # training seeds per method
    dataset: str = field(metadata=choice("cifar10", "cifar10_subset"))  # paper: cifar10
    train_subset: int | None = field(metadata=positive())  # images of the main runs (None: all)
    model: str  # paper: WRN-16 (official wideresnet16 = wrn16_10)
    model_width: int | None = field(metadata=positive())  # WRN base width (None: 16)
    epochs: int = field(metadata=positive())  # official: 200
    lr_milestones: tuple[int, ...] = field(metadata=non_negative())  # 0-based; official 59,119,149
    lr_factor: float = field(metadata=positive())  # official: 0.2 at every milestone
    lr_large: float = field(metadata=positive())  # official: 0.1
    lr_small: float = field(metadata=positive())  # seed report: 0.01
    noise: float = field(metadata=non_negative())  # pre-activation noise of small LR + noise
    noise_factor: float = field(metadata=non_negative())  # noise factor at the first milestone
    batch_size: int = field(metadata=positive())  # official: 128
    train_sizes: tuple[int, ...] = field(metadata=positive())  # clean-data-size sweep
    cifar100: bool  # also train the CIFAR-100 pair (needs the full download)
    workers: int = field(metadata=positive())  # parallel training processes (1 thread each)


_OFFICIAL = dict(
    lr_factor=0.2,
    lr_large=0.1,
    lr_small=0.01,
    noise=0.4,
    noise_factor=1e-5,
    batch_size=128,
)
DEFAULTS = {
    "smoke": {
        **_OFFICIAL,
        "seeds": (0,),
        "dataset": "cifar10_subset",
        "train_subset": 128,
        "model": "wrn16_1",
        "model_width": 4,
        "epochs": 2,
        "lr_milestones": (1,),
        "lr_factor": 0.1,
        "train_sizes": (64,),
        "cifar100": False,
        "workers": 1,
    },
    "cpu": {
        **_OFFICIAL,
        "seeds": (0, 1, 2),
        "dataset": "cifar10_subset",
        "train_subset": None,
        "model": "wrn16_1",
        "model_width": 4,
        "epochs": 12,  # 15 runs in about 6 minutes on 2 idle cores (4 epochs took 119 s)
        "lr_milestones": (6,),  # one anneal, at half
        "lr_factor": 0.1,  # so large LR ends at small LR's initial value
        "train_sizes": (1000,),
        "cifar100": False,
        "workers": 2,
    },
    "full": {
        **_OFFICIAL,
        "seeds": (0, 1, 2),
        "dataset": "cifar10",
        "train_subset": None,
        "model": "wrn16_10",
        "model_width": None,
        "epochs": 200,
        "lr_milestones": (59, 119, 149),
        "train_sizes": (10000,),
        "cifar100": True,
        "workers": 1,
    },
}

DATASET_SIZES = {"cifar10": 50_000, "cifar10_subset": 5_085, "cifar100": 50_000}
METHODS = ("large LR + anneal", "small LR", "small LR + noise")
PAPER_CIFAR10 = {"large LR + anneal": 90.41, "small LR": 84.93, "small LR + noise": 89.65}
PAPER_CIFAR100 = {"large LR + anneal": 71.90, "small LR": 66.35}  # seed report, section 3.1
# Seed report, section 3.1: clean CIFAR-10 validation accuracy (%) by training-set size.
PAPER_SIZES = {"large LR + anneal": {10_000: 76, 50_000: 90}, "small LR": {10_000: 65, 50_000: 83}}


def run_all(runs: Sequence, workers: int = 1) -> list:
    """Execute runs through the results cache, `workers` processes at a time, and return results.

    Uncached runs go to sweep's local pool of single-threaded workers (measured faster than one
    two-threaded process for these small convolutions on 2 shared cores); every result is then
    read back with `run.execute()`, a cache hit.
    """
    from . import sweep

    if workers > 1 and sum(run.lookup() is None for run in dict.fromkeys(runs)) > 1:
        pool = sweep.make_executor("local", workers)
        try:
            report = sweep.execute(runs, pool)
        finally:
            sweep.close_executor(pool)
        if report.counts()["failed"]:
            raise RuntimeError(report.summary())
    return [run.execute() for run in runs]


def _config(cfg: LargeLRParams, method: str, seed: int, **extra):
    from .train import TrainConfig

    lr = cfg.lr_large if method == "large LR + anneal" else cfg.lr_small
    noise = {}
    if method == "small LR + noise":
        noise = dict(
            noise=cfg.noise,
            noise_milestones=cfg.lr_milestones[:1],
            noise_factors=(cfg.noise_factor,) if cfg.lr_milestones else (),
        )
    return TrainConfig(
        model=cfg.model,
        model_width=cfg.model_width,
        dataset=extra.pop("dataset", cfg.dataset),
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=lr,
        momentum=0.9,
        nesterov=True,
        weight_decay=5e-4,
        lr_milestones=cfg.lr_milestones,
        lr_factors=(cfg.lr_factor,) if cfg.lr_milestones else (),
        augment=False,
        eval_batch_size=250,  # measured twice as fast as 1000 on CPU; same numbers
        seed=seed,
        **noise,
        **extra,
    )


def main_configs(cfg: LargeLRParams) -> dict[tuple[str, int], object]:
    """(method, seed) -> TrainConfig of the CIFAR-10 comparison (seed Figures 1 and 3)."""
    return {
        (method, seed): _config(cfg, method, seed, subset=cfg.train_subset)
        for method in METHODS
        for seed in cfg.seeds
    }


def _subset(size: int, cfg: LargeLRParams) -> int | None:
    """A training-set size as TrainConfig.subset: the whole set is None (shares the main runs)."""
    whole = cfg.train_subset or DATASET_SIZES[cfg.dataset]
    return None if size >= whole else size


def size_configs(cfg: LargeLRParams) -> dict[tuple[str, int, int], object]:
    """(method, size, seed) -> TrainConfig of the data-size sweep: random subsets, fixed epochs."""
    sizes = sorted({*cfg.train_sizes, cfg.train_subset or DATASET_SIZES[cfg.dataset]})
    return {
        (method, size, seed): _config(
            cfg, method, seed, subset=_subset(size, cfg), subset_mode="random", subset_seed=seed
        )
        if _subset(size, cfg) is not None
        else _config(cfg, method, seed, subset=cfg.train_subset)
        for method in ("large LR + anneal", "small LR")
        for size in sizes
        for seed in cfg.seeds
    }


def cifar100_configs(cfg: LargeLRParams) -> dict[tuple[str, int], object]:
    """(method, seed) -> TrainConfig of the seed report's WRN-16 CIFAR-100 pair (only if asked)."""
    if not cfg.cifar100:
        return {}
    return {
        (method, seed): _config(cfg, method, seed, dataset="cifar100")
        for method in ("large LR + anneal", "small LR")
        for seed in cfg.seeds
    }


def chapter_runs(cfg: LargeLRParams) -> list:
    """Every training run of the chapter, for `lrgap sweep` (main, size sweep, CIFAR-100)."""
    from .train import train_run

    configs = [*main_configs(cfg).values(), *size_configs(cfg).values()]
    configs += list(cifar100_configs(cfg).values())
    return [train_run(c) for c in dict.fromkeys(configs)]


def histories(configs: dict, results: dict) -> dict:
    """Key -> history table, from results keyed by TrainConfig."""
    from .train import history_frame

    return {key: history_frame(results[config]) for key, config in configs.items()}


def gap_verdict(ours: Sequence[float], reference: Sequence[float], paper_gap: float | None) -> str:
    """Direction and size of our gap (points, mean over seeds) beside the paper's, if it has one.

    "Inconclusive" when the gap is within two standard errors of the difference of the seed
    means; the size is "similar" within a factor of two of the paper's gap, else "larger"/"smaller".
    """
    gap = float(np.mean(ours) - np.mean(reference))
    text = f"gap {gap:+.1f}" + ("" if paper_gap is None else f" vs paper {paper_gap:+.1f}") + " pts"
    if len(ours) > 1 and len(reference) > 1:
        var = np.var(ours, ddof=1) / len(ours) + np.var(reference, ddof=1) / len(reference)
        se = float(np.sqrt(var))
        if abs(gap) < 2 * se:
            return f"inconclusive ({text}, within 2 s.e. = {2 * se:.1f})"
    else:
        text += ", one seed"
    if gap <= 0:
        return f"not reproduced ({text})"
    if paper_gap is None:
        return f"large LR ahead ({text})"
    if gap > 2 * paper_gap:
        size = "larger"
    elif gap >= paper_gap / 2:
        size = "similar size"
    else:
        size = "smaller"
    return f"direction reproduced ({text}, {size})"


def final_table(
    hist: dict[tuple[str, int], pd.DataFrame], paper: dict[str, float], scale: str
) -> pd.DataFrame:
    """Final validation accuracy (%) per method, mean ± std over seeds, beside the paper.

    The verdict compares each method's gap to small LR with the paper's gap.
    """
    finals = {
        method: [100 * h.iloc[-1]["test_acc"] for (m, _), h in hist.items() if m == method]
        for method in paper
    }
    rows = []
    for method in paper:
        rows.append(
            {
                "method": method,
                "paper val. acc. (%)": paper[method],
                "ours val. acc. (%)": mean_std(finals[method]),
                "ours train acc. (%)": mean_std(
                    [100 * h.iloc[-1]["train_acc"] for (m, _), h in hist.items() if m == method]
                ),
                "seeds": len(finals[method]),
                "scale": scale,
                "verdict": "reference"
                if method == "small LR"
                else gap_verdict(
                    finals[method], finals["small LR"], paper[method] - paper["small LR"]
                ),
            }
        )
    return pd.DataFrame(rows)


def empty_cifar100_table(reason: str) -> pd.DataFrame:
    """The CIFAR-100 table when it did not run: the paper's numbers and why ours is empty."""
    return pd.DataFrame(
        [
            {
                "method": method,
                "paper val. acc. (%)": value,
                "ours val. acc. (%)": "",
                "seeds": 0,
                "scale": "-",
                "verdict": f"not run: {reason}",
            }
            for method, value in PAPER_CIFAR100.items()
        ]
    )


def size_table(hist: dict[tuple[str, int, int], pd.DataFrame], scale: str) -> pd.DataFrame:
    """Final clean validation accuracy (%) by training-set size, with the paper's where it has one."""
    rows = []
    sizes = sorted({s for (_, s, _) in hist})
    for method in ("large LR + anneal", "small LR"):
        for size in sizes:
            accs = [
                100 * h.iloc[-1]["test_acc"]
                for (m, s, _), h in hist.items()
                if (m, s) == (method, size)
            ]
            rows.append(
                {
                    "method": method,
                    "train images": size,
                    "paper val. acc. (%)": PAPER_SIZES[method].get(size, ""),
                    "ours val. acc. (%)": mean_std(accs),
                    "seeds": len(accs),
                    "scale": scale,
                }
            )
    table = pd.DataFrame(rows)
    table["verdict"] = _size_verdicts(hist, sizes)
    return table


def _size_verdicts(hist: dict[tuple[str, int, int], pd.DataFrame], sizes: list[int]) -> list[str]:
    """Per size: is large LR ahead of small LR (the paper: by 11 pts at 10k, 7 at 50k)?"""

    def accs(method: str, size: int) -> list[float]:
        return [
            100 * h.iloc[-1]["test_acc"]
            for (m, s, _), h in hist.items()
            if (m, s) == (method, size)
        ]

    out = []
    for size in sizes:
        paper = PAPER_SIZES["large LR + anneal"].get(size)
        paper_gap = None if paper is None else paper - PAPER_SIZES["small LR"][size]
        out.append(gap_verdict(accs("large LR + anneal", size), accs("small LR", size), paper_gap))
    return out + ["reference"] * len(sizes)


def public(table: pd.DataFrame) -> pd.DataFrame:
    """The table without its helper columns (those starting with '_')."""
    return table[[c for c in table.columns if not c.startswith("_")]]


def pre_anneal_table(hist: dict[tuple[str, int], pd.DataFrame], anneal_epoch: int) -> pd.DataFrame:
    """Train and validation accuracy (%) at the first anneal: the paper says small LR leads there."""
    rows = []
    for method in METHODS:
        at = [
            h.loc[h["epoch"] == anneal_epoch].iloc[0] for (m, _), h in hist.items() if m == method
        ]
        rows.append(
            {
                "method": method,
                "epoch": anneal_epoch,
                "train acc. (%)": mean_std([100 * r["train_acc"] for r in at]),
                "val. acc. (%)": mean_std([100 * r["test_acc"] for r in at]),
                "_val": float(np.mean([r["test_acc"] for r in at])),
            }
        )
    return pd.DataFrame(rows)


def verdict(main: pd.DataFrame, pre: pd.DataFrame, sizes: pd.DataFrame) -> str:
    """The chapter's closing verdict, written from the numbers (Markdown)."""
    pre_val = dict(zip(pre["method"], 100 * pre["_val"], strict=True))
    lead = pre_val["small LR"] > pre_val["large LR + anneal"]
    lines = [
        f"- Before the first anneal (epoch {pre['epoch'].iloc[0]}) small LR is at "
        f"{pre_val['small LR']:.1f}% validation accuracy and large LR at "
        f"{pre_val['large LR + anneal']:.1f}%: "
        + (
            "small LR leads, as in Figure 1."
            if lead
            else "small LR does NOT lead here, so a final win of large LR is not the paper's "
            "phenomenon (a large LR that overtakes after the anneal) but faster early training."
        ),
    ]
    for method, text in zip(main["method"], main["verdict"], strict=True):
        if method != "small LR":
            lines.append(f"- Final accuracy, {method} versus small LR: {text}.")
    for _, row in sizes[sizes["method"] == "large LR + anneal"].iterrows():
        lines.append(f"- {row['train images']} clean training images: {row['verdict']}.")
    return "\n".join(lines)


def claims(main: pd.DataFrame, pre: pd.DataFrame, cifar100: pd.DataFrame, scale: str) -> list[dict]:
    """This chapter's rows of the book's summary table."""
    rows = main.set_index("method")
    pre_val = pre.set_index("method")["_val"]
    out = [
        {
            "claim": "WRN-16 CIFAR-10: small LR ahead before the first anneal (Figure 1)",
            "paper": "(figure only)",
            "ours": f"{pre.set_index('method').loc['small LR', 'val. acc. (%)']} vs "
            f"{pre.set_index('method').loc['large LR + anneal', 'val. acc. (%)']}",
            "scale": scale,
            "verdict": "reproduced"
            if pre_val["small LR"] > pre_val["large LR + anneal"]
            else "not reproduced",
        },
    ]
    out += [
        {
            "claim": f"WRN-16 CIFAR-10: {method} beats small LR",
            "paper": f"{PAPER_CIFAR10[method]} vs {PAPER_CIFAR10['small LR']}",
            "ours": f"{rows.loc[method, 'ours val. acc. (%)']} vs "
            f"{rows.loc['small LR', 'ours val. acc. (%)']}",
            "scale": scale,
            "verdict": rows.loc[method, "verdict"],
        }
        for method in ("large LR + anneal", "small LR + noise")
    ]
    c100 = cifar100.set_index("method")
    out.append(
        {
            "claim": "WRN-16 CIFAR-100: large LR + anneal beats small LR",
            "paper": f"{PAPER_CIFAR100['large LR + anneal']} vs {PAPER_CIFAR100['small LR']}",
            "ours": f"{c100.loc['large LR + anneal', 'ours val. acc. (%)']} vs "
            f"{c100.loc['small LR', 'ours val. acc. (%)']}",
            "scale": c100.loc["large LR + anneal", "scale"],
            "verdict": c100.loc["large LR + anneal", "verdict"],
        }
    )
    return out
