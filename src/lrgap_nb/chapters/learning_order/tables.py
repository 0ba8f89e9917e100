"""The learning-order chapter's tables, statements and verdicts (no torch).

Every verdict comes from `lrgap_nb.stats` with the minimum effects stated below; a statement whose
premise fails in our regime (P not sample-hungry, S not fitting Q first, L-S not annealing) gets
"precondition not met" with the numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrgap_nb import stats

from .params import LearningOrderParams

GROUPS = ("P only", "Q only", "both")
TRAIN_GROUPS = tuple(f"train {g}" for g in GROUPS)

# Minimum effects and thresholds of the statements (each stated in the chapter).
HUNGRY_GAP = 0.10  # premise: P-only error from p0·N examples ≥ that from (1-q0)·N + 10 points
MIN_CURVATURE_RATIO = 2.0  # a Q-curvature difference counts when one is at least twice the other
CURVATURE_FLOOR = 1e-3  # curvatures below this count as this: the output on Q is flat to 3 decimals
CHANCE_BAND = 0.6  # Q-only accuracy at most this: "Q not learned" (chance is 0.5)
P_LEARNED = 0.6  # P-only accuracy at least this: "P learned" (10 points above chance)
Q_LEARNED = 0.9  # Q-only accuracy at least this: "Q learned"
MIN_ERROR_GAP = 0.01  # one point of test error (overall mixture or P-only)
MIN_FIT_LEAD = 100  # steps by which S must fit its Q-only training examples before its P-only ones
MAX_STEPS_FIT = np.inf  # a group never fitted within the run counts as fitted at infinity


# --- frames from the cached results ---------------------------------------------------------------


def runs_of(results) -> list[dict]:
    return [run for result in results for run in result.payload["runs"]]


def final_errors(results, cfg: LearningOrderParams) -> pd.DataFrame:
    """Final test error per run and group; 'overall' is the mixture p0·P + q0·Q + (1-p0-q0)·both."""
    rows = []
    for run in runs_of(results):
        h = run["history"]
        err = {g: 1.0 - h[g][-1] for g in GROUPS}
        overall = (
            cfg.p0 * err["P only"] + cfg.q0 * err["Q only"] + (1 - cfg.p0 - cfg.q0) * err["both"]
        )
        rows.append(
            {
                "algorithm": run["algorithm"],
                "seed": run["seed"],
                "overall": overall,
                **err,
                "steps": run["stop_step"],
                "annealed at": run["anneal_step"],
                "final train loss": h["train_loss"][-1],
            }
        )
    return pd.DataFrame(rows)


def history_frame(results) -> pd.DataFrame:
    """Long table of every recorded evaluation: algorithm, seed, step, loss, curvature, accuracies."""
    frames = []
    for run in runs_of(results):
        frame = pd.DataFrame(run["history"])
        frame.insert(0, "seed", run["seed"])
        frame.insert(0, "algorithm", run["algorithm"])
        frame["anneal_step"] = run["anneal_step"]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def per_seed(history: pd.DataFrame, algorithm: str, column: str) -> pd.DataFrame:
    """step × seed table of one column; a stopped run keeps its last value (it is frozen)."""
    frame = history[history["algorithm"] == algorithm]
    return frame.pivot(index="step", columns="seed", values=column).ffill()


def summary(frame: pd.DataFrame, columns: list[str], by: str = "algorithm") -> pd.DataFrame:
    """'mean ± std' over seeds per group of `by` (stats.mean_std), with the number of seeds."""
    rows = []
    for name, group in frame.groupby(by, sort=False):
        row = {by: name, "seeds": len(group)}
        row |= {c: stats.mean_std(group[c].dropna(), digits=3) for c in columns}
        rows.append(row)
    return pd.DataFrame(rows)


def final_table(errors: pd.DataFrame) -> pd.DataFrame:
    columns = ["overall", *GROUPS, "steps", "annealed at", "final train loss"]
    return summary(errors, columns)


def _first_step(run: pd.DataFrame, column: str, at_least: float) -> float:
    reached = run.loc[run[column] >= at_least, "step"]
    return float(reached.iloc[0]) if len(reached) else MAX_STEPS_FIT


def learning_order(history: pd.DataFrame, algorithms: list[str]) -> pd.DataFrame:
    """Per seed: L-S's anneal step; for each algorithm its P/Q accuracy and Q-curvature at the last
    evaluation before that step, its final Q-curvature, and the first step at which it classifies
    all its P-only (Q-only) training examples."""
    rows = []
    ls = history[history["algorithm"] == "L-S"]
    for seed, run in ls.groupby("seed"):
        anneal = int(run["anneal_step"].iloc[0])
        window = anneal if anneal >= 0 else int(run["step"].max()) + 1
        row = {"seed": seed, "L-S anneal step": anneal}
        for algorithm in algorithms:
            other = history[(history["algorithm"] == algorithm) & (history["seed"] == seed)]
            before = other[other["step"] < max(window, 1)]
            last = before.iloc[-1] if len(before) else other.iloc[0]
            row[f"{algorithm}: P acc"] = last["P only"]
            row[f"{algorithm}: Q acc"] = last["Q only"]
            row[f"{algorithm}: Q curvature"] = last["q_curvature"]
            row[f"{algorithm}: final Q curvature"] = other["q_curvature"].iloc[-1]
            row[f"{algorithm}: P fit at"] = _first_step(other, "train P only", 1.0)
            row[f"{algorithm}: Q fit at"] = _first_step(other, "train Q only", 1.0)
        rows.append(row)
    return pd.DataFrame(rows)


def effective_sample_table(main_errors: pd.DataFrame, ref_errors: pd.DataFrame) -> pd.DataFrame:
    """P-only test error of S and L-S beside the two references trained on P alone, and where each
    lies between them (0: like the (1-q0)·N reference, 1: like the p0·N one)."""
    frame = pd.concat([main_errors, ref_errors], ignore_index=True)
    wide = frame.pivot(index="seed", columns="algorithm", values="P only")
    few, many = wide["S on P, P only"], wide["S on P, with P"]
    position = {a: (wide[a] - many.mean()) / (few.mean() - many.mean()) for a in ("S", "L-S")}
    rows = []
    for name, trained in (
        ("S on P, P only", "p0·N P-only examples (reference)"),
        ("S", "all N (claim: effectively p0·N)"),
        ("L-S", "all N (claim: effectively (1-q0)·N)"),
        ("S on P, with P", "(1-q0)·N examples containing P (reference)"),
    ):
        low, high = stats.mean_ci(wide[name])
        rows.append(
            {
                "algorithm": name,
                "trained on": trained,
                "P-only error": stats.mean_std(wide[name], digits=3),
                "95% CI": f"[{low:.3f}, {high:.3f}]",
                "position (0: (1-q0)·N, 1: p0·N)": (
                    stats.mean_std(position[name], digits=2) if name in position else ""
                ),
            }
        )
    return pd.DataFrame(rows)


def noise_table(noise_result, cfg: LearningOrderParams) -> pd.DataFrame:
    """Measured effective pre-activation noise on Q inputs beside S + noise's levels."""
    sigma = np.asarray(noise_result.payload["sigma"])
    low, high = stats.mean_ci(sigma)
    rows = [
        {
            "quantity": f"L-S: pre-activation noise on Q-only inputs after {cfg.noise_probe_steps} "
            "steps at eta_1 (twin runs)",
            "value": stats.mean_std(sigma, digits=3),
            "95% CI": f"[{low:.3f}, {high:.3f}]",
        }
    ]
    rows += [
        {
            "quantity": ("S + noise (matched)" if f == 1.0 else f"S + noise ×{f:g}")
            + ": pre-activation noise std",
            "value": f"{cfg.pre_noise * f:.3f}",
            "95% CI": "",
        }
        for f in cfg.pre_noise_factors
    ]
    return pd.DataFrame(rows)


def sweep_frame(sweep_results, cfg: LearningOrderParams, main_results=()) -> pd.DataFrame:
    """Final overall test error of L-S and S per N, and the paired gap S − L-S with its verdict.

    At the main N the sweep reuses the main runs' first `sweep_seeds` seeds (`main_results`).
    """
    results = [*sweep_results, *main_results]
    errors = final_errors(results, cfg)
    errors["N"] = [run["n_train"] for run in _n_of(results)]
    errors = errors[errors["algorithm"].isin(["L-S", "S"]) & (errors["seed"] < cfg.sweep_seeds)]
    rows = []
    for n, at_n in errors.groupby("N"):
        wide = at_n.pivot(index="seed", columns="algorithm", values="overall")
        row = {"N": n, "seeds": len(wide)}
        for algorithm in ("L-S", "S"):
            low, high = stats.mean_ci(wide[algorithm])
            row |= {
                f"{algorithm} error": wide[algorithm].mean(),
                f"{algorithm} CI low": low,
                f"{algorithm} CI high": high,
            }
        low, high = stats.difference_ci(wide["S"], wide["L-S"], paired=True)
        verdict = stats.compare(wide["S"], wide["L-S"], MIN_ERROR_GAP, paired=True)
        row |= {
            "gap S − L-S": (wide["S"] - wide["L-S"]).mean(),
            "gap CI low": low,
            "gap CI high": high,
            "verdict": verdict.label,
        }
        rows.append(row)
    return pd.DataFrame(rows)


def _n_of(results) -> list[dict]:
    return [
        {"n_train": result.config["n_train"]} for result in results for _ in result.payload["runs"]
    ]


# --- the statements, judged by the shared rules ----------------------------------------------------


def hungry_premise(ref_errors: pd.DataFrame) -> tuple[stats.Verdict, stats.Verdict | None]:
    """Is P sample-hungry here? The p0·N reference's P-only error must exceed the (1-q0)·N one's
    by HUNGRY_GAP beyond two standard errors (paired by seed). Returns the test and, when it
    fails, the "precondition not met" verdict for the statements that rest on it."""
    wide = ref_errors.pivot(index="seed", columns="algorithm", values="P only")
    test = stats.compare(
        wide["S on P, P only"], wide["S on P, with P"], HUNGRY_GAP, unit="", paired=True
    )
    unmet = stats.precondition(
        test.label == stats.REPRODUCED,
        f"P is not sample-hungry here: reference errors p0·N {wide['S on P, P only'].mean():.3f}, "
        f"(1-q0)·N {wide['S on P, with P'].mean():.3f} ({test})",
    )
    return test, unmet


def log_curvature(values) -> np.ndarray:
    """log of Q-curvatures, floored at CURVATURE_FLOOR (a dead network on Q has curvature 0)."""
    return np.log(np.maximum(np.asarray(values, dtype=float), CURVATURE_FLOOR))


def _ci(a, b, paired: bool = True) -> str:
    low, high = stats.difference_ci(a, b, paired=paired)
    return f"95% CI [{low:+.3f}, {high:+.3f}]"


def statements(
    order: pd.DataFrame,
    errors: pd.DataFrame,
    ref_errors: pd.DataFrame,
    sweep: pd.DataFrame,
    cfg: LearningOrderParams,
) -> pd.DataFrame:
    """Each claim of Li, Wei & Ma (2019) beside our number and its verdict (lrgap_nb.stats)."""
    rows = []

    def add(claim: str, anchor: str, ours: str, verdict: stats.Verdict) -> None:
        rows.append(
            {
                "statement": claim,
                "paper": anchor,
                "ours": ours,
                "verdict": verdict.label,
                "reason": verdict.reason,
            }
        )

    wide = {
        column: errors.pivot(index="seed", columns="algorithm", values=column)
        for column in ("overall", "P only")
    }
    annealed = (order["L-S anneal step"] >= 0).astype(float)
    add(
        "L-S anneals once the P-containing examples are fit (loss < eps1 + q0 log 2)",
        "Thm 3.4 (1)",
        f"{int(annealed.sum())}/{len(order)} seeds annealed, median step "
        f"{order.loc[annealed > 0, 'L-S anneal step'].median():.0f}",
        stats.at_least(annealed, 0.9, unit=" of seeds"),
    )
    no_anneal = stats.precondition(
        annealed.all(), f"L-S annealed on {int(annealed.sum())} of {len(order)} seeds"
    )
    c_ls, c_s = order["L-S: Q curvature"], order["S: Q curvature"]
    add(
        "Before the anneal L-S has not learned Q: its Q-curvature is smaller than S's at the "
        "same step (primary measure)",
        "Lemma 4.2",
        f"Q-curvature at the last evaluation before the anneal: L-S {stats.mean_std(c_ls, 3)}, "
        f"S {stats.mean_std(c_s, 3)}; log ratio S/L-S {_ci(log_curvature(c_s), log_curvature(c_ls))}",
        stats.compare(
            log_curvature(c_s),
            log_curvature(c_ls),
            np.log(MIN_CURVATURE_RATIO),
            unit=" (log)",
            paired=True,
            unmet=no_anneal,
        ),
    )
    add(
        "Before the anneal L-S's Q-only accuracy stays near chance (secondary, coarse)",
        "Sec. 4",
        f"Q-only accuracy before the anneal {stats.mean_std(order['L-S: Q acc'], 3)}",
        stats.at_most(order["L-S: Q acc"], CHANCE_BAND, unmet=no_anneal),
    )
    add(
        "Before the anneal L-S has learned P",
        "Sec. 4",
        f"P-only accuracy before the anneal {stats.mean_std(order['L-S: P acc'], 3)}",
        stats.at_least(order["L-S: P acc"], P_LEARNED, unmet=no_anneal),
    )
    c_final = order["L-S: final Q curvature"]
    add(
        "After the anneal L-S learns Q: its Q-curvature grows",
        "Sec. 4",
        f"L-S Q-curvature before the anneal {stats.mean_std(c_ls, 3)}, at the end "
        f"{stats.mean_std(c_final, 3)}",
        stats.compare(
            log_curvature(c_final),
            log_curvature(c_ls),
            np.log(MIN_CURVATURE_RATIO),
            unit=" (log)",
            paired=True,
            unmet=no_anneal,
        ),
    )
    q_final = 1 - errors.loc[errors["algorithm"] == "L-S", "Q only"]
    add(
        "After the anneal L-S classifies Q (secondary)",
        "Sec. 4",
        f"final Q-only accuracy {stats.mean_std(q_final, 3)}",
        stats.at_least(q_final, Q_LEARNED, unmet=no_anneal),
    )
    p_fit, q_fit = order["S: P fit at"], order["S: Q fit at"]
    s_first = stats.compare(
        np.minimum(p_fit, cfg.max_steps + cfg.eval_every),
        np.minimum(q_fit, cfg.max_steps + cfg.eval_every),
        MIN_FIT_LEAD,
        unit=" steps",
        paired=True,
    )
    add(
        "S fits its Q-only training examples before its P-only ones",
        "Thm 3.5, Sec. 5",
        f"first step with every Q-only training example fit {stats.mean_std(q_fit, 0)}, "
        f"every P-only one {stats.mean_std(p_fit, 0)} (never fit: counted at max_steps + 1 eval)",
        s_first,
    )
    hungry, not_hungry = hungry_premise(ref_errors)
    add(
        "Premise: P is sample-hungry (error from p0·N P-only examples ≥ 10 points above that "
        "from (1-q0)·N)",
        "Sec. 3 (d ≫ p0·N)",
        f"reference P-only errors: p0·N {ref_errors.loc[ref_errors['algorithm'] == 'S on P, P only', 'P only'].mean():.3f}, "
        f"(1-q0)·N {ref_errors.loc[ref_errors['algorithm'] == 'S on P, with P', 'P only'].mean():.3f}",
        hungry,
    )
    s_p, ls_p = wide["P only"]["S"], wide["P only"]["L-S"]
    add(
        "S's P-only test error is above L-S's (the effective-sample contrast)",
        "Sec. 1, Thm 3.4 vs 3.5",
        f"P-only error S − L-S = {(s_p - ls_p).mean():+.3f}, {_ci(s_p, ls_p)}",
        stats.compare(s_p, ls_p, MIN_ERROR_GAP, paired=True, unmet=not_hungry),
    )
    refs = ref_errors.pivot(index="seed", columns="algorithm", values="P only")
    few, many = refs["S on P, P only"], refs["S on P, with P"]
    half_gap = 0.5 * float((few - many).mean())
    add(
        "S learns P as if from the p0·N P-only examples: its P-only error is above the "
        "(1-q0)·N reference by at least half the references' gap",
        "Sec. 1, Lemma 5.2",
        f"S − (1-q0)·N reference = {(s_p - many).mean():+.3f}, {_ci(s_p, many)}; half gap "
        f"{half_gap:.3f}",
        stats.compare(s_p, many, max(half_gap, 0.0), paired=True, unmet=not_hungry),
    )
    add(
        "L-S learns P as if from the (1-q0)·N examples containing P: its P-only error is below "
        "the p0·N reference by at least half the references' gap",
        "Sec. 1, Thm 3.4",
        f"p0·N reference − L-S = {(few - ls_p).mean():+.3f}, {_ci(few, ls_p)}; half gap "
        f"{half_gap:.3f}",
        stats.compare(few, ls_p, max(half_gap, 0.0), paired=True, unmet=not_hungry),
    )
    s, ls = wide["overall"]["S"], wide["overall"]["L-S"]
    add(
        "L-S ends with lower test error than S",
        "Thm 3.4 vs Thm 3.5",
        f"error S − L-S = {(s - ls).mean():+.3f}, {_ci(s, ls)}",
        stats.compare(s, ls, MIN_ERROR_GAP, paired=True, unmet=not_hungry),
    )
    for factor in cfg.pre_noise_factors:
        name = "S + noise" if factor == 1.0 else f"S + noise ×{factor:g}"
        noisy = wide["overall"][name]
        matched = "matched to L-S" if factor == 1.0 else f"×{factor:g} the matched level"
        add(
            f"Small LR with annealed pre-activation noise ({matched}) beats S",
            "Sec. 5 (mitigation)",
            f"error S − ({name}) = {(s - noisy).mean():+.3f}, {_ci(s, noisy)}",
            stats.compare(s, noisy, MIN_ERROR_GAP, paired=True),
        )
    add(
        "The L-S advantage holds across training-set sizes",
        "Thm 3.4 vs 3.5",
        "; ".join(f"N={r.N}: {r.verdict}" for r in sweep.itertuples()),
        sweep_verdict(sweep),
    )
    return pd.DataFrame(rows)


def sweep_verdict(sweep: pd.DataFrame) -> stats.Verdict:
    """Reproduced when the paired gap is reproduced at every N; opposite when it is opposite at any."""
    labels = sweep["verdict"].tolist()
    told = f"reproduced at {labels.count(stats.REPRODUCED)} of {len(labels)} sizes"
    if all(label == stats.REPRODUCED for label in labels):
        return stats.Verdict(stats.REPRODUCED, told)
    if stats.OPPOSITE in labels:
        opposite = [str(n) for n, v in zip(sweep["N"], labels, strict=True) if v == stats.OPPOSITE]
        return stats.Verdict(stats.OPPOSITE, f"{told}; opposite at N = {', '.join(opposite)}")
    return stats.Verdict(stats.INCONCLUSIVE, told)


def verdict(table: pd.DataFrame) -> str:
    """Markdown summary of the statements table, written from its verdict column."""
    counts = table["verdict"].value_counts()
    head = ", ".join(f"{n} {label}" for label, n in counts.items())
    lines = [f"**{len(table)} statements at this scale: {head}.**", ""]
    lines += [
        f"- {r.statement} ({r.paper}): {r.ours} — **{r.verdict}** ({r.reason})."
        for r in table.itertuples()
    ]
    return "\n".join(lines)


def claims(table: pd.DataFrame, cfg: LearningOrderParams) -> list[dict]:
    """This chapter's rows of the book's summary table."""
    scale = f"d={cfg.d}, N={cfg.n_train}, {cfg.seeds} seeds ({cfg.profile})"
    return [
        {
            "claim": r.statement,
            "paper": r.paper,
            "ours": r.ours,
            "scale": scale,
            "verdict": r.verdict,
        }
        for r in table.itertuples()
    ]


# --- numbers the prose quotes, computed from the parameters ---------------------------------------


def stationary_weight_noise(lr: float, weight_decay: float, grad_noise: float) -> float:
    """Per-coordinate std of the weight noise that U <- U - lr(grad + lambda U + xi) settles at
    when the gradient is ignored: the recursion e <- (1 - lr·lambda) e - lr·xi has stationary
    variance lr² tau² / (1 - (1 - lr·lambda)²) ≈ lr tau² / (2 lambda)."""
    if weight_decay == 0:
        return float("inf")
    return grad_noise * lr / np.sqrt(1 - (1 - lr * weight_decay) ** 2)


def setting_text(cfg: LearningOrderParams) -> str:
    """The sizes and noise levels of this profile, in sentences (Markdown)."""
    few, many = cfg.p0 * cfg.n_train, (1 - cfg.q0) * cfg.n_train
    noise = {
        name: stationary_weight_noise(lr, cfg.weight_decay, cfg.grad_noise)
        for name, lr in (("eta_1", cfg.lr_large), ("eta_2", cfg.lr_small))
    }
    return (
        f"At this profile $d = {cfg.d}$ and $N = {cfg.n_train}$: S's $p_0 N = {few:g}$ P-only "
        f"examples against the $(1-q_0)N = {many:g}$ examples that contain P, in $d = {cfg.d}$ "
        f"dimensions. The stationary weight noise per coordinate, "
        f"$\\tau_\\xi\\,\\eta/\\sqrt{{1-(1-\\eta\\lambda)^2}} \\approx \\tau_\\xi\\sqrt{{\\eta/2\\lambda}}$ "
        f"with $\\tau_\\xi = {cfg.grad_noise:g}$ and $\\lambda = {cfg.weight_decay:g}$, is "
        f"{noise['eta_1']:.3g} at $\\eta_1 = {cfg.lr_large:g}$ and {noise['eta_2']:.3g} at "
        f"$\\eta_2 = {cfg.lr_small:g}$ (ignoring the gradient, which pulls the weights back and "
        "makes the real fluctuation smaller; the twin runs below measure it)."
    )


def rules_text() -> str:
    """The minimum effects and thresholds of the statements, from the constants that apply them."""
    return (
        "A difference counts only beyond two standard errors across seeds *and* beyond a stated "
        f"minimum effect: {MIN_ERROR_GAP:g} of test error (overall mixture or P-only); a factor "
        f'of {MIN_CURVATURE_RATIO:g} in Q-curvature (values below {CURVATURE_FLOOR:g} count as {CURVATURE_FLOOR:g}); {MIN_FIT_LEAD} steps for "fits Q first"; '
        'half the references\' gap for "as if from". A threshold must hold beyond two standard '
        f'errors: "near chance" is Q-only accuracy at most {CHANCE_BAND:g}, "learned" is '
        f"P-only accuracy at least {P_LEARNED:g} and Q-only accuracy at least {Q_LEARNED:g}. "
        "The effective-sample statements and the final-error statement rest on P being "
        f"sample-hungry (references at least {HUNGRY_GAP:g} apart beyond two standard errors); "
        'where that fails they say "precondition not met".'
    )


def cost_text(results, profile: str) -> str:
    """What the runs on this page cost, from the wall times in their provenance."""
    entries = [r for kind in results.values() for r in kind]
    seconds = sum(r.provenance.get("wall_time_s", 0.0) for r in entries)
    return (
        f"The {len(entries)} cached units of this page (profile `{profile}`) took "
        f"{seconds / 3600:.2f} h of one CPU thread in all, as recorded in their provenance "
        "(on a two-core machine shared with other work, so wall times vary with the load)."
    )


def reading(table: pd.DataFrame, errors: pd.DataFrame) -> str:
    """The statements read together, in sentences written from their verdicts and the final
    errors (Markdown)."""
    label = dict(zip(table["statement"], table["verdict"], strict=True))

    def held(prefixes: tuple[str, ...]) -> list[str]:
        return [v for s, v in label.items() if s.startswith(prefixes)]

    order = held(("L-S anneals", "Before the anneal", "After the anneal"))
    first = held(("S fits",))
    contrast = held(("S's P-only", "S learns P", "L-S learns P", "L-S ends"))
    noise = held(("Small LR",))
    parts = [
        f"L-S's learning order (anneal, Q-curvature, P before Q, Q after): "
        f"{order.count(stats.REPRODUCED)} of {len(order)} statements reproduced.",
        f"S fitting Q before P: {', '.join(first)}.",
        "The effective-sample statements and the final error: "
        + ", ".join(f"{contrast.count(v)} {v}" for v in dict.fromkeys(contrast))
        + ".",
        "S + noise against S at the three noise levels: " + ", ".join(noise) + ".",
    ]
    noisy = errors[errors["algorithm"].str.startswith("S + noise")]
    stuck = noisy[noisy["annealed at"] < 0].groupby("algorithm", sort=False).size()
    if len(stuck):
        parts.append(
            "S + noise never annealed its noise (its noise-free train loss never fell below "
            "the threshold within max_steps) on "
            + ", ".join(
                f"{n} of {len(noisy[noisy['algorithm'] == a])} seeds at {a}"
                for a, n in stuck.items()
            )
            + ": at these levels the pre-activation noise keeps the network from fitting at "
            "all, so the twin-run measure of L-S's noise, which may also count how far the large "
            "rate's unstable dynamics carry two copies apart, overstates the noise that S + "
            "noise can carry."
        )
    if stats.OPPOSITE in contrast:
        parts.append(
            "So in this regime the order of learning appears without its consequence: L-S learns "
            "P first, yet ends with a larger P-only error than S. One candidate, not tested here: "
            "the weight noise L-S accumulates at the large rate decays after the anneal only "
            "through weight decay, at a rate of the small learning rate times lambda per step, "
            "slowly against the rest of training, so L-S's weights on P's coordinates keep "
            "a random part that S's never had."
        )
    return " ".join(parts)
