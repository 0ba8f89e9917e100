"""What the large-LR chapter trains: the LR pilot, three (four) methods, the data-size table, CIFAR-100.

Every run is a `train` Run (lrgap_nb.train: checkpointed each epoch, cached when done). With
`lr_from_pilot` the main runs' rates come from the cached pilot, so `chapter_runs` lists only the
pilot until it is done; a second `lrgap sweep` then lists (and trains) the rest.
"""

from __future__ import annotations

import math

from lrgap_nb.runs import Run, execute_all
from lrgap_nb.train import TrainConfig, histories, train_run

from . import tables
from .params import DATASET_SIZES, LARGE, NOISE, NOISE_PATCH, SMALL, LargeLRParams

EVAL_BATCH = 250  # benchmarks/cpu_scale.py: 128-250 beat 1000 on one CPU thread; same numbers


def methods(cfg: LargeLRParams) -> tuple[str, ...]:
    return (LARGE, SMALL, NOISE) + ((NOISE_PATCH,) if cfg.noise_patch > 0 else ())


def _common(cfg: LargeLRParams, seed: int, **extra) -> TrainConfig:
    """SGD with Nesterov 0.9, weight decay 5e-4, no augmentation: official train_cifar.py."""
    settings = dict(
        model=cfg.model,
        model_width=cfg.model_width,
        dataset=cfg.dataset,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        momentum=0.9,
        nesterov=True,
        weight_decay=5e-4,
        augment=False,
        eval_batch_size=EVAL_BATCH,
        subset=cfg.train_subset,
        seed=seed,
    )
    return TrainConfig(**{**settings, **extra})


def pilot_configs(cfg: LargeLRParams) -> dict[float, TrainConfig]:
    """LR -> a short constant-LR run on the calibration seed (no anneal, no noise)."""
    return {
        lr: _common(cfg, cfg.pilot_seed, lr=lr, epochs=cfg.pilot_epochs) for lr in cfg.pilot_lrs
    }


def rates(cfg: LargeLRParams) -> tuple[float, float] | None:
    """(large, small) initial LRs; from the pilot with `lr_from_pilot` (None until it is cached)."""
    if not cfg.lr_from_pilot:
        return cfg.lr_large, cfg.lr_small
    pilot = {c: train_run(c).lookup() for c in pilot_configs(cfg).values()}
    if any(result is None for result in pilot.values()):
        return None
    large = tables.largest_stable_lr(histories(pilot_configs(cfg), pilot))
    if large is None:
        raise ValueError(f"no pilot rate among {cfg.pilot_lrs} trains stably: widen pilot_lrs")
    return large, large / 10


def _method(cfg: LargeLRParams, method: str, seed: int, lrs: tuple[float, float], **extra):
    """One method's TrainConfig; `extra` overrides (a subset, scaled epochs and milestones)."""
    large, small = lrs
    settings = {"lr": large if method == LARGE else small}
    if cfg.lr_milestones:
        settings.update(lr_milestones=cfg.lr_milestones, lr_factors=(cfg.lr_factor,))
    settings.update(extra)
    if method == NOISE:
        settings.update(noise=cfg.noise, noise_decay=cfg.noise_decay)
    elif method == NOISE_PATCH:
        first = settings.get("lr_milestones", ())[:1]
        settings.update(noise=cfg.noise_patch, noise_milestones=first)
        settings.update(noise_factors=(cfg.noise_factor,) if first else ())
    return _common(cfg, seed, **settings)


def _rates_or_fail(cfg: LargeLRParams) -> tuple[float, float]:
    lrs = rates(cfg)
    if lrs is None:
        raise LookupError(
            "the LR pilot is not cached yet: run `lrgap sweep large_lr` (it trains the pilot "
            "first), then again for the runs at the chosen rates"
        )
    return lrs


def main_configs(cfg: LargeLRParams) -> dict[tuple[str, int], TrainConfig]:
    """(method, seed) -> TrainConfig of the CIFAR-10 comparison (survey Figures 1 and 3)."""
    lrs = _rates_or_fail(cfg)
    return {(m, seed): _method(cfg, m, seed, lrs) for seed in cfg.seeds for m in methods(cfg)}


def _smaller(cfg: LargeLRParams) -> tuple[int, int]:
    """(images, epochs) of the data-size table's smaller set: same SGD steps when asked."""
    whole = cfg.train_subset or DATASET_SIZES[cfg.dataset]
    images = max(1, round(cfg.size_fraction * whole))
    if not cfg.size_same_steps:
        return images, cfg.epochs
    per_epoch = math.ceil(whole / cfg.batch_size) / math.ceil(images / cfg.batch_size)
    return images, round(cfg.epochs * per_epoch)


def size_configs(cfg: LargeLRParams) -> dict[tuple[str, float, int], TrainConfig]:
    """(method, fraction, seed) -> TrainConfig: the whole set (a main run) and a random fraction.

    With `size_same_steps` the smaller set trains for as many SGD steps as the whole set, its
    milestones scaled in proportion, so sizes are compared after equal optimisation.
    """
    lrs = _rates_or_fail(cfg)
    images, epochs = _smaller(cfg)
    scale = epochs / cfg.epochs
    small_set = dict(
        subset=images,
        subset_mode="random",
        epochs=epochs,
        lr_milestones=tuple(round(m * scale) for m in cfg.lr_milestones),
    )
    out = {}
    for seed in cfg.seeds:
        for method in (LARGE, SMALL):
            out[(method, 1.0, seed)] = _method(cfg, method, seed, lrs)
            out[(method, cfg.size_fraction, seed)] = _method(
                cfg, method, seed, lrs, subset_seed=seed, **small_set
            )
    return out


def cifar100_configs(cfg: LargeLRParams) -> dict[tuple[str, int], TrainConfig]:
    """(method, seed) -> TrainConfig of the survey report's CIFAR-100 pair (only if asked)."""
    if not cfg.cifar100:
        return {}
    lrs = _rates_or_fail(cfg)
    return {
        (m, seed): _method(cfg, m, seed, lrs, dataset="cifar100", subset=None)
        for seed in cfg.seeds
        for m in (LARGE, SMALL)
    }


def chapter_runs(cfg: LargeLRParams) -> list[Run]:
    """Pilot first, then seed by seed every method (so early finishes are whole comparisons)."""
    pilot = [train_run(c) for c in pilot_configs(cfg).values()]
    if rates(cfg) is None:
        return pilot
    configs = [*main_configs(cfg).values(), *size_configs(cfg).values()]
    configs += list(cifar100_configs(cfg).values())
    return pilot + [train_run(c) for c in dict.fromkeys(configs)]


def execute(cfg: LargeLRParams) -> dict[TrainConfig, object]:
    """Config -> result of every chapter run, computing what is missing (the pilot first)."""
    done: dict[TrainConfig, object] = {}
    while pending := [r for r in chapter_runs(cfg) if r.config not in done]:
        done.update(
            zip([r.config for r in pending], execute_all(pending, cfg.workers), strict=True)
        )
    return done


def whole(cfg: LargeLRParams) -> int:
    """Training images of the main runs."""
    return cfg.train_subset or DATASET_SIZES[cfg.dataset]
