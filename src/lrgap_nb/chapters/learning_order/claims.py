"""The learning-order chapter's claims, one small function each, judged by `lrgap_nb.claims`.

Mechanism claims (the order of learning) are judged on every seed whose runs followed their
protocol. Outcome claims (the effective-sample contrast, the final error, the mitigations) are
judged only on the seeds where the theorem's premises held, measured per seed before any
outcome (`premises`), and their scale says on how many seeds that was. No torch here.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from lrgap_nb import claims as engine
from lrgap_nb import stats
from lrgap_nb.claims import Claim, Premise

from . import premises as pm
from . import tables
from .params import KEEP_LABEL, LearningOrderParams

CHAPTER = "learning_order"
MIN_CURVATURE_RATIO = 2.0  # a Q-curvature difference counts when one is at least twice the other
CURVATURE_FLOOR = 1e-3  # curvatures below this count as this: the output on Q is flat to 3 decimals
CHANCE_BAND = 0.6  # Q-only accuracy at most this: "Q not learned" (chance is 0.5)
P_LEARNED = 0.6  # P-only accuracy at least this: "P learned" (10 points above chance)
Q_LEARNED = 0.9  # Q-only accuracy at least this: "Q learned"
MIN_ERROR_GAP = 0.01  # one point of test error (overall mixture or P-only)
HUNGRY_GAP = 0.10  # P is sample-hungry: the p0·N reference errs 10 points more than (1-q0)·N
ANNEALED = 0.9  # "L-S anneals as the theorem says" on at least this fraction of seeds
POST_HOC = "its premises' thresholds were set after an audit had read the report seeds (issue 27)"
NOISE_LABELS = {0.5: "S + noise ×0.5", 1.0: "S + noise", 2.0: "S + noise ×2"}


@dataclasses.dataclass(frozen=True)
class Evidence:
    """Everything the claims read, per seed, from the chapter's cached runs."""

    cfg: LearningOrderParams
    errors: pd.DataFrame  # final test errors of every algorithm and control (tables.final_errors)
    refs: pd.DataFrame  # the references' final errors
    order: pd.DataFrame  # per seed: state before L-S's anneal (tables.learning_order)
    premises: pd.DataFrame  # per seed: premises (a)-(c) (premises.premise_frame)
    noisy: pd.DataFrame  # per seed and S + noise level: premise (d) and why it failed
    controls: pd.DataFrame  # per seed and control: its anneal step and max eta·sharpness
    sweep: pd.DataFrame  # tables.sweep_frame


def evidence(cfg: LearningOrderParams, results: dict[str, list]) -> Evidence:
    """The per-seed evidence from the chapter's results grouped by kind (lrgap_nb.runs.by_kind)."""
    measured = results["learning_order_premises"]
    main = results["learning_order_main"]
    every = main + results["learning_order_noisy"] + results["learning_order_controls"]
    refs = results["learning_order_references"]
    history = tables.history_frame(main + results["learning_order_controls"])
    frame = pm.measured_frame(measured, refs, cfg.lr_large, cfg.lr_small)
    noisy = [
        {
            "algorithm": label,
            "seed": seed,
            "(d)": ok,
            "failures": why,
            "max eta·sharpness": pm.stability(run, cfg.lr_small, cfg.lr_small),
        }
        for label, runs in _by_label(results["learning_order_noisy"]).items()
        for seed, run in runs.items()
        for ok, why in [pm.noise_premise(run, cfg.noise_anneal_step)]
    ]
    controls = [
        {
            "algorithm": label,
            "seed": seed,
            "anneal step": run["anneal_step"],
            "max eta·sharpness": pm.stability(
                run, cfg.lr_large if label.startswith("L-S") else cfg.lr_small, cfg.lr_small
            ),
            "protocol failures": "; ".join(pm.protocol(run)),
        }
        for label, runs in _by_label(results["learning_order_controls"]).items()
        for seed, run in runs.items()
    ]
    return Evidence(
        cfg=cfg,
        errors=tables.final_errors(every, cfg),
        refs=tables.final_errors(refs, cfg),
        order=tables.learning_order(history, ["L-S", "S", *_labels(results)]),
        premises=frame.set_index("seed"),
        noisy=pd.DataFrame(noisy),
        controls=pd.DataFrame(controls),
        sweep=tables.sweep_frame(results["learning_order_sweep"], cfg, main),
    )


def _by_label(results) -> dict[str, dict[int, dict]]:
    out: dict[str, dict[int, dict]] = {}
    for result in results:
        for run in result.payload["runs"]:
            out.setdefault(run["algorithm"], {})[run["seed"]] = run
    return out


def _labels(results) -> list[str]:
    return list(_by_label(results["learning_order_controls"]))


# --- helpers ---------------------------------------------------------------------------------


def _scale(ev: Evidence, seeds, of: int | None = None) -> str:
    total = len(ev.premises) if of is None else of
    return f"d={ev.cfg.d}, N={ev.cfg.n_train}, {len(seeds)} of {total} seeds ({ev.cfg.profile})"


def _wide(ev: Evidence, column: str) -> pd.DataFrame:
    return ev.errors.pivot(index="seed", columns="algorithm", values=column)


def _refs(ev: Evidence) -> tuple[pd.Series, pd.Series]:
    wide = ev.refs.pivot(index="seed", columns="algorithm", values="P only")
    return wide[KEEP_LABEL["P only"]], wide[KEEP_LABEL["with P"]]


def _protocol_ok(ev: Evidence) -> pd.Series:
    return ev.premises["protocol failures"] == ""


def _seeds_where(mask: pd.Series, name: str, parts: dict[str, pd.Series]) -> tuple[list, Premise]:
    """The seeds where `mask` holds, and the premise that there are enough of them: at least
    stats.MIN_SEEDS, or every seed (fewer seeds than that in all: the rule says inconclusive)."""
    seeds = [int(s) for s in mask.index[mask.to_numpy(dtype=bool)]]
    detail = f"held on {len(seeds)} of {len(mask)} seeds" + (
        " (" + ", ".join(f"{k} {int(v.sum())}" for k, v in parts.items()) + ")" if parts else ""
    )
    enough = len(seeds) >= stats.MIN_SEEDS or 0 < len(seeds) == len(mask)
    return seeds, Premise(name, enough, detail)


def log_curvature(values) -> np.ndarray:
    """log of Q-curvatures, floored at CURVATURE_FLOOR (a dead network on Q has curvature 0)."""
    return np.log(np.maximum(np.asarray(values, dtype=float), CURVATURE_FLOOR))


def _order_seeds(ev: Evidence) -> tuple[list, Premise]:
    """Seeds whose L-S annealed and whose L-S and S runs followed their protocol."""
    annealed = (ev.premises["L-S anneal step"] >= 0) & _protocol_ok(ev)
    return _seeds_where(annealed, "L-S annealed and its runs followed their protocol", {})


def _regime_seeds(ev: Evidence, letters=("(a)", "(b)", "(c)")) -> tuple[list, Premise]:
    """Seeds where the theorem's premises held (and the runs followed their protocol)."""
    frame = ev.premises
    mask = frame[list(letters)].all(axis=1) & _protocol_ok(ev)
    parts = {x: frame[x] for x in letters} | {"protocol": _protocol_ok(ev)}
    return _seeds_where(mask, "the theorem's regime, premises " + "".join(letters), parts)


def _judge(ev: Evidence, statement: str, seeds, values: dict, **kwargs) -> Claim:
    picked = {k: [float(v.loc[s]) for s in seeds] for k, v in values.items()}
    kwargs.setdefault("scale", _scale(ev, seeds))
    if not seeds:
        regime = any(p.name.startswith("the theorem's regime") for p in kwargs.get("premises", ()))
        n = len(ev.premises)
        where = f"outside the theorem's regime on all {n} seeds" if regime else None
        kwargs.setdefault("ours_text", where or f"premises met on none of the {n} seeds")
    return engine.judge(CHAPTER, statement, values=picked, seeds=seeds, **kwargs)


# --- the mechanism: the order of learning ----------------------------------------------------


def ls_anneals_once_p_fitted(ev: Evidence) -> Claim:
    frame = ev.premises
    held = frame["(b)"].astype(float)
    seeds = [int(s) for s in frame.index]
    steps = frame.loc[frame["L-S anneal step"] >= 0, "L-S anneal step"]
    return _judge(
        ev, "L-S anneals once P is fitted, its Q-only loss still near log 2 (premise (b))", seeds,
        {"seeds meeting (b)": held}, source="Li et al. 2019, Thm 3.4 (1), Lemma 4.1", paper="",
        rule=engine.at_least("seeds meeting (b)", ANNEALED, " of seeds"),
        ours_text=f"{int(held.sum())} of {len(held)} seeds; {len(steps)} annealed, median step "
        f"{steps.median():.0f}",
    )  # fmt: skip


def ls_curvature_below_s(ev: Evidence) -> Claim:
    seeds, annealed = _order_seeds(ev)
    o = ev.order.set_index("seed")
    return _judge(
        ev, "Before the anneal L-S has not learned Q: its Q-curvature is smaller than S's at the "
        "same step (primary measure)", seeds,
        {"S (log)": pd.Series(log_curvature(o["S: Q curvature"]), o.index),
         "L-S (log)": pd.Series(log_curvature(o["L-S: Q curvature"]), o.index)},
        source="Li et al. 2019, Lemma 4.2", paper="",
        rule=engine.difference("S (log)", "L-S (log)", math.log(MIN_CURVATURE_RATIO), " (log)"),
        premises=[annealed],
        ours_text=f"L-S {_pm(o['L-S: Q curvature'], seeds)}, S {_pm(o['S: Q curvature'], seeds)}",
    )  # fmt: skip


def ls_q_near_chance(ev: Evidence) -> Claim:
    seeds, annealed = _order_seeds(ev)
    o = ev.order.set_index("seed")
    return _judge(
        ev, "Before the anneal L-S's Q-only test accuracy stays near chance (secondary, coarse)",
        seeds, {"L-S Q-only accuracy": o["L-S: Q acc"]}, source="Li et al. 2019, Sec. 4",
        paper="", rule=engine.at_most("L-S Q-only accuracy", CHANCE_BAND), premises=[annealed],
    )  # fmt: skip


def ls_p_learned(ev: Evidence) -> Claim:
    seeds, annealed = _order_seeds(ev)
    o = ev.order.set_index("seed")
    return _judge(
        ev, "Before the anneal L-S has learned P", seeds,
        {"L-S P-only accuracy": o["L-S: P acc"]}, source="Li et al. 2019, Sec. 4", paper="",
        rule=engine.at_least("L-S P-only accuracy", P_LEARNED), premises=[annealed],
    )  # fmt: skip


def ls_ahead_of_s_on_p(ev: Evidence) -> Claim:
    """The order's other half: at L-S's anneal, L-S leads S on P (it learned P first)."""
    seeds, annealed = _order_seeds(ev)
    o = ev.order.set_index("seed")
    return _judge(
        ev, "At L-S's anneal L-S is ahead of S on P (it learned P first)", seeds,
        {"L-S P-only accuracy": o["L-S: P acc"], "S P-only accuracy": o["S: P acc"]},
        source="Li et al. 2019, Sec. 4 (Fig. 1 of the talk slides)", paper="",
        rule=engine.difference("L-S P-only accuracy", "S P-only accuracy", MIN_ERROR_GAP),
        premises=[annealed],
    )  # fmt: skip


def ls_curvature_grows(ev: Evidence) -> Claim:
    seeds, annealed = _order_seeds(ev)
    o = ev.order.set_index("seed")
    return _judge(
        ev, "After the anneal L-S learns Q: its Q-curvature grows", seeds,
        {"end (log)": pd.Series(log_curvature(o["L-S: final Q curvature"]), o.index),
         "before (log)": pd.Series(log_curvature(o["L-S: Q curvature"]), o.index)},
        source="Li et al. 2019, Sec. 4", paper="",
        rule=engine.difference("end (log)", "before (log)", math.log(MIN_CURVATURE_RATIO), " (log)"),
        premises=[annealed],
        ours_text=f"before {_pm(o['L-S: Q curvature'], seeds)}, end "
        f"{_pm(o['L-S: final Q curvature'], seeds)}",
    )  # fmt: skip


def ls_classifies_q(ev: Evidence) -> Claim:
    seeds, annealed = _order_seeds(ev)
    q = 1 - _wide(ev, "Q only")["L-S"]
    return _judge(
        ev, "After the anneal L-S classifies Q (secondary)", seeds,
        {"L-S final Q-only accuracy": q}, source="Li et al. 2019, Sec. 4", paper="",
        rule=engine.at_least("L-S final Q-only accuracy", Q_LEARNED), premises=[annealed],
    )  # fmt: skip


def s_fits_q_first(ev: Evidence) -> Claim:
    frame = ev.premises
    seeds, ok = _seeds_where(_protocol_ok(ev), "S's runs followed their protocol", {})
    cap = ev.cfg.max_steps + ev.cfg.eval_every
    return _judge(
        ev, "S fits its Q-only training examples before its P-only ones", seeds,
        {"P-only fit step": np.minimum(frame["S: P fit at"], cap),
         "Q-only fit step": np.minimum(frame["S: Q fit at"], cap)},
        source="Li et al. 2019, Thm 3.5, Sec. 5", paper="",
        rule=engine.difference("P-only fit step", "Q-only fit step", pm.MIN_FIT_LEAD, " steps"),
        premises=[ok],
    )  # fmt: skip


def p_sample_hungry(ev: Evidence) -> Claim:
    few, many = _refs(ev)
    seeds = [int(s) for s in few.index]
    return _judge(
        ev, "P is sample-hungry: from the p0·N P-only examples alone the P-only error is higher "
        "than from the (1-q0)·N examples containing P", seeds,
        {"p0·N reference": few, "(1-q0)·N reference": many},
        source="Li et al. 2019, Sec. 3 (d ≫ p0·N)", paper="",
        rule=engine.difference("p0·N reference", "(1-q0)·N reference", HUNGRY_GAP),
    )  # fmt: skip


def s_learns_p_as_if_from_few(ev: Evidence, hungry: Claim) -> Claim:
    few, many = _refs(ev)
    s = _wide(ev, "P only")["S"]
    seeds = [int(x) for x in s.index]
    half = max(0.5 * float((few - many).mean()), 0.0)
    return _judge(
        ev, "S learns P as if from the p0·N P-only examples: its P-only error is above the "
        "(1-q0)·N reference by at least half the references' gap (premise (a))", seeds,
        {"S": s, "(1-q0)·N reference": many}, source="Li et al. 2019, Sec. 1, Lemma 5.2",
        paper="", rule=engine.difference("S", "(1-q0)·N reference", half),
        premises=[Premise.of_claim(hungry)],
    )  # fmt: skip


def ls_learns_p_as_if_from_many(ev: Evidence, hungry: Claim) -> Claim:
    few, many = _refs(ev)
    ls = _wide(ev, "P only")["L-S"]
    seeds = [int(x) for x in ls.index]
    half = max(0.5 * float((few - many).mean()), 0.0)
    return _judge(
        ev, "L-S learns P as if from the (1-q0)·N examples containing P: its P-only error is "
        "below the p0·N reference by at least half the references' gap", seeds,
        {"p0·N reference": few, "L-S": ls}, source="Li et al. 2019, Sec. 1, Thm 3.4", paper="",
        rule=engine.difference("p0·N reference", "L-S", half),
        premises=[Premise.of_claim(hungry)],
    )  # fmt: skip


# --- the outcome, on the seeds where the premises held ----------------------------------------


def s_p_error_above_ls(ev: Evidence, hungry: Claim) -> Claim:
    seeds, regime = _regime_seeds(ev)
    wide = _wide(ev, "P only")
    return _judge(
        ev, "S's P-only test error is above L-S's (the effective-sample contrast)", seeds,
        {"S": wide["S"], "L-S": wide["L-S"]}, source="Li et al. 2019, Sec. 1, Thm 3.4 vs 3.5",
        paper="", rule=engine.difference("S", "L-S", MIN_ERROR_GAP),
        premises=[Premise.of_claim(hungry), regime], exploratory=POST_HOC,
    )  # fmt: skip


def ls_ends_lower(ev: Evidence, hungry: Claim) -> Claim:
    seeds, regime = _regime_seeds(ev)
    wide = _wide(ev, "overall")
    return _judge(
        ev, "L-S ends with lower test error than S", seeds,
        {"S": wide["S"], "L-S": wide["L-S"]}, source="Li et al. 2019, Thm 3.4 vs Thm 3.5",
        paper="", rule=engine.difference("S", "L-S", MIN_ERROR_GAP),
        premises=[Premise.of_claim(hungry), regime], exploratory=POST_HOC,
    )  # fmt: skip


def noise_beats_s(ev: Evidence, factor: float) -> Claim:
    label = NOISE_LABELS.get(factor, f"S + noise ×{factor:g}")
    level = "matched to L-S" if factor == 1.0 else f"×{factor:g} the matched level"
    d = ev.noisy[ev.noisy["algorithm"] == label].set_index("seed")
    regime = ev.premises[["(a)", "(c)"]].all(axis=1) & _protocol_ok(ev)
    stable = (d["max eta·sharpness"] < pm.STABLE).reindex(regime.index, fill_value=False)
    scheduled = d["(d)"].reindex(regime.index, fill_value=False)
    mask = regime & stable & scheduled
    failures = sorted({f for f in d["failures"] if f})
    parts = {"(a)": ev.premises["(a)"], "(c) S": ev.premises["(c)"], "(c) noisy": stable,
             "(d)": scheduled}  # fmt: skip
    seeds, held = _seeds_where(mask, "the theorem's regime, premises (a)(c), and (d)", parts)
    if failures:
        held = dataclasses.replace(held, detail=f"{held.detail}; failed: {failures[0]}")
    wide = _wide(ev, "overall")
    return _judge(
        ev, f"Small LR with annealed pre-activation noise ({level}) beats S", seeds,
        {"S": wide["S"], label: wide[label]}, source="Li et al. 2019, Sec. 5 (mitigation)",
        paper="", rule=engine.difference("S", label, MIN_ERROR_GAP), premises=[held],
        exploratory=POST_HOC,
    )  # fmt: skip


def advantage_across_sizes(ev: Evidence) -> Claim:
    sweep = ev.sweep
    told = "; ".join(
        f"N={r['N']}: {r['gap S − L-S']:+.3f} [{r['gap CI low']:+.3f}, {r['gap CI high']:+.3f}]"
        for _, r in sweep.iterrows()
    )
    unmeasured = Premise(
        "the premises measured at every N",
        False,
        f"measured at N={ev.cfg.n_train} only: the sweep's other sizes have no references "
        "and no sharpness measurements",
    )
    s, ls = sweep["S error"], sweep["L-S error"]
    return engine.judge(
        CHAPTER, "The L-S advantage holds across training-set sizes",
        source="Li et al. 2019, Thm 3.4 vs 3.5", paper="",
        values={"S": list(s), "L-S": list(ls)}, seeds=[],
        scale=f"d={ev.cfg.d}, N in {list(sweep['N'])}, {ev.cfg.sweep_seeds} seeds per N "
        f"({ev.cfg.profile})",
        rule=engine.difference("S", "L-S", MIN_ERROR_GAP), premises=[unmeasured],
        ours_text=f"gap S − L-S (95% CI): {told}",
    )  # fmt: skip


# --- the controls ------------------------------------------------------------------------------


def _control(ev: Evidence, label: str) -> pd.DataFrame:
    return ev.controls[ev.controls["algorithm"] == label].set_index("seed")


def quiet_ls_learns_q_early(ev: Evidence) -> Claim:
    """Lemma 4.2 credits the noise: without it, the large step alone should not hide Q."""
    label = "L-S, no gradient noise"
    c = _control(ev, label)
    stable = (c["max eta·sharpness"] < pm.STABLE) & ev.premises["(c)"]
    mask = stable & (c["anneal step"] >= 0) & (c["protocol failures"] == "") & _protocol_ok(ev)
    parts = {"(c) both runs": stable, "annealed": c["anneal step"] >= 0}
    seeds, held = _seeds_where(mask, "both runs below the stability edge and annealed", parts)
    o = ev.order.set_index("seed")
    return _judge(
        ev, "Control: without its gradient noise L-S's Q-curvature at L-S's anneal step is at "
        "least twice L-S's (the noise is what keeps Q unlearned)", seeds,
        {"no noise (log)": pd.Series(log_curvature(o[f"{label}: Q curvature"]), o.index),
         "L-S (log)": pd.Series(log_curvature(o["L-S: Q curvature"]), o.index)},
        source="Li et al. 2019, Lemma 4.2", paper="",
        rule=engine.difference("no noise (log)", "L-S (log)", math.log(MIN_CURVATURE_RATIO),
                               " (log)"),
        premises=[held], exploratory="a control added after the report seeds were read",
    )  # fmt: skip


def noisy_s_ends_lower(ev: Evidence) -> Claim:
    """The theory's reading: L-S's weight noise, not its step, is what helps; S given the same
    stationary weight noise should then end lower than S."""
    label = "S, L-S's weight noise"
    c = _control(ev, label)
    stable = c["max eta·sharpness"] < pm.STABLE
    regime = ev.premises[["(a)", "(c)"]].all(axis=1) & _protocol_ok(ev)
    mask = regime & stable & (c["protocol failures"] == "")
    parts = {"(a)": ev.premises["(a)"], "(c)": ev.premises["(c)"], "(c) control": stable}
    seeds, held = _seeds_where(mask, "the theorem's regime, premises (a)(c), for both runs", parts)
    wide = _wide(ev, "overall")
    return _judge(
        ev, "Control: S with L-S's stationary weight noise ends with lower test error than S",
        seeds, {"S": wide["S"], label: wide[label]}, source="Li et al. 2019, Sec. 1 (the noise "
        "of the large rate)", paper="", rule=engine.difference("S", label, MIN_ERROR_GAP),
        premises=[held], exploratory="a control added after the report seeds were read",
    )  # fmt: skip


def _pm(values: pd.Series, seeds) -> str:
    return stats.mean_std(values.loc[list(seeds)], digits=3) if len(seeds) else "—"


def claims(ev: Evidence) -> list[Claim]:
    """Every claim of the chapter, judged, in the order the page reads them."""
    hungry = p_sample_hungry(ev)
    return [
        ls_anneals_once_p_fitted(ev),
        ls_curvature_below_s(ev),
        ls_q_near_chance(ev),
        ls_p_learned(ev),
        ls_ahead_of_s_on_p(ev),
        ls_curvature_grows(ev),
        ls_classifies_q(ev),
        s_fits_q_first(ev),
        hungry,
        s_learns_p_as_if_from_few(ev, hungry),
        ls_learns_p_as_if_from_many(ev, hungry),
        s_p_error_above_ls(ev, hungry),
        ls_ends_lower(ev, hungry),
        *(noise_beats_s(ev, f) for f in ev.cfg.pre_noise_factors),
        advantage_across_sizes(ev),
        quiet_ls_learns_q_early(ev),
        noisy_s_ends_lower(ev),
    ]


# --- the numbers the page states around the claims ---------------------------------------------


def thresholds() -> pd.DataFrame:
    """The claims' minimum effects and thresholds, and the premises' per-seed thresholds."""
    rows = [
        ("minimum effect", "test error (overall mixture or P-only) or accuracy", MIN_ERROR_GAP),
        ("minimum effect", "factor between two Q-curvatures", MIN_CURVATURE_RATIO),
        ("minimum effect", "Q-curvature floor: smaller values count as this", CURVATURE_FLOOR),
        ("minimum effect", '"fits Q first": lead in steps', pm.MIN_FIT_LEAD),
        ("minimum effect", '"P is sample-hungry": gap between the references', HUNGRY_GAP),
        ("threshold", '"near chance": Q-only accuracy at most', CHANCE_BAND),
        ("threshold", '"P learned": P-only accuracy at least', P_LEARNED),
        ("threshold", '"Q learned": Q-only accuracy at least', Q_LEARNED),
        ("premise (a)", "S fits every Q-only training example this many steps before every "
         "P-only one", pm.MIN_FIT_LEAD),
        ("premise (a)", "S's P-only error at least this fraction of the way from the (1-q0)·N "
         "reference to the p0·N one", pm.NEAR_FEW),
        ("premise (b)", "L-S's Q-only training loss at its anneal within this of log 2",
         pm.Q_LOSS_BAND),
        ("premise (c)", "η times the top Hessian eigenvalue below this at every measurement, "
         "both runs", pm.STABLE),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["kind", "what", "value"])
    return frame.assign(value=[f"{v:g}" for v in frame["value"]])


def reading(judged: list[Claim]) -> dict:
    """The verdicts the page reads together: the mechanism's, and how many outcome claims (those
    resting on the theorem's premises) could be judged."""
    label = {c.statement: c.verdict.label for c in judged}

    def verdict(prefix: str) -> str:
        return next(v for s, v in label.items() if s.startswith(prefix))

    regime = [
        c for c in judged if any(p.name.startswith("the theorem's regime") for p in c.premises)
    ]
    return {
        "ahead_on_p": verdict("At L-S's anneal L-S is ahead of S on P"),
        "curvature_before_anneal": verdict("Before the anneal L-S has not learned Q"),
        "s_fits_q_first": verdict("S fits its Q-only"),
        "s_as_if_few": verdict("S learns P as if"),
        "outcome_claims": len(regime),
        "outcome_judged": sum(c.verdict.label != stats.PRECONDITION_NOT_MET for c in regime),
    }
