"""Li, Wei & Ma's patch-augmented CIFAR-10 (2019, section 6; official `data_util.py`).

One 3x7x7 vector z = sigma_z·N(0, I) is shared by every class and each class c has a small
pattern zeta_c ~ U[-beta, beta]^(3x7x7) (`pm_sym_pattern`). After normalisation a *mixed* example
has its centre 7x7 block overwritten by z ± zeta_label, with the sign redrawn every time it is
served; a *patch-only* example is zero except for z ± alpha·U(0, 1)·zeta_label
(`PatchAugmentFixed`). The patch is easy to memorise but, since z ± zeta_c overlap across classes
up to a small offset, hard to fit with a noisy (large-LR) model: the Q component of the paper's
distribution, while the CIFAR image is the P component. Which training examples are clean,
patch-only or mixed (20% / 16% / 64%) is fixed when the dataset is built.

The settings live in the dataset's name ("patch:base=cifar10,sigma_z=1.25,..."), so they enter a
TrainConfig's cache key and any worker process rebuilds the same data from the name.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from dataclasses import field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from . import data
from .large_lr import gap_verdict
from .params import choice, non_negative, positive
from .report import mean_std

CLEAN, PATCH_ONLY, MIXED = 0, 1, 2
KIND_NAMES = {CLEAN: "clean", PATCH_ONLY: "patch-only", MIXED: "mixed"}
PREFIX = "patch"


@dataclasses.dataclass(frozen=True)
class PatchConfig:
    """Every setting of the patch-augmented dataset (defaults: the official train_patches.py)."""

    base: str = "cifar10"  # the clean dataset the patches are added to
    sigma_z: float = 1.25  # --z_scale: std of the shared vector z
    beta: float = 0.1  # --patch_sep: zeta_c ~ U[-beta, beta]
    alpha: float = 1.75  # --patch_only_scale: patch-only examples use alpha·U(0,1)·zeta
    clean: float = 0.2  # fraction of clean examples (1 - prop_augment)
    patch_only: float = 0.16  # fraction of patch-only examples (0.8 · patch_only_prob 0.2)
    size: int = 7  # --patch_size
    seed: int = 2  # draws z, zeta, the index split and the patch-only labels (official --seed 2)
    n_patch_eval: int = 1000  # zero images in the patch-only validation set (official: 1000)

    def __post_init__(self) -> None:
        if not (0 <= self.clean and 0 <= self.patch_only and self.clean + self.patch_only <= 1):
            raise ValueError(f"fractions clean={self.clean}, patch_only={self.patch_only} invalid")
        if self.clean >= 1:
            raise ValueError("a patch dataset needs some patched examples (clean < 1)")

    @property
    def mixed(self) -> float:
        return 1.0 - self.clean - self.patch_only

    @property
    def name(self) -> str:
        """The dataset name that carries every setting: usable as TrainConfig.dataset."""
        items = ",".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self))
        return f"{PREFIX}:{items.replace(chr(39), '')}"

    @classmethod
    def from_name(cls, name: str) -> PatchConfig:
        prefix, _, settings = name.partition(":")
        if prefix != PREFIX:
            raise ValueError(f"{name!r} is not a patch dataset name")
        hints = typing.get_type_hints(cls)
        values = dict(item.split("=", 1) for item in settings.split(","))
        return cls(**{k: hints[k](v) for k, v in values.items()})


def patch_start(height: int, size: int) -> int:
    """First row (and column) of the centred patch: int(H/2 − size/2), 12 for CIFAR (rows 12–18)."""
    return int(height / 2 - size / 2)


def make_patterns(
    cfg: PatchConfig, channels: int, num_classes: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """z (C, s, s) = sigma_z·N(0, I), shared; zeta (K, C, s, s) ~ U[-beta, beta] (`pm_sym_pattern`)."""
    gen = torch.Generator().manual_seed(cfg.seed)
    z = cfg.sigma_z * torch.randn(channels, cfg.size, cfg.size, generator=gen)
    zeta = torch.empty(num_classes, channels, cfg.size, cfg.size)
    zeta.uniform_(-cfg.beta, cfg.beta, generator=gen)
    return z, zeta


def assign_kinds(n: int, clean: float, patch_only: float, seed: int) -> torch.Tensor:
    """Kind of each example (CLEAN / PATCH_ONLY / MIXED): exact fractions at seeded positions."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_clean, n_patch = round(clean * n), round(patch_only * n)
    kinds = torch.full((n,), MIXED, dtype=torch.int64)
    kinds[perm[:n_clean]] = CLEAN
    kinds[perm[n_clean : n_clean + n_patch]] = PATCH_ONLY
    return kinds


class PatchTransform:
    """The BatchTransform that adds the patches as examples are served (`PatchAugmentFixed`).

    Per served example it draws a sign ±1 and u ~ U(0, 1) from the epoch's generator (all
    examples draw both, so the stream does not depend on the kinds): mixed examples get
    z + sign·zeta_y in the centre block; patch-only examples are zeroed and get
    z + sign·alpha·u·zeta_y; clean examples pass unchanged.
    """

    def __init__(
        self,
        z: torch.Tensor,
        zeta: torch.Tensor,
        labels: torch.Tensor,
        kinds: torch.Tensor,
        alpha: float,
        start: int,
    ) -> None:
        self.alpha, self.start = alpha, start
        self._tensors = {"z": z, "zeta": zeta, "labels": labels.cpu(), "kinds": kinds}
        self._on: dict[torch.device, dict[str, torch.Tensor]] = {}

    @property
    def kinds(self) -> torch.Tensor:
        """The fixed kind of every example of the split (CLEAN / PATCH_ONLY / MIXED)."""
        return self._tensors["kinds"]

    def _tensors_on(self, dev: torch.device) -> dict[str, torch.Tensor]:
        if dev not in self._on:
            self._on[dev] = {k: v.to(dev) for k, v in self._tensors.items()}
        return self._on[dev]

    def __call__(self, x: torch.Tensor, idx: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        t = self._tensors_on(x.device)
        n, size = len(idx), t["z"].shape[-1]
        sign = torch.randint(0, 2, (n,), generator=gen, device=gen.device).to(x.device) * 2 - 1
        u = torch.rand(n, generator=gen, device=gen.device).to(x.device)
        idx = idx.to(x.device)
        kind, y = t["kinds"][idx], t["labels"][idx]
        scale = torch.where(kind == PATCH_ONLY, self.alpha * u, torch.ones_like(u)) * sign
        patch = t["z"] + scale[:, None, None, None] * t["zeta"][y]
        out = x.clone()
        out[kind == PATCH_ONLY] = 0.0
        rows = slice(self.start, self.start + size)
        keep = (kind != CLEAN)[:, None, None, None]
        out[:, :, rows, rows] = torch.where(keep, patch.to(x.dtype), out[:, :, rows, rows])
        return out


def patch_splits(splits: data.Splits, cfg: PatchConfig, num_classes: int) -> data.Splits:
    """The patch experiment's splits from a clean dataset's train and test splits.

    train: patched as in `PatchTransform` with the 20/16/64 kinds fixed here. test: the clean
    test set. mixed: the test images with the same mixture (kinds fixed with another seed).
    patch_only: `n_patch_eval` zero images with random labels, served through the same rule as
    the official TransformOnlyDataset: the alpha-scaled patch with probability
    patch_only / (1 − clean) (0.2), otherwise the full z ± zeta (a "mixed" zero image).
    """
    train, test = splits["train"], splits["test"]
    channels, height = train.x.shape[1], train.x.shape[2]
    z, zeta = make_patterns(cfg, channels, num_classes)
    start = patch_start(height, cfg.size)

    def served(split: data.TensorData, kinds: torch.Tensor) -> data.TensorData:
        return split.with_transform(PatchTransform(z, zeta, split.y, kinds, cfg.alpha, start))

    gen = torch.Generator().manual_seed(cfg.seed + 2)
    zeros = data.TensorData(
        torch.zeros((cfg.n_patch_eval, *train.x.shape[1:])),
        torch.randint(0, num_classes, (cfg.n_patch_eval,), generator=gen),
    )
    scaled = cfg.patch_only / (1.0 - cfg.clean)
    return {
        "train": served(train, assign_kinds(len(train), cfg.clean, cfg.patch_only, cfg.seed)),
        "test": test,
        "mixed": served(test, assign_kinds(len(test), cfg.clean, cfg.patch_only, cfg.seed + 1)),
        "patch_only": served(zeros, assign_kinds(cfg.n_patch_eval, 0.0, scaled, cfg.seed + 3)),
    }


def load_patched(cfg: PatchConfig, root: Path, download: bool, normalise: str) -> data.Splits:
    spec = data.dataset_spec(cfg.base)
    return patch_splits(spec.loader(root, download, normalise), cfg, spec.num_classes)


def _resolve(name: str) -> data.DatasetSpec:
    cfg = PatchConfig.from_name(name)
    spec = data.dataset_spec(cfg.base)
    return data.DatasetSpec(name, spec.num_classes, functools.partial(load_patched, cfg))


data.register_dataset_family(PREFIX, _resolve)


def served_examples(split: data.TensorData, per_kind: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `per_kind` examples of each kind, served as at evaluation (for the image grid)."""
    kinds = split.transform.kinds
    idx = torch.cat([torch.nonzero(kinds == k).flatten()[:per_kind] for k in KIND_NAMES])
    gen = torch.Generator(device=split.device).manual_seed(0)
    idx = idx.to(split.device)
    return split.transform(split.x[idx], idx, gen), kinds[idx.cpu()]


# --- the chapter -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PatchParams:
    profile: str = field(metadata=choice("smoke", "cpu", "full"))
    seeds: tuple[int, ...] = field(metadata=non_negative())  # training seeds per method
    dataset: str = field(metadata=choice("cifar10", "cifar10_subset"))  # clean base
    train_subset: int | None = field(metadata=positive())  # training images kept (None: all)
    model: str  # official: wideresnet16 = wrn16_10
    model_width: int | None = field(metadata=positive())  # WRN base width (None: 16)
    epochs: int = field(metadata=positive())  # official: 60
    anneal_epoch: int = field(metadata=non_negative())  # 0-based; official: 1-based epoch 30
    batch_size: int = field(metadata=positive())  # official: 128
    lr_large: float = field(metadata=positive())  # official: 0.1
    lr_small: float = field(metadata=positive())  # official: 0.004
    lr_factor: float = field(metadata=positive())  # official: 0.04 (0.1 -> 0.004)
    noise: float = field(metadata=non_negative())  # official: 0.4, pre-activation
    noise_factor: float = field(metadata=non_negative())  # official: 1e-5 (0.4 -> 4e-6)
    sigma_z: float = field(metadata=positive())  # official: 1.25
    beta: float = field(metadata=positive())  # official: 0.1
    alpha: float = field(metadata=positive())  # official: 1.75
    clean_frac: float = field(metadata=non_negative())  # official: 0.2
    patch_only_frac: float = field(metadata=non_negative())  # official: 0.16
    patch_seed: int = field(metadata=non_negative())  # official: 2
    n_patch_eval: int = field(metadata=positive())  # official: 1000
    workers: int = field(metadata=positive())  # parallel training processes (1 thread each)


_OFFICIAL = dict(
    batch_size=128,
    lr_large=0.1,
    lr_small=0.004,
    lr_factor=0.04,
    noise=0.4,
    noise_factor=1e-5,
    sigma_z=1.25,
    beta=0.1,
    alpha=1.75,
    clean_frac=0.2,
    patch_only_frac=0.16,
    patch_seed=2,
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
        "anneal_epoch": 1,
        "n_patch_eval": 200,
        "workers": 1,
    },
    "cpu": {
        **_OFFICIAL,
        "seeds": (0, 1, 2),
        "dataset": "cifar10_subset",
        "train_subset": None,
        "model": "wrn16_1",
        "model_width": 4,
        "epochs": 12,  # 9 runs in about 6 minutes on 2 idle cores (4 epochs took 122 s)
        "anneal_epoch": 6,
        "n_patch_eval": 500,
        "workers": 2,
    },
    "full": {
        **_OFFICIAL,
        "seeds": (0, 1, 2),
        "dataset": "cifar10",
        "train_subset": None,
        "model": "wrn16_10",
        "model_width": None,
        "epochs": 60,
        "anneal_epoch": 29,
        "n_patch_eval": 1000,
        "workers": 1,
    },
}

METHODS = ("large LR + anneal", "small LR", "small LR + noise")
# Seed report, section 3.1: final mixed / clean validation accuracy (%), 60 epochs, WRN-16.
PAPER_FINAL = {
    "large LR + anneal": (95.35, 87.61),
    "small LR": (92.83, 69.89),
    "small LR + noise": (94.43, 81.36),
}
EVAL_SETS = ("test", "mixed", "patch_only")


def patch_config(cfg: PatchParams) -> PatchConfig:
    return PatchConfig(
        base=cfg.dataset,
        sigma_z=cfg.sigma_z,
        beta=cfg.beta,
        alpha=cfg.alpha,
        clean=cfg.clean_frac,
        patch_only=cfg.patch_only_frac,
        seed=cfg.patch_seed,
        n_patch_eval=cfg.n_patch_eval,
    )


def train_configs(cfg: PatchParams) -> dict[tuple[str, int], object]:
    """(method, seed) -> TrainConfig: the official three methods, SGD Nesterov, wd 5e-4, no aug."""
    from .train import TrainConfig

    common = dict(
        model=cfg.model,
        model_width=cfg.model_width,
        dataset=patch_config(cfg).name,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        momentum=0.9,
        nesterov=True,
        weight_decay=5e-4,
        subset=cfg.train_subset,
        eval_sets=EVAL_SETS,
        eval_batch_size=250,  # measured twice as fast as 1000 on CPU; same numbers
    )
    anneal = dict(lr_milestones=(cfg.anneal_epoch,), lr_factors=(cfg.lr_factor,))
    noisy = dict(
        noise=cfg.noise, noise_milestones=(cfg.anneal_epoch,), noise_factors=(cfg.noise_factor,)
    )
    methods = {
        "large LR + anneal": dict(lr=cfg.lr_large, **anneal),
        "small LR": dict(lr=cfg.lr_small),
        "small LR + noise": dict(lr=cfg.lr_small, **noisy),
    }
    return {
        (method, seed): TrainConfig(**common, **extra, seed=seed)
        for method, extra in methods.items()
        for seed in cfg.seeds
    }


def chapter_runs(cfg: PatchParams) -> list:
    """Every training run of the chapter, for `lrgap sweep` (3 methods × seeds)."""
    from .train import train_run

    return [train_run(config) for config in train_configs(cfg).values()]


def final_table(histories: dict[tuple[str, int], pd.DataFrame], scale: str) -> pd.DataFrame:
    """Final mixed / clean / patch-only accuracy (%), mean ± std over seeds, beside the paper."""
    rows = []
    for method in METHODS:
        finals = [h.iloc[-1] for (m, _), h in histories.items() if m == method]
        paper_mixed, paper_clean = PAPER_FINAL[method]
        rows.append(
            {
                "method": method,
                "paper mixed (%)": paper_mixed,
                "ours mixed (%)": mean_std([100 * f["mixed_acc"] for f in finals]),
                "paper clean (%)": paper_clean,
                "ours clean (%)": mean_std([100 * f["test_acc"] for f in finals]),
                "ours patch-only (%)": mean_std([100 * f["patch_only_acc"] for f in finals]),
                "seeds": len(finals),
                "scale": scale,
            }
        )
    table = pd.DataFrame(rows)
    table["verdict"] = verdicts(histories)
    return table


def verdicts(histories: dict[tuple[str, int], pd.DataFrame]) -> list[str]:
    """Per method: its clean-accuracy gap to small LR beside the seed report's."""
    clean = {
        method: [100 * h.iloc[-1]["test_acc"] for (m, _), h in histories.items() if m == method]
        for method in METHODS
    }
    return [
        "reference"
        if method == "small LR"
        else gap_verdict(
            clean[method], clean["small LR"], PAPER_FINAL[method][1] - PAPER_FINAL["small LR"][1]
        )
        for method in METHODS
    ]


def public(table: pd.DataFrame) -> pd.DataFrame:
    """The table without its helper columns (those starting with '_')."""
    return table[[c for c in table.columns if not c.startswith("_")]]


def before_anneal_table(
    histories: dict[tuple[str, int], pd.DataFrame], anneal_epoch: int
) -> pd.DataFrame:
    """Accuracies after `anneal_epoch` epochs, just before the anneal (Figure 5's left half).

    The paper's mechanism: small LR memorises the patch first (high patch-only accuracy) and so
    learns less from the images; the large LR cannot fit the patch until the anneal.
    """
    rows = []
    for method in METHODS:
        at = [
            h.loc[h["epoch"] == anneal_epoch].iloc[0]
            for (m, _), h in histories.items()
            if m == method
        ]
        rows.append(
            {
                "method": method,
                "patch-only (%)": mean_std([100 * r["patch_only_acc"] for r in at]),
                "clean (%)": mean_std([100 * r["test_acc"] for r in at]),
                "_patch": float(np.mean([r["patch_only_acc"] for r in at])),
            }
        )
    return pd.DataFrame(rows)


def verdict(table: pd.DataFrame, before: pd.DataFrame, anneal_epoch: int) -> str:
    """The chapter's closing verdict, from the numbers (Markdown)."""
    pre = dict(zip(before["method"], 100 * before["_patch"], strict=True))
    fast = pre["small LR"] > max(pre["large LR + anneal"], pre["small LR + noise"])
    lines = [
        f"- Patch-only accuracy after {anneal_epoch} epochs (before the anneal): "
        + ", ".join(f"{m} {v:.1f}%" for m, v in pre.items())
        + (
            ": small LR memorises the patch first, as in the paper's Figure 5."
            if fast
            else ": small LR does NOT memorise the patch first here, so a clean-accuracy gap "
            "here is not evidence for the paper's learning-order mechanism."
        ),
    ]
    for method, text in zip(table["method"], table["verdict"], strict=True):
        if method != "small LR":
            lines.append(f"- {method} versus small LR on clean images: {text}.")
    return "\n".join(lines)


def claims(table: pd.DataFrame, before: pd.DataFrame, profile: str, scale: str) -> list[dict]:
    """This chapter's rows of the book's summary table: the mechanism first, then the outcome."""
    rows = table.set_index("method")
    pre = before.set_index("method")
    fast = pre.loc["small LR", "_patch"] > max(
        pre.loc["large LR + anneal", "_patch"], pre.loc["small LR + noise", "_patch"]
    )
    out = [
        {
            "claim": "patch CIFAR-10: small LR memorises the patch before the anneal (Figure 5)",
            "paper": "(figure only)",
            "ours": f"patch-only {pre.loc['small LR', 'patch-only (%)']} vs "
            f"{pre.loc['large LR + anneal', 'patch-only (%)']} (large LR)",
            "scale": f"{scale} ({profile})",
            "verdict": "reproduced" if fast else "not reproduced",
        }
    ]
    return out + [
        {
            "claim": f"patch CIFAR-10: {method} beats small LR on clean images",
            "paper": f"{PAPER_FINAL[method][1]} vs {PAPER_FINAL['small LR'][1]}",
            "ours": f"{rows.loc[method, 'ours clean (%)']} vs {rows.loc['small LR', 'ours clean (%)']}",
            "scale": f"{scale} ({profile})",
            "verdict": rows.loc[method, "verdict"],
        }
        for method in ("large LR + anneal", "small LR + noise")
    ]
