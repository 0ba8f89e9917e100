"""What the large-LR chapter trains: an LR pilot, a gate calibration, three (four) methods, the
data-size table and CIFAR-100.

Every training run is a `train` Run (lrgap_nb.train: checkpointed each epoch, cached when done).
Two optional calibrations on a seed that is never reported decide the plan: with
`lr_from_pilot` the rates come from the pilot; with `epochs_from_gate` the anneal comes after the
epochs the small LR needs to reach the gate (times `gate_margin`) and training lasts twice that.
`chapter_runs` lists each stage only once the one before is cached; `lrgap sweep` (and `execute`)
list again after each stage, so one call walks them all.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from lrgap_nb import train
from lrgap_nb.datasets import train_size
from lrgap_nb.runs import Run, cached_histories
from lrgap_nb.train import TrainConfig, histories, history_frame, train_run

from . import tables
from .params import LARGE, NOISE, NOISE_PATCH, SMALL, LargeLRParams

GATE_PROTOCOL = 1  # version of the "large_lr_gate" computation (train until the gate)


@dataclasses.dataclass(frozen=True)
class GateRun:
    """Train `config` until its running train accuracy reaches `gate` (at most config.epochs)."""

    config: TrainConfig
    gate: float


@dataclasses.dataclass(frozen=True)
class Plan:
    """The main runs' rates and schedule, once the calibrations they depend on are cached."""

    lr_large: float
    lr_small: float
    epochs: int
    milestones: tuple[int, ...]


def gate_payload(run: GateRun) -> dict[str, Any]:
    """Runner of a GateRun: its history, stopped at the first epoch that reaches the gate."""
    result = train.train(run.config, save_weights=False, stop=lambda h: _reached(h, run.gate))
    result.checkpoint.unlink(missing_ok=True)
    history = result.history.to_dict("records")
    reached = _reached(history, run.gate)
    return {"history": history, "epochs_to_gate": len(history) if reached else None}


def _reached(history: list[dict[str, Any]], gate: float) -> bool:
    return bool(history) and history[-1]["train_acc"] >= gate


def gate_run(cfg: LargeLRParams, lr_small: float) -> Run:
    """Small LR, constant, on the pilot seed, for at most `gate_max_epochs`."""
    config = _common(cfg, cfg.pilot_seed, lr=lr_small, epochs=cfg.gate_max_epochs)
    return Run(
        "large_lr_gate", f"{__name__}:gate_payload", GateRun(config, cfg.gate), GATE_PROTOCOL
    )


def methods(cfg: LargeLRParams) -> tuple[str, ...]:
    return (LARGE, SMALL, NOISE) + ((NOISE_PATCH,) if cfg.noise_patch > 0 else ())


def _common(cfg: LargeLRParams, seed: int, **extra) -> TrainConfig:
    """The official recipe (train.WRN_RECIPE) at this profile's network, data and seed."""
    settings = dict(
        model=cfg.model,
        model_width=cfg.model_width,
        dataset=cfg.dataset,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        **train.WRN_RECIPE,
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


def schedule(cfg: LargeLRParams, lr_small: float) -> tuple[int, tuple[int, ...]] | None:
    """(epochs, milestones): the profile's, or from the cached gate calibration (None until then).

    If the calibration never reached the gate, the anneal comes at `gate_max_epochs` and the
    chapter's gate check reports the failure.
    """
    if not cfg.epochs_from_gate:
        return cfg.epochs, cfg.lr_milestones
    result = gate_run(cfg, lr_small).lookup()
    if result is None:
        return None
    needed = result.payload["epochs_to_gate"] or cfg.gate_max_epochs
    anneal = math.ceil(cfg.gate_margin * needed)
    return 2 * anneal, (anneal,)


def plan(cfg: LargeLRParams) -> Plan | None:
    """The main runs' plan, None while a calibration it needs is not cached."""
    lrs = rates(cfg)
    when = None if lrs is None else schedule(cfg, lrs[1])
    return None if when is None else Plan(*lrs, *when)


def _method(cfg: LargeLRParams, method: str, seed: int, p: Plan, **extra):
    """One method's TrainConfig; `extra` overrides (a subset, scaled epochs and milestones)."""
    settings = {"lr": p.lr_large if method == LARGE else p.lr_small, "epochs": p.epochs}
    if p.milestones:
        settings.update(lr_milestones=p.milestones, lr_factors=(cfg.lr_factor,))
    settings.update(extra)
    if method == NOISE:
        settings.update(noise=cfg.noise, noise_decay=cfg.noise_decay)
    elif method == NOISE_PATCH:
        first = settings.get("lr_milestones", ())[:1]
        settings.update(noise=cfg.noise_patch, noise_milestones=first)
        settings.update(noise_factors=(cfg.noise_factor,) if first else ())
    return _common(cfg, seed, **settings)


def _plan_or_fail(cfg: LargeLRParams) -> Plan:
    p = plan(cfg)
    if p is None:
        raise LookupError(
            "the LR pilot or the gate calibration is not cached yet: `lrgap sweep large_lr` "
            "trains them, then the main runs"
        )
    return p


def main_configs(cfg: LargeLRParams) -> dict[tuple[str, int], TrainConfig]:
    """(method, seed) -> TrainConfig of the CIFAR-10 comparison (survey Figures 1 and 3)."""
    p = _plan_or_fail(cfg)
    return {(m, seed): _method(cfg, m, seed, p) for seed in cfg.seeds for m in methods(cfg)}


def _smaller(cfg: LargeLRParams, epochs: int) -> tuple[int, int]:
    """(images, epochs) of the data-size table's smaller set: same SGD steps when asked."""
    images = max(1, round(cfg.size_fraction * whole(cfg)))
    if not cfg.size_same_steps:
        return images, epochs
    per_epoch = math.ceil(whole(cfg) / cfg.batch_size) / math.ceil(images / cfg.batch_size)
    return images, round(epochs * per_epoch)


def size_configs(cfg: LargeLRParams) -> dict[tuple[str, float, int], TrainConfig]:
    """(method, fraction, seed) -> TrainConfig: the whole set (a main run) and a random fraction.

    With `size_same_steps` the smaller set trains for as many SGD steps as the whole set, its
    milestones scaled in proportion, so sizes are compared after equal optimisation.
    """
    p = _plan_or_fail(cfg)
    images, epochs = _smaller(cfg, p.epochs)
    scale = epochs / p.epochs
    small_set = dict(
        subset=images,
        subset_mode="random",
        epochs=epochs,
        lr_milestones=tuple(round(m * scale) for m in p.milestones),
    )
    out = {}
    for seed in cfg.seeds:
        for method in (LARGE, SMALL):
            out[(method, 1.0, seed)] = _method(cfg, method, seed, p)
            out[(method, cfg.size_fraction, seed)] = _method(
                cfg, method, seed, p, subset_seed=seed, **small_set
            )
    return out


def cifar100_configs(cfg: LargeLRParams) -> dict[tuple[str, int], TrainConfig]:
    """(method, seed) -> TrainConfig of the survey report's CIFAR-100 pair (only if asked)."""
    if not cfg.cifar100:
        return {}
    p = _plan_or_fail(cfg)
    return {
        (m, seed): _method(cfg, m, seed, p, dataset="cifar100", subset=None)
        for seed in cfg.seeds
        for m in (LARGE, SMALL)
    }


def cached_main(profile: str) -> tuple[LargeLRParams, dict[tuple[str, int], Any]]:
    """The config at `profile` and (method, seed) -> history of its main runs already cached
    (never trains): at `paper-subset`, what a GPU computed, shown beside the CPU runs."""
    from lrgap_nb.chapters import chapter_config

    cfg = chapter_config("large_lr", profile)
    return cfg, cached_histories({k: train_run(c) for k, c in main_configs(cfg).items()})


def calibration_runs(cfg: LargeLRParams) -> list[Run]:
    """The pilot, then (once the pilot has chosen the rates) the gate calibration."""
    runs = [train_run(c) for c in pilot_configs(cfg).values()]
    lrs = rates(cfg)
    if lrs is not None and cfg.epochs_from_gate:
        runs.append(gate_run(cfg, lrs[1]))
    return runs


def chapter_runs(cfg: LargeLRParams) -> list[Run]:
    """Pilot, gate calibration, then seed by seed every method (early finishes are whole
    comparisons), the data-size runs and CIFAR-100."""
    runs = calibration_runs(cfg)
    if plan(cfg) is None:
        return runs
    configs = [*main_configs(cfg).values(), *size_configs(cfg).values()]
    configs += list(cifar100_configs(cfg).values())
    return runs + [train_run(c) for c in dict.fromkeys(configs)]


def whole(cfg: LargeLRParams) -> int:
    """Training images of the main runs."""
    return cfg.train_subset or train_size(cfg.dataset)


def gate_history(cfg: LargeLRParams, done: dict):
    """The gate calibration's history from `execute`'s results (None without `epochs_from_gate`)."""
    if not cfg.epochs_from_gate:
        return None
    return history_frame(done[gate_run(cfg, _plan_or_fail(cfg).lr_small).config])


def groups(cfg: LargeLRParams) -> dict[str, dict]:
    """The chapter's runs by purpose, key -> config (for the wall-time table)."""
    out = {"LR pilot": pilot_configs(cfg)}
    if cfg.epochs_from_gate:
        out["gate calibration"] = {"small LR": gate_run(cfg, _plan_or_fail(cfg).lr_small).config}
    out.update(main=main_configs(cfg), **{"data size": size_configs(cfg)})
    if cfg.cifar100:
        out["CIFAR-100"] = cifar100_configs(cfg)
    return out
