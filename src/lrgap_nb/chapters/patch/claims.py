"""The patch chapter's claims, one function each, judged by `lrgap_nb.claims` (no torch).

The mechanism first (thresholds on patch-only accuracy), then the clean-accuracy outcome (paired
by seed). Each claim carries its own premise: "large LR stays near chance" means something only
if some method can learn the patch before the anneal; "learns it soon after" needs a large LR that
had not learnt it; the clean outcome needs the mechanism the paper explains it by, small LR
memorising the patch first. Times are given in SGD steps beside epochs, since the subset's epoch
is a tenth of the paper's.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from lrgap_nb import claims as engine
from lrgap_nb.claims import Claim, Premise

from .params import LARGE, METHODS, NOISE, PAPER_FINAL, SMALL
from .tables import MIN_EFFECT, QUICK, Histories, at, max_until

CHAPTER = "patch"
CHANCE_LOSS = math.log(10)
LI = "Li, Wei & Ma 2019, section 6; survey report, Figure 5"
PAPER_BETA = 0.1  # official train_patches.py
PAPER_STEPS_PER_EPOCH = math.ceil(50_000 / 128)  # the official run: all of CIFAR-10, batch 128
# Post-hoc choices of the `overnight` protocol, made after seeing reported seeds (chapter text).
POST_HOC = {
    "overnight": "calibration length and claim premises were set after seeing report seeds 0-1",
}


@dataclasses.dataclass(frozen=True)
class Runs:
    """The main patched runs and what the claims need to read them."""

    hist: Histories
    anneal: int  # completed epochs at the anneal
    steps_per_epoch: int
    memorised: float  # % patch-only accuracy that counts as memorised
    near_chance: float  # % patch-only accuracy that counts as not fitted
    beta: float  # the patch strength the runs used
    scale: str
    exploratory: str = ""

    def seeds(self) -> list[int]:
        return [key[-1] for key in sorted(self.hist) if key[0] == SMALL]

    def paired(self, *methods: str) -> Histories:
        """The runs of `methods` on the seeds every one of them ran."""
        seeds = set.intersection(*({k[-1] for k in self.hist if k[0] == m} for m in methods))
        return {k: h for k, h in self.hist.items() if k[0] in methods and k[-1] in seeds}

    def when(self, epoch: int) -> str:
        """An epoch count with its SGD steps, and the paper's epoch for as many steps."""
        steps = epoch * self.steps_per_epoch
        return f"epoch {epoch}, {steps:,} SGD steps (the paper's epoch {steps / PAPER_STEPS_PER_EPOCH:.1f})"

    def anneals(self, method: str) -> dict[str, int]:
        """What each method's schedule drops at the anneal: the LR, the noise, or nothing."""
        return {LARGE: {"lr": self.anneal}, NOISE: {"noise": self.anneal}}.get(method, {})

    def quick(self) -> int:
        last = int(min(len(h) for h in self.hist.values()))
        return min(self.anneal + QUICK, last)

    def papers_patch(self) -> Premise:
        """The claims are about the paper's patch: a stronger one is a different task."""
        return Premise.at_most("patch strength beta (the paper's)", self.beta, PAPER_BETA)

    def protocol(self) -> Premise:
        return engine.histories_protocol(self.hist, CHANCE_LOSS, lambda key: self.anneals(key[0]))

    def judge(self, statement: str, values: dict, rule: engine.Rule, premises: list[Premise],
              paper: str = "", source: str = LI) -> Claim:  # fmt: skip
        return engine.judge(
            CHAPTER, statement, source=source, paper=paper, values=values, seeds=self.seeds(),
            scale=self.scale, rule=rule, premises=[self.papers_patch(), *premises, self.protocol()],
            exploratory=self.exploratory,
        )  # fmt: skip


def small_memorises_before_anneal(runs: Runs) -> Claim:
    arm = f"small LR patch-only acc. at {runs.when(runs.anneal)}"
    return runs.judge(
        "small LR memorises the patch before the anneal",
        {arm: at(runs.hist, SMALL, runs.anneal, "patch_only_acc")},
        engine.at_least(arm, runs.memorised, "%"), [],
    )  # fmt: skip


def learnable_before_anneal(runs: Runs) -> Premise:
    """Some method's mean highest patch-only accuracy before the anneal reaches `memorised`."""
    best = {
        m: float(np.mean(max_until(runs.hist, m, runs.anneal, "patch_only_acc")))
        for m in METHODS
        if any(key[0] == m for key in runs.hist)
    }
    top = max(best, key=best.get)
    return Premise.at_least(
        f"the patch can be learnt before the anneal (best: {top}'s highest patch-only acc.)",
        best[top], runs.memorised, "%",
    )  # fmt: skip


def large_near_chance_until_anneal(runs: Runs) -> Claim:
    arm = "large LR's highest patch-only acc. before the anneal"
    return runs.judge(
        "large LR stays near chance on patch-only images until the anneal",
        {arm: max_until(runs.hist, LARGE, runs.anneal, "patch_only_acc")},
        engine.at_most(arm, runs.near_chance, "%"), [learnable_before_anneal(runs)],
    )  # fmt: skip


def large_learns_soon_after_anneal(runs: Runs, near_chance: Claim) -> Claim:
    quick = runs.quick()
    arm = f"large LR patch-only acc. at {runs.when(quick)}"
    steps = (quick - runs.anneal) * runs.steps_per_epoch
    return runs.judge(
        f"large LR learns the patch within {quick - runs.anneal} epochs ({steps:,} SGD steps) "
        "of the anneal",
        {arm: at(runs.hist, LARGE, quick, "patch_only_acc")},
        engine.at_least(arm, runs.memorised, "%"), [Premise.of_claim(near_chance)],
    )  # fmt: skip


def ends_above_small_on_clean(runs: Runs, method: str, memorises: Claim) -> Claim:
    source = "talk slides" if method == NOISE else "survey report, section 3.2"
    both = runs.paired(method, SMALL)  # seeds with both methods: the comparison is paired
    return runs.judge(
        f"{method} ends above small LR on clean images",
        {m: at(both, m, None, "test_acc") for m in (method, SMALL)},
        engine.difference(method, SMALL, MIN_EFFECT, " pts"), [Premise.of_claim(memorises)],
        paper=f"{PAPER_FINAL[method][1]} vs {PAPER_FINAL[SMALL][1]}", source=source,
    )  # fmt: skip


def claims(runs: Runs) -> list[Claim]:
    """Every claim of the chapter: the mechanism, then the clean-accuracy outcome."""
    memorises = small_memorises_before_anneal(runs)
    near_chance = large_near_chance_until_anneal(runs)
    return [
        memorises,
        near_chance,
        large_learns_soon_after_anneal(runs, near_chance),
        ends_above_small_on_clean(runs, LARGE, memorises),
        ends_above_small_on_clean(runs, NOISE, memorises),
    ]
