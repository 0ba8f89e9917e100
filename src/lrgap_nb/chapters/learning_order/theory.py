"""The inequalities Li, Wei & Ma's argument needs, both sides computed at the chosen sizes.

The theorems are asymptotic: "≫" and "≪" carry no constant. We read "a ≫ b" as a ≥ MUCH·b and
"a ≪ b" as MUCH·a ≤ b, and "several" as at least SEVERAL, and print both sides so a reader can
apply another reading. (The admissible range of epsilon_1 in Theorem 3.4 is not computed here:
its constants are not in the sources this build carries.)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

MUCH = 4.0  # "a ≫ b" read as a ≥ MUCH·b
SEVERAL = 3.0  # "several" read as at least this many


def stationary_weight_noise(lr: float, weight_decay: float, grad_noise: float) -> float:
    """Per-coordinate std of the weight noise that U <- U - lr(grad + lambda U + xi) settles at
    when the gradient is ignored: the recursion e <- (1 - lr·lambda) e - lr·xi has stationary
    variance lr² tau² / (1 - (1 - lr·lambda)²) ≈ lr tau² / (2 lambda)."""
    if weight_decay == 0:
        return float("inf")
    return grad_noise * lr / np.sqrt(1 - (1 - lr * weight_decay) ** 2)


def _row(need: str, left: str, lhs: float, right: str, rhs: float, holds: bool) -> dict:
    return {
        "the argument needs": need,
        "left side": f"{left} = {lhs:.3g}",
        "right side": f"{right} = {rhs:.3g}",
        "holds": "yes" if holds else "no",
    }


def inequalities(cfg, sharpness0: float = math.nan, second_phase: float = math.nan) -> pd.DataFrame:
    """Each inequality with both sides at `cfg`'s sizes.

    `sharpness0` is the top Hessian eigenvalue of the loss at initialisation (median over seeds,
    measured); `second_phase` the median number of steps L-S runs after its anneal (measured).
    """
    n, d = cfg.n_train, cfg.d
    many, few = (1 - cfg.q0) * n, cfg.p0 * n
    r2_lambda = cfg.zeta_norm**2 / cfg.weight_decay if cfg.weight_decay else math.inf
    relax2 = 1 / (cfg.lr_small * cfg.weight_decay) if cfg.weight_decay else math.inf
    rows = [
        _row("(1-q0)N ≫ d: L-S's examples suffice to learn P", "(1-q0)N", many, f"{MUCH:g}·d",
             MUCH * d, many >= MUCH * d),
        _row("d ≫ p0N: S's P-only examples do not", "d", d, f"{MUCH:g}·p0N", MUCH * few,
             d >= MUCH * few),
        _row("r²/λ ≪ 1: the large rate's Q-curvature bound is small (Lemma 4.2)",
             f"{MUCH:g}·r²/λ", MUCH * r2_lambda, "1", 1.0, MUCH * r2_lambda <= 1),
        _row("η₁ below the stability edge at initialisation (measured)", "η₁·λ_max",
             cfg.lr_large * sharpness0, "2", 2.0, cfg.lr_large * sharpness0 < 2),
        _row("η₂ below the stability edge at initialisation (measured)", "η₂·λ_max",
             cfg.lr_small * sharpness0, "2", 2.0, cfg.lr_small * sharpness0 < 2),
        _row("L-S's second phase lasts several 1/(η₂λ) steps (measured)", "steps after anneal",
             second_phase, f"{SEVERAL:g}/(η₂λ)", SEVERAL * relax2, second_phase >= SEVERAL * relax2),
    ]  # fmt: skip
    return pd.DataFrame(rows)
