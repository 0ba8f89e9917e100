"""The book's one statistics vocabulary: mean ± std, confidence intervals and the verdict rules.

The rule, stated once (`RULE`): a difference counts as reproduced only when its 95% Student-t
interval across seeds (paired where the runs share seeds) lies clear of zero *and* its mean
reaches a minimum effect the chapter states; a threshold claim ("memorises the patch", "stays
near chance") is judged on the same interval of the mean against the threshold, never on a point.
Fewer than three seeds is "inconclusive", whatever the numbers. A claim whose premise fails gets
"precondition not met" with the reason, never "not reproduced" or "opposite". Every chapter's
verdicts come from here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from scipy import stats as sps

REPRODUCED = "reproduced"
OPPOSITE = "opposite"
TOO_SMALL = "too small"
INCONCLUSIVE = "inconclusive"
NOT_REPRODUCED = "not reproduced"
PRECONDITION_NOT_MET = "precondition not met"
LABELS = (REPRODUCED, TOO_SMALL, INCONCLUSIVE, NOT_REPRODUCED, OPPOSITE, PRECONDITION_NOT_MET)

LEVEL = 0.95  # confidence level of every interval a verdict reads
MIN_SEEDS = 3  # fewer seeds than this: "inconclusive", the value printed alone
RULE = (
    "A difference is *reproduced* when its 95% Student-t interval across seeds (paired where the "
    "runs share seeds) lies clear of zero and its mean reaches the claim's stated minimum effect; "
    "*too small* when the interval is clear of zero but the mean falls short of that effect; "
    "*opposite* when the interval is clear of zero the other way by at least the minimum effect; "
    "*inconclusive* when the interval contains zero or fewer than three seeds ran. A threshold "
    "claim is *reproduced* when the whole interval of the mean is on the claimed side of the "
    "threshold, *not reproduced* when it is wholly on the other side. A claim whose premise "
    "fails, or whose runs failed their own protocol, reads *precondition not met*, with the reason."
)


def mean_std(values: Sequence[float], digits: int = 1) -> str:
    """ "mean ± std" over seeds (sample std); a single seed shows its value alone."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return f"{values.mean():.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def standard_error(values: Sequence[float]) -> float:
    """Standard error of the mean over seeds; NaN for fewer than two."""
    values = np.asarray(values, dtype=float)
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval of the mean over seeds."""
    values = np.asarray(values, dtype=float)
    half = sps.t.ppf((1 + level) / 2, len(values) - 1) * standard_error(values)
    return float(values.mean() - half), float(values.mean() + half)


def difference_ci(
    a: Sequence[float], b: Sequence[float], paired: bool = False, level: float = 0.95
) -> tuple[float, float]:
    """Welch (or paired) t interval for mean(a) − mean(b)."""
    diff, se, dof = _difference(a, b, paired)
    half = sps.t.ppf((1 + level) / 2, dof) * se
    return diff - half, diff + half


def bootstrap_mean_ci(
    values: Sequence[float], seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Bootstrap interval of a mean over many units (datasets), where normality is not assumed."""
    result = sps.bootstrap(
        (np.asarray(values, dtype=float),), np.mean, confidence_level=level, random_state=seed
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def proportion_ci(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper–Pearson interval of a proportion."""
    result = sps.binomtest(successes, trials).proportion_ci(level, method="exact")
    return float(result.low), float(result.high)


def _difference(a: Sequence[float], b: Sequence[float], paired: bool) -> tuple[float, float, float]:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if paired:
        d = a - b
        return float(d.mean()), standard_error(d), len(d) - 1
    va, vb = _var_of_mean(a), _var_of_mean(b)
    se = float(np.sqrt(va + vb))
    dof = (va + vb) ** 2 / (va**2 / max(len(a) - 1, 1) + vb**2 / max(len(b) - 1, 1) or np.nan)
    return float(a.mean() - b.mean()), se, float(dof)


def _var_of_mean(x: np.ndarray) -> float:
    return float(x.var(ddof=1) / len(x)) if len(x) > 1 else float("nan")


@dataclasses.dataclass(frozen=True)
class Verdict:
    """A claim's outcome and why: the label goes in tables, the reason in the prose.

    `estimate` and `interval` are the numbers the rule read (the mean difference or the mean, and
    its 95% interval); None where no rule ran (a failed premise, too few seeds for an interval).
    """

    label: str
    reason: str
    estimate: float | None = None
    interval: tuple[float, float] | None = None

    def __str__(self) -> str:
        return f"{self.label} ({self.reason})" if self.reason else self.label


def precondition(ok: bool, reason: str) -> Verdict | None:
    """None when the premise holds, else the verdict that replaces the claim's own."""
    return None if ok else Verdict(PRECONDITION_NOT_MET, reason)


def _seeds(n: int) -> str:
    return "one seed" if n == 1 else f"{n} seeds"


def compare(
    a: Sequence[float],
    b: Sequence[float],
    min_effect: float,
    unit: str = "",
    paired: bool = False,
    unmet: Verdict | None = None,
) -> Verdict:
    """Claim: mean(a) > mean(b) by at least `min_effect` (the rule in `RULE`).

    `unmet` (from `precondition`) replaces the verdict when the claim's premise fails.
    """
    if unmet is not None:
        return unmet
    n = min(len(a), len(b))
    diff, se, dof = _difference(a, b, paired)
    if n < MIN_SEEDS or not np.isfinite(se):
        return Verdict(
            INCONCLUSIVE,
            f"{_seeds(n)}, fewer than {MIN_SEEDS}: difference {diff:+.3g}{unit}, "
            f"minimum {min_effect:g}{unit}",
            diff,
        )
    low, high = _interval(diff, se, dof)
    told = (
        f"difference {diff:+.3g}{unit}, 95% CI [{low:+.3g}, {high:+.3g}]{unit}, "
        f"minimum {min_effect:g}{unit}"
    )
    if low <= 0 <= high:
        return Verdict(INCONCLUSIVE, f"the interval contains zero: {told}", diff, (low, high))
    if abs(diff) < min_effect:
        side = "" if diff > 0 else ", the other way"
        return Verdict(TOO_SMALL, f"clear of zero{side} but below the minimum effect: {told}",
                       diff, (low, high))  # fmt: skip
    return Verdict(REPRODUCED if diff > 0 else OPPOSITE, told, diff, (low, high))


def _interval(estimate: float, se: float, dof: float) -> tuple[float, float]:
    half = float(sps.t.ppf((1 + LEVEL) / 2, dof) * se)
    return estimate - half, estimate + half


def at_least(
    values: Sequence[float], bound: float, unit: str = "", unmet: Verdict | None = None
) -> Verdict:
    """Claim: the mean over seeds is at least `bound` (a mechanism threshold).

    Reproduced when the 95% t-interval of the mean lies at or above the bound, not reproduced
    when it lies wholly below, inconclusive when it straddles the bound or fewer than three
    seeds ran (the values are printed alone).
    """
    return _threshold(values, bound, 1.0, unit, unmet)


def at_most(
    values: Sequence[float], bound: float, unit: str = "", unmet: Verdict | None = None
) -> Verdict:
    """Claim: the mean over seeds is at most `bound` (e.g. "stays near chance")."""
    return _threshold(values, bound, -1.0, unit, unmet)


def _threshold(
    values: Sequence[float], bound: float, sign: float, unit: str, unmet: Verdict | None
) -> Verdict:
    if unmet is not None:
        return unmet
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    side = "at least" if sign > 0 else "at most"
    if len(values) < MIN_SEEDS:
        shown = ", ".join(f"{v:.3g}" for v in values)
        return Verdict(
            INCONCLUSIVE,
            f"{_seeds(len(values))}, fewer than {MIN_SEEDS}: {shown}{unit}, claim {side} "
            f"{bound:g}{unit}",
            mean,
        )
    low, high = _interval(mean, standard_error(values), len(values) - 1)
    told = (
        f"mean {mean:.3g}{unit}, 95% CI [{low:.3g}, {high:.3g}]{unit}, claim {side} {bound:g}{unit}"
    )
    near, far = (low, high) if sign > 0 else (high, low)
    if sign * (near - bound) >= 0:
        return Verdict(REPRODUCED, told, mean, (low, high))
    if sign * (far - bound) < 0:
        return Verdict(NOT_REPRODUCED, told, mean, (low, high))
    return Verdict(INCONCLUSIVE, f"the interval straddles the threshold: {told}", mean, (low, high))


COMPARABLE_WITHIN = (
    10.0  # percentage points: accuracy levels this close make effect sizes comparable
)


def size_vs_paper(
    ours: float,
    paper: float,
    ours_levels: Sequence[float] = (),
    paper_levels: Sequence[float] = (),
    factor: float = 2.0,
) -> str:
    """How our effect compares with the paper's: within `factor` is "similar size".

    Only where the accuracy levels behind the two effects are comparable: every level of ours
    within COMPARABLE_WITHIN points of the paper's matching level. Otherwise the sizes are not
    compared: a 5-point gap between 61% and 67% says little about one between 85% and 90%.
    """
    if ours_levels and paper_levels:
        gaps = np.abs(np.subtract(ours_levels, paper_levels))
        if (gaps > COMPARABLE_WITHIN).any():
            return f"not comparable (ours {_span(ours_levels)}%, paper {_span(paper_levels)}%)"
    if paper == 0 or np.sign(ours) != np.sign(paper):
        return "different sign" if ours and paper else "no effect to compare"
    ratio = ours / paper
    if ratio > factor:
        return f"larger (×{ratio:.1f})"
    if ratio < 1 / factor:
        return f"smaller (×{ratio:.2f})"
    return f"similar size (×{ratio:.2f})"


def _span(levels: Sequence[float]) -> str:
    low, high = min(levels), max(levels)
    return f"{low:.0f}" if round(low) == round(high) else f"{low:.0f}–{high:.0f}"
