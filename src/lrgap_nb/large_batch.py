"""Small versus large batch (Keskar et al. 2017): accuracies, sharpness of the minima, the top
Hessian eigenvalue and the line between the two solutions, as one cached run per network,
optimizer and seed.

One `SbLbConfig` trains the small-batch (SB, 256) and the large-batch (LB, 10% of the training set)
network from the same initial weights with the same fixed LR, then measures both solutions. Its
payload holds everything the chapter shows, so a GPU machine without Jupyter can compute the
paper-scale runs and bring back only the cache JSON (the weights are deleted once measured).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import field
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from . import data, device, paths, sharpness, train
from .params import ParameterError, choice, non_negative, positive
from .report import mean_std
from .runs import Run

KIND = "large_batch"
SMALL_BATCH = 256  # Keskar et al. 2017, Sec. 2.1
LARGE_FRACTION = 0.1  # LB = 10% of the training set (Keskar et al. 2017, Sec. 2.1)

# Training-set sizes, so a config can name its LB batch size before any data is loaded.
TRAIN_SIZES = {"mnist": 60_000, "cifar10": 50_000, "cifar100": 50_000, "cifar10_subset": 5_085}
# Keskar et al. 2017, Table 1: network -> dataset (C1/C2 take whichever CIFAR-10 the profile names).
NETWORK_DATA = {"f1": "mnist", "f2": "timit", "c1": "cifar10", "c2": "cifar10"}
NETWORK_DATA |= {"c3": "cifar100", "c4": "cifar100"}
NETWORKS = tuple(NETWORK_DATA)
# The seed report's extra networks (section 3.2): network -> dataset.
EXTRA_NETWORK_DATA = {"resnet44": "cifar10", "vgg16_bn": "cifar10", "wrn16_4": "cifar100"}
# Fixed LR per optimizer, the same for SB and LB: Adam as Keskar et al.; SGD and AdaGrad at the
# Keras defaults (the seed report does not give its LRs).
OPTIMIZER_LR = {"adam": 1e-3, "sgd": 1e-2, "adagrad": 1e-2}
# Files whose presence means a dataset can be read without downloading (under LRGAP_DATA).
DATA_FILES = {
    "mnist": "MNIST/raw/train-images-idx3-ubyte",
    "cifar10": "cifar-10-batches-py/data_batch_1",
    "cifar100": "cifar-100-python/train",
    "cifar10_subset": "cifar-10-subset/cifar10_subset.npz",
    "timit": "timit/timit.npz",
}

# Seed report Fig. 7 (= Keskar et al. 2017, Table 2), percent: (mean, std).
PAPER_ACCURACY = {
    "f1": {"train SB": (99.66, 0.05), "train LB": (99.92, 0.01)}
    | {"test SB": (98.03, 0.07), "test LB": (97.81, 0.07)},
    "f2": {"train SB": (99.99, 0.03), "train LB": (98.35, 2.08)}
    | {"test SB": (64.02, 0.2), "test LB": (59.45, 1.05)},
    "c1": {"train SB": (99.89, 0.02), "train LB": (99.66, 0.2)}
    | {"test SB": (80.04, 0.12), "test LB": (77.26, 0.42)},
    "c2": {"train SB": (99.99, 0.04), "train LB": (99.99, 0.01)}
    | {"test SB": (89.24, 0.12), "test LB": (87.26, 0.07)},
    "c3": {"train SB": (99.56, 0.44), "train LB": (99.88, 0.30)}
    | {"test SB": (49.58, 0.39), "test LB": (46.45, 0.43)},
    "c4": {"train SB": (99.10, 1.23), "train LB": (99.57, 1.84)}
    | {"test SB": (63.08, 0.5), "test LB": (57.81, 0.17)},
}
# Seed report Fig. 9 (= Keskar et al. 2017, Table 3, full space): eps -> (SB, LB), each (mean, std).
PAPER_SHARPNESS = {
    "f1": {1e-3: ((1.23, 0.83), (205.14, 69.52)), 5e-4: ((0.61, 0.27), (42.90, 17.14))},
    "f2": {1e-3: ((1.39, 0.02), (310.64, 38.46)), 5e-4: ((0.90, 0.05), (93.15, 6.81))},
    "c1": {1e-3: ((28.58, 3.13), (707.23, 43.04)), 5e-4: ((7.08, 0.88), (227.31, 23.23))},
    "c2": {1e-3: ((8.68, 1.32), (925.32, 38.29)), 5e-4: ((2.07, 0.86), (175.31, 18.28))},
    "c3": {1e-3: ((29.85, 5.98), (258.75, 8.96)), 5e-4: ((8.56, 0.99), (105.11, 13.22))},
    "c4": {1e-3: ((12.83, 3.84), (421.84, 36.97)), 5e-4: ((4.07, 0.87), (109.35, 16.57))},
}
# Seed report section 3.2: F1 test accuracy per optimizer (SB, LB; None: not run) ...
REPORT_OPTIMIZERS = {"adam": (98.03, 97.81), "sgd": (97.82, 96.97), "adagrad": (97.95, None)}
# ... and test accuracy of further networks (SB, LB).
REPORT_NETWORKS = {"resnet44": (92.83, 86.10), "vgg16_bn": (92.30, 84.1), "wrn16_4": (73.70, 68.15)}


@dataclasses.dataclass(frozen=True)
class LargeBatchParams:
    profile: str = field(metadata=choice("smoke", "cpu", "full"))
    networks: tuple[str, ...]  # Keskar's f1, f2, c1..c4 to train
    cifar10: str = field(metadata=choice("cifar10", "cifar10_subset"))  # C1/C2's CIFAR-10
    seeds: tuple[int, ...] = field(metadata=non_negative())  # one SB/LB pair per seed (paper: 5)
    epochs: int = field(metadata=positive())  # the same for SB and LB
    lr: float = field(metadata=positive())  # Adam's fixed LR for both batch sizes (paper: 1e-3)
    train_subset: int | None = field(metadata=positive())  # training examples (None: all)
    mlp_width: int | None = field(metadata=positive())  # F1/F2 hidden width (None: 512)
    conv_width: int | None = field(metadata=positive())  # C1/C3 conv width (None: 64)
    train_eval_size: int | None = field(metadata=positive())  # examples for final train accuracy
    probe_size: int | None = field(metadata=positive())  # training examples f is averaged over
    line_size: int | None = field(metadata=positive())  # train and test examples on the SB-LB line
    subspace_dim: int = field(metadata=positive())  # p of the random n x p matrix A (paper: 100)
    lbfgs_iters: int = field(metadata=positive())  # L-BFGS-B iterations for phi (paper: 10)
    power_iters: int = field(metadata=positive())  # Hessian power iterations
    interpolation_points: int = field(metadata={"min": 2})  # alphas in [-1, 2] (paper: 25)
    extra_optimizers: tuple[str, ...]  # F1 with "sgd" and/or "adagrad" besides Adam
    extra_networks: tuple[str, ...]  # the seed report's resnet44, vgg16_bn, wrn16_4
    extra_seeds: tuple[int, ...] = field(metadata=non_negative())
    extra_epochs: int = field(metadata=positive())
    extra_subset: int | None = field(metadata=positive())  # training examples of the extra runs

    def __post_init__(self) -> None:
        allowed = {
            "networks": NETWORKS,
            "extra_optimizers": ("sgd", "adagrad"),
            "extra_networks": tuple(EXTRA_NETWORK_DATA),
        }
        for name, options in allowed.items():
            unknown = [v for v in getattr(self, name) if v not in options]
            if unknown:
                raise ParameterError(
                    f"parameter {name!r} has {unknown}; allowed values: {', '.join(options)}"
                )
        if not self.seeds:
            raise ParameterError("parameter 'seeds' needs at least one seed")


_PROBES = dict(subspace_dim=100, lbfgs_iters=10, interpolation_points=25)
DEFAULTS = {
    "smoke": dict(
        _PROBES,
        networks=("f1", "c1"),
        cifar10="cifar10_subset",
        seeds=(0, 1),
        epochs=1,
        lr=1e-3,
        train_subset=600,
        mlp_width=16,
        conv_width=4,
        train_eval_size=300,
        probe_size=64,
        line_size=64,
        subspace_dim=10,
        lbfgs_iters=3,
        power_iters=5,
        interpolation_points=7,
        extra_optimizers=("sgd", "adagrad"),
        extra_networks=(),
        extra_seeds=(0,),
        extra_epochs=1,
        extra_subset=600,
    ),
    "cpu": dict(
        _PROBES,
        networks=("f1", "c1"),
        cifar10="cifar10_subset",
        seeds=(0, 1, 2),
        epochs=1,
        lr=1e-3,
        train_subset=None,
        mlp_width=None,
        conv_width=32,
        train_eval_size=10_000,
        probe_size=128,
        line_size=500,
        power_iters=10,
        extra_optimizers=("sgd", "adagrad"),
        extra_networks=(),
        extra_seeds=(0,),
        extra_epochs=1,
        extra_subset=10_000,
    ),
    "full": dict(
        _PROBES,
        networks=NETWORKS,
        cifar10="cifar10",
        seeds=(0, 1, 2, 3, 4),
        epochs=100,
        lr=1e-3,
        train_subset=None,
        mlp_width=None,
        conv_width=None,
        train_eval_size=None,
        probe_size=None,
        line_size=None,
        power_iters=100,
        extra_optimizers=("sgd", "adagrad"),
        extra_networks=tuple(EXTRA_NETWORK_DATA),
        extra_seeds=(0, 1, 2),
        extra_epochs=100,
        extra_subset=None,
    ),
}


@dataclasses.dataclass(frozen=True)
class SbLbConfig:
    """One SB/LB pair and everything measured on it (the cache key of one run)."""

    model: str
    dataset: str
    large_batch: int = field(metadata=positive())  # 10% of the training set
    small_batch: int = field(default=SMALL_BATCH, metadata=positive())
    optimizer: str = field(default="adam", metadata=choice("sgd", "adam", "adagrad"))
    lr: float = field(default=1e-3, metadata=positive())  # fixed LR, the same for SB and LB
    epochs: int = field(default=1, metadata=positive())
    seed: int = field(default=0, metadata=non_negative())  # initial weights and batch order
    subset: int | None = None  # training examples (None: all)
    model_width: int | None = None  # small test models
    bn_mode: str = field(default="batch", metadata=choice("batch", "running"))  # at evaluation
    train_eval_size: int | None = None  # examples for the final train accuracy (None: all)
    probes: bool = True  # sharpness, eigenvalue and interpolation; False: accuracies only
    probe_size: int | None = None  # training examples f(x) averages over (None: all)
    line_size: int | None = None  # train and test examples on the SB-LB line (None: all)
    epsilons: tuple[float, ...] = (1e-3, 5e-4)  # Keskar et al. 2017, Table 3
    subspace_dim: int = 100  # p of A in R^{n x p} (Keskar et al. 2017, Table 4)
    lbfgs_iters: int = 10
    power_iters: int = 50
    interpolation_points: int = 0  # alphas on [alpha_min, alpha_max]; 0: no interpolation
    alpha_min: float = -1.0
    alpha_max: float = 2.0

    def train_config(self, batch_size: int) -> train.TrainConfig:
        """The SB or LB training run: inputs in [0, 1], no augmentation, no weight decay."""
        return train.TrainConfig(
            model=self.model,
            dataset=self.dataset,
            epochs=self.epochs,
            batch_size=batch_size,
            optimizer=self.optimizer,
            lr=self.lr,
            momentum=0.0,
            weight_decay=0.0,
            subset=self.subset,
            subset_mode="random",
            normalise="unit",
            bn_mode=self.bn_mode,
            eval_sets=("test",),
            model_width=self.model_width,
            seed=self.seed,
        )


def train_size(dataset: str, subset: int | None = None) -> int | None:
    """Training examples a run sees (None for TIMIT when its features are absent)."""
    if dataset in TRAIN_SIZES:
        n = TRAIN_SIZES[dataset]
    else:
        try:
            n = len(data.load(dataset, download=False)["train"])
        except data.DataNotFoundError:
            return None
    return min(n, subset) if subset else n


def large_batch_size(dataset: str, subset: int | None = None) -> int | None:
    """10% of the training set (Keskar et al. 2017, Sec. 2.1)."""
    n = train_size(dataset, subset)
    return None if n is None else max(1, round(LARGE_FRACTION * n))


def missing_data(dataset: str) -> str | None:
    """Why `dataset` cannot be used here, or None when it can (present or downloadable)."""
    if (paths.data_root() / DATA_FILES[dataset]).is_file():
        return None
    if dataset == "timit":
        return "TIMIT features not provided (licensed, LDC93S1; see data.load_timit)"
    if dataset == "cifar10_subset":
        return "CIFAR-10 subset not in LRGAP_DATA"
    if not paths.download_allowed():
        return f"{dataset} not in LRGAP_DATA and downloads are off"
    return None


def _width(model: str, cfg: LargeBatchParams) -> int | None:
    if model in ("f1", "f2"):
        return cfg.mlp_width
    return cfg.conv_width if model in ("c1", "c3") else None


def _dataset(model: str, cfg: LargeBatchParams) -> str:
    name = NETWORK_DATA.get(model) or EXTRA_NETWORK_DATA[model]
    return cfg.cifar10 if name == "cifar10" else name


def _pair(cfg: LargeBatchParams, model: str, optimizer: str, seed: int, extra: bool) -> SbLbConfig:
    dataset = _dataset(model, cfg)
    subset = cfg.extra_subset if extra else cfg.train_subset
    return SbLbConfig(
        model=model,
        dataset=dataset,
        large_batch=large_batch_size(dataset, subset),
        optimizer=optimizer,
        lr=cfg.lr if optimizer == "adam" else OPTIMIZER_LR[optimizer],
        epochs=cfg.extra_epochs if extra else cfg.epochs,
        seed=seed,
        subset=subset if subset and subset < train_size(dataset) else None,
        model_width=_width(model, cfg),
        train_eval_size=cfg.train_eval_size,
        probes=not extra,
        probe_size=cfg.probe_size,
        line_size=cfg.line_size,
        subspace_dim=cfg.subspace_dim,
        lbfgs_iters=cfg.lbfgs_iters,
        power_iters=cfg.power_iters,
        interpolation_points=cfg.interpolation_points if seed == cfg.seeds[0] else 0,
    )


def pair_configs(cfg: LargeBatchParams) -> dict[str, list[SbLbConfig]]:
    """The chapter's runs by table: "main" (Keskar's networks, Adam), "optimizers" (F1) and
    "networks" (the seed report's extras). Networks whose data is missing are left out."""
    usable = lambda m: missing_data(_dataset(m, cfg)) is None  # noqa: E731
    return {
        "main": [
            _pair(cfg, m, "adam", s, extra=False)
            for m in cfg.networks
            if usable(m)
            for s in cfg.seeds
        ],
        "optimizers": [
            _pair(cfg, "f1", o, s, extra=True)
            for o in cfg.extra_optimizers
            if usable("f1")
            for s in cfg.extra_seeds
        ],
        "networks": [
            _pair(cfg, m, "adam", s, extra=True)
            for m in cfg.extra_networks
            if usable(m)
            for s in cfg.extra_seeds
        ],
    }


def chapter_runs(cfg: LargeBatchParams) -> list[Run]:
    """Every cached run of the chapter, as picklable units of work (see lrgap_nb.sweep)."""
    configs = pair_configs(cfg)
    return [
        Run(KIND, "lrgap_nb.large_batch:sb_lb_payload", c)
        for group in configs.values()
        for c in group
    ]


# --- the runner -----------------------------------------------------------------------------------


def initial_model(config: train.TrainConfig, splits: dict[str, data.TensorData]) -> nn.Module:
    """The untrained network exactly as `train.train` builds it: seed, then construct."""
    dev = device.pick_device(config.device)
    device.seed_everything(config.seed)
    model = train.make_model(config, splits["train"].x.shape[1:])
    return model.to(dev).eval()


def _fixed_subset(split: data.TensorData, k: int | None) -> data.TensorData:
    """k examples drawn once with seed 0, so SB, LB and every seed see the same ones."""
    return split if k is None or k >= len(split) else split.subset(k, "random", 0)


def _accuracies(
    model: nn.Module, splits: dict[str, data.TensorData], config: SbLbConfig
) -> dict[str, float]:
    dev = device.pick_device()
    row = {}
    train_split = _fixed_subset(splits["train"], config.train_eval_size)
    for name, split in (("train", train_split), ("test", splits["test"])):
        row[f"{name}_loss"], row[f"{name}_acc"] = train.evaluate(model, split, 1000, dev)
    return row


def _train_one(config: SbLbConfig, batch_size: int) -> tuple[nn.Module, list[dict[str, Any]]]:
    tcfg = config.train_config(batch_size)
    result = train.train(tcfg, save_weights=True, show_progress=False)
    model = train.load_model(tcfg)
    for path in (result.checkpoint, result.weights):
        if path is not None:
            path.unlink(missing_ok=True)
    return model, result.history.to_dict("records")


def sb_lb_payload(config: SbLbConfig) -> dict[str, Any]:
    """Train SB and LB from the same initial weights and measure both (the chapter's one runner).

    Keskar et al. 2017: accuracies (Table 2), histories (Fig. 2), phi for each epsilon in the full
    space and a random p-dimensional subspace (Metric 2.1, Tables 3-4), and the loss along
    w(a) = a w_LB + (1 - a) w_SB (Fig. 3), plus the top Hessian eigenvalue.
    """
    timings: dict[str, float] = {}
    sb_cfg = config.train_config(config.small_batch)
    splits = train.load_data(sb_cfg)
    init = initial_model(sb_cfg, splits)
    start = _accuracies(init, splits, config)
    payload: dict[str, Any] = {"train_size": len(splits["train"]), "init": start}
    models = {}
    for label, batch in (("SB", config.small_batch), ("LB", config.large_batch)):
        t0 = time.perf_counter()
        model, history = _train_one(config, batch)
        timings[f"train {label}"] = time.perf_counter() - t0
        steps = math.ceil(len(splits["train"]) / batch) * config.epochs
        payload[label] = {"batch_size": batch, "steps": steps, "history": history}
        payload[label] |= _accuracies(model, splits, config)
        models[label] = model
    if config.probes:
        payload |= _probes(config, models, splits, timings)
    payload["timings_s"] = {k: round(v, 2) for k, v in timings.items()}
    return payload


def _probes(
    config: SbLbConfig,
    models: dict[str, nn.Module],
    splits: dict[str, data.TensorData],
    timings: dict[str, float],
) -> dict[str, Any]:
    """phi (both epsilons, both spaces), the top Hessian eigenvalue and the interpolation."""
    dev = device.pick_device()
    probe = _fixed_subset(splits["train"], config.probe_size)
    line_train = _fixed_subset(splits["train"], config.line_size)
    line_test = _fixed_subset(splits["test"], config.line_size)
    losses = {label: sharpness.ModelLoss(m, probe.x, probe.y) for label, m in models.items()}
    n = sum(p.numel() for p in models["SB"].parameters())
    A = sharpness.random_subspace(n, config.subspace_dim, config.seed, dev)
    rows, eigen = [], {}
    t0 = time.perf_counter()
    for label, loss in losses.items():
        w = loss.vector()
        for space, matrix in (("full", None), ("subspace", A)):
            for eps in config.epsilons:
                s = sharpness.keskar_sharpness(
                    loss.value_and_grad, w, eps, matrix, config.lbfgs_iters
                )
                rows.append(
                    {"batch": label, "space": space, "epsilon": eps, **dataclasses.asdict(s)}
                )
    timings["sharpness"] = time.perf_counter() - t0
    del A
    t0 = time.perf_counter()
    for label, loss in losses.items():
        w = loss.vector()
        eigen[label] = sharpness.top_hessian_eigenvalue(
            lambda v, loss=loss, w=w: loss.hvp(w, v), n, config.power_iters, 1e-3, config.seed, dev
        )
    timings["eigenvalue"] = time.perf_counter() - t0
    out = {
        "sharpness": rows,
        "eigenvalue": eigen,
        "probe": {
            "probe_examples": len(probe),
            "line_train_examples": len(line_train),
            "line_test_examples": len(line_test),
            "n_params": n,
        },
        "interpolation": [],
    }
    if config.interpolation_points:
        t0 = time.perf_counter()
        w_sb, w_lb = (losses[k].vector() for k in ("SB", "LB"))
        alphas = np.linspace(config.alpha_min, config.alpha_max, config.interpolation_points)
        sets = {"train": (line_train.x, line_train.y), "test": (line_test.x, line_test.y)}
        frames = [
            sharpness.interpolate(models["SB"], w_sb, w_lb, alphas, sets, bn)
            for bn in ("batch", "recomputed")
        ]
        out["interpolation"] = pd.concat(frames).to_dict("records")
        timings["interpolation"] = time.perf_counter() - t0
    return out


# --- tables ---------------------------------------------------------------------------------------


def _mean_std(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=float)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


def fmt(mean: float, std: float | None = None, digits: int = 2) -> str:
    """'mean ± std' (std omitted for a single seed)."""
    if std is None or np.isnan(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def accuracy_frame(results: list) -> pd.DataFrame:
    """One row per run: network, optimizer, seed and SB/LB train and test accuracy in percent."""
    rows = []
    for r in results:
        c, p = r.config, r.payload
        row = {"network": c["model"], "dataset": c["dataset"], "optimizer": c["optimizer"]}
        row |= {"seed": c["seed"], "epochs": c["epochs"], "train size": p["train_size"]}
        for label in ("SB", "LB"):
            row[f"{label} batch"] = p[label]["batch_size"]
            row[f"{label} steps"] = p[label]["steps"]
            row[f"train {label}"] = 100 * p[label]["train_acc"]
            row[f"test {label}"] = 100 * p[label]["test_acc"]
        rows.append(row)
    return pd.DataFrame(rows)


def gap_verdict(sb: list[float], lb: list[float]) -> str:
    """'LB worse' when the mean LB test accuracy is lower by more than the seeds' spread."""
    (m_sb, s_sb), (m_lb, s_lb) = _mean_std(sb), _mean_std(lb)
    if m_lb >= m_sb:
        return "no: LB not worse"
    return "yes: LB worse" if m_sb - m_lb > max(s_sb, s_lb) else "LB worse, within seed spread"


def accuracy_table(frame: pd.DataFrame, cfg: LargeBatchParams) -> pd.DataFrame:
    """Seed report Fig. 7 beside ours (mean ± std over seeds, percent), one row per network."""
    rows = []
    for network in NETWORKS:
        paper = PAPER_ACCURACY[network]
        ours = frame[frame["network"] == network]
        row = {"network": network.upper()}
        if ours.empty:
            why = missing_data(_dataset(network, cfg)) or f"not run at profile {cfg.profile}"
            row |= {"data": "-", "seeds": 0, "epochs": "-"}
        else:
            row |= {"data": f"{ours['dataset'].iloc[0]} ({ours['train size'].iloc[0]:,} train)"}
            row |= {"seeds": len(ours), "epochs": int(ours["epochs"].iloc[0])}
            row |= {"batches": f"{ours['SB batch'].iloc[0]} / {ours['LB batch'].iloc[0]}"}
        for col in ("train SB", "train LB", "test SB", "test LB"):
            row[f"{col} (paper)"] = fmt(*paper[col])
            row[f"{col} (ours)"] = "-" if ours.empty else mean_std(ours[col], digits=2)
        row["LB worse? (paper)"] = "yes" if paper["test LB"][0] < paper["test SB"][0] else "no"
        row["LB worse? (ours)"] = (
            f"empty: {why}"
            if ours.empty
            else gap_verdict(list(ours["test SB"]), list(ours["test LB"]))
        )
        rows.append(row)
    return pd.DataFrame(rows)


def history_frame(results: list) -> pd.DataFrame:
    """Per-epoch accuracies (percent) of SB and LB for every run; epoch 0 is the shared start."""
    rows = []
    for r in results:
        c, p = r.config, r.payload
        for label in ("SB", "LB"):
            base = {"network": c["model"], "seed": c["seed"], "batch": label}
            rows.append(
                base
                | {"epoch": 0, "train": 100 * p["init"]["train_acc"]}
                | {"test": 100 * p["init"]["test_acc"]}
            )
            for h in p[label]["history"]:
                rows.append(
                    base
                    | {
                        "epoch": h["epoch"],
                        "train": 100 * h["train_acc"],
                        "test": 100 * h["test_acc"],
                    }
                )
    return pd.DataFrame(rows)


def sharpness_frame(results: list) -> pd.DataFrame:
    """One row per (run, SB/LB, space, epsilon): phi and the losses it came from."""
    rows = []
    for r in results:
        for s in r.payload.get("sharpness", []):
            rows.append({"network": r.config["model"], "seed": r.config["seed"], **s})
    return pd.DataFrame(rows)


def sharper_verdict(sb: list[float], lb: list[float]) -> str:
    """'LB sharper' when the mean phi (or eigenvalue) of LB exceeds SB's."""
    ratio = np.mean(lb) / max(np.mean(sb), 1e-12)
    if ratio <= 1:
        return f"no: LB/SB = {ratio:.2f}"
    return f"yes: LB/SB = {ratio:.1f}" if ratio >= 2 else f"slightly: LB/SB = {ratio:.2f}"


def sharpness_table(frame: pd.DataFrame, space: str, probe: str) -> pd.DataFrame:
    """Seed report Fig. 9 (full space) beside ours; the subspace has no seed-report numbers."""
    rows = []
    for network in NETWORKS:
        ours = (
            frame[(frame["network"] == network) & (frame["space"] == space)]
            if len(frame)
            else frame
        )
        if ours.empty:
            continue
        for eps in sorted(ours["epsilon"].unique(), reverse=True):
            at = ours[ours["epsilon"] == eps]
            sb, lb = (list(at.loc[at["batch"] == b, "phi"]) for b in ("SB", "LB"))
            row = {"network": network.upper(), "epsilon": f"{eps:g}", "f evaluated on": probe}
            if space == "full":
                paper_sb, paper_lb = PAPER_SHARPNESS[network][eps]
                row |= {"SB (paper)": fmt(*paper_sb), "LB (paper)": fmt(*paper_lb)}
            row |= {"SB (ours)": mean_std(sb, digits=2), "LB (ours)": mean_std(lb, digits=2)}
            if space == "full":
                row["LB sharper? (paper)"] = sharper_verdict([paper_sb[0]], [paper_lb[0]])
            row["LB sharper? (ours)"] = sharper_verdict(sb, lb)
            rows.append(row)
    return pd.DataFrame(rows)


def eigenvalue_table(results: list) -> pd.DataFrame:
    """Top Hessian eigenvalue of the training loss at SB and LB, mean ± std over seeds."""
    rows = []
    frame = pd.DataFrame(
        [
            {
                "network": r.config["model"],
                "SB": r.payload["eigenvalue"]["SB"],
                "LB": r.payload["eigenvalue"]["LB"],
            }
            for r in results
            if "eigenvalue" in r.payload
        ]
    )
    for network, at in frame.groupby("network", sort=False):
        rows.append(
            {
                "network": network.upper(),
                "seeds": len(at),
                "SB": mean_std(list(at["SB"]), digits=3),
                "LB": mean_std(list(at["LB"]), digits=3),
                "LB sharper?": sharper_verdict(list(at["SB"]), list(at["LB"])),
            }
        )
    return pd.DataFrame(rows)


def interpolation_frame(results: list) -> pd.DataFrame:
    """The line-plot rows of every run that has them (alpha, set, loss, accuracy, bn)."""
    frames = [
        pd.DataFrame(r.payload["interpolation"]).assign(
            network=r.config["model"], seed=r.config["seed"]
        )
        for r in results
        if r.payload.get("interpolation")
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _rise_near(loss: pd.Series, centre: float, radius: float = 0.25) -> float:
    """How much the loss rises within `radius` of alpha = centre."""
    a = loss.index.to_numpy()
    return float(
        loss[np.abs(a - centre) <= radius + 1e-9].max() - loss.iloc[np.abs(a - centre).argmin()]
    )


def interpolation_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per network and BN mode: train loss at SB (a=0), LB (a=1), the worst point between them,
    and how far the loss rises within |a - 1| <= 0.25 of LB versus |a| <= 0.25 of SB."""
    rows = []
    for (network, bn), at in frame[frame["set"] == "train"].groupby(["network", "bn"], sort=False):
        loss = at.set_index("alpha")["loss"].sort_index()
        a = loss.index.to_numpy()
        rows.append(
            {
                "network": network.upper(),
                "BN statistics": bn,
                "train loss at SB": float(loss.iloc[np.abs(a).argmin()]),
                "train loss at LB": float(loss.iloc[np.abs(a - 1).argmin()]),
                "max train loss between": float(loss[(a >= 0) & (a <= 1)].max()),
                "rise near SB": _rise_near(loss, 0.0),
                "rise near LB": _rise_near(loss, 1.0),
            }
        )
    return pd.DataFrame(rows)


def optimizer_table(
    adam_frame: pd.DataFrame, extra_frame: pd.DataFrame, cfg: LargeBatchParams
) -> pd.DataFrame:
    """Seed report section 3.2: F1 test accuracy with Adam, SGD and AdaGrad, SB beside LB."""
    rows = []
    for optimizer in ("adam", *cfg.extra_optimizers):
        source = adam_frame if optimizer == "adam" else extra_frame
        ours = (
            source[(source["network"] == "f1") & (source["optimizer"] == optimizer)]
            if len(source)
            else source
        )
        paper_sb, paper_lb = REPORT_OPTIMIZERS[optimizer]
        row = {
            "optimizer": optimizer,
            "fixed LR": cfg.lr if optimizer == "adam" else OPTIMIZER_LR[optimizer],
        }
        row |= {
            "SB (report)": f"{paper_sb:.2f}",
            "LB (report)": "-" if paper_lb is None else f"{paper_lb:.2f}",
        }
        if ours.empty:
            row |= {
                "data": "-",
                "seeds": 0,
                "SB (ours)": "-",
                "LB (ours)": "-",
                "LB worse? (ours)": "empty: not run",
            }
        else:
            row |= {
                "data": f"{ours['dataset'].iloc[0]} ({ours['train size'].iloc[0]:,} train), {int(ours['epochs'].iloc[0])} epochs"
            }
            row |= {
                "seeds": len(ours),
                "SB (ours)": mean_std(ours["test SB"], digits=2),
                "LB (ours)": mean_std(ours["test LB"], digits=2),
            }
            row["LB worse? (ours)"] = gap_verdict(list(ours["test SB"]), list(ours["test LB"]))
        row["LB worse? (report)"] = (
            "-" if paper_lb is None else ("yes" if paper_lb < paper_sb else "no")
        )
        rows.append(row)
    return pd.DataFrame(rows)


def network_table(frame: pd.DataFrame, cfg: LargeBatchParams) -> pd.DataFrame:
    """Seed report section 3.2: ResNet-44, VGG-16 (BN) and WRN-16-4, SB beside LB (Adam, fixed LR)."""
    rows = []
    for network, dataset in EXTRA_NETWORK_DATA.items():
        ours = frame[frame["network"] == network] if len(frame) else frame
        paper_sb, paper_lb = REPORT_NETWORKS[network]
        row = {
            "network": network,
            "dataset": dataset,
            "SB (report)": f"{paper_sb:.2f}",
            "LB (report)": f"{paper_lb:.2f}",
        }
        if ours.empty:
            why = missing_data(_dataset(network, cfg)) if network in cfg.extra_networks else None
            why = why or f"not run at profile {cfg.profile} (needs the full dataset and a GPU)"
            row |= {"SB (ours)": "-", "LB (ours)": "-", "LB worse? (ours)": f"empty: {why}"}
        else:
            row |= {
                "SB (ours)": mean_std(ours["test SB"], digits=2),
                "LB (ours)": mean_std(ours["test LB"], digits=2),
            }
            row["LB worse? (ours)"] = gap_verdict(list(ours["test SB"]), list(ours["test LB"]))
        row["LB worse? (report)"] = "yes" if paper_lb < paper_sb else "no"
        rows.append(row)
    return pd.DataFrame(rows)


# --- the flat-versus-sharp sketch (Keskar et al. 2017, Fig. 1; seed report Fig. 6) ---------------

# Two Gaussian wells: (centre, depth, width). Curvature at a well's bottom is depth / width^2.
FLAT_WELL = (-2.0, 1.0, 0.6)
SHARP_WELL = (1.5, 1.0, 0.15)
SKETCH_SHIFT = 0.12  # test loss = train loss shifted right by this much


def sketch_loss(w: np.ndarray, shift: float = 0.0) -> np.ndarray:
    """f(w) = 1 - sum of depth * exp(-(w - shift - centre)^2 / (2 width^2)): a flat and a sharp
    minimum of equal depth; `shift` moves the whole curve (the test loss of Keskar's Fig. 1)."""
    w = np.asarray(w, dtype=float) - shift
    wells = sum(d * np.exp(-((w - c) ** 2) / (2 * s**2)) for c, d, s in (FLAT_WELL, SHARP_WELL))
    return 1.0 - wells


def well_curvature(well: tuple[float, float, float]) -> float:
    """Second derivative at the bottom of one isolated well: depth / width^2."""
    _, depth, width = well
    return depth / width**2


# --- verdicts and claims ---------------------------------------------------------------------------


def scale_note(cfg: LargeBatchParams, frame: pd.DataFrame) -> str:
    """What ran, in one line (for the claims table)."""
    parts = []
    for network, at in frame.groupby("network", sort=False):
        parts.append(
            f"{network.upper()} on {at['dataset'].iloc[0]} ({at['train size'].iloc[0]:,}), "
            f"{int(at['epochs'].iloc[0])} epoch(s), {len(at)} seeds"
        )
    return f"{cfg.profile}: " + "; ".join(parts)


def verdict(
    acc: pd.DataFrame, sharp: pd.DataFrame, eigen: pd.DataFrame, interp: pd.DataFrame
) -> str:
    """The chapter's conclusion, written from the numbers."""
    lines = []
    ran = acc[acc["seeds"] > 0]
    for _, row in ran.iterrows():
        lines.append(
            f"- **{row['network']}**: test accuracy SB {row['test SB (ours)']} % versus LB "
            f"{row['test LB (ours)']} % (paper {row['test SB (paper)']} versus "
            f"{row['test LB (paper)']}); LB worse? **{row['LB worse? (ours)']}**."
        )
    for _, row in sharp.iterrows():
        lines.append(
            f"- **{row['network']}**, phi at epsilon {row['epsilon']}: SB {row['SB (ours)']}, LB "
            f"{row['LB (ours)']} (paper {row['SB (paper)']} / {row['LB (paper)']}); LB sharper? "
            f"**{row['LB sharper? (ours)']}**."
        )
    for _, row in eigen.iterrows():
        lines.append(
            f"- **{row['network']}**, top Hessian eigenvalue: SB {row['SB']}, LB {row['LB']}; "
            f"LB sharper? **{row['LB sharper?']}**."
        )
    for _, row in interp.iterrows():
        lines.append(
            f"- **{row['network']}**, line from SB to LB ({row['BN statistics']} BN statistics): "
            f"train loss {row['train loss at SB']:.3f} at SB, {row['train loss at LB']:.3f} at LB, "
            f"at most {row['max train loss between']:.3f} between; within 0.25 of the end point "
            f"it rises by {row['rise near SB']:.3f} beside SB and {row['rise near LB']:.3f} beside LB."
        )
    return "\n".join(lines)


def claims(acc: pd.DataFrame, sharp: pd.DataFrame, eigen: pd.DataFrame, scale: str) -> list[dict]:
    """Rows for the landing page: the generalisation gap and the sharpness per network."""
    rows = []
    for _, row in acc[acc["seeds"] > 0].iterrows():
        rows.append(
            {
                "claim": f"{row['network']}: large batch (10% of data) tests worse than batch 256 (Adam, fixed LR)",
                "paper": f"{row['test SB (paper)']} vs {row['test LB (paper)']} %",
                "ours": f"{row['test SB (ours)']} vs {row['test LB (ours)']} %",
                "scale": scale,
                "verdict": row["LB worse? (ours)"],
            }
        )
    for _, row in sharp[sharp["epsilon"] == "0.001"].iterrows():
        rows.append(
            {
                "claim": f"{row['network']}: LB minimum is sharper (phi, epsilon 1e-3, full space)",
                "paper": f"{row['SB (paper)']} vs {row['LB (paper)']}",
                "ours": f"{row['SB (ours)']} vs {row['LB (ours)']}",
                "scale": scale,
                "verdict": row["LB sharper? (ours)"],
            }
        )
    for _, row in eigen.iterrows():
        rows.append(
            {
                "claim": f"{row['network']}: LB has the larger top Hessian eigenvalue (beyond the paper)",
                "paper": "-",
                "ours": f"{row['SB']} vs {row['LB']}",
                "scale": scale,
                "verdict": row["LB sharper?"],
            }
        )
    return rows
