"""A search for the theorem's regime on calibration seeds (never the reported ones).

Each candidate changes the chapter's setting along the theorem's scalings: (1-q0)N ≫ d ≫ p0N
(N = 10d, p0 = 0.02: (1-q0)N = 8d, d = 5 p0N), r²/λ small or not, both step sizes a stated
fraction of the stability edge 2/λ_max measured at initialisation on the first calibration seed
(η₂ = η₁/10), and the weight noise a stated multiple of the initial scale. Every candidate trains
L-S and S (with the premises' measurements) and the two references on REGIME_SEEDS for at most
STEPS steps: about a minute of one CPU thread at d = 100, seconds at d = 50. The result is the
premise-satisfaction map: on how many seeds each premise held, per candidate.

`lrgap calibrate learning_order` runs every candidate once the staged calibration is done
(resumable: each unit is a cache entry); `lrgap commit learning_order` copies the finished
entries to results/committed/.
"""

from __future__ import annotations

import itertools
import math

import pandas as pd

from lrgap_nb.runs import Run

from . import premises as pm
from . import theory
from .params import KEEP_LABEL, LearningOrderParams

REGIME_SEEDS = (100, 101, 102, 103, 104)  # calibration seeds (calibration.CALIBRATION_SEEDS)
KIND = "learning_order_regime"
PROTOCOL = 1
STEPS = 4000
BUDGET = f"at most {STEPS} full-batch steps per run, five seeds, one CPU thread"
EDGE_FRACTIONS = (0.5, 0.9)  # η₁ as a fraction of 2/λ_max at initialisation
NOISE_MULTIPLES = (0.5, 2.0)  # stationary weight noise at η₁ as a multiple of init_scale
ZETA = (0.05, 0.2)  # r = ||ζ||, with ||z_q|| = 1 and λ = 1e-2: r²/λ = 0.25 and 4
SIZES = ((50, 500), (100, 1000))  # (d, N)


def base(**changes) -> LearningOrderParams:
    from lrgap_nb.chapters import chapter_config

    return chapter_config("learning_order", "overnight", **changes)


def initial_sharpness(cfg: LearningOrderParams) -> float:
    """λ_max of the training loss at initialisation on the first regime seed."""
    from .learner import Setting, initial_weights, make_batch, output_weights, sharpness

    s = Setting.of(cfg)
    batch = make_batch(s, [REGIME_SEEDS[0]], [cfg.n_train])
    init = initial_weights(s, [REGIME_SEEDS[0]])
    return float(sharpness(init, batch, output_weights(s.width), s.weight_decay)[0])


def _round(x: float) -> float:
    return float(f"{x:.2g}")


def candidates() -> list[dict]:
    """The grid, in order: the chapter's own setting first (the closest reference), then the
    candidates along the theorem's scalings."""
    grid = [{}]
    common = {"zq_norm": 1.0, "weight_decay": 1e-2, "p0": 0.02, "epsilon1": 0.1, "epsilon2": 0.05}
    for (d, n), zeta in itertools.product(SIZES, ZETA):
        shape = {**common, "d": d, "n_train": n, "zeta_norm": zeta}
        top = initial_sharpness(base(**shape))
        for fraction, multiple in itertools.product(EDGE_FRACTIONS, NOISE_MULTIPLES):
            lr1 = _round(fraction * 2 / top)
            lr2 = _round(lr1 / 10)
            unit_noise = theory.stationary_weight_noise(lr1, common["weight_decay"], 1.0)
            tau = _round(multiple * 0.1 / unit_noise)
            grid.append({**shape, "lr_large": lr1, "lr_small": lr2, "grad_noise": tau})
    return grid


def config(changes: dict) -> LearningOrderParams:
    return base(**{"max_steps": STEPS, **changes})


def units(changes: dict) -> list[Run]:
    """L-S and S with the premises' measurements, and the two references, on REGIME_SEEDS."""
    from .learner import Setting
    from .runs import Diagnosed, Unit

    cfg = config(changes)
    s = Setting.of(cfg)
    here = "lrgap_nb.chapters.learning_order"
    diagnosed = [
        Diagnosed(Unit(s, a, cfg.n_train, REGIME_SEEDS), a, cfg.sharpness_every)
        for a in ("L-S", "S")
    ]
    refs = [Unit(s, "S", cfg.n_train, REGIME_SEEDS, keep=k) for k in KEEP_LABEL]
    return [
        *(Run(KIND, f"{here}.runs:diagnosed_payload", u, PROTOCOL) for u in diagnosed),
        *(Run(KIND, f"{here}.calibration:summary_payload", u, PROTOCOL) for u in refs),
    ]


def judge(changes: dict, results: list) -> dict:
    """One row of the map: the candidate's sizes, its inequalities and its premises per seed."""
    cfg = config(changes)
    frame = pm.measured_frame(results, results, cfg.lr_large, cfg.lr_small)
    top0, second = pm.initial_sharpness(results), pm.second_phase(results)
    inequalities = theory.inequalities(cfg, top0, second)
    ok = frame["protocol failures"] == ""
    n = len(frame)
    return {
        "d": cfg.d,
        "N": cfg.n_train,
        "p0": cfg.p0,
        "||z_q||": cfg.zq_norm,
        "r": cfg.zeta_norm,
        "λ": cfg.weight_decay,
        "η₁": cfg.lr_large,
        "η₂": cfg.lr_small,
        "τ_ξ": cfg.grad_noise,
        "inequalities holding": f"{(inequalities['holds'] == 'yes').sum()} of {len(inequalities)}",
        **{x: frame[x].sum() / n for x in ("(a)", "(b)", "(c)")},
        "L-S annealed": (frame["L-S anneal step"] >= 0).sum() / n,
        "S final train loss": float(
            pd.Series(
                [r["history"]["train_loss"][-1] for r in pm.runs_of(results, "S").values()]
            ).median()
        ),
        "protocol": ok.sum() / n,
        "all": (frame[["(a)", "(b)", "(c)"]].all(axis=1) & ok).sum() / n,
    }


def premise_map(compute: bool = False) -> pd.DataFrame:
    """The premise-satisfaction map: one row per candidate whose units are cached (all of them
    with `compute`), the fraction of REGIME_SEEDS on which each premise held."""
    rows = []
    for changes in candidates():
        runs = units(changes)
        found = [r.execute() if compute else r.lookup() for r in runs]
        if all(f is not None for f in found):
            rows.append(judge(changes, found))
    return pd.DataFrame(rows)


INSIDE = 0.8  # a candidate is inside the regime when all premises held on this fraction of seeds
# the closest candidate's columns in the map -> their keys for the prose
CLOSEST = {"d": "d", "N": "n_train", "p0": "p0", "r": "zeta_norm", "λ": "weight_decay",
           "η₁": "lr_large", "η₂": "lr_small", "τ_ξ": "grad_noise", "(a)": "a", "(b)": "b",
           "(c)": "c", "all": "all", "L-S annealed": "ls_annealed",
           "S final train loss": "s_final_loss"}  # fmt: skip


def verdict(frame: pd.DataFrame) -> dict:
    """What the search found, from the map: how many candidates are mapped, how many are inside
    the regime, and the closest one's setting and premises (NaN while none is mapped)."""
    if frame.empty:
        frame = pd.DataFrame({"all": []})
        closest = pd.Series(math.nan, index=list(CLOSEST))
    else:
        closest = frame.sort_values(["all", "(a)", "(b)", "(c)"], ascending=False).iloc[0]
    return {
        "mapped": len(frame),
        "candidates": len(candidates()),
        "inside": int((frame["all"] >= INSIDE).sum()),
        "inside_fraction": INSIDE,
        "budget": BUDGET,
        **{f"closest_{key}": float(closest[column]) for column, key in CLOSEST.items()},
    }
