"""Li, Wei & Ma's patch-augmented CIFAR-10 (2019, section 6; official `data_util.py`).

One 3x7x7 vector z = sigma_z·N(0, I) is shared by every class and each class c has a small
pattern zeta_c ~ U[-beta, beta]^(3x7x7) (`pm_sym_pattern`). After normalisation a *mixed* example
has its centre 7x7 block overwritten by z ± zeta_label, with the sign redrawn every time it is
served; a *patch-only* example is zero except for z ± alpha·U(0, 1)·zeta_label. The patch is
easy for a small-LR model to memorise, but since z ± zeta_c differ across classes only by a small
offset, a noisy (large-LR) model cannot fit it: the Q component of the paper's distribution,
while the CIFAR image is the P component.

As in the official `PatchAugmentFixed`, which images carry a patch (80%) is fixed when the set is
built, and whether a patched image is served patch-only is redrawn at every serve with
probability `patch_only_prob` (0.2; official `if np.random.random() > patch_only_prob` serves it
mixed), so every patched image shows its CIFAR content in 80% of serves.

The settings live in the dataset's name ("patch:base=cifar10,sigma_z=1.25,..."), so they enter a
TrainConfig's cache key and any worker process rebuilds the same data from the name.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from pathlib import Path

import torch

from lrgap_nb import data

CLEAN, PATCHED = 0, 1  # fixed at build
SERVED_CLEAN, PATCH_ONLY, MIXED = 0, 1, 2  # drawn at every serve
KIND_NAMES = {SERVED_CLEAN: "clean", PATCH_ONLY: "patch-only", MIXED: "mixed"}
PREFIX = "patch"


@dataclasses.dataclass(frozen=True)
class PatchConfig:
    """Every setting of the patch-augmented dataset (defaults: the official train_patches.py)."""

    base: str = "cifar10"  # the clean dataset the patches are added to
    sigma_z: float = 1.25  # --z_scale: std of the shared vector z
    beta: float = 0.1  # --patch_sep: zeta_c ~ U[-beta, beta]
    alpha: float = 1.75  # --patch_only_scale: patch-only examples use alpha·U(0,1)·zeta
    clean: float = 0.2  # fraction of clean examples, fixed at build (1 - prop_augment)
    patch_only_prob: float = 0.2  # a patched example is served patch-only with this probability
    size: int = 7  # --patch_size
    seed: int = 2  # draws z, zeta, the clean/patched split and the patch-only labels (--seed 2)
    n_patch_eval: int = 1000  # zero images in the patch-only validation set (official: 1000)

    def __post_init__(self) -> None:
        if not (0 <= self.clean < 1 and 0 <= self.patch_only_prob <= 1):
            raise ValueError(
                f"clean={self.clean} must be in [0, 1) (some images carry the patch) and "
                f"patch_only_prob={self.patch_only_prob} in [0, 1]"
            )

    @property
    def expected_fractions(self) -> dict[str, float]:
        """Expected share of each served kind: 20% clean, 16% patch-only, 64% mixed officially."""
        patched = 1.0 - self.clean
        only = patched * self.patch_only_prob
        return {"clean": self.clean, "patch-only": only, "mixed": patched - only}

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


def assign_patched(n: int, clean: float, seed: int) -> torch.Tensor:
    """CLEAN or PATCHED per example, fixed: exactly round(clean·n) clean, at seeded positions."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    kinds = torch.full((n,), PATCHED, dtype=torch.int64)
    kinds[perm[: round(clean * n)]] = CLEAN
    return kinds


class PatchTransform:
    """The BatchTransform that adds the patches as examples are served (`PatchAugmentFixed`).

    Per served example it draws a sign ±1, u ~ U(0, 1) and r ~ U(0, 1) from the epoch's
    generator (every example draws all three, so the stream does not depend on the kinds). A
    patched example with r < patch_only_prob is zeroed and gets z + sign·alpha·u·zeta_y, any
    other patched example gets z + sign·zeta_y in the centre block; clean examples pass unchanged.
    """

    def __init__(
        self,
        z: torch.Tensor,
        zeta: torch.Tensor,
        labels: torch.Tensor,
        kinds: torch.Tensor,
        alpha: float,
        patch_only_prob: float,
        start: int,
    ) -> None:
        self.alpha, self.patch_only_prob, self.start = alpha, patch_only_prob, start
        self._tensors = {"z": z, "zeta": zeta, "labels": labels.cpu(), "kinds": kinds}
        self._on: dict[torch.device, dict[str, torch.Tensor]] = {}

    @property
    def kinds(self) -> torch.Tensor:
        """The fixed kind of every example of the split (CLEAN / PATCHED)."""
        return self._tensors["kinds"]

    def _tensors_on(self, dev: torch.device) -> dict[str, torch.Tensor]:
        if dev not in self._on:
            self._on[dev] = {k: v.to(dev) for k, v in self._tensors.items()}
        return self._on[dev]

    def serve(
        self, x: torch.Tensor, idx: torch.Tensor, gen: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The served batch and each example's served kind (SERVED_CLEAN / PATCH_ONLY / MIXED)."""
        t = self._tensors_on(x.device)
        n, size = len(idx), t["z"].shape[-1]
        sign = torch.randint(0, 2, (n,), generator=gen, device=gen.device).to(x.device) * 2 - 1
        u = torch.rand(n, generator=gen, device=gen.device).to(x.device)
        r = torch.rand(n, generator=gen, device=gen.device).to(x.device)
        idx = idx.to(x.device)
        patched, y = t["kinds"][idx] == PATCHED, t["labels"][idx]
        only = patched & (r < self.patch_only_prob)
        served = torch.where(only, PATCH_ONLY, torch.where(patched, MIXED, SERVED_CLEAN))
        scale = torch.where(only, self.alpha * u, torch.ones_like(u)) * sign
        patch = t["z"] + scale[:, None, None, None] * t["zeta"][y]
        out = x.clone()
        out[only] = 0.0
        rows = slice(self.start, self.start + size)
        keep = patched[:, None, None, None]
        out[:, :, rows, rows] = torch.where(keep, patch.to(x.dtype), out[:, :, rows, rows])
        return out, served

    def __call__(self, x: torch.Tensor, idx: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return self.serve(x, idx, gen)[0]


def patch_splits(splits: data.Splits, cfg: PatchConfig, num_classes: int) -> data.Splits:
    """The patch experiment's splits from a clean dataset's train and test splits.

    train: served through `PatchTransform`, 20% of the images clean (fixed here). test: the
    clean test set. mixed: the test images with the same mixture (clean ones fixed with another
    seed). patch_only: `n_patch_eval` zero images with random labels, all patched, so each serve
    is the alpha-scaled patch with probability patch_only_prob, otherwise the full z ± zeta, as
    the official TransformOnlyDataset.
    """
    train, test = splits["train"], splits["test"]
    channels, height = train.x.shape[1], train.x.shape[2]
    z, zeta = make_patterns(cfg, channels, num_classes)
    start = patch_start(height, cfg.size)

    def served(split: data.TensorData, clean: float, seed: int) -> data.TensorData:
        kinds = assign_patched(len(split), clean, seed)
        transform = PatchTransform(z, zeta, split.y, kinds, cfg.alpha, cfg.patch_only_prob, start)
        return split.with_transform(transform)

    gen = torch.Generator().manual_seed(cfg.seed + 2)
    zeros = data.TensorData(
        torch.zeros((cfg.n_patch_eval, *train.x.shape[1:])),
        torch.randint(0, num_classes, (cfg.n_patch_eval,), generator=gen),
    )
    return {
        "train": served(train, cfg.clean, cfg.seed),
        "test": test,
        "mixed": served(test, cfg.clean, cfg.seed + 1),
        "patch_only": served(zeros, 0.0, cfg.seed + 3),
    }


def load_patched(cfg: PatchConfig, root: Path, download: bool, normalise: str) -> data.Splits:
    spec = data.dataset_spec(cfg.base)
    return patch_splits(spec.loader(root, download, normalise), cfg, spec.num_classes)


def _resolve(name: str) -> data.DatasetSpec:
    cfg = PatchConfig.from_name(name)
    spec = data.dataset_spec(cfg.base)
    return data.DatasetSpec(
        name, spec.num_classes, functools.partial(load_patched, cfg), spec.files
    )


data.register_dataset_family(PREFIX, _resolve)


def served_examples(split: data.TensorData, per_kind: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `per_kind` examples served as each kind at evaluation (for the image grid)."""
    idx = torch.arange(len(split), device=split.device)
    gen = torch.Generator(device=split.device).manual_seed(0)
    x, kinds = split.transform.serve(split.x, idx, gen)
    pick = torch.cat([torch.nonzero(kinds == k).flatten()[:per_kind] for k in KIND_NAMES])
    return x[pick], kinds[pick].cpu()
