"""The theorem's premises, measured per seed before any outcome is read (no torch).

Li, Wei & Ma's contrast between L-S and S rests on what happens on the way, not at the end:
  (a) S fits its Q-only training examples first and then learns P from the p0·N P-only examples
      alone, so its P-only test error sits near the reference trained on those examples only;
  (b) L-S anneals once P is fitted while its loss on the Q-only examples is still near log 2
      (the network's output on Q still about zero);
  (c) both step sizes are below the stability edge: eta times the top Hessian eigenvalue of the
      loss stays below 2 at every measurement (above it gradient descent oscillates, a different
      mechanism from the noise the theorem credits);
  (d) S + noise anneals its noise on its fixed schedule.
A run that diverged or ended at or above the chance loss failed its own protocol. Every outcome
claim is judged on the seeds where its premises hold, and says on how many that was.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from lrgap_nb import claims

from .params import KEEP_LABEL

FIT = 1.0  # "fitted": every training example of the group classified
Q_LOSS_BAND = 0.1  # "near log 2": the Q-only training loss within this many nats of log 2
STABLE = 2.0  # gradient descent is stable while eta × top Hessian eigenvalue stays below this
NEAR_FEW = 0.5  # (a): S's P-only error at least halfway from the (1-q0)·N reference to the p0·N one
MIN_FIT_LEAD = 100  # (a): steps by which S must fit its Q-only examples before its P-only ones
CHANCE_LOSS = math.log(2)  # logistic loss of an output of zero
NEVER = math.inf  # a group never fitted within the run counts as fitted at infinity

LETTERS = {
    "(a)": "S fits Q first and learns P from the P-only examples",
    "(b)": "L-S anneals once P is fitted, its Q loss near log 2",
    "(c)": "both step sizes below the stability edge",
    "(d)": "the noise anneal fires on its schedule",
}


def runs_of(results: Iterable, label: str | None = None) -> dict[int, dict]:
    """The per-seed run records of cached results (one algorithm's when `label` is given)."""
    return {
        run["seed"]: run
        for result in results
        for run in result.payload["runs"]
        if label is None or run["algorithm"] == label
    }


def fit_step(history: dict, column: str) -> float:
    """First recorded step at which every training example of a group is classified."""
    for step, value in zip(history["step"], history[column], strict=True):
        if value >= FIT:
            return float(step)
    return NEVER


def at_step(history: dict, column: str, step: int) -> float:
    """The value recorded at `step` (the last one before it if it was not recorded)."""
    steps = np.asarray(history["step"])
    index = int(np.searchsorted(steps, step, side="right")) - 1
    return float(history[column][max(index, 0)])


def stability(run: dict, lr_before: float, lr_after: float) -> float:
    """Largest eta × top Hessian eigenvalue over the run's measurements (eta: the rate in force)."""
    h, anneal = run["history"], run["anneal_step"]
    products = [
        (lr_before if anneal < 0 or step < anneal else lr_after) * top
        for step, top in zip(h["step"], h["sharpness"], strict=True)
        if top is not None and np.isfinite(top)
    ]
    return max(products) if products else math.nan


def protocol(run: dict, events: dict[str, bool] | None = None) -> list[str]:
    """How one run failed its protocol (diverged, stuck at chance, an event never fired)."""
    return claims.protocol_failures(run["history"]["train_loss"], CHANCE_LOSS, events)


def p_error(run: dict) -> float:
    return 1.0 - run["history"]["P only"][-1]


def measured_frame(measured: list, refs: list, lr_large: float, lr_small: float):
    """`premise_frame` from cached results: the measured L-S and S runs and the two references."""
    return premise_frame(
        runs_of(measured, "L-S"), runs_of(measured, "S"), runs_of(refs, KEEP_LABEL["P only"]),
        runs_of(refs, KEEP_LABEL["with P"]), lr_large, lr_small,
    )  # fmt: skip


def premise_frame(ls: dict, s: dict, few: dict, many: dict, lr_large: float, lr_small: float):
    """Per seed: the measurements behind premises (a)-(c) and whether each holds.

    `ls` and `s` are L-S's and S's runs with the premises' measurements (per seed), `few` and
    `many` the references trained on P alone from the p0·N P-only examples and from the
    (1-q0)·N examples containing P.
    """
    rows = []
    for seed in sorted(set(ls) & set(s) & set(few) & set(many)):
        a, b = ls[seed], s[seed]
        hs, hl = b["history"], a["history"]
        q_fit, p_fit = fit_step(hs, "train Q only"), fit_step(hs, "train P only")
        low, high = p_error(many[seed]), p_error(few[seed])
        position = (p_error(b) - low) / (high - low) if high > low else math.nan
        anneal = a["anneal_step"]
        p_acc = at_step(hl, "train P only", anneal) if anneal >= 0 else math.nan
        q_loss = at_step(hl, "loss Q only", anneal) if anneal >= 0 else math.nan
        edge_ls = stability(a, lr_large, lr_small)
        edge_s = stability(b, lr_small, lr_small)
        failures = [f"L-S: {f}" for f in protocol(a)] + [f"S: {f}" for f in protocol(b)]
        rows.append(
            {
                "seed": seed,
                "S: Q fit at": q_fit,
                "S: P fit at": p_fit,
                "S: P-only error position": position,
                "(a)": bool(q_fit + MIN_FIT_LEAD <= p_fit and position >= NEAR_FEW),
                "L-S anneal step": anneal,
                "L-S: P-only train accuracy at anneal": p_acc,
                "L-S: Q-only loss at anneal": q_loss,
                "(b)": bool(
                    anneal >= 0 and p_acc >= FIT and abs(q_loss - CHANCE_LOSS) <= Q_LOSS_BAND
                ),
                "L-S: max eta·sharpness": edge_ls,
                "S: max eta·sharpness": edge_s,
                "(c)": bool(edge_ls < STABLE and edge_s < STABLE),
                "protocol failures": "; ".join(failures),
            }
        )
    return pd.DataFrame(rows)


def noise_premise(run: dict, anneal_step: int) -> tuple[bool, str]:
    """(d) for one S + noise run: its noise anneal fired at its scheduled step and the run
    followed its protocol (its loss ended below log 2)."""
    fired = run["anneal_step"] == anneal_step
    failures = protocol(run, {"noise anneal at its scheduled step": fired})
    return not failures, "; ".join(failures)


def summary(frame: pd.DataFrame, letters: Iterable[str] = ("(a)", "(b)", "(c)")) -> pd.DataFrame:
    """Seeds meeting each premise, and all of them, in one row per premise."""
    letters = list(letters)
    every = frame[letters].all(axis=1) if len(frame) else pd.Series(dtype=bool)
    rows = [
        {"premise": f"{x} {LETTERS[x]}", "seeds": f"{int(frame[x].sum())} of {len(frame)}"}
        for x in letters
    ]
    rows.append(
        {"premise": "all of " + ", ".join(letters), "seeds": f"{int(every.sum())} of {len(frame)}"}
    )
    return pd.DataFrame(rows)


def initial_sharpness(results: Iterable) -> float:
    """Median over seeds of the top Hessian eigenvalue at initialisation (L-S's runs)."""
    runs = runs_of(results, "L-S").values()
    return float(np.median([r["history"]["sharpness"][0] for r in runs])) if runs else math.nan


def second_phase(results: Iterable) -> float:
    """Median over seeds of the steps L-S ran after its anneal (NaN if none annealed)."""
    runs = runs_of(results, "L-S").values()
    after = [r["stop_step"] - r["anneal_step"] for r in runs if r["anneal_step"] >= 0]
    return float(np.median(after)) if after else math.nan
