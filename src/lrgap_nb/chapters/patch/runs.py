"""What the patch chapter trains: a calibration of the small LR and the patch strength, three
methods, clean references.

Every run is a "patch_train" Run: lrgap_nb.train's runner, called from this module so that any
worker process first registers the "patch:..." dataset names. With `calibration_lrs` and
`calibration_betas`, the small LR and the patch strength are searched in turn on the calibration
seed: `chapter_runs` lists the calibration runs up to the first one not yet cached, and
`lrgap sweep patch` lists again after each, walking the search, then training the chosen setting.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from lrgap_nb import train
from lrgap_nb.datasets import train_size
from lrgap_nb.runs import Run, cached_histories
from lrgap_nb.train import TrainConfig, history_frame

from . import tables
from .dataset import PatchConfig
from .params import EVAL_SETS, LARGE, METHODS, NOISE, SMALL, PatchParams


def train_payload(config: TrainConfig) -> dict[str, Any]:
    """lrgap_nb.train's runner, after registering the patch datasets in this process."""
    return train.train_payload(config)


# The "patch_train" kind: lrgap_nb.train's computation on this chapter's datasets. Its version
# follows train.PROTOCOL (hundreds) and the patch construction in dataset.py (units): bump the
# units when the served patches change.
PROTOCOL = 100 * train.PROTOCOL + 1


@dataclasses.dataclass(frozen=True)
class ExamplesConfig:
    """The image grid of served examples (survey Figure 4): which patched data, how many a kind."""

    patch: PatchConfig
    per_kind: int = 4


EXAMPLES_PROTOCOL = 1


def examples_payload(config: ExamplesConfig) -> dict[str, Any]:
    """The first examples served as each kind, as 0-255 pixels (N, H, W, C) and their kinds: a
    cached unit, so the chapter draws its grid from committed results without the dataset."""
    import torch

    from lrgap_nb import data

    from .dataset import served_examples

    images, kinds = served_examples(data.load(config.patch.name)["train"], config.per_kind)
    mean = torch.tensor(data.CIFAR_MEAN).view(1, -1, 1, 1)
    std = torch.tensor(data.CIFAR_STD).view(1, -1, 1, 1)
    pixels = ((images.cpu().float() * std + mean).clamp(0, 1) * 255).round().to(torch.uint8)
    return {"images": pixels.permute(0, 2, 3, 1).tolist(), "kinds": kinds.tolist()}


def examples_run(cfg: PatchParams) -> Run:
    config = ExamplesConfig(patch_config(cfg))
    return Run("patch_examples", f"{__name__}:examples_payload", config, EXAMPLES_PROTOCOL)


def run(config: TrainConfig) -> Run:
    return Run("patch_train", f"{__name__}:train_payload", config, PROTOCOL)


def patch_config(cfg: PatchParams, beta: float | None = None) -> PatchConfig:
    return PatchConfig(
        base=cfg.dataset,
        sigma_z=cfg.sigma_z,
        beta=cfg.beta if beta is None else beta,
        alpha=cfg.alpha,
        clean=cfg.clean_frac,
        patch_only_prob=cfg.patch_only_prob,
        seed=cfg.patch_seed,
        n_patch_eval=cfg.n_patch_eval,
    )


def _common(cfg: PatchParams, seed: int, **extra) -> TrainConfig:
    """The official recipe (train.WRN_RECIPE) on this chapter's patched data."""
    settings = dict(
        model=cfg.model,
        model_width=cfg.model_width,
        dataset=patch_config(cfg).name,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        **train.WRN_RECIPE,
        subset=cfg.train_subset,
        eval_sets=EVAL_SETS,
        seed=seed,
    )
    return TrainConfig(**{**settings, **extra})


@dataclasses.dataclass(frozen=True)
class Setting:
    """What the calibration chooses: the small LR (large LR + anneal anneals to it) and beta."""

    lr_small: float
    beta: float

    def __str__(self) -> str:
        return f"small LR {self.lr_small:g}, beta {self.beta:g}"


def calibration_config(cfg: PatchParams, setting: Setting) -> TrainConfig:
    """Small LR, no anneal, on the calibration seed, with the setting's rate and patch strength."""
    return _common(
        cfg,
        cfg.calibration_seed,
        lr=setting.lr_small,
        epochs=cfg.calibration_length,
        dataset=patch_config(cfg, setting.beta).name,
    )


def calibration(cfg: PatchParams) -> tuple[dict[Setting, TrainConfig], Setting | None]:
    """The calibration runs to list and the chosen setting (None while the search is unfinished).

    Small LRs are tried in order, each with every beta in order; the first setting whose small-LR
    patch-only accuracy reaches `memorised` is chosen; if none does, the last one is (the
    largest rate and strongest patch), and the chapter says so.
    """
    if not cfg.calibration_betas and not cfg.calibration_lrs:
        return {}, Setting(cfg.lr_small, cfg.beta)
    listed = {}
    for lr_small in cfg.calibration_lrs or (cfg.lr_small,):
        for beta in cfg.calibration_betas or (cfg.beta,):
            setting = Setting(lr_small, beta)
            listed[setting] = calibration_config(cfg, setting)
            result = run(listed[setting]).lookup()
            if result is None:
                return listed, None
            if tables.memorises(history_frame(result), cfg.memorised):
                return listed, setting
    return listed, setting


def chosen(cfg: PatchParams) -> Setting:
    setting = calibration(cfg)[1]
    if setting is None:
        raise LookupError(
            "the patch calibration is not finished: `lrgap sweep patch` trains it, then the "
            "main runs"
        )
    return setting


def anneal_factor(cfg: PatchParams, setting: Setting) -> float:
    """Large LR's factor at the anneal: to the chosen small LR when the rate was calibrated."""
    return round(setting.lr_small / cfg.lr_large, 12) if cfg.calibration_lrs else cfg.lr_factor


def schedules(cfg: PatchParams, setting: Setting, stretch: float = 1.0) -> dict[str, dict]:
    """Each method's LR and noise schedule, its anneal epoch scaled by `stretch` (a clean-only
    reference on fewer images trains that many more epochs, for as many SGD steps)."""
    at = round(cfg.anneal_epoch * stretch)
    anneal = dict(lr_milestones=(at,), lr_factors=(anneal_factor(cfg, setting),))
    noisy = dict(noise=cfg.noise, noise_milestones=(at,), noise_factors=(cfg.noise_factor,))
    return {LARGE: dict(lr=cfg.lr_large, **anneal), SMALL: dict(lr=setting.lr_small),
            NOISE: dict(lr=setting.lr_small, **noisy)}  # fmt: skip


def main_configs(cfg: PatchParams) -> dict[tuple[str, int], TrainConfig]:
    """(method, seed) -> TrainConfig: large LR annealed at `anneal_epoch`, small LR, small + noise."""
    setting = chosen(cfg)
    dataset = patch_config(cfg, setting.beta).name
    methods = schedules(cfg, setting)
    return {
        (method, seed): _common(cfg, seed, dataset=dataset, **methods[method])
        for seed in cfg.seeds
        for method in METHODS
    }


def _reference(
    cfg: PatchParams, setting: Setting, method: str, fraction: float, seed: int
) -> TrainConfig:
    """Clean-only training with `method`'s schedule on a random `fraction` of the images, for
    as many SGD steps as the patched runs."""
    whole = cfg.train_subset or train_size(cfg.dataset)
    images = max(1, round(fraction * whole))
    stretch = math.ceil(whole / cfg.batch_size) / math.ceil(images / cfg.batch_size)
    return _common(
        cfg,
        seed,
        dataset=cfg.dataset,
        eval_sets=("test",),
        subset=images,
        subset_mode="random",
        subset_seed=seed,
        epochs=round(cfg.epochs * stretch),
        **schedules(cfg, setting, stretch)[method],
    )


def reference_configs(cfg: PatchParams) -> dict[tuple[float, int], TrainConfig]:
    """(fraction, seed) -> clean-only large LR + anneal on that fraction, as many SGD steps."""
    setting = chosen(cfg)  # read from the cache once, not once a run
    return {
        (fraction, seed): _reference(cfg, setting, LARGE, fraction, seed)
        for fraction in cfg.reference_fractions
        for seed in cfg.seeds
    }


def own_reference_configs(cfg: PatchParams) -> dict[tuple[str, float, int], TrainConfig]:
    """(method, fraction, seed) -> clean-only references with small LR's and small LR + noise's
    own schedules (large LR + anneal's are `reference_configs`). The fraction each method is
    read against first (small LR: the fewest images; with noise: the most) comes first, so a
    sweep cut short has finished the pairs the effective-sample reading needs most."""
    fractions = sorted(cfg.reference_fractions)
    order = [(SMALL, f) for f in fractions] + [(NOISE, f) for f in reversed(fractions)]
    order = order[::2] + order[1::2]  # small LR's fewest, noise's most, then the others
    setting = chosen(cfg)
    return {
        (method, fraction, seed): _reference(cfg, setting, method, fraction, seed)
        for method, fraction in order
        for seed in cfg.seeds
    }


def cached_main(profile: str) -> tuple[PatchParams, dict[tuple[str, int], Any]]:
    """The config at `profile` and (method, seed) -> history of its main runs already cached
    (never trains): at `paper-subset`, what a GPU computed, shown beside the CPU runs."""
    from lrgap_nb.chapters import chapter_config

    cfg = chapter_config("patch", profile)
    return cfg, cached_histories({k: run(c) for k, c in main_configs(cfg).items()})


def cached_own_references(cfg: PatchParams) -> dict[tuple[str, float, int], Any]:
    """The own-schedule references already cached (never trains): they are the chapter's runs
    only with `method_references`, so the page shows whichever a sweep has finished."""
    return cached_histories({k: run(c) for k, c in own_reference_configs(cfg).items()})


def calibration_runs(cfg: PatchParams) -> list[Run]:
    """The small-LR and patch-strength search, up to the first setting not yet cached."""
    return [run(c) for c in calibration(cfg)[0].values()]


def chapter_runs(cfg: PatchParams) -> list[Run]:
    """Calibration first, then seed by seed every method, then the clean references."""
    runs = [examples_run(cfg), *calibration_runs(cfg)]
    if calibration(cfg)[1] is None:
        return runs
    configs = [*main_configs(cfg).values(), *reference_configs(cfg).values()]
    if cfg.method_references:
        configs += own_reference_configs(cfg).values()
    return runs + [run(c) for c in configs]


def groups(cfg: PatchParams) -> dict[str, dict]:
    """The chapter's runs by purpose, key -> config (for the wall-time table)."""
    return {
        "calibration": calibration(cfg)[0],
        "main": main_configs(cfg),
        "clean references": reference_configs(cfg),
        **(
            {"own-schedule references": own_reference_configs(cfg)} if cfg.method_references else {}
        ),
    }
