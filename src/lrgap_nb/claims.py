"""Claims as typed records, judged by one engine.

A chapter declares each claim as a small function that measures its numbers and calls `judge`:
the statement, where the paper makes it and with which value, our per-seed numbers, the scale,
the premises it rests on (measured checks with their thresholds, or other claims) and the rule.
`judge` applies the premises first (any that fails makes the verdict "precondition not met",
with every failing premise named), then the rule from `lrgap_nb.stats`. The records are saved
as JSON (`report.save_claims`), and every table, landing summary and discussion list is rendered
from them: nothing downstream reads a verdict back out of a string.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import stats


@dataclasses.dataclass(frozen=True)
class Premise:
    """A measured check a claim rests on, with the threshold it was held to."""

    name: str
    holds: bool
    detail: str  # the measurement against its threshold ("lowest seed 33.0% < 99%")

    @classmethod
    def at_least(cls, name: str, value: float, threshold: float, unit: str = "") -> Premise:
        """Holds when the measured `value` (e.g. the lowest seed) reaches `threshold`."""
        ok = bool(np.isfinite(value) and value >= threshold)
        sign = ">=" if ok else "<"
        return cls(name, ok, f"{value:.4g}{unit} {sign} {threshold:g}{unit}")

    @classmethod
    def at_most(cls, name: str, value: float, threshold: float, unit: str = "") -> Premise:
        ok = bool(np.isfinite(value) and value <= threshold)
        sign = "<=" if ok else ">"
        return cls(name, ok, f"{value:.4g}{unit} {sign} {threshold:g}{unit}")

    @classmethod
    def of_claim(cls, claim: Claim) -> Premise:
        """Another claim as a premise: it holds only when that claim is reproduced."""
        ok = claim.verdict.label == stats.REPRODUCED
        return cls(claim.statement, ok, claim.verdict.label)

    @classmethod
    def run_protocol(cls, name: str, failures: Sequence[str]) -> Premise:
        """The runs behind a claim followed their own protocol; `failures` says how they did not."""
        return cls(name, not failures, "; ".join(failures) if failures else "all runs")


def protocol_failures(
    losses: Sequence[float],
    chance_loss: float | None = None,
    events: Mapping[str, bool] | None = None,
) -> list[str]:
    """How one run failed its own protocol, from its history (empty when it did not).

    A run failed when its loss went non-finite (diverged), when it ended at or above the loss of
    predicting at chance (`chance_loss`, e.g. log of the number of classes) or above where it
    started, or when a scheduled event (an LR anneal, a noise anneal) never fired.
    """
    losses = np.asarray(losses, dtype=float)
    failures = []
    if len(losses) and not np.isfinite(losses).all():
        failures.append("loss diverged (non-finite)")
    elif len(losses) > 1 and losses[-1] >= losses[0]:
        failures.append(f"loss never fell ({losses[0]:.3g} -> {losses[-1]:.3g})")
    elif chance_loss is not None and len(losses) and losses[-1] >= chance_loss:
        failures.append(f"loss ended at {losses[-1]:.3g}, at or above chance ({chance_loss:.3g})")
    failures += [f"{event} never fired" for event, fired in (events or {}).items() if not fired]
    return failures


def history_failures(
    history: Any, chance_loss: float, anneals: Mapping[str, int] | None = None
) -> list[str]:
    """`protocol_failures` of one `lrgap_nb.train` history (a table with `epoch`, `train_loss`
    and the scheduled columns): `anneals` maps a column (`lr`, `noise`) to the epoch after which
    it is scheduled to drop, and that anneal counts as fired when its next value is below the
    first."""
    events = {}
    for column, epoch in (anneals or {}).items():
        after = history.loc[history["epoch"] > epoch, column]
        first = float(history[column].iloc[0])
        events[f"{column} anneal"] = bool(len(after)) and float(after.iloc[0]) < first
    return protocol_failures(history["train_loss"].to_numpy(), chance_loss, events)


def histories_protocol(
    histories: Mapping[tuple, Any],
    chance_loss: float,
    anneals: Callable[[tuple], Mapping[str, int]],
) -> Premise:
    """Whether every run in `histories` (keyed (method, ..., seed)) followed its protocol, each
    failure named by method and seed; `anneals(key)` says what that run's schedule drops when."""
    failures = [
        f"{key[0]}, seed {key[-1]}: {failure}"
        for key, history in sorted(histories.items())
        for failure in history_failures(history, chance_loss, anneals(key))
    ]
    return Premise.run_protocol("runs follow their protocol", failures)


@dataclasses.dataclass(frozen=True)
class Rule:
    """How the numbers are judged: a difference between two arms, or one arm against a bound."""

    kind: str  # "difference", "at least" or "at most"
    arms: tuple[str, ...]  # names of the values compared: (a, b) or (a,)
    threshold: float  # the minimum effect, or the bound
    unit: str = ""
    paired: bool = True

    def judge(self, values: Mapping[str, Sequence[float]]) -> stats.Verdict:
        if self.kind == "difference":
            a, b = (values[arm] for arm in self.arms)
            return stats.compare(a, b, self.threshold, self.unit, self.paired)
        check = stats.at_least if self.kind == "at least" else stats.at_most
        return check(values[self.arms[0]], self.threshold, self.unit)

    def words(self) -> str:
        if self.kind == "difference":
            pairing = "paired by seed" if self.paired else "unpaired"
            return (
                f"{self.arms[0]} − {self.arms[1]}: 95% t-interval clear of zero ({pairing}), "
                f"mean at least {self.threshold:g}{self.unit}"
            )
        return (
            f"{self.arms[0]}: 95% t-interval of the mean {self.kind} {self.threshold:g}{self.unit}"
        )


def difference(a: str, b: str, min_effect: float, unit: str = "", paired: bool = True) -> Rule:
    """The claim that arm `a` exceeds arm `b` by at least `min_effect`."""
    return Rule("difference", (a, b), min_effect, unit, paired)


def at_least(arm: str, bound: float, unit: str = "") -> Rule:
    return Rule("at least", (arm,), bound, unit)


def at_most(arm: str, bound: float, unit: str = "") -> Rule:
    return Rule("at most", (arm,), bound, unit)


@dataclasses.dataclass(frozen=True)
class Claim:
    """One claim, judged: what it says, the paper's number, ours, why the verdict is what it is."""

    chapter: str
    statement: str
    source: str  # where the paper makes the claim ("Li et al. 2019, Figure 1")
    paper: str  # the paper's value(s) as printed there; "" where it gives a figure only
    values: dict[str, list[float]]  # our numbers, one per seed, per arm
    seeds: list[int]
    scale: str
    rule: Rule
    premises: tuple[Premise, ...]
    verdict: stats.Verdict
    exploratory: str = ""  # why, when its protocol or premise was set after seeing report seeds
    ours_text: str = ""  # how `ours` reads, where the arms' means ± std do not say it

    @property
    def ours(self) -> str:
        """Our numbers in one cell: each arm's mean ± std over seeds."""
        if self.ours_text:
            return self.ours_text
        digits = 2 if self.rule.unit.strip() in {"pts", "%"} else 3
        return " vs ".join(_pm(self.values[arm], digits) for arm in self.rule.arms)

    @property
    def label(self) -> str:
        """The verdict's label, marked exploratory where its protocol was chosen post hoc."""
        return f"{self.verdict.label} (exploratory)" if self.exploratory else self.verdict.label

    def record(self) -> dict[str, Any]:
        """The JSON record the landing page and the discussion read."""
        out = dataclasses.asdict(self)
        out["ours"] = self.ours
        out["label"] = self.label
        out["rule_words"] = self.rule.words()
        return _finite(out)


def _pm(values: Sequence[float], digits: int) -> str:
    return stats.mean_std(values, digits) if len(values) else "—"


def _finite(value: Any) -> Any:
    """JSON has no NaN: non-finite numbers become None."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def judge(
    chapter: str,
    statement: str,
    *,
    source: str,
    paper: str,
    values: Mapping[str, Sequence[float]],
    seeds: Sequence[int],
    scale: str,
    rule: Rule,
    premises: Sequence[Premise] = (),
    exploratory: str = "",
    ours_text: str = "",
) -> Claim:
    """The one engine: premises first, then the rule on our per-seed values."""
    missing = [arm for arm in rule.arms if arm not in values]
    if missing:
        raise ValueError(f"claim {statement!r}: no values for {', '.join(missing)}")
    failing = [p for p in premises if not p.holds]
    if failing:
        verdict = stats.Verdict(
            stats.PRECONDITION_NOT_MET, "; ".join(f"{p.name}: {p.detail}" for p in failing)
        )
    else:
        verdict = rule.judge(values)
    return Claim(
        chapter=chapter,
        statement=statement,
        source=source,
        paper=paper,
        values={k: [float(v) for v in vs] for k, vs in values.items()},
        seeds=[int(s) for s in seeds],
        scale=scale,
        rule=rule,
        premises=tuple(premises),
        verdict=verdict,
        exploratory=exploratory,
        ours_text=ours_text,
    )


def not_run(chapter: str, statement: str, *, source: str, paper: str, why: str, rule: Rule,
            scale: str = "—") -> Claim:  # fmt: skip
    """A claim of the paper this build cannot test (its data or scale is missing): says why."""
    return judge(
        chapter, statement, source=source, paper=paper, values={arm: [] for arm in rule.arms},
        seeds=[], scale=scale, rule=rule, premises=[Premise("not run", False, why)],
        ours_text="not run",
    )  # fmt: skip
