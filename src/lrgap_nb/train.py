"""Training: `train(config) -> TrainResult`, checkpointed every epoch and resumable; never plots.

A run is fully described by a frozen `TrainConfig` (validated on construction). Its checkpoint lives
at `paths.cache_dir()/checkpoints/<config key>.pt` and is replaced atomically after every epoch, so
a killed run started again resumes and ends with exactly the metrics of an uninterrupted one (on
CPU, where kernels are deterministic). `run_cached` stores the history in the results cache.
Accuracies are fractions in [0, 1]; losses are mean cross-entropies.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from . import data, device, models, paths, progress, results
from .params import choice, non_negative, positive, validate_fields
from .runs import Run
from .schedules import exponential, multi_step


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (and so its cache key)."""

    model: str  # a models.build_model name: wrn16_4, f1, c1, resnet44, ...
    dataset: str  # a data registry name: cifar10, mnist, cifar10_subset, ...
    epochs: int = field(default=1, metadata=positive())
    batch_size: int = field(default=128, metadata=positive())
    optimizer: str = field(default="sgd", metadata=choice("sgd", "adam", "adagrad"))
    lr: float = field(default=0.1, metadata=positive())  # peak LR, before any anneal
    momentum: float = field(default=0.9, metadata=non_negative())  # SGD only
    nesterov: bool = False  # the official WRN code uses Nesterov momentum
    weight_decay: float = field(default=5e-4, metadata=non_negative())
    lr_milestones: tuple[int, ...] = field(default=(), metadata=non_negative())  # 0-based epochs
    lr_factors: tuple[float, ...] = field(default=(), metadata=positive())  # one per milestone
    anneal_below_loss: float | None = field(default=None, metadata=positive())  # train loss
    anneal_factor: float = field(default=0.1, metadata=positive())  # LR factor once it is reached
    noise: float = field(default=0.0, metadata=non_negative())  # pre-activation noise scale
    noise_mode: str = field(default="shared", metadata=choice(*models.NOISE_MODES))
    noise_milestones: tuple[int, ...] = field(default=(), metadata=non_negative())
    noise_factors: tuple[float, ...] = field(default=(), metadata=non_negative())
    noise_decay: float = field(default=1.0, metadata=non_negative())  # per-epoch factor ("cont")
    subset: int | None = field(default=None, metadata=positive())  # training examples kept
    subset_mode: str = field(default="first", metadata=choice("first", "random"))
    subset_seed: int = field(default=0, metadata=non_negative())
    normalise: str = field(default="standard", metadata=choice(*data.NORMALISE))
    augment: bool = False  # pad-4 random crop + flip, on device
    bn_mode: str = field(default="running", metadata=choice(*models.BN_MODES))  # at evaluation
    eval_sets: tuple[str, ...] = ("test",)  # splits evaluated after every epoch
    eval_batch_size: int = field(default=1000, metadata=positive())
    model_width: int | None = field(default=None, metadata=positive())  # small test models
    drop_last: bool = False
    seed: int = field(default=0, metadata=non_negative())
    device: str | None = None  # None: device.pick_device() (env LRGAP_DEVICE)
    compile: bool = False  # torch.compile on CUDA

    def __post_init__(self) -> None:
        validate_fields(self)
        models.check_model_name(self.model)
        data.dataset_spec(self.dataset)
        for kind in ("lr", "noise"):
            milestones = getattr(self, f"{kind}_milestones")
            factors = getattr(self, f"{kind}_factors")
            if milestones and len(factors) not in (1, len(milestones)):
                raise ValueError(
                    f"parameter '{kind}_factors' has {len(factors)} entries for "
                    f"{len(milestones)} milestones; give one per milestone or a single one"
                )
            if list(milestones) != sorted(milestones):
                raise ValueError(f"parameter '{kind}_milestones' must be increasing")
            if bool(factors) != bool(milestones):
                raise ValueError(
                    f"parameters '{kind}_milestones' and '{kind}_factors' go together; "
                    f"got {milestones} and {factors}"
                )


# Li, Wei & Ma's official WRN recipe (train_cifar.py, train_patches.py): SGD with Nesterov
# momentum 0.9, weight decay 5e-4, no augmentation. The large-LR and patch chapters derive their
# runs from it; evaluation in batches of 250 (benchmarks/cpu_scale.py: faster here, same numbers).
WRN_RECIPE = dict(
    momentum=0.9, nesterov=True, weight_decay=5e-4, augment=False, eval_batch_size=250
)


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """A finished run: its config, per-epoch history table and where its weights are."""

    config: TrainConfig
    history: pd.DataFrame
    checkpoint: Path
    weights: Path | None
    device: str

    @property
    def final(self) -> dict[str, float]:
        """The last epoch's row."""
        return self.history.to_dict("records")[-1]


def lr_at(config: TrainConfig, epoch: int, history: list[dict[str, Any]]) -> float:
    """The LR of 0-based `epoch`: multi-step schedule, times the loss-threshold anneal once hit."""
    lr = multi_step(config.lr, config.lr_milestones, config.lr_factors or (1.0,))(epoch)
    threshold = config.anneal_below_loss
    if threshold is not None and any(row["train_loss"] < threshold for row in history[:epoch]):
        lr *= config.anneal_factor
    return lr


def noise_at(config: TrainConfig, epoch: int) -> float:
    """The pre-activation noise scale of 0-based `epoch` (step factors and exponential decay)."""
    stepped = multi_step(config.noise, config.noise_milestones, config.noise_factors or (1.0,))
    return stepped(epoch) * exponential(1.0, config.noise_decay)(epoch)


PROTOCOL = 1  # version of the "train" kind's computation: bump when train_payload's numbers change


def checkpoint_path(config: TrainConfig) -> Path:
    key = results.config_key("train", config, PROTOCOL)
    return paths.cache_dir() / "checkpoints" / f"{key}.pt"


def weights_path(config: TrainConfig) -> Path:
    return checkpoint_path(config).with_suffix(".weights.pt")


def _atomic_save(obj: Any, path: Path) -> None:
    """Write to a temporary file, then rename: a kill or full disk never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        paths.share_like_open(fd)  # umask honoured (mkstemp makes 0600)
        with os.fdopen(fd, "wb") as handle:
            torch.save(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


CHECKPOINT_KEYS = ("model", "optimizer", "rng", "history")


def _read_checkpoint(path: Path) -> dict[str, Any] | None:
    """The checkpoint's state, or None if there is none; an unreadable one (truncated, not a
    checkpoint) is moved aside with a warning naming it, and the run starts from scratch."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        missing = [k for k in CHECKPOINT_KEYS if k not in state]
        if missing:
            raise KeyError(f"no {', '.join(missing)}")
        return state
    except FileNotFoundError:
        return None
    except Exception as err:  # torch raises RuntimeError, EOFError, UnpicklingError, ...
        _set_aside(path, err)
        return None


def _set_aside(path: Path, err: BaseException) -> None:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}-{os.getpid()}-{time.time_ns() % 10**9}")
    try:
        os.replace(path, target)
        where = f"moved to {target.name}"
    except FileNotFoundError:
        return
    except OSError as move_err:
        where = f"could not move it aside ({move_err.strerror or move_err})"
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    warnings.warn(
        f"checkpoint {path} is unreadable ({type(err).__name__}: {reason[:200]}); {where}; "
        "training this run from scratch",
        stacklevel=3,
    )


@functools.lru_cache(maxsize=2)
def _load_splits(
    name: str, root: str, normalise: str, dev: str, download: bool | None
) -> dict[str, data.TensorData]:
    return data.load(name, root, download, normalise, torch.device(dev))


def load_data(config: TrainConfig, download: bool | None = None) -> dict[str, data.TensorData]:
    """The run's splits on its device, with the training subset applied (reused across runs)."""
    dev = device.pick_device(config.device)
    root = str(paths.data_root())
    splits = dict(_load_splits(config.dataset, root, config.normalise, str(dev), download))
    missing = [s for s in ("train", *config.eval_sets) if s not in splits]
    if missing:
        raise ValueError(
            f"dataset {config.dataset!r} has no split(s) {missing}; it has {sorted(splits)}"
        )
    if config.subset is not None:
        splits["train"] = splits["train"].subset(
            config.subset, config.subset_mode, config.subset_seed
        )
    return splits


def make_model(config: TrainConfig, in_shape: torch.Size) -> nn.Module:
    """The run's network, with its BN evaluation mode and noise mode set."""
    spec = data.dataset_spec(config.dataset)
    in_channels = in_shape[0] if len(in_shape) == 3 else 1
    net = models.build_model(config.model, spec.num_classes, in_channels, config.model_width)
    models.set_bn_mode(net, config.bn_mode)
    models.set_noise(net, 0.0, config.noise_mode)
    return net


def make_optimizer(config: TrainConfig, params: Any) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params,
            lr=config.lr,
            momentum=config.momentum,
            nesterov=config.nesterov,
            weight_decay=config.weight_decay,
        )
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.Adagrad(params, lr=config.lr, weight_decay=config.weight_decay)


@torch.no_grad()
def evaluate(
    net: Callable[[torch.Tensor], torch.Tensor],
    split: data.TensorData,
    batch_size: int,
    dev: torch.device,
) -> tuple[float, float]:
    """Mean loss and accuracy over a split, in eval mode (BN as set by `set_bn_mode`)."""
    total_loss = torch.zeros((), device=dev)
    correct = torch.zeros((), device=dev, dtype=torch.int64)
    for x, y in split.batches(batch_size):
        with device.autocast(dev):
            out = net(x)
        total_loss += F.cross_entropy(out.float(), y, reduction="sum")
        correct += (out.argmax(1) == y).sum()
    return total_loss.item() / len(split), correct.item() / len(split)


def _train_epoch(
    net: Callable[[torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    split: data.TensorData,
    config: TrainConfig,
    epoch: int,
    dev: torch.device,
    show_progress: bool,
) -> tuple[float, float]:
    gen = data.epoch_generator(config.seed, epoch, dev)
    augment = data.crop_flip if config.augment else None
    batches = split.batches(config.batch_size, gen, augment, config.drop_last)
    total = split.num_batches(config.batch_size, config.drop_last)
    total_loss = torch.zeros((), device=dev)
    correct = torch.zeros((), device=dev, dtype=torch.int64)
    seen = 0
    for x, y in progress.bar(
        batches, total=total, desc=f"epoch {epoch + 1}", leave=False, disable=not show_progress
    ):
        with device.autocast(dev):
            out = net(x)
            loss = F.cross_entropy(out.float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total_loss += loss.detach() * len(y)
        correct += (out.detach().argmax(1) == y).sum()
        seen += len(y)
    return total_loss.item() / seen, correct.item() / seen


def _column(split: str) -> str:
    return "train_eval" if split == "train" else split


def train(
    config: TrainConfig,
    download: bool | None = None,
    callback: Callable[[int, dict[str, Any]], None] | None = None,
    save_weights: bool = True,
    show_progress: bool = True,
    stop: Callable[[list[dict[str, Any]]], bool] | None = None,
) -> TrainResult:
    """Train (or resume, or return the finished checkpoint of) the run `config` describes.

    History columns: epoch (1-based, completed epochs), lr, noise, train_loss and train_acc
    (running means over the epoch's batches, as the official code reports), then <split>_loss and
    <split>_acc for every evaluation split ("train" is reported as train_eval_*). `callback(epoch,
    row)` runs after each epoch's checkpoint is written. With `save_weights` the final weights are
    also written beside the checkpoint (`weights_path`), for `load_model`. `stop(history)` is asked
    before every epoch, a resumed run's included, and ends training early when true (a train-accuracy
    gate); the checkpoint key does not hold it, so callers keep one rule per config.
    """
    dev = device.pick_device(config.device)
    device.configure(dev)
    splits = load_data(config, download)
    ckpt = checkpoint_path(config)
    state = _read_checkpoint(ckpt)
    history: list[dict[str, Any]] = []
    while True:
        device.seed_everything(config.seed)
        model = make_model(config, splits["train"].x.shape[1:])
        net = device.prepare_model(model, dev, config.compile)
        optimizer = make_optimizer(config, model.parameters())
        if state is None:
            break
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            device.set_rng_state(state["rng"])
            history = list(state["history"])
            break
        except Exception as err:  # a checkpoint of another model: set aside, build afresh
            _set_aside(ckpt, err)
            state, history = None, []
    epochs = progress.bar(
        range(len(history), config.epochs),
        initial=len(history),
        total=config.epochs,
        desc=f"{config.model} on {config.dataset}",
        disable=not show_progress,
    )
    for epoch in epochs:
        if stop is not None and stop(history):
            break
        lr, noise = lr_at(config, epoch, history), noise_at(config, epoch)
        for group in optimizer.param_groups:
            group["lr"] = lr
        models.set_noise(model, noise)
        model.train()
        train_loss, train_acc = _train_epoch(
            net, optimizer, splits["train"], config, epoch, dev, show_progress
        )
        row: dict[str, Any] = {
            "epoch": epoch + 1,
            "lr": lr,
            "noise": noise,
            "train_loss": train_loss,
            "train_acc": train_acc,
        }
        model.eval()
        for split in config.eval_sets:
            loss, acc = evaluate(net, splits[split], config.eval_batch_size, dev)
            row[f"{_column(split)}_loss"], row[f"{_column(split)}_acc"] = loss, acc
        history.append(row)
        epochs.set_postfix(loss=f"{train_loss:.3f}", acc=f"{train_acc:.3f}")
        _atomic_save(
            {
                "config": dataclasses.asdict(config),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "rng": device.rng_state(),
                "history": history,
            },
            ckpt,
        )
        if callback is not None:
            callback(epoch, row)
    weights = weights_path(config) if save_weights else None
    if weights is not None:
        _atomic_save({"config": dataclasses.asdict(config), "model": model.state_dict()}, weights)
    return TrainResult(config, pd.DataFrame(history), ckpt, weights, device.device_name(dev))


def train_payload(config: TrainConfig) -> dict[str, Any]:
    """Runner of a training Run: train (resuming from a checkpoint) and keep the final weights."""
    result = train(config, save_weights=True)
    result.checkpoint.unlink(missing_ok=True)
    return {
        "history": result.history.to_dict("records"),
        "final": result.final,
        "weights": result.weights.name if result.weights else None,
    }


def train_run(config: TrainConfig) -> Run:
    """A training run as a picklable unit of work for `lrgap_nb.sweep`."""
    return Run("train", "lrgap_nb.train:train_payload", config, PROTOCOL)


def run_cached(config: TrainConfig) -> results.Result:
    """Train through the results cache; the payload holds the history records and final metrics.

    The final weights stay beside the (deleted) checkpoint for `load_model`.
    """
    return train_run(config).execute()


def history_frame(result: results.Result) -> pd.DataFrame:
    """A cached run's per-epoch history as a table."""
    return pd.DataFrame(result.payload["history"])


def load_model(config: TrainConfig, dev: torch.device | None = None) -> nn.Module:
    """The trained network of `config` (eval mode), from its weights file or checkpoint."""
    dev = dev or device.pick_device(config.device)
    path = next((p for p in (weights_path(config), checkpoint_path(config)) if p.exists()), None)
    if path is None:
        raise FileNotFoundError(
            f"no trained weights for this config in {checkpoint_path(config).parent}; "
            "run train(config) or run_cached(config) first"
        )
    key = results.config_key("train", config, PROTOCOL)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated or not a checkpoint: name the file and the way out
        raise RuntimeError(
            f"trained weights {path} are unreadable ({type(err).__name__}); delete the file and "
            f"the run's results entry {results.entry_path(paths.cache_dir(), 'train', key)}"
            " to train it again"
        ) from err
    spec = data.dataset_spec(config.dataset)
    first = next(v for k, v in state["model"].items() if k.endswith("weight"))
    in_channels = first.shape[1] if first.dim() == 4 else 1
    model = models.build_model(config.model, spec.num_classes, in_channels, config.model_width)
    model.load_state_dict(state["model"])
    models.set_bn_mode(model, config.bn_mode)
    return model.to(dev).eval()


def histories(configs: Mapping[Any, TrainConfig], done: Mapping[TrainConfig, Any]) -> dict:
    """Key -> history table, for runs keyed any way (method, seed) and results keyed by config."""
    return {key: history_frame(done[config]) for key, config in configs.items()}
