"""The patch chapter's parameters, profiles and the paper's numbers (no torch).

Defaults are Li, Wei & Ma's official `train_patches.py` and `data_util.py`; every profile is
written as its differences from that setting.
"""

from __future__ import annotations

import dataclasses

from lrgap_nb.params import ChapterParams, ParameterError, choice, non_negative, param, positive


@dataclasses.dataclass(frozen=True)
class PatchParams(ChapterParams):
    seeds: tuple[int, ...] = param(
        (0, 1, 2), "training seeds of every reported run (not given in the paper)", paper=False,
        check=non_negative(),
    )  # fmt: skip
    dataset: str = param(
        "cifar10",
        "clean images the patches are added to (cifar10_synthetic: random images, smoke only)",
        check=choice("cifar10", "cifar10_subset", "cifar10_synthetic"),
    )
    train_subset: int | None = param(
        None, "first training images kept (none: all)", check=positive()
    )
    model: str = param("wrn16_10", "network: WRN-16-k (official wideresnet16, our wrn16_10)")
    model_width: int | None = param(
        None, "channels of the first stage (none: the paper's 16)", check=positive()
    )
    epochs: int = param(60, "training epochs", check=positive())
    anneal_epoch: int = param(
        29, "0-based epoch from which the LR is annealed (official: from 1-based epoch 30)",
        check=non_negative(),
    )  # fmt: skip
    batch_size: int = param(128, "minibatch size", check=positive())
    lr_large: float = param(0.1, "initial LR of large LR + anneal", check=positive())
    lr_small: float = param(0.004, "LR of small LR and small LR + noise", check=positive())
    lr_factor: float = param(0.04, "LR factor at the anneal (0.1 -> 0.004)", check=positive())
    noise: float = param(0.4, "pre-activation noise std of small LR + noise", check=non_negative())
    noise_factor: float = param(
        1e-5, "noise factor at the anneal (0.4 -> 4e-6)", check=non_negative()
    )
    sigma_z: float = param(1.25, "std of the patch vector z shared by all classes",
                           check=positive())  # fmt: skip
    beta: float = param(0.1, "class patterns zeta_c ~ U[-beta, beta]", check=positive())
    alpha: float = param(1.75, "patch-only examples carry alpha·U(0,1)·zeta", check=positive())
    clean_frac: float = param(0.2, "fraction of training images without a patch (fixed)",
                              check=non_negative())  # fmt: skip
    patch_only_prob: float = param(
        0.2, "probability that a patched image is served patch-only, redrawn at every serve",
        check=non_negative(),
    )  # fmt: skip
    patch_seed: int = param(2, "seed of z, zeta, the clean images and the patch-only labels",
                            check=non_negative())  # fmt: skip
    n_patch_eval: int = param(1000, "zero images in the patch-only validation set",
                              check=positive())  # fmt: skip
    calibration_betas: tuple[float, ...] = param(
        (),
        "patch strengths beta tried in turn, small LR on the calibration seed, if the official "
        "0.1 does not let it memorise at this width; the first that does is used (none: beta)",
        paper=False,
        check=positive(),
    )
    calibration_lrs: tuple[float, ...] = param(
        (),
        "small LRs tried in turn, each with every calibration beta, if the official 0.004 does "
        "not let small LR memorise at this width and data size; large LR + anneal then anneals "
        "to the chosen one, as officially 0.1 -> 0.004 (none: lr_small)",
        paper=False,
        check=positive(),
    )
    calibration_epochs: int | None = param(
        None,
        "epochs of each calibration run (none: anneal_epoch, the first phase, in which the claim "
        "asks small LR to memorise the patch)",
        paper=False,
        check=positive(),
    )
    calibration_seed: int = param(
        100, "calibration seed (never a reported seed)", paper=False, check=non_negative()
    )
    memorised: float = param(
        0.8, "patch-only accuracy that counts as memorised (our threshold)", paper=False,
        check=positive(),
    )  # fmt: skip
    near_chance: float = param(
        0.3, "patch-only accuracy that counts as not fitted (chance is 0.1)", paper=False,
        check=positive(),
    )  # fmt: skip
    reference_fractions: tuple[float, ...] = param(
        (0.2, 0.84),
        "clean-only reference runs (large LR + anneal, same SGD steps) on these fractions of the "
        "images: 20% clean, 84% clean plus mixed (survey report's effective-sample reading)",
        paper=False,
        check=positive(),
    )
    method_references: bool = param(
        False,
        "also train the clean-only references with small LR's and small LR + noise's own "
        "schedules (same fractions and SGD steps), to read each method against references "
        "trained as it was",
        paper=False,
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
            "anneal_epoch": 1,
            "n_patch_eval": 200,
        },
        "cpu": {
            "dataset": "cifar10_subset",
            "model": "wrn16_1",
            "model_width": 4,
            "epochs": 12,
            "anneal_epoch": 6,
            "n_patch_eval": 500,
            "reference_fractions": (),
            "workers": 2,
        },
        "overnight": {
            "dataset": "cifar10_subset",
            "model": "wrn16_1",
            "epochs": 40,
            "anneal_epoch": 20,
            "lr_large": 0.4,  # the large-LR chapter's pilot: the largest stable rate here
            "calibration_lrs": (0.004, 0.04),
            "calibration_betas": (0.1, 0.2, 0.4),
        },
        "paper-subset": {"dataset": "cifar10_subset"},  # the paper's WRN-16-10 and schedule
        "full": {},
    }

    @property
    def calibration_length(self) -> int:
        """Epochs of each calibration run."""
        return self.calibration_epochs or max(1, self.anneal_epoch)

    def check(self) -> None:
        if self.anneal_epoch >= self.epochs:
            raise ParameterError(f"anneal_epoch {self.anneal_epoch} is not before {self.epochs}")
        if self.clean_frac >= 1 or self.patch_only_prob > 1:
            raise ParameterError("clean_frac must be below 1 and patch_only_prob at most 1")
        if self.calibration_epochs is not None and self.calibration_epochs > self.anneal_epoch:
            raise ParameterError(
                f"calibration_epochs {self.calibration_epochs} exceeds the first phase "
                f"(anneal_epoch {self.anneal_epoch}): memorising later is not what the claim asks"
            )
        if any(f > 1 for f in self.reference_fractions):
            raise ParameterError(f"reference_fractions {self.reference_fractions} exceed 1")


LARGE, SMALL, NOISE = "large LR + anneal", "small LR", "small LR + noise"
METHODS = (LARGE, SMALL, NOISE)
EVAL_SETS = ("test", "mixed", "patch_only")
# Final mixed / clean validation accuracy (%), WRN-16, 60 epochs: large and small LR from the
# survey report (section 3.1), small LR + noise only from the talk slides.
PAPER_FINAL = {LARGE: (95.35, 87.61), SMALL: (92.83, 69.89), NOISE: (94.43, 81.36)}
PAPER_SOURCE = {LARGE: "survey_report", SMALL: "survey_report", NOISE: "talk_slides"}
