"""The learning-order chapter's cached runs: one unit per algorithm (or reference) and sample size.

Each unit trains its seeds as one batch (see `learner`) and returns per-run histories; it is the
resumable piece of a sweep. Reported seeds are 0, 1, ...; calibration uses seeds kept apart
(`calibration.CALIBRATION_SEEDS`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import zlib
from collections.abc import Iterator
from pathlib import Path

import torch

from lrgap_nb.runs import Run

from .learner import (
    Setting,
    initial_weights,
    make_batch,
    schedule_for,
    train,
    twin_pre_activation_noise,
)
from .params import ALGORITHMS, KEEP_LABEL, LearningOrderParams

PROTOCOL = 1  # version of every learning_order_* computation: bump when its numbers change
# S + noise has its own kind: version 1 (under learning_order_main) annealed the noise when the
# *noisy* train loss fell below the threshold, which at the matched level never happened; version
# 2 judged the noise-free loss, as L-S does, and at the matched level still never annealed;
# version 3 anneals the noise at a fixed step (`noise_anneal_step`), a schedule that always
# fires, and records the premises' measurements (`Diagnosed`). L-S and S: unchanged.
NOISY_PROTOCOL = 3
# The premises' measurements (per-group train loss, sharpness) of L-S and S, and the controls.
PREMISES_PROTOCOL = 1
CONTROLS_PROTOCOL = 1


@dataclasses.dataclass(frozen=True)
class Unit:
    """One cached unit: an algorithm (or a reference) on `seeds`, each with n_train examples."""

    setting: Setting
    algorithm: str  # "L-S", "S" or "S + noise"
    n_train: int
    seeds: tuple[int, ...]
    noise_factor: float = 1.0  # S + noise's pre-activation noise is setting.pre_noise × this
    keep: str = "all"  # "all", or a reference's examples: "P only" / "with P" (see make_batch)

    @property
    def label(self) -> str:
        if self.keep != "all":
            return KEEP_LABEL[self.keep]
        return algorithm_label(self.algorithm, self.noise_factor)


@dataclasses.dataclass(frozen=True)
class NoiseProbe:
    """Twin L-S runs at the large rate for `steps` steps (see `twin_pre_activation_noise`)."""

    setting: Setting
    n_train: int
    seeds: tuple[int, ...]
    steps: int


@dataclasses.dataclass(frozen=True)
class Diagnosed:
    """A unit trained with the premises' measurements recorded (`train`'s `sharpness_every`).

    `label` names the runs (a control's name, or the unit's own label); `noise_anneal_step` >= 0
    anneals S + noise's noise at that fixed step. Its trajectory is the unit's own: the
    measurements draw no noise.
    """

    unit: Unit
    label: str
    sharpness_every: int
    noise_anneal_step: int = -1

    @property
    def seeds(self) -> tuple[int, ...]:
        return self.unit.seeds


def algorithm_label(algorithm: str, factor: float = 1.0) -> str:
    return algorithm if factor == 1.0 else f"{algorithm} ×{factor:g}"


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """These matrices are small: one thread beats two on a shared CPU (threading overhead)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def noise_generator(*parts: object) -> torch.Generator:
    """A generator fixed by the unit's identity, so a unit's numbers do not depend on the others."""
    return torch.Generator().manual_seed(zlib.crc32(repr(parts).encode()))


def split_runs(out: dict, labels: list[dict]) -> list[dict]:
    """Per-run records from a batched `train` output, each history cut at the run's stop step."""
    runs = []
    hist = out["history"]
    for b, label in enumerate(labels):
        stop = out["stop_step"][b]
        keep = [k for k, s in enumerate(hist["step"]) if s <= stop]
        record = {key: [hist[key][k][b] for k in keep] for key in hist if key != "step"}
        runs.append(
            {
                **label,
                "anneal_step": out["anneal_step"][b],
                "stop_step": stop,
                "history": {"step": [hist["step"][k] for k in keep], **record},
            }
        )
    return runs


def unit_payload(unit: Unit) -> dict:
    """Runner of one Unit: per-run histories of its seeds."""
    seeds = list(unit.seeds)
    s = unit.setting
    batch = make_batch(s, seeds, [unit.n_train] * len(seeds), keep=unit.keep)
    schedule = schedule_for(unit.algorithm, s, len(seeds), s.pre_noise * unit.noise_factor)
    generator = noise_generator(unit.algorithm, unit.noise_factor, unit.keep, unit.n_train)
    with one_thread():
        out = train(batch, schedule, s, generator, initial_weights(s, seeds))
    return {"runs": split_runs(out, [{"algorithm": unit.label, "seed": x} for x in seeds])}


def diagnosed_payload(job: Diagnosed) -> dict:
    """Runner of one Diagnosed unit: per-run histories with the premises' measurements."""
    unit, s = job.unit, job.unit.setting
    seeds = list(unit.seeds)
    batch = make_batch(s, seeds, [unit.n_train] * len(seeds), keep=unit.keep)
    schedule = schedule_for(
        unit.algorithm, s, len(seeds), s.pre_noise * unit.noise_factor, job.noise_anneal_step
    )
    generator = noise_generator(unit.algorithm, unit.noise_factor, unit.keep, unit.n_train)
    with one_thread():
        out = train(batch, schedule, s, generator, initial_weights(s, seeds), job.sharpness_every)
    return {"runs": split_runs(out, [{"algorithm": job.label, "seed": x} for x in seeds])}


def noise_payload(probe: NoiseProbe) -> dict:
    """Runner of one NoiseProbe: the effective pre-activation noise on Q inputs per seed."""
    seeds = list(probe.seeds)
    s = dataclasses.replace(probe.setting, max_steps=probe.steps, eval_every=probe.steps)
    batch = make_batch(s, seeds, [probe.n_train] * len(seeds))
    schedule = schedule_for("L-S", s, len(seeds))
    schedule = dataclasses.replace(schedule, anneal_loss=torch.full((len(seeds),), -math.inf))
    with one_thread():
        sigma = twin_pre_activation_noise(
            batch, schedule, s, initial_weights(s, seeds), zlib.crc32(b"twins") + probe.steps
        )
    return {"seed": seeds, "sigma": sigma.tolist()}


def main_units(cfg: LearningOrderParams) -> list[Unit]:
    """L-S and S on the reported seeds, N = cfg.n_train."""
    setting, seeds = Setting.of(cfg), tuple(range(cfg.seeds))
    return [Unit(setting, a, cfg.n_train, seeds) for a in ALGORITHMS if a != "S + noise"]


def noisy_units(cfg: LearningOrderParams) -> list[Diagnosed]:
    """S + noise at each noise factor, its noise annealed at cfg.noise_anneal_step, on the
    reported seeds, N = cfg.n_train."""
    setting, seeds = Setting.of(cfg), tuple(range(cfg.seeds))
    units = [
        Unit(setting, "S + noise", cfg.n_train, seeds, factor) for factor in cfg.pre_noise_factors
    ]
    return [Diagnosed(u, u.label, cfg.sharpness_every, cfg.noise_anneal_step) for u in units]


def premise_units(cfg: LearningOrderParams) -> list[Diagnosed]:
    """L-S and S exactly as in `main_units`, with the premises' measurements recorded."""
    return [Diagnosed(u, u.label, cfg.sharpness_every) for u in main_units(cfg)]


CONTROLS = {
    "L-S, no gradient noise": "L-S",
    "S, L-S's weight noise": "S",
}


def control_units(cfg: LearningOrderParams) -> list[Diagnosed]:
    """The controls of the noise: L-S without its gradient noise xi (plain full-batch gradient
    descent: the large step alone), and S with xi scaled by sqrt(eta_1/eta_2), which gives it the
    stationary weight noise tau_xi·sqrt(eta/2 lambda) that L-S carries at eta_1."""
    setting, seeds = Setting.of(cfg), tuple(range(cfg.seeds))
    quiet = dataclasses.replace(setting, grad_noise=0.0)
    loud = dataclasses.replace(
        setting, grad_noise=setting.grad_noise * math.sqrt(cfg.lr_large / cfg.lr_small)
    )
    return [
        Diagnosed(
            Unit(quiet, "L-S", cfg.n_train, seeds), "L-S, no gradient noise", cfg.sharpness_every
        ),
        Diagnosed(
            Unit(loud, "S", cfg.n_train, seeds), "S, L-S's weight noise", cfg.sharpness_every
        ),
    ]


def reference_units(cfg: LearningOrderParams) -> list[Unit]:
    """S on P alone, from the p0·N P-only examples or the (1 - q0)·N that contain P, of the same
    training sets as the main runs (Li, Wei & Ma 2019, Sec. 1)."""
    setting, seeds = Setting.of(cfg), tuple(range(cfg.seeds))
    return [Unit(setting, "S", cfg.n_train, seeds, keep=keep) for keep in KEEP_LABEL]


def sweep_units(cfg: LearningOrderParams) -> list[Unit]:
    """L-S and S at each N of the sweep; at the main N the main runs' first seeds serve instead."""
    setting, seeds = Setting.of(cfg), tuple(range(cfg.sweep_seeds))
    return [
        Unit(setting, a, n, seeds)
        for n in cfg.sweep_n
        if not reuses_main(cfg, n)
        for a in ("L-S", "S")
    ]


def reuses_main(cfg: LearningOrderParams, n_train: int) -> bool:
    return n_train == cfg.n_train and cfg.sweep_seeds <= cfg.seeds


def noise_probe(cfg: LearningOrderParams) -> NoiseProbe:
    """The noise L-S's weights carry on Q inputs, on the reported seeds (a check of the match)."""
    return NoiseProbe(Setting.of(cfg), cfg.n_train, tuple(range(cfg.seeds)), cfg.noise_probe_steps)


def chapter_runs(cfg: LearningOrderParams) -> list[Run]:
    """Every cached run of the chapter, as picklable units of work (see lrgap_nb.sweep)."""
    here, diagnosed = f"{__name__}:unit_payload", f"{__name__}:diagnosed_payload"
    return [
        *(Run("learning_order_main", here, u, PROTOCOL) for u in main_units(cfg)),
        *(Run("learning_order_noisy", diagnosed, u, NOISY_PROTOCOL) for u in noisy_units(cfg)),
        *(
            Run("learning_order_premises", diagnosed, u, PREMISES_PROTOCOL)
            for u in premise_units(cfg)
        ),
        *(
            Run("learning_order_controls", diagnosed, u, CONTROLS_PROTOCOL)
            for u in control_units(cfg)
        ),
        *(Run("learning_order_references", here, u, PROTOCOL) for u in reference_units(cfg)),
        Run("learning_order_noise", f"{__name__}:noise_payload", noise_probe(cfg), PROTOCOL),
        *(Run("learning_order_sweep", here, u, PROTOCOL) for u in sweep_units(cfg)),
    ]


def calibration_runs(cfg: LearningOrderParams) -> list[Run]:
    """What `lrgap calibrate` computes: the staged calibration on seeds kept apart (`calibration`),
    stage A, then B and C once the stage before is cached and judged; then the regime search of
    the appendix (`regime`). Neither depends on `cfg`: both are built around the overnight setting."""
    from . import calibration, regime

    walk = calibration.walk()
    if not walk.finished:
        return walk.runs
    return walk.runs + [run for changes in regime.candidates() for run in regime.units(changes)]


def write_calibration_log() -> Path:
    """After `lrgap calibrate`: the log of the stages judged (results/calibration/)."""
    from . import calibration

    return calibration.write_log()
