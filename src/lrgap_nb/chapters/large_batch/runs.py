"""What the large-batch chapter trains: one cached run per (network, optimizer, seed).

A run trains the small-batch (SB) and the large-batch (LB) network from the same initial weights
with the same fixed LR, each until its train accuracy reaches the gate (or `max_epochs`), plus LB
for SB's number of epochs (Hoffer et al.'s control), and then measures the two gated solutions:
Keskar's phi (Metric 2.1) with its first-order part and the gradient norm, the top Hessian
eigenvalue, and the line between them (Figure 3). Its payload holds everything the chapter shows,
so a machine without Jupyter can compute it and bring back only the cache JSON (the weights are
deleted once measured).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import field
from typing import Any

import numpy as np
from torch import nn

from lrgap_nb import data, device, paths, results, train
from lrgap_nb.datasets import train_size
from lrgap_nb.params import choice, non_negative, positive
from lrgap_nb.runs import Run

from . import sharpness
from .params import (
    EXTRA_NETWORK_DATA,
    NETWORK_DATA,
    LargeBatchParams,
    network_seeds,
    network_width,
    optimizer_seeds,
)

KIND = "large_batch"
PROTOCOL = 2  # version of the "large_batch" computation: bump when sb_lb_payload's numbers change


@dataclasses.dataclass(frozen=True)
class SbLbConfig:
    """One SB/LB pair and everything measured on it (the cache key of one run)."""

    model: str
    dataset: str
    small_batch: int = field(metadata=positive())
    large_batch: int = field(metadata=positive())
    optimizer: str = field(default="adam", metadata=choice("sgd", "adam", "adagrad"))
    lr: float = field(default=1e-3, metadata=positive())  # fixed LR, the same for SB and LB
    seed: int = field(default=0, metadata=non_negative())  # initial weights and batch order
    subset: int | None = None  # the first `subset` training examples (None: all)
    model_width: int | None = None
    drop_last: bool = True
    gate: float = 0.99  # train accuracy (eval mode, whole training set) that ends training
    max_epochs: int = 100
    budget_control: bool = True  # LB for SB's epochs as well
    probes: bool = True  # sharpness, eigenvalue and line; False: accuracies only
    probe_size: int | None = None  # training examples f averages over (None: all)
    bn_batch: int = 1000  # evaluation batch (BN normalises with its statistics)
    epsilons: tuple[float, ...] = (1e-3, 5e-4)
    subspace_dim: int = 100  # k of A in R^{n x k}
    lbfgs_iters: int = 10
    random_starts: int = 2
    power_iters: int = 50
    interpolation_points: int = 0  # alphas on [-1, 2]; 0: no line
    line_size: int | None = None
    # Also Keskar's own phi: L-BFGS-B from the point itself only, f on the whole training set
    # (full space). Added after entries were cached: at False it is not part of the key.
    paper_phi: bool = field(default=False, metadata=results.OMIT_DEFAULT)

    def train_config(self, batch_size: int, epochs: int | None = None) -> train.TrainConfig:
        """SB or LB: inputs in [0, 1], no augmentation, no weight decay, BN on batch statistics."""
        return train.TrainConfig(
            model=self.model,
            dataset=self.dataset,
            epochs=epochs or self.max_epochs,
            batch_size=batch_size,
            optimizer=self.optimizer,
            lr=self.lr,
            momentum=0.0,
            weight_decay=0.0,
            subset=self.subset,
            subset_mode="first",
            normalise="unit",
            bn_mode="batch",
            eval_sets=("train", "test"),
            eval_batch_size=self.bn_batch,
            model_width=self.model_width,
            drop_last=self.drop_last,
            seed=self.seed,
        )


def examples_kept(dataset: str, subset: int | None = None) -> int:
    """Training examples a run sees: the dataset's, or the first `subset` of them."""
    return min(train_size(dataset), subset) if subset else train_size(dataset)


def _dataset(model: str, cfg: LargeBatchParams) -> str:
    name = NETWORK_DATA.get(model) or EXTRA_NETWORK_DATA[model]
    return {"cifar10": cfg.cifar10, "mnist": cfg.mnist}.get(name, name)


def pair_config(
    cfg: LargeBatchParams, model: str, optimizer: str, seed: int, extra: bool = False
) -> SbLbConfig:
    """The run of `model` with `optimizer` and `seed`: SB 256 (or cifar_small_batch on a trimmed
    CIFAR-10), LB 10% of the training set."""
    dataset = _dataset(model, cfg)
    trimmed = dataset.startswith("cifar10") and cfg.cifar_train_size is not None
    subset = (
        cfg.cifar_train_size
        if trimmed
        else cfg.mnist_train_size
        if dataset.startswith("mnist")
        else None
    )
    n = examples_kept(dataset, subset)
    small = cfg.cifar_small_batch if trimmed and cfg.cifar_small_batch else cfg.small_batch
    return SbLbConfig(
        model=model,
        dataset=dataset,
        small_batch=small,
        large_batch=max(1, round(cfg.large_fraction * n)),
        optimizer=optimizer,
        lr=cfg.lr if optimizer == "adam" else cfg.extra_lr,
        seed=seed,
        subset=subset if subset and subset < train_size(dataset) else None,
        model_width=network_width(model, cfg),
        drop_last=cfg.drop_last,
        gate=cfg.gate,
        max_epochs=cfg.max_epochs,
        budget_control=cfg.budget_control and not extra,
        probes=not extra,
        probe_size=cfg.probe_size,
        bn_batch=cfg.bn_batch,
        epsilons=cfg.epsilons,
        subspace_dim=cfg.subspace_dim,
        lbfgs_iters=cfg.lbfgs_iters,
        random_starts=cfg.random_starts,
        power_iters=cfg.power_iters,
        interpolation_points=(
            cfg.interpolation_points if seed == network_seeds(model, cfg)[0] and not extra else 0
        ),
        line_size=cfg.line_size,
    )


def pair_configs(cfg: LargeBatchParams) -> dict[str, list[SbLbConfig]]:
    """The chapter's runs by table: "main" (Keskar's networks, Adam), "optimizers" (F1 with SGD
    and AdaGrad) and "networks" (the survey report's extras). Listing them reads no data, so
    cached runs render without it; `lrgap` checks the data of the runs left to compute."""
    return {
        "main": [
            pair_config(cfg, m, "adam", s) for m in cfg.networks for s in network_seeds(m, cfg)
        ],
        "optimizers": [
            pair_config(cfg, "f1", o, s, extra=True)
            for o in cfg.extra_optimizers
            for s in optimizer_seeds(o, cfg)
        ],
        "networks": [
            pair_config(cfg, m, "adam", s, extra=True)
            for m in cfg.extra_networks
            for s in cfg.extra_seeds
        ],
    }


def groups(cfg: LargeBatchParams) -> dict[str, dict[tuple[str, str, int], SbLbConfig]]:
    """The chapter's runs by table, (network, optimizer, seed) -> config (the wall-time table)."""
    return {
        name: {(c.model, c.optimizer, c.seed): c for c in configs}
        for name, configs in pair_configs(cfg).items()
    }


def chapter_runs(cfg: LargeBatchParams) -> list[Run]:
    """Every cached run of the chapter (see lrgap_nb.sweep): the MNIST runs first, main table
    then optimizers, as they are the cheapest, so a sweep stopped early leaves whole tables."""
    configs = [c for group in pair_configs(cfg).values() for c in group]
    configs.sort(key=lambda c: c.dataset != "mnist")  # stable: table order within each
    return [Run(KIND, f"{__name__}:sb_lb_payload", c, PROTOCOL) for c in configs]


# --- the runner -----------------------------------------------------------------------------------


def initial_model(config: train.TrainConfig, splits: dict[str, data.TensorData]) -> nn.Module:
    """The untrained network exactly as `train.train` builds it: seed, then construct."""
    dev = device.pick_device(config.device)
    device.seed_everything(config.seed)
    model = train.make_model(config, splits["train"].x.shape[1:])
    return model.to(dev).eval()


def fixed_subset(split: data.TensorData, k: int | None) -> data.TensorData:
    """k examples drawn once with seed 0, so SB, LB and every seed see the same ones."""
    return split if k is None or k >= len(split) else split.subset(k, "random", 0)


def gate_reached(gate: float):
    """The stop rule: the last finished epoch's train accuracy (eval mode, all train) >= gate."""
    return lambda history: bool(history) and history[-1]["train_eval_acc"] >= gate


def _train(tcfg: train.TrainConfig, gate: float | None) -> tuple[nn.Module, list[dict], Any]:
    stop = None if gate is None else gate_reached(gate)
    result = train.train(tcfg, save_weights=True, show_progress=False, stop=stop)
    return train.load_model(tcfg), result.history.to_dict("records"), result


def _summary(history: list[dict], batch: int, n: int, drop_last: bool) -> dict[str, Any]:
    last = history[-1]
    per_epoch = n // batch if drop_last else -(-n // batch)
    return {
        "batch_size": batch,
        "epochs": len(history),
        "steps": per_epoch * len(history),
        "history": history,
        "train_acc": last["train_eval_acc"],
        "train_loss": last["train_eval_loss"],
        "test_acc": last["test_acc"],
        "test_loss": last["test_loss"],
    }


def sb_lb_payload(config: SbLbConfig) -> dict[str, Any]:
    """Train SB, LB (each to the gate) and LB for SB's epochs from the same initial weights, then
    measure the two gated solutions (Keskar et al. 2017: Table 2, Figure 2, Metric 2.1 / Tables
    3-4, Figure 3; beyond them, the top Hessian eigenvalue and phi's first-order part)."""
    sb_cfg = config.train_config(config.small_batch)
    splits = train.load_data(sb_cfg)
    n = len(splits["train"])
    init = initial_model(sb_cfg, splits)
    dev = device.pick_device()
    start = {}
    for name in ("train", "test"):
        start[f"{name}_loss"], start[f"{name}_acc"] = train.evaluate(
            init, splits[name], config.bn_batch, dev
        )
    payload: dict[str, Any] = {"train_size": n, "init": start}
    jobs = [
        ("SB", sb_cfg, config.gate),
        ("LB", config.train_config(config.large_batch), config.gate),
    ]
    models, finished = {}, []
    for label, tcfg, gate in jobs:
        models[label], history, result = _train(tcfg, gate)
        finished.append(result)
        payload[label] = _summary(history, tcfg.batch_size, n, config.drop_last)
        payload[label]["reached_gate"] = history[-1]["train_eval_acc"] >= config.gate
    if config.budget_control and payload["SB"]["epochs"] < config.max_epochs:
        budget = config.train_config(config.large_batch, payload["SB"]["epochs"])
        model, history, result = _train(budget, None)
        finished.append(result)
        payload["LB_budget"] = _summary(history, config.large_batch, n, config.drop_last)
        payload["LB_budget"]["reached_gate"] = history[-1]["train_eval_acc"] >= config.gate
        payload["LB_budget"] |= _gradient(config, model, splits)
    steps = probe_steps(config)
    if config.probes:
        payload |= _probes(config, models, splits, steps)
    for result in finished:  # only now: a killed run resumes from these
        for path in (result.checkpoint, result.weights):
            if path is not None:
                path.unlink(missing_ok=True)
    steps.clear()
    return payload


def _gradient(config: SbLbConfig, model: nn.Module, splits) -> dict[str, float]:
    """f and ||grad f|| on the probe examples (for a solution whose phi is not measured)."""
    probe = fixed_subset(splits["train"], config.probe_size)
    loss = sharpness.ModelLoss(model, probe.x, probe.y, config.bn_batch)
    f0, grad = loss.value_and_grad(loss.vector())
    return {"f0": f0, "grad_norm": float(grad.norm())}


def probe_steps(config: SbLbConfig) -> results.Steps:
    """The probes finished so far for this run (hours on a CPU for C1: a killed run keeps them)."""
    key = results.config_key(KIND, config, PROTOCOL)
    return results.Steps(paths.cache_dir() / "checkpoints" / f"{key}.probes.json")


def _probes(
    config: SbLbConfig,
    models: dict[str, nn.Module],
    splits: dict[str, data.TensorData],
    steps: results.Steps,
) -> dict[str, Any]:
    """phi (both epsilons, both spaces), the top Hessian eigenvalue and the interpolation, each
    a step of `steps`."""
    dev = device.pick_device()
    probe = fixed_subset(splits["train"], config.probe_size)
    losses = {
        label: sharpness.ModelLoss(m, probe.x, probe.y, config.bn_batch)
        for label, m in models.items()
    }
    n = sum(p.numel() for p in models["SB"].parameters())
    subspace = functools.cache(lambda: sharpness.Subspace(n, config.subspace_dim, config.seed, dev))
    rows, eigen = [], {}
    for label, loss in losses.items():
        for space in ("full", "subspace"):
            for eps in config.epsilons:
                s = steps.get(
                    f"phi {label} {space} {eps!r}",
                    lambda loss=loss, space=space, eps=eps: dataclasses.asdict(
                        sharpness.keskar_sharpness(
                            loss.value_and_grad,
                            loss.vector(),
                            eps,
                            subspace() if space == "subspace" else None,
                            config.lbfgs_iters,
                            config.random_starts,
                            config.seed,
                        )
                    ),
                )
                rows.append({"batch": label, "space": space, "epsilon": eps, **s})
    subspace.cache_clear()
    out: dict[str, Any] = {}
    if config.paper_phi:
        out["paper_phi"] = _paper_phi(config, models, splits["train"], steps)
    for label, loss in losses.items():
        w = loss.vector()
        eigen[label] = steps.get(
            f"eigenvalue {label}",
            lambda loss=loss, w=w: sharpness.top_hessian_eigenvalue(
                lambda v: loss.hvp(w, v), n, config.power_iters, 1e-3, config.seed, dev
            ),
        )
    line_train = fixed_subset(splits["train"], config.line_size)
    line_test = fixed_subset(splits["test"], config.line_size)
    out |= {
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
        w_sb, w_lb = (losses[k].vector() for k in ("SB", "LB"))
        alphas = np.linspace(-1.0, 2.0, config.interpolation_points)
        sets = {"train": (line_train.x, line_train.y), "test": (line_test.x, line_test.y)}
        for bn in ("batch", "recomputed"):
            out["interpolation"] += steps.get(
                f"interpolation {bn}",
                lambda bn=bn: sharpness.interpolate(
                    models["SB"], w_sb, w_lb, alphas, sets, bn, batch_size=config.bn_batch
                ).to_dict("records"),
            )
    return out


def _paper_phi(
    config: SbLbConfig,
    models: dict[str, nn.Module],
    train_split: data.TensorData,
    steps: results.Steps,
) -> list[dict[str, Any]]:
    """phi as Keskar et al. 2017 measure it (Metric 2.1, full space): one L-BFGS-B run from the
    solution itself, f on every training example, for each gated solution and epsilon."""
    rows = []
    for label, model in models.items():
        loss = sharpness.ModelLoss(model, train_split.x, train_split.y, config.bn_batch)
        for eps in config.epsilons:
            s = steps.get(
                f"paper phi {label} {eps!r}",
                lambda loss=loss, eps=eps: dataclasses.asdict(
                    sharpness.keskar_sharpness(
                        loss.value_and_grad, loss.vector(), eps, None, config.lbfgs_iters, 0
                    )
                ),
            )
            rows.append({"batch": label, "epsilon": eps, "examples": len(train_split), **s})
    return rows
