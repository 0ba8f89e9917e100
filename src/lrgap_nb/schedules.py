"""Learning-rate schedules as pure functions of the step (or epoch): `schedule(t) -> lr`."""

from __future__ import annotations

from collections.abc import Callable

Schedule = Callable[[int], float]


def constant(lr: float) -> Schedule:
    return lambda t: lr


def two_phase(lr_large: float, lr_small: float, switch: int) -> Schedule:
    """`lr_large` for steps 0..switch-1, then `lr_small`: the large-then-small anneal."""
    return lambda t: lr_large if t < switch else lr_small


def multi_step(value: float, milestones: tuple[int, ...], factors: tuple[float, ...]) -> Schedule:
    """`value`, multiplied by `factors[i]` from epoch `milestones[i]` on (0-based, cumulative).

    Li, Wei & Ma's official WRN schedule is `multi_step(0.1, (59, 119, 149), (0.2, 0.2, 0.2))`:
    their code counts epochs from 1 and anneals at epochs 60, 120 and 150. A single factor applies
    to every milestone.
    """
    if len(factors) == 1:
        factors = factors * len(milestones)
    if len(factors) != len(milestones):
        raise ValueError(f"{len(milestones)} milestones but {len(factors)} factors")
    if list(milestones) != sorted(milestones):
        raise ValueError(f"milestones must be increasing, got {milestones}")

    def schedule(t: int) -> float:
        out = value
        for milestone, factor in zip(milestones, factors, strict=True):
            if t >= milestone:
                out *= factor
        return out

    return schedule


def exponential(value: float, rate: float) -> Schedule:
    """`value * rate**t`: the official code's continuous noise decay ("cont")."""
    return lambda t: value * rate**t
