"""The large-LR chapter's parameters, profiles and the papers' numbers (no torch).

Defaults are Li, Wei & Ma's official `train_cifar.py` and the survey report's section 2.1/3.1
setting; every profile is written as its differences from that setting.
"""

from __future__ import annotations

import dataclasses

from lrgap_nb.params import ChapterParams, ParameterError, choice, non_negative, param, positive


@dataclasses.dataclass(frozen=True)
class LargeLRParams(ChapterParams):
    seeds: tuple[int, ...] = param(
        (0, 1, 2), "training seeds of every reported run (not given in the paper)", paper=False,
        check=non_negative(),
    )  # fmt: skip
    dataset: str = param(
        "cifar10",
        "training data (cifar10_synthetic: random images of the same shape, smoke only)",
        check=choice("cifar10", "cifar10_subset", "cifar10_synthetic"),
    )
    train_subset: int | None = param(
        None, "first images of the training set kept (none: all)", check=positive()
    )
    model: str = param("wrn16_10", "network: WRN-16-k, k the widening factor (official wrn16_10)")
    model_width: int | None = param(
        None, "channels of the first stage (none: the paper's 16)", check=positive()
    )
    epochs: int = param(200, "training epochs (official train_cifar.py)", check=positive())
    lr_milestones: tuple[int, ...] = param(
        (59, 119, 149), "0-based epochs after which the LR is multiplied by lr_factor",
        check=non_negative(),
    )  # fmt: skip
    lr_factor: float = param(0.2, "LR factor at every milestone", check=positive())
    lr_large: float = param(0.1, "initial LR of large LR + anneal", check=positive())
    lr_small: float = param(
        0.01, "initial LR of small LR (+ noise) (survey report)", check=positive()
    )
    lr_from_pilot: bool = param(
        False,
        "ignore lr_large and lr_small: the large LR is the largest pilot rate that trains "
        "stably and the small LR a tenth of it (the papers' ratio)",
        paper=False,
    )
    pilot_lrs: tuple[float, ...] = param(
        (0.01, 0.03, 0.1, 0.2, 0.4),
        "constant LRs of the pilot, trained on pilot_seed (our addition: the paper has no pilot)",
        paper=False,
        check=positive(),
    )
    pilot_epochs: int = param(6, "epochs of each pilot run", paper=False, check=positive())
    pilot_seed: int = param(
        100, "calibration seed of the pilot (never a reported seed)", paper=False,
        check=non_negative(),
    )  # fmt: skip
    noise: float = param(
        0.01,
        "pre-activation noise std of small LR + noise (official train_cifar.py default)",
        check=non_negative(),
    )
    noise_decay: float = param(
        0.995, "per-epoch factor of that noise (official default)", check=non_negative()
    )
    noise_patch: float = param(
        0.4,
        "second noise level, the patch experiment's, annealed by noise_factor at the first "
        "milestone (the paper does not say which level its CIFAR-10 table used; 0: not run)",
        paper=False,
        check=non_negative(),
    )
    noise_factor: float = param(
        1e-5, "factor of noise_patch at the first milestone (patch experiment)", paper=False,
        check=non_negative(),
    )  # fmt: skip
    batch_size: int = param(128, "minibatch size", check=positive())
    size_fraction: float = param(
        0.2, "the data-size table's smaller set, as a fraction (survey: 10,000 of 50,000)",
        check=positive(),
    )  # fmt: skip
    size_same_steps: bool = param(
        True,
        "train the smaller set for the same number of SGD steps (epochs and milestones scaled); "
        "the survey report keeps the epochs, which gives the smaller set fewer steps",
        paper=False,
    )
    cifar100: bool = param(True, "also train the CIFAR-100 pair (needs the 50,000-image download)")
    gate: float = param(
        0.99, "train accuracy the claims assume: small LR before the anneal, both at the end",
        paper=False, check=positive(),
    )  # fmt: skip
    epochs_from_gate: bool = param(
        False,
        "ignore epochs and lr_milestones: anneal once after gate_margin times the epochs the "
        "small LR needs to reach the gate on pilot_seed, and train twice as long",
        paper=False,
    )
    gate_margin: float = param(
        1.25, "safety factor on the calibrated epochs to the gate", paper=False, check=positive()
    )
    gate_max_epochs: int = param(
        100, "longest gate calibration (epochs)", paper=False, check=positive()
    )
    workers: int = param(
        1, "parallel training processes, one torch thread each", paper=False, check=positive()
    )

    profiles = {
        "smoke": {
            "seeds": (0,),
            "dataset": "cifar10_synthetic",
            "train_subset": 128,
            "model": "wrn16_1",
            "model_width": 4,
            "epochs": 2,
            "lr_milestones": (1,),
            "lr_factor": 0.1,
            "pilot_lrs": (0.01, 0.1),
            "pilot_epochs": 2,
            "cifar100": False,
        },
        "cpu": {
            "dataset": "cifar10_subset",
            "model": "wrn16_1",
            "model_width": 4,
            "epochs": 12,
            "lr_milestones": (6,),
            "lr_factor": 0.1,
            "pilot_lrs": (0.01, 0.1, 0.4),
            "pilot_epochs": 3,
            "cifar100": False,
            "workers": 2,
        },
        "overnight": {
            "dataset": "cifar10_subset",
            "model": "wrn16_1",
            "lr_factor": 0.1,
            "lr_from_pilot": True,
            "epochs_from_gate": True,
            "cifar100": False,
        },
        # the paper's WRN-16-10 and schedule on the subset; CIFAR-100 has no such subset here
        "paper-subset": {"dataset": "cifar10_subset", "cifar100": False},
        "full": {},
    }

    def check(self) -> None:
        late = [m for m in self.lr_milestones if m >= self.epochs]
        if late:
            raise ParameterError(
                f"lr_milestones {late} are not before the last epoch {self.epochs}"
            )
        if self.size_fraction >= 1:
            raise ParameterError(f"size_fraction is {self.size_fraction}; it must be below 1")
        if not self.pilot_lrs or self.pilot_epochs < 2:
            raise ParameterError("the pilot needs at least one rate and two epochs")


LARGE, SMALL, NOISE, NOISE_PATCH = (
    "large LR + anneal",
    "small LR",
    "small LR + noise",
    "small LR + noise (patch level)",
)
# Survey report, section 2.1 (Figure 3's table): WRN-16 CIFAR-10 validation accuracy (%).
PAPER_CIFAR10 = {LARGE: 90.41, SMALL: 84.93, NOISE: 89.65}
PAPER_CIFAR100 = {LARGE: 71.90, SMALL: 66.35}  # survey report, section 3.1
# Survey report, section 3.1: clean CIFAR-10 validation accuracy (%) on 10,000 and 50,000 images.
PAPER_SIZES = {LARGE: {0.2: 76, 1.0: 90}, SMALL: {0.2: 65, 1.0: 83}}
