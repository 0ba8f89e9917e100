"""The book's one statistics vocabulary: mean ± std, confidence intervals and the verdict rules.

A difference counts as reproduced only beyond two standard errors of the seed spread *and* beyond
a minimum effect the chapter states; a mechanism claim ("memorises the patch") is a threshold
with the same two-standard-error margin; a claim whose premise fails gets "precondition not met"
with the reason, never "not reproduced". Every chapter's verdicts come from here.
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
    """A claim's outcome and why: the label goes in tables, the reason in the prose."""

    label: str
    reason: str

    def __str__(self) -> str:
        return f"{self.label} ({self.reason})" if self.reason else self.label


def precondition(ok: bool, reason: str) -> Verdict | None:
    """None when the premise holds, else the verdict that replaces the claim's own."""
    return None if ok else Verdict(PRECONDITION_NOT_MET, reason)


def compare(
    a: Sequence[float],
    b: Sequence[float],
    min_effect: float,
    unit: str = "",
    paired: bool = False,
    unmet: Verdict | None = None,
) -> Verdict:
    """Claim: mean(a) > mean(b) by at least `min_effect`, beyond two standard errors.

    `unmet` (from `precondition`) replaces the verdict when the claim's premise fails.
    """
    if unmet is not None:
        return unmet
    diff, se, _ = _difference(a, b, paired)
    told = f"difference {diff:+.3g}{unit}, 2 s.e. {2 * se:.2g}{unit}, minimum {min_effect:g}{unit}"
    if not np.isfinite(se):
        return Verdict(INCONCLUSIVE, f"one seed, no spread to judge: {told}")
    if abs(diff) <= 2 * se:
        return Verdict(INCONCLUSIVE, f"within two standard errors: {told}")
    if abs(diff) < min_effect:
        return Verdict(TOO_SMALL, f"beyond noise but below the minimum effect: {told}")
    return Verdict(REPRODUCED if diff > 0 else OPPOSITE, told)


def at_least(
    values: Sequence[float], bound: float, unit: str = "", unmet: Verdict | None = None
) -> Verdict:
    """Claim: the mean over seeds is at least `bound` (a mechanism threshold).

    Reproduced when the mean minus two standard errors clears the bound, not reproduced when
    the mean plus two standard errors stays below it, inconclusive in between. With one seed
    the value itself is compared (no spread to account for), and the reason says so.
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
    mean, se = float(values.mean()), standard_error(values)
    margin = 2 * se if np.isfinite(se) else 0.0
    side = "at least" if sign > 0 else "at most"
    told = f"mean {mean:.3g}{unit}, claim {side} {bound:g}{unit}"
    told += f", 2 s.e. {margin:.2g}{unit}" if np.isfinite(se) else ", one seed"
    if sign * (mean - bound) - margin >= 0:
        return Verdict(REPRODUCED, told)
    if sign * (mean - bound) + margin < 0:
        return Verdict(NOT_REPRODUCED, told)
    return Verdict(INCONCLUSIVE, told)


def size_vs_paper(ours: float, paper: float, factor: float = 2.0) -> str:
    """How our effect compares with the paper's: within `factor` is "similar size"."""
    if paper == 0 or np.sign(ours) != np.sign(paper):
        return "different sign" if ours and paper else "no effect to compare"
    ratio = ours / paper
    if ratio > factor:
        return f"larger (×{ratio:.1f})"
    if ratio < 1 / factor:
        return f"smaller (×{ratio:.2f})"
    return f"similar size (×{ratio:.2f})"
