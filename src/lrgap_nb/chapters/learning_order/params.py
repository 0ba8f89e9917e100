"""The learning-order chapter's parameters and profiles (Li, Wei & Ma 2019, Sec. 3-5).

The paper's results are asymptotic: it fixes no dimension, sample size, scale or step size, so
nearly every default below is our choice (paper=False) and its meaning says so. The defaults are
the regime chosen on calibration seeds kept apart from the reported ones (see `calibration`).
"""

from __future__ import annotations

import dataclasses

from lrgap_nb.params import ChapterParams, ParameterError, non_negative, param, positive

NOT_GIVEN = "(the paper gives no value)"


@dataclasses.dataclass(frozen=True)
class LearningOrderParams(ChapterParams):
    p0: float = param(
        0.2, "probability of a P-only example (the talk slides' value)", check=non_negative()
    )
    q0: float = param(
        0.2, "probability of a Q-only example (the talk slides' value)", check=non_negative()
    )
    d: int = param(
        200,
        f"dimension of each component; x has 2d coordinates {NOT_GIVEN}",
        paper=False,
        check=positive(),
    )
    n_train: int = param(
        400, f"training examples N of the main runs {NOT_GIVEN}", paper=False, check=positive()
    )
    n_test: int = param(
        1000, "test examples per group (P only, Q only, both)", paper=False, check=positive()
    )
    width: int = param(50, f"hidden units m {NOT_GIVEN}", paper=False, check=positive())
    gamma0: float = param(
        0.02, f"P's margin gamma0 along w* {NOT_GIVEN}", paper=False, check=non_negative()
    )
    zq_norm: float = param(
        9.0, f"||z_q||, the scale of Q {NOT_GIVEN}", paper=False, check=positive()
    )
    zeta_norm: float = param(
        1.5,
        "||zeta|| (r in the paper), Q's offset, much smaller than ||z_q|| (no value given)",
        paper=False,
        check=positive(),
    )
    init_scale: float = param(
        0.1, f"std tau_0 of U's entries at init {NOT_GIVEN}", paper=False, check=non_negative()
    )
    lr_large: float = param(20.0, f"eta_1 of L-S {NOT_GIVEN}", paper=False, check=positive())
    lr_small: float = param(
        2.0, f"eta_2: L-S after the anneal, S, S + noise {NOT_GIVEN}", paper=False, check=positive()
    )
    weight_decay: float = param(1e-4, f"lambda {NOT_GIVEN}", paper=False, check=non_negative())
    grad_noise: float = param(
        0.005,
        f"tau_xi, std of the gradient noise xi {NOT_GIVEN}",
        paper=False,
        check=non_negative(),
    )
    pre_noise: float = param(
        5.68,
        "std of S + noise's pre-activation noise until its anneal: L-S's measured on calibration seeds (paper: not given)",
        paper=False,
        check=non_negative(),
    )
    pre_noise_factors: tuple[float, ...] = param(
        (0.5, 1.0, 2.0),
        "S + noise runs at pre_noise times each factor (1: matched to L-S's effective noise)",
        paper=False,
        check=positive(),
    )
    noise_probe_steps: int = param(
        550,
        "steps at eta_1 after which twin runs measure L-S's effective pre-activation noise (its median anneal step on calibration seeds)",
        paper=False,
        check=positive(),
    )
    noise_anneal_step: int = param(
        550,
        "step at which S + noise starts annealing its noise, fixed (L-S's median anneal step on calibration seeds) (paper: anneals with the rate)",
        paper=False,
        check=positive(),
    )
    sharpness_every: int = param(
        250,
        "steps between measurements of the loss's top Hessian eigenvalue (the stability premise)",
        paper=False,
        check=positive(),
    )
    noise_decay: float = param(
        0.99,
        "per-step factor on pre_noise after its anneal (paper: not given)",
        paper=False,
        check=positive(),
    )
    epsilon1: float = param(
        0.25,
        f"L-S anneals at train loss epsilon1 + q0·log 2 {NOT_GIVEN}",
        paper=False,
        check=positive(),
    )
    epsilon2: float = param(
        0.1, f"every run stops at train loss epsilon2 {NOT_GIVEN}", paper=False, check=positive()
    )
    max_steps: int = param(20000, "cap on full-batch steps per run", paper=False, check=positive())
    eval_every: int = param(50, "steps between recorded evaluations", paper=False, check=positive())
    seeds: int = param(20, "seeds of the main runs (0, 1, ...)", paper=False, check=positive())
    sweep_n: tuple[int, ...] = param(
        (100, 200, 400, 800),
        "training-set sizes of the N sweep",
        paper=False,
        check=positive(),
    )
    sweep_seeds: int = param(20, "seeds per sweep point", paper=False, check=positive())

    profiles = {
        "smoke": {
            "d": 20,
            "n_train": 100,
            "n_test": 200,
            "width": 20,
            "max_steps": 200,
            "eval_every": 20,
            "seeds": 2,
            "sweep_n": (50, 100),
            "sweep_seeds": 2,
            "noise_probe_steps": 50,
            "noise_anneal_step": 50,
            "sharpness_every": 50,
        },
        "cpu": {
            "d": 100,
            "n_train": 200,
            "max_steps": 3000,
            "seeds": 5,
            "sweep_n": (100, 200),
            "sweep_seeds": 5,
        },
        "overnight": {"max_steps": 6000, "sweep_seeds": 10},
        "full": {"sweep_n": (50, 100, 200, 400, 800, 1600)},
    }

    def check(self) -> None:
        if self.p0 + self.q0 > 1:
            raise ParameterError(f"need p0 + q0 <= 1, got {self.p0} + {self.q0}")
        if not self.zeta_norm < self.zq_norm:
            raise ParameterError(
                f"need zeta_norm < zq_norm, got {self.zeta_norm} and {self.zq_norm}"
            )


ALGORITHMS = ("L-S", "S", "S + noise")
# the references: S on P alone, from these training examples (see learner.make_batch)
KEEP_LABEL = {"P only": "S on P, P only", "with P": "S on P, with P"}
