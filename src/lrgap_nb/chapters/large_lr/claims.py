"""The large-LR chapter's claims, one function each, judged by `lrgap_nb.claims` (no torch).

Seeds are paired across methods (a seed fixes the initial weights and the batch order). The
premises are the papers' regime whatever the profile: the small LR has fitted the training set
before the anneal (Li, Wei & Ma, Figure 1: train accuracy near 100%), every method has by the
end, and every run followed its own protocol (no divergence, loss below chance, the anneal fired).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

from lrgap_nb import claims as engine
from lrgap_nb.claims import Claim, Premise

from .params import LARGE, NOISE, NOISE_PATCH, PAPER_CIFAR10, PAPER_CIFAR100, PAPER_SIZES, SMALL
from .tables import MIN_EFFECT, Histories, at, present

CHAPTER = "large_lr"
GATE = 99.0  # % train accuracy the claims assume (the papers' small LR fits the training set)
CHANCE_LOSS = math.log(10)  # cross-entropy of a uniform guess over CIFAR-10's classes
LI = "Li, Wei & Ma 2019, Figure 1"
SURVEY = "survey report, section 2.1"
PTS = " pts"


@dataclasses.dataclass(frozen=True)
class Runs:
    """The main runs' histories and what the claims need to read them."""

    hist: Histories
    anneal: int  # completed epochs at the first anneal
    scale: str

    def at(self, method: str, epoch: int | None, column: str) -> list[float]:
        return at(self.hist, method, epoch, column)

    def seeds(self, method: str) -> list[int]:
        return [key[-1] for key in sorted(self.hist) if key[0] == method]

    def gate(self, name: str, method: str, epoch: int | None) -> Premise:
        return Premise.at_least(name, min(self.at(method, epoch, "train_acc")), GATE, "%")

    def protocol(self, methods: tuple[str, ...]) -> Premise:
        """Every run of `methods` followed its protocol (all methods share the LR anneals)."""
        runs = {key: h for key, h in self.hist.items() if key[0] in methods}
        return engine.histories_protocol(runs, CHANCE_LOSS, lambda key: {"lr": self.anneal})

    def fitted_first(self) -> list[Premise]:
        name = f"small LR's lowest train acc. before the anneal (epoch {self.anneal})"
        return [self.gate(name, SMALL, self.anneal), self.protocol((SMALL, LARGE))]

    def fitted_at_end(self, methods: tuple[str, ...]) -> list[Premise]:
        gates = [self.gate(f"{m}'s lowest final train acc.", m, None) for m in methods]
        return [*gates, self.protocol(methods)]

    def judge(self, statement: str, a: str, b: str, epoch: int | None, column: str,
              premises: list[Premise], paper: str = "", source: str = LI) -> Claim:  # fmt: skip
        return engine.judge(
            CHAPTER, statement, source=source, paper=paper,
            values={a: self.at(a, epoch, column), b: self.at(b, epoch, column)},
            seeds=self.seeds(a), scale=self.scale,
            rule=engine.difference(a, b, MIN_EFFECT, PTS), premises=premises,
        )  # fmt: skip


def small_ahead_in_train_before_anneal(runs: Runs) -> Claim:
    return runs.judge("small LR ahead in train acc. before the anneal", SMALL, LARGE,
                      runs.anneal, "train_acc", runs.fitted_first())  # fmt: skip


def small_ahead_in_val_before_anneal(runs: Runs) -> Claim:
    return runs.judge("small LR ahead in val. acc. before the anneal", SMALL, LARGE,
                      runs.anneal, "test_acc", runs.fitted_first())  # fmt: skip


def large_ahead_right_after_anneal(runs: Runs) -> Claim:
    return runs.judge("large LR ahead in val. acc. right after the anneal", LARGE, SMALL,
                      runs.anneal + 1, "test_acc", runs.fitted_at_end((LARGE, SMALL)))  # fmt: skip


def large_ends_better(runs: Runs) -> Claim:
    return runs.judge(
        "large LR + anneal ends with better val. acc.", LARGE, SMALL, None, "test_acc",
        runs.fitted_at_end((LARGE, SMALL)),
        paper=f"{PAPER_CIFAR10[LARGE]} vs {PAPER_CIFAR10[SMALL]}", source=SURVEY,
    )  # fmt: skip


def noise_recovers_the_gap(runs: Runs, noisy: str) -> Claim:
    return runs.judge(
        f"{noisy} ends above small LR (recovers part of the gap)", noisy, SMALL, None,
        "test_acc", runs.fitted_at_end((noisy, SMALL)),
        paper=f"{PAPER_CIFAR10[NOISE]} vs {PAPER_CIFAR10[SMALL]} (noise level not stated)",
        source=SURVEY,
    )  # fmt: skip


def cifar100(runs: Runs | None, why_not: str) -> Claim:
    statement = "CIFAR-100: large LR + anneal ends with better val. acc."
    paper = f"{PAPER_CIFAR100[LARGE]} vs {PAPER_CIFAR100[SMALL]}"
    source = "survey report, section 3.1"
    if runs is None:
        return engine.not_run(CHAPTER, statement, source=source, paper=paper, why=why_not,
                              rule=engine.difference(LARGE, SMALL, MIN_EFFECT, PTS))  # fmt: skip
    return runs.judge(statement, LARGE, SMALL, None, "test_acc",
                      runs.fitted_at_end((LARGE, SMALL)), paper=paper, source=source)  # fmt: skip


def large_ahead_at_size(runs: Runs, images: int, fraction: float) -> Claim:
    """Clean training-set size: large LR ahead on `images` images at equal SGD steps."""
    key = next((f for f in PAPER_SIZES[LARGE] if math.isclose(f, fraction)), None)
    paper = "" if key is None else f"{PAPER_SIZES[LARGE][key]} vs {PAPER_SIZES[SMALL][key]}"
    return runs.judge(
        f"large LR + anneal ahead in val. acc. on {images:,} clean images", LARGE, SMALL, None,
        "test_acc", runs.fitted_at_end((LARGE, SMALL)),
        paper=paper, source="survey report, section 3.1 (10k / 50k of CIFAR-10)",
    )  # fmt: skip


def claims(main: Runs, sizes: Mapping[tuple[int, float], Runs], c100: Runs | None,
                   c100_why: str) -> list[Claim]:  # fmt: skip
    """Every claim of the chapter, in the order the chapter reads them."""
    out = [
        small_ahead_in_train_before_anneal(main),
        small_ahead_in_val_before_anneal(main),
        large_ahead_right_after_anneal(main),
        large_ends_better(main),
        *(noise_recovers_the_gap(main, m) for m in present(main.hist, (NOISE, NOISE_PATCH))),
        cifar100(c100, c100_why),
    ]
    out += [large_ahead_at_size(r, images, f) for (images, f), r in sorted(sizes.items())]
    return out


def size_runs(hist: Histories, images: Mapping[float, int], anneals: Mapping[float, int],
              scale: str) -> dict[tuple[int, float], Runs]:  # fmt: skip
    """The data-size runs split by training-set fraction, keyed (images, fraction)."""
    out = {}
    for fraction in sorted({k[1] for k in hist}):
        part = {(k[0], k[2]): h for k, h in hist.items() if k[1] == fraction}
        out[(images[fraction], fraction)] = Runs(part, anneals[fraction], scale)
    return out
