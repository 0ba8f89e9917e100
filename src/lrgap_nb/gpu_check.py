"""A prepared GPU check: the CUDA path verified, its speed measured, paper-width runs brought back.

A GPU is lent for minutes at a time, so this is one command that finishes within its budget and
leaves at most 8 files of at most 16 MiB (README: "A GPU for a few minutes"):

    python -m lrgap_nb.gpu_check --stage-data --stage-wheels  # here: data and wheels, git-ignored
    PYTHONPATH=src LRGAP_DATA=.gpu_data python -m lrgap_nb.gpu_check \
        --out /tmp/gpu_check --pack-dir "$OUT" --budget-s 500   # on the GPU, nothing installed
    python -m lrgap_nb.gpu_check unpack results.tar.gz         # here: into results/committed/

Steps (`--steps`, in order): correctness, a short WRN-16-4 training in float32 against the
project's path (bf16 autocast, channels_last, cudnn.benchmark) and, in a subprocess with a time
limit, with torch.compile, plus parameter counts and the path's settings, observed; speed,
images/s of the device-resident path against a DataLoader + PIL loop and TFLOP/s against a bf16
matmul ceiling; runs, the aggregate images/s of 1, 2, 4 and 8 runs at once (gpu_pool), then the
runs of `--parts` (gpu_plan) on the best number of workers while the budget lasts; notebook, one
chapter through papermill from a wheel folder (gpu_notebook). Correctness and speed are skipped
where results/gpu/ records them passed with this device, torch and training path (gpu_record),
and the concurrency is taken from such a record instead of measured again.
`--dry-run` runs every step at toy sizes on the CPU (tests/test_gpu_check.py).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from . import data, device, gpu_plan, gpu_pool, gpu_record, models, paths, results, train
from .params import ParameterError

SUBSET_FILE = "cifar-10-subset/cifar10_subset.npz"  # all the check reads (no MNIST)
STAGE_DIR = ".gpu_data"  # git-ignored, carried to the GPU machine inside the repository
PARAMS = {"wrn16_4": 2_748_890, "wrn16_10": 17_116_634}  # CPU counts, as in tests/test_models.py
LOSS_TOL = 0.05  # nats: mean training loss of every epoch, a bf16 path against float32
TRAIN_ACC_TOL = 0.03  # running training accuracy of every epoch
TEST_ACC_TOL = 0.05  # final test accuracy: 3 binomial s.e. on the subset's 1,017 test images
COMPILE_S = 60.0  # torch.compile gets this long on top of the uncompiled run's time
LOADER_WORKERS = 1  # the official pipeline's DataLoader workers (benchmarks/train_throughput.py)
PACK_MARGIN_S = 15.0  # budget kept for the last pack
PACK = "results.tar.gz"
MAX_FILES, MAX_BYTES = 8, 16 * 2**20  # what comes back from the GPU machine
ENTRY = re.compile(r"entries/([\w-]+)/([0-9a-f]+)\.json")


@dataclasses.dataclass(frozen=True)
class Sizes:
    """How big each step is: GPU holds the real sizes, DRY the differences of the CPU proof."""

    width: int | None = None  # WRN base width of correctness and speed (None: 16, the paper's)
    train_subset: int | None = None  # training images of the correctness runs (None: 5,085)
    epochs: int = 4  # of the correctness runs
    batch_sizes: tuple[int, ...] = (128, 512)  # speed
    warmup: int = 5  # untimed steps before each timing (cudnn autotunes here)
    timed: int = 30  # timed steps, device-resident path
    loader_timed: int = 10  # timed steps, DataLoader path
    matmul_sizes: tuple[int, ...] = (4096, 8192)  # square bf16 matmuls for the ceiling
    matmul_reps: int = 20
    levels: tuple[int, ...] = gpu_pool.LEVELS  # concurrent runs measured
    burst: gpu_pool.Burst = gpu_pool.Burst()  # the paper runs' network, timed at each level
    workers: int | None = None  # runs at once (None: the best level measured)
    chapters: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    notebook_profile: str = "paper-subset"  # the profile the notebook step renders


_TOY = {"model_width": 1, "epochs": 1, "train_subset": 32, "seeds": (0,)}  # one epoch, one seed
GPU = Sizes()
DRY = Sizes(
    width=1,
    train_subset=64,
    epochs=1,
    batch_sizes=(8, 16),
    warmup=1,
    timed=2,
    loader_timed=2,
    matmul_sizes=(64,),
    matmul_reps=2,
    levels=(1, 2),
    burst=gpu_pool.Burst(width=1, batch_size=8, warmup=1, seconds=0.5),
    workers=2,  # two runs side by side, whatever two shared cores measure
    chapters={
        "large_lr": {**_TOY, "lr_milestones": (0,), "pilot_lrs": (0.1,), "pilot_epochs": 2},
        "patch": {**_TOY, "anneal_epoch": 0, "n_patch_eval": 16, "reference_fractions": (0.5,)},
        "large_batch": {
            "seeds": (0,),
            "cifar_train_size": 80,  # SB 4, LB 10% of it: 8
            "cifar_small_batch": 4,
            "max_epochs": 1,
            "probe_size": 16,
            "bn_batch": 16,
            "subspace_dim": 4,
            "lbfgs_iters": 2,
            "power_iters": 2,
            "interpolation_points": 2,
            "line_size": 16,
            "conv_width": 4,
        },
    },
    notebook_profile="smoke",
)


# --- (a) correctness ------------------------------------------------------------------------


def correctness_config(sizes: Sizes) -> train.TrainConfig:
    """A short WRN-16-4 run on the subset at a small LR (0.01), so the paths stay comparable."""
    return train.TrainConfig(
        model="wrn16_4",
        dataset="cifar10_subset",
        epochs=sizes.epochs,
        lr=0.01,
        nesterov=True,
        subset=sizes.train_subset,
        model_width=sizes.width,
        eval_batch_size=500,
    )


@contextlib.contextmanager
def float32_reference() -> Iterator[None]:
    """train() without bf16 autocast and TF32: the run the CUDA path is checked against.

    train() takes its precision from device.autocast and device.configure, and TrainConfig has
    no precision field, so the block swaps those two functions.
    """
    autocast, configure = device.autocast, device.configure

    def configure_float32(dev: torch.device, strict: bool = False) -> None:
        configure(dev, strict)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

    device.autocast = lambda dev: contextlib.nullcontext()
    device.configure = configure_float32
    try:
        yield
    finally:
        device.autocast, device.configure = autocast, configure


def train_history(config: train.TrainConfig) -> dict[str, list]:
    """Train `config` from scratch; its history and the wall time at each epoch's end."""
    train.checkpoint_path(config).unlink(missing_ok=True)
    start, times = time.perf_counter(), []
    result = train.train(
        config, callback=lambda *_: times.append(time.perf_counter() - start), save_weights=False
    )
    result.checkpoint.unlink(missing_ok=True)
    return {"history": result.history.to_dict("records"), "epoch_end_s": times}


def compiled_history(
    config: train.TrainConfig, timeout_s: float, work: Path
) -> tuple[dict | None, str]:
    """`config` with torch.compile, in a subprocess killed after `timeout_s`; (run, status)."""
    config = dataclasses.replace(config, compile=True)
    spec, out, log = work / "compile_config.json", work / "compile_run.json", work / "compile.log"
    spec.write_text(json.dumps(dataclasses.asdict(config)))
    command = [sys.executable, "-m", "lrgap_nb.gpu_check", "compiled-run", str(spec), str(out)]
    with open(log, "w") as stream:
        child = subprocess.Popen(command, stdout=stream, stderr=stream, start_new_session=True)
        try:
            code = child.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)  # with inductor's compile workers
            child.wait()
            code = None
    train.checkpoint_path(config).unlink(missing_ok=True)
    if code is None:
        return None, f"skipped (not done within {timeout_s:.0f} s)"
    if code != 0:
        last = (log.read_text().strip().splitlines() or ["no output"])[-1]
        return None, f"skipped ({last[:300]})"
    if device.pick_device(config.device).type != "cuda":
        return json.loads(out.read_text()), "ran uncompiled (torch.compile is used on CUDA only)"
    return json.loads(out.read_text()), "compiled and ran"


def path_checks(sizes: Sizes, dev: torch.device) -> list[dict[str, Any]]:
    """What the CUDA path promises, observed: dtype, layout, cudnn mode, data place, counts."""
    cuda = dev.type == "cuda"
    device.configure(dev)
    net = device.prepare_model(models.build_model("wrn16_4", 10, 3, sizes.width), dev)
    split = train.load_data(correctness_config(sizes))["train"]
    with device.autocast(dev):
        out = net(split.x[:2])
    conv = net.features[0].weight
    rows = [
        ("autocast output dtype", str(out.dtype), str(torch.bfloat16 if cuda else torch.float32)),
        ("conv weights channels_last", conv.is_contiguous(memory_format=torch.channels_last), cuda),
        ("cudnn.benchmark", torch.backends.cudnn.benchmark, cuda),
        ("training data device", split.x.device.type, dev.type),
    ]
    for name, count in PARAMS.items():
        net = models.build_model(name, 10).to(dev)
        rows.append((f"parameters {name}", models.count_parameters(net), count))
    return [{"check": c, "value": v, "expected": e, "passed": v == e} for c, v, e in rows]


def compare(candidate: dict, reference: dict, name: str) -> list[dict[str, Any]]:
    """Per-epoch training loss and accuracy, and final test accuracy, against float32."""
    cand, ref = pd.DataFrame(candidate["history"]), pd.DataFrame(reference["history"])
    rows = [
        ("max |d train_loss| per epoch", (cand.train_loss - ref.train_loss).abs().max(), LOSS_TOL),
        (
            "max |d train_acc| per epoch",
            (cand.train_acc - ref.train_acc).abs().max(),
            TRAIN_ACC_TOL,
        ),
        ("|d final test_acc|", abs(cand.test_acc.iloc[-1] - ref.test_acc.iloc[-1]), TEST_ACC_TOL),
    ]
    return [
        {"check": f"{name} vs float32: {what}", "value": v, "expected": f"<= {t}", "passed": v <= t}
        for what, v, t in rows
    ]


def correctness(sizes: Sizes, dev: torch.device, work: Path) -> tuple[pd.DataFrame, dict]:
    """The check table and, for the JSON, every path's curves and the compile status."""
    config = correctness_config(sizes)
    project = train_history(config)  # first, so the cached data are in the project's layout
    with float32_reference():
        reference = train_history(config)
    timeout = COMPILE_S + 2 * project["epoch_end_s"][-1] + 30  # + interpreter and CUDA start
    compiled, status = compiled_history(config, timeout, work)
    runs = {"float32": reference, "project": project}
    rows = path_checks(sizes, dev) + compare(project, reference, "project")
    if compiled is not None:
        runs["project+compile"] = compiled
        rows += compare(compiled, reference, "project+compile")
    details = {"compile": status, "config": dataclasses.asdict(config), "runs": runs}
    print(f"compile: {status}", flush=True)
    return pd.DataFrame(rows), details


# --- (b) speed (shared with benchmarks/train_throughput.py) --------------------------------


class PilDataset(Dataset):
    """uint8 HWC images served like torchvision's CIFAR10: a PIL image through `transform`."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform: Callable) -> None:
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        return self.transform(Image.fromarray(self.images[i])), int(self.labels[i])


def reflect_pad(x: torch.Tensor) -> torch.Tensor:
    return F.pad(x.unsqueeze(0), (4, 4, 4, 4), mode="reflect").squeeze(0)


def official_batches(
    images: np.ndarray, labels: np.ndarray, batch_size: int, dev: torch.device
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Li, Wei & Ma's training pipeline (train_util.load_data, augment=True), endlessly."""
    from torchvision import transforms

    transform = transforms.Compose(
        [
            transforms.ToTensor(),
            transforms.Lambda(reflect_pad),
            transforms.ToPILImage(),
            transforms.RandomCrop(32),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(data.CIFAR_MEAN, data.CIFAR_STD),
        ]
    )
    loader = DataLoader(
        PilDataset(images, labels, transform),
        batch_size=batch_size,
        shuffle=True,
        num_workers=LOADER_WORKERS,
        pin_memory=dev.type != "cpu",
        persistent_workers=True,
    )
    while True:
        for x, y in loader:
            yield device.to_images(x, dev), y.to(dev)


def resident_batches(
    split: data.TensorData, batch_size: int, dev: torch.device
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The project's path: tensors on the device, shuffled, cropped and flipped there, endlessly."""
    epoch = 0
    while True:
        gen = data.epoch_generator(0, epoch, dev)
        yield from split.batches(batch_size, gen, data.crop_flip, drop_last=True)
        epoch += 1


def step_fn(
    net: torch.nn.Module, dev: torch.device
) -> Callable[[torch.Tensor, torch.Tensor], None]:
    """One SGD step as train.py takes it (Nesterov, weight decay, autocast)."""
    optimizer = torch.optim.SGD(
        net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4
    )

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        with device.autocast(dev):
            loss = F.cross_entropy(net(x).float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def measure(step: Callable, batches: Iterator, n: int, dev: torch.device, warmup: int) -> float:
    """Seconds for n training steps, after `warmup` untimed ones (synchronised, CUDA events)."""
    for _ in range(warmup):
        step(*next(batches))
    device.synchronize(dev)
    elapsed = device.timer(dev)
    for _ in range(n):
        step(*next(batches))
    return elapsed()


def train_flops(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, dev: torch.device) -> int:
    """FLOPs of one training step (forward and backward) on the batch, as counted by PyTorch."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        with device.autocast(dev):
            loss = F.cross_entropy(net(x).float(), y)
        loss.backward()
    net.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def matmul_ceiling(dev: torch.device, sizes: tuple[int, ...], reps: int) -> dict[int, float]:
    """TFLOP/s of square bf16 matmuls by size: the compute ceiling of this device, measured."""
    out = {}
    for n in sizes:
        a, b = (torch.randn(n, n, device=dev, dtype=torch.bfloat16) for _ in range(2))
        for _ in range(3):
            a @ b
        device.synchronize(dev)
        elapsed = device.timer(dev)
        for _ in range(reps):
            a @ b
        out[n] = 2 * n**3 * reps / elapsed() / 1e12
    return out


def subset_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The subset's uint8 training images and labels, as the PIL pipeline reads them."""
    with np.load(paths.data_root() / SUBSET_FILE) as d:
        return d["train_x"], d["train_y"]


def speed(sizes: Sizes, dev: torch.device) -> tuple[pd.DataFrame, dict]:
    """Images/s of both pipelines per model and batch size, TFLOP/s against the matmul ceiling."""
    device.configure(dev)
    ceiling = matmul_ceiling(dev, sizes.matmul_sizes, sizes.matmul_reps)
    peak = max(ceiling.values())
    split = data.load("cifar10_subset", device=dev)["train"]
    images, labels = subset_arrays()
    rows = []
    for name in PARAMS:
        for batch_size in sizes.batch_sizes:
            torch.manual_seed(0)
            net = device.prepare_model(models.build_model(name, 10, 3, sizes.width), dev)
            flops = train_flops(net, *next(resident_batches(split, batch_size, dev)), dev)
            step = step_fn(net, dev)
            speeds = {}
            for pipeline, batches, n in (
                ("device-resident", resident_batches(split, batch_size, dev), sizes.timed),
                (
                    "DataLoader + PIL",
                    official_batches(images, labels, batch_size, dev),
                    sizes.loader_timed,
                ),
            ):
                speeds[pipeline] = n * batch_size / measure(step, batches, n, dev, sizes.warmup)
                batches.close()  # stops the loader's worker
                achieved = flops / batch_size * speeds[pipeline] / 1e12
                rows.append(
                    {
                        "model": name,
                        "batch_size": batch_size,
                        "pipeline": pipeline,
                        "images_per_s": speeds[pipeline],
                        "gflop_per_image": flops / batch_size / 1e9,
                        "achieved_tflops": achieved,
                        "ceiling_tflops": peak,
                        "x_compute_floor": peak / achieved,  # goal: <= 2.5
                    }
                )
            rows[-2]["x_dataloader"] = speeds["device-resident"] / speeds["DataLoader + PIL"]
            print(pd.DataFrame(rows[-2:]).to_string(index=False), flush=True)
            del net, step
    table = pd.DataFrame(rows)
    resident = table.pipeline == "device-resident"
    table.loc[resident, "goal_5x_dataloader"] = table.loc[resident, "x_dataloader"] >= 5
    table.loc[resident, "goal_2_5x_floor"] = table.loc[resident, "x_compute_floor"] <= 2.5
    details = {"matmul_tflops": {str(n): v for n, v in ceiling.items()}, "loader": LOADER_WORKERS}
    return table, details


# --- (c) runs, several at once ---------------------------------------------------------------

EST_FACTOR = 1.6  # burst images/s over a run's (H200: 12.3k against 7.6-8.1k; evaluation)
START_S = 10.0  # a run's data and model set-up in a warm worker


class Estimate:
    """Seconds a run needs next to the others: its epochs x images at the per-run rate of the
    chosen concurrency (below its burst's by EST_FACTOR), then at the rate its network's finished
    runs reached. A run of another kind (large batch: trained to a gate) gets 0: it is tried."""

    def __init__(self, per_run_images_s: float | None = None) -> None:
        self.default = per_run_images_s / EST_FACTOR if per_run_images_s else None  # images/s
        self.rate: dict[str, float] = {}  # network -> images/s of its finished runs
        self.images: dict[tuple, int] = {}  # training images by dataset and subset

    def work(self, item: gpu_plan.Item) -> float | None:
        """Images the run trains on (epochs x training images); None for another kind."""
        config = item.run.config
        if not isinstance(config, train.TrainConfig):
            return None
        data_key = (config.dataset, config.subset, config.subset_mode, config.subset_seed)
        if data_key not in self.images:
            self.images[data_key] = len(train.load_data(config)["train"])
        return config.epochs * self.images[data_key]

    def __call__(self, item: gpu_plan.Item) -> float:
        work = self.work(item)
        rate = self.rate.get(getattr(item.run.config, "model", ""), self.default)
        return 0.0 if work is None or rate is None else START_S + work / rate

    def learn(self, item: gpu_plan.Item, row: dict[str, Any]) -> None:
        work = self.work(item)
        if work is not None and row.get("status") == "done":
            self.rate[item.run.config.model] = work / row["elapsed_s"]


def planned_images(works: list[float], workers: int, per_run: float, left: float) -> float:
    """Images of the runs that would finish: `works` (images each) in order, each to the worker
    free first, at `per_run` images/s each, started only if it ends within `left` s (as
    gpu_pool.Pool.execute does)."""
    free = [0.0] * workers  # when each worker is next free
    done = 0.0
    for work in works:
        seconds = START_S + work / per_run
        first = min(range(workers), key=free.__getitem__)
        if free[first] + seconds <= left:
            free[first] += seconds
            done += work
    return done


def choose_workers(
    rates: pd.DataFrame, works: list[float], stop_at: float
) -> tuple[pd.DataFrame, int]:
    """The aggregate images/s at each level (`rates`, measured now or recorded) with the images
    each would finish, and the level that finishes the most of `works` (images of the pending
    runs, in order) by `stop_at`: many runs at once are faster together but each is slower, so a
    long run may no longer fit."""
    table = rates.copy()
    left = stop_at - time.monotonic()
    table["planned_images"] = [
        planned_images(works, n, rate / EST_FACTOR, left)
        for n, rate in zip(table.concurrent, table.per_run, strict=True)
    ]
    best = int(table.concurrent[table.planned_images.idxmax()])  # ties: the fewest workers
    table["best"] = table.concurrent == best
    return table, best


# --- packing ----------------------------------------------------------------------------------


def autocast_dtype(dev: torch.device) -> str:
    """The dtype the project's training computes in on `dev`, observed under device.autocast."""
    with device.autocast(dev):
        return str((torch.ones(1, 1, device=dev) @ torch.ones(1, 1, device=dev)).dtype)


def _staged() -> dict[str, Any]:
    path = paths.data_root() / "staged.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def pack(cache: Path, pack_dir: Path, tables: Path, manifest: dict[str, Any]) -> list[Path]:
    """Every finished cache entry (verified, byte for byte), the CSV tables in `pack_dir` and the
    details in `tables` (JSON, the executed notebook) into PACK.

    Returns the files in `pack_dir`, all of which must come back from the GPU machine.
    """
    entries = {}
    for path in sorted(cache.glob("*/*.json")):
        if path.parent.name == "checkpoints":  # a large-batch run's finished probes
            continue
        entry = results.read_entry(path, path.parent.name, path.stem)
        entries[f"entries/{entry.kind}/{entry.key}.json"] = path.read_bytes()
    manifest = {**manifest, "staged": _staged(), "entries": sorted(entries)}
    (pack_dir / "manifest.json").write_text(json.dumps(manifest, indent=1, default=str))
    shown = sorted(p for p in pack_dir.iterdir() if p.name != PACK and not p.name.startswith("."))
    details = sorted(p for p in tables.glob("*") if p.is_file()) if tables.is_dir() else []
    fd, tmp = tempfile.mkstemp(dir=pack_dir, prefix=".pack.", suffix=".tmp")
    with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w:gz") as tar:
        members = {**entries, **{f"tables/{p.name}": p.read_bytes() for p in shown + details}}
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(blob), int(time.time())
            tar.addfile(info, io.BytesIO(blob))
    os.replace(tmp, pack_dir / PACK)
    files = [*shown, pack_dir / PACK]
    too_big = [p.name for p in files if p.stat().st_size > MAX_BYTES]
    if len(files) > MAX_FILES or too_big:
        raise RuntimeError(f"pack has {len(files)} files (max {MAX_FILES}); over 16 MiB: {too_big}")
    return files


def unpack(archive: Path, into: Path, records: Path | None = None) -> list[Path]:
    """Verified entries of a pack into `into`/<kind>/; refuses (writing nothing) if any differs.

    The pack's tables and its record go to `records`/<date>-<device>/ (default results/gpu), so
    a later check can skip the steps this one passed (gpu_record).
    """
    with tarfile.open(archive, "r:gz") as tar:
        blobs = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    entries = {name: blob for name, blob in blobs.items() if ENTRY.fullmatch(name)}
    new, conflicts = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        for name, blob in sorted(entries.items()):
            kind, key = ENTRY.fullmatch(name).groups()
            probe = Path(tmp) / f"{kind}-{key}.json"
            probe.write_bytes(blob)
            results.read_entry(probe, kind, key)  # raises CorruptEntry
            target = results.entry_path(into, kind, key)
            if not target.exists():
                new[target] = blob
            elif json.loads(target.read_bytes()) != json.loads(blob):
                conflicts.append(str(target))
    if conflicts:
        raise FileExistsError(f"different entries already exist: {', '.join(conflicts)}")
    for target, blob in new.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob)
    print(f"{len(new)} new entries in {into} ({len(entries) - len(new)} already there)")
    manifest = json.loads(blobs.get("tables/manifest.json", b"{}"))
    if "record" in manifest:
        folder = (records or gpu_record.records_dir()) / gpu_record.folder_name(manifest["record"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / gpu_record.RECORD).write_text(json.dumps(manifest["record"], indent=1) + "\n")
        for name, blob in blobs.items():
            if name.startswith("tables/") and name.endswith(".csv"):
                (folder / Path(name).name).write_bytes(blob)
        print(f"record and tables in {folder}")
    return list(new)


# --- the command ------------------------------------------------------------------------------


def stage_data(source: Path, target: Path) -> Path:
    """Copy what the check reads into `target` (carried to the GPU) with hashes and the commit."""
    files = {}
    for name in (SUBSET_FILE,):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target / name)
        files[name] = hashlib.sha256((target / name).read_bytes()).hexdigest()
    record = {"git_commit": results.git_commit(), "files": files}
    (target / "staged.json").write_text(json.dumps(record, indent=1))
    size = sum((target / n).stat().st_size for n in files) / 2**20
    print(f"staged {', '.join(files)} ({size:.1f} MiB) in {target}")
    return target


STEPS = ("correctness", "speed", "runs", "notebook")


@dataclasses.dataclass(frozen=True)
class Options:
    """What one call of the check does (the command line, validated before any work)."""

    steps: tuple[str, ...] = ("correctness", "speed", "runs")
    parts: tuple[str, ...] = ("paper",)
    workers: int | None = None  # None: measure 1, 2, 4, 8 at once and take the best
    notebook: str = "patch"  # the chapter the notebook step executes
    wheels: Path | None = None  # the notebook step's wheel folder (None: this environment's)
    rerun: bool = False  # run correctness and speed even where a record says they passed
    notebook_s: float = 150.0  # kept from the runs for a notebook step after them

    def __post_init__(self) -> None:
        unknown = [s for s in self.steps if s not in STEPS]
        if unknown or not self.steps:
            raise ValueError(
                f"unknown step(s) {unknown or self.steps!r}; steps: {', '.join(STEPS)}"
            )
        gpu_plan.check_parts(self.parts)
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"--workers must be at least 1, not {self.workers}")


class Check:
    """One call: the steps in order, each written and packed when done (or skipped by a record),
    so a command cut off early still returns what finished."""

    def __init__(self, out: Path, pack_dir: Path, sizes: Sizes, budget_s: float, options: Options):
        self.out, self.pack_dir, self.sizes, self.options = out, pack_dir, sizes, options
        self.stop_at = time.monotonic() + budget_s - PACK_MARGIN_S
        self.tables = out / "tables"
        for folder in (out, pack_dir, self.tables):
            folder.mkdir(parents=True, exist_ok=True)
        os.environ["LRGAP_CACHE"] = str((out / "cache").resolve())
        os.environ["LRGAP_PROGRESS"] = str((out / "progress.log").resolve())
        self.dev = device.pick_device()
        self.passed: dict[str, bool] = {}
        self.current = ""  # the step running
        self.manifest: dict[str, Any] = {
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "device": device.device_name(self.dev),
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
            "dtype": autocast_dtype(self.dev),
            "git_commit": results.git_commit(),
            "fingerprint": gpu_record.fingerprint(),
            "options": dataclasses.asdict(options),
            "sizes": dataclasses.asdict(sizes),
            "budget_s": budget_s,
            "errors": {},
            "skipped": {},
        }

    def write(self, name: str, table: pd.DataFrame, details: dict[str, Any]) -> None:
        """The table as CSV beside the pack (it comes back as it is), the details in the pack."""
        table.to_csv(self.pack_dir / f"{name}.csv", index=False)
        record = {"table": table.to_dict("records"), **details}
        (self.tables / f"{name}.json").write_text(json.dumps(record, indent=1, default=str))

    def pack(self) -> list[Path]:
        self.manifest["record"] = gpu_record.record(self.manifest, self.passed)
        return pack(self.out / "cache", self.pack_dir, self.tables, self.manifest)

    def run(self) -> dict[str, Any]:
        """Every step asked for; a failing one is recorded in the manifest and the next runs."""
        m = self.manifest
        print(f"gpu_check on {m['device']} ({m['dtype']}), fingerprint {m['fingerprint']}")
        recorded = {} if self.options.rerun else gpu_record.find(
            m["device"], m["torch"], m["fingerprint"]
        )  # fmt: skip
        for name in self.options.steps:
            start = time.monotonic()
            if name in recorded:
                m["skipped"][name] = f"passed in {recorded[name]['folder']}"
                print(f"{name}: skipped, {m['skipped'][name]}", flush=True)
                continue
            try:
                self.current = name
                getattr(self, f"step_{name}")()
            except Exception:
                m["errors"][name] = traceback.format_exc()
                print(m["errors"][name], file=sys.stderr, flush=True)
            m[f"{name}_s"] = round(time.monotonic() - start, 1)
            self.pack()
        return m

    def step_correctness(self) -> None:
        table, details = correctness(self.sizes, self.dev, self.out)
        self.write("correctness", table, details)
        self.passed["correctness"] = bool(table.passed.all())
        print(table.to_string(index=False), flush=True)

    def step_speed(self) -> None:
        table, details = speed(self.sizes, self.dev)
        self.write("speed", table, details)
        self.passed["speed"] = True

    def step_runs(self) -> None:
        """The parts' runs on a pool of workers: as many as finish the most work at the
        concurrency measured now, or recorded on this device, torch and training path, unless
        given."""
        items = gpu_plan.plan(self.options.parts, self.sizes.chapters)
        pending = [item for item in items if item.run.lookup() is None]
        given = self.options.workers or self.sizes.workers
        measure = self.options.workers is None and bool(pending)
        stop_at = self.stop_at - (self.options.notebook_s if "notebook" in self.later() else 0)
        estimate = Estimate()  # its rate is set once the concurrency is known
        m = self.manifest
        recorded = None if self.options.rerun or not measure else gpu_record.concurrency(
            m["device"], m["torch"], m["fingerprint"]
        )  # fmt: skip
        size = min(given or 1, max(len(pending), 1))
        if recorded is not None:  # no bursts: start only the workers the recorded rates choose
            m["skipped"]["concurrency"] = f"measured in {recorded[1]}"
            size = self.use_levels(recorded[0], pending, estimate, stop_at, given)
        elif measure:
            size = max(self.sizes.levels)
        pool = gpu_pool.Pool(size)
        rows: list[dict[str, Any]] = []
        try:
            if measure and recorded is None:
                rates = pd.DataFrame(pool.measure(self.sizes.burst, self.sizes.levels))
                pool.shrink(self.use_levels(rates, pending, estimate, stop_at, given))

            def finished(item: gpu_plan.Item, row: dict[str, Any]) -> None:
                estimate.learn(item, row)
                rows.append(row)
                self.write("runs", pd.DataFrame(rows), {"workers": len(pool.workers)})
                self.pack()

            table = pd.DataFrame(pool.execute(items, stop_at, estimate, finished))
        finally:
            pool.close()
        self.write("runs", table, {"parts": self.options.parts})

    def use_levels(
        self,
        rates: pd.DataFrame,
        pending: list[gpu_plan.Item],
        estimate: Estimate,
        stop_at: float,
        given: int | None,
    ) -> int:
        """Choose the number of workers from `rates`, write the concurrency table, set the
        estimate's per-run rate; returns the number of workers to use."""
        works = [w for w in map(estimate.work, pending) if w is not None]
        table, best = choose_workers(rates, works, stop_at)
        table["used"] = table.concurrent == min(given or best, max(self.sizes.levels))
        self.write("concurrency", table, {"burst": dataclasses.asdict(self.sizes.burst)})
        used = table[table.used].iloc[0]
        estimate.default = float(used.per_run) / EST_FACTOR
        self.pack()
        return int(used.concurrent)

    def later(self) -> tuple[str, ...]:
        """The steps after the one running now."""
        steps = self.options.steps
        return steps[steps.index(self.current) + 1 :]

    def step_notebook(self) -> None:
        """One chapter through papermill in a Jupyter stack installed from wheels, then packed."""
        from . import gpu_notebook

        left = self.stop_at - time.monotonic()
        status = gpu_notebook.execute(
            self.options.notebook,
            self.sizes.notebook_profile,
            self.out / "notebook",
            left,
            self.options.wheels,
        )
        if status["notebook"]:
            shutil.copyfile(status["notebook"], self.tables / Path(status["notebook"]).name)
        (self.tables / "notebook.json").write_text(json.dumps(status, indent=1))
        print(f"notebook: {status}", flush=True)
        if status["status"] != "executed":
            raise RuntimeError(f"notebook {status['chapter']}: {status['status']}")


def _listed(text: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    return default if text is None else tuple(filter(None, text.split(",")))


def main(argv: list[str] | None = None) -> int:
    from . import gpu_notebook

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="working folder: results cache, checkpoints")
    parser.add_argument("--pack-dir", type=Path, help="the files to bring back (default OUT/pack)")
    parser.add_argument(
        "--budget-s",
        type=float,
        default=None,
        help="wall time of the whole check, s (500; dry run 300)",
    )
    parser.add_argument(
        "--steps",
        help=f"comma-separated, in order, of {', '.join(STEPS)} (default: the first three; dry "
        "run: all); correctness and speed are skipped where results/gpu records them passed for "
        "this device, torch and training path",
    )
    parser.add_argument("--rerun", action="store_true", help="never skip a recorded step")
    parser.add_argument(
        "--parts",
        help=f"runs step, comma-separated of {', '.join(gpu_plan.PARTS)} (default: paper; dry "
        "run: all)",
    )
    parser.add_argument("--workers", type=int, help="runs at once (default: the best measured)")
    parser.add_argument("--notebook", default="patch", help="the notebook step's chapter")
    parser.add_argument(
        "--notebook-s", type=float, default=150.0, help="s kept from the runs for the notebook step"
    )
    parser.add_argument("--dry-run", action="store_true", help="toy sizes on the CPU")
    parser.add_argument("--stage-data", action="store_true", help=f"copy the data to {STAGE_DIR}/")
    parser.add_argument(
        "--stage-wheels",
        action="store_true",
        help=f"download the Jupyter stack for CPython 3.12 into {gpu_notebook.WHEELS_DIR}/",
    )
    commands = parser.add_subparsers(dest="command")
    unpacking = commands.add_parser("unpack", help="a pack's entries into results/committed/")
    unpacking.add_argument("archive", type=Path)
    unpacking.add_argument("--into", type=Path, default=None, help="default: results/committed")
    child = commands.add_parser("compiled-run", help="internal: the torch.compile subprocess")
    child.add_argument("config", type=Path)
    child.add_argument("result", type=Path)
    args = parser.parse_args(argv)

    if args.command == "unpack":
        unpack(args.archive, args.into or paths.committed_cache_dir())
        return 0
    if args.command == "compiled-run":
        config = train.TrainConfig(**json.loads(args.config.read_text()))
        args.result.write_text(json.dumps(train_history(config), default=str))
        return 0
    if args.stage_data or args.stage_wheels:
        if args.stage_data:
            stage_data(paths.data_root(), paths.project_root() / STAGE_DIR)
        if args.stage_wheels:
            gpu_notebook.stage_wheels(paths.project_root() / gpu_notebook.WHEELS_DIR)
        return 0
    if args.out is None:
        parser.error("--out is required to run the check")
    wheels = paths.project_root() / gpu_notebook.WHEELS_DIR
    try:
        options = Options(
            steps=_listed(args.steps, STEPS if args.dry_run else Options.steps),
            parts=_listed(args.parts, gpu_plan.PARTS if args.dry_run else Options.parts),
            workers=args.workers,
            notebook=args.notebook,
            notebook_s=args.notebook_s,
            wheels=wheels if any(wheels.glob("*.whl")) else None,
            rerun=args.rerun,
        )
        from .chapters import get_chapter

        get_chapter(options.notebook)
    except (ValueError, ParameterError) as err:
        parser.error(str(err))
    if args.dry_run:
        os.environ["LRGAP_DEVICE"] = "cpu"
    elif not torch.cuda.is_available():
        parser.error("no CUDA device here; on a CPU run --dry-run")
    if commit := _staged().get("git_commit"):  # the GPU machine's copy has no .git
        os.environ.setdefault("LRGAP_GIT_COMMIT", commit)
    budget = args.budget_s or (300.0 if args.dry_run else 500.0)
    sizes = DRY if args.dry_run else GPU
    check = Check(args.out, args.pack_dir or args.out / "pack", sizes, budget, options)
    manifest = check.run()
    return 1 if manifest["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
