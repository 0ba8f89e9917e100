"""Learning-rate schedules as pure functions of the step (or epoch): `schedule(t) -> lr`."""

from __future__ import annotations

from collections.abc import Callable

Schedule = Callable[[int], float]


def constant(lr: float) -> Schedule:
    return lambda t: lr


def two_phase(lr_large: float, lr_small: float, switch: int) -> Schedule:
    """`lr_large` for steps 0..switch-1, then `lr_small`: the large-then-small anneal."""
    return lambda t: lr_large if t < switch else lr_small
