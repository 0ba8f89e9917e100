"""A prepared GPU check: the CUDA path verified, its speed measured, paper-width runs brought back.

A GPU is lent for minutes at a time, so this is one command that finishes within its budget and
leaves at most 8 files of at most 16 MiB (README: "A GPU for a few minutes"):

    python -m lrgap_nb.gpu_check --stage-data                # here: copy the data to .gpu_data/
    PYTHONPATH=src LRGAP_DATA=.gpu_data python -m lrgap_nb.gpu_check \
        --out /tmp/gpu_check --pack-dir "$OUT" --budget-s 450  # on the GPU, nothing installed
    python -m lrgap_nb.gpu_check unpack results.tar.gz       # here: into results/committed/

(a) correctness: a short WRN-16-4 training in float32 against the project's path (bf16 autocast,
channels_last, cudnn.benchmark) and, in a subprocess with a time limit, with torch.compile; plus
the parameter counts and the path's promised settings, observed. (b) speed: images/s of the
device-resident path against a DataLoader + PIL loop, and achieved TFLOP/s against a bf16 matmul
ceiling measured in the same run. (c) results: the large-LR and patch chapters at profile "full"
on the 5,085-image subset, through the results cache, as many as the budget allows.
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

from . import data, device, models, paths, results, train

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
    chapters: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)


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
    chapters={
        "large_lr": {**_TOY, "lr_milestones": (0,)},
        "patch": {**_TOY, "anneal_epoch": 0, "n_patch_eval": 16},
    },
)


def chapter_runs(dataset: str, overrides: Mapping[str, Mapping[str, Any]]) -> dict[str, dict]:
    """chapter -> (method, seed) -> Run of the patch and large-LR comparisons at profile "full".

    The one place that knows how the chapters build their runs: each chapter's own Runs (the
    patch runner registers its datasets), those of its `main_configs`. Patch first (60 epochs
    against 200), so a short budget still brings back complete method comparisons.
    """
    from .chapters import chapter_config, get_chapter

    out = {}
    for name in ("patch", "large_lr"):
        chapter = get_chapter(name)
        cfg = chapter_config(name, "full", dataset=dataset, **overrides.get(name, {}))
        runs = {run.config: run for run in chapter.runs(cfg)}
        main = chapter.module("runs").main_configs(cfg)
        out[name] = {key: runs[config] for key, config in main.items()}
    return out


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


# --- (c) paper-width results ----------------------------------------------------------------


class BudgetExceeded(Exception):
    """The check's time budget ran out inside a training run."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise BudgetExceeded in the block after `seconds` (SIGALRM: main thread, POSIX)."""

    def stop(signum: int, frame: Any) -> None:
        raise BudgetExceeded(f"budget of {seconds:.0f} s used up")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def paper_runs(sizes: Sizes) -> list[dict[str, Any]]:
    """Chapter, method, seed and Run of every run; all methods of a seed before the next."""
    runs = [
        {"chapter": chapter, "method": method, "seed": seed, "run": run}
        for chapter, by_key in chapter_runs("cifar10_subset", sizes.chapters).items()
        for (method, seed), run in by_key.items()
    ]
    return sorted(runs, key=lambda r: r["seed"])


def run_paper(
    runs: list[dict[str, Any]], stop_at: float, speeds: pd.DataFrame | None
) -> pd.DataFrame:
    """Train each run through the results cache while the budget lasts (time.monotonic).

    A run is skipped when its estimate (the chapter's last measured s/epoch, else 1.5x its
    training images at the speed table's rate) exceeds the time left; one cut off by the budget
    stays a checkpoint and is not packed.
    """
    per_epoch: dict[str, float] = {}
    rows = []
    for run in runs:
        config = run["run"].config
        row = {k: run[k] for k in ("chapter", "method", "seed")}
        row.update(key=run["run"].key, epochs=config.epochs)
        left = stop_at - time.monotonic()
        guess = per_epoch.get(run["chapter"], _first_guess(config, speeds)) * config.epochs
        if run["run"].lookup() is not None:
            row["status"] = "cached before"
        elif guess > left:
            row["status"] = f"skipped (needs ~{guess:.0f} s, {max(left, 0):.0f} s left)"
        else:
            try:
                with deadline(left):
                    result = run["run"].execute()
            except BudgetExceeded:
                row["status"] = "interrupted (checkpoint kept, not packed)"
            else:
                wall = result.provenance["wall_time_s"]
                per_epoch[run["chapter"]] = wall / config.epochs
                row.update(status="done", wall_s=wall, **result.payload["final"])
        print({k: v for k, v in row.items() if k != "key"}, flush=True)
        rows.append(row)
    return pd.DataFrame(rows)


def _first_guess(config: train.TrainConfig, speeds: pd.DataFrame | None) -> float:
    """Seconds per epoch before any run of the chapter has finished (0: no estimate, try it)."""
    if speeds is None:
        return 0.0
    match = speeds[
        (speeds.model == config.model)
        & (speeds.batch_size == config.batch_size)
        & (speeds.pipeline == "device-resident")
    ]
    if match.empty:
        return 0.0
    return 1.5 * len(train.load_data(config)["train"]) / match.images_per_s.iloc[0]


# --- packing ----------------------------------------------------------------------------------


def autocast_dtype(dev: torch.device) -> str:
    """The dtype the project's training computes in on `dev`, observed under device.autocast."""
    with device.autocast(dev):
        return str((torch.ones(1, 1, device=dev) @ torch.ones(1, 1, device=dev)).dtype)


def _staged() -> dict[str, Any]:
    path = paths.data_root() / "staged.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def pack(cache: Path, pack_dir: Path, manifest: dict[str, Any]) -> list[Path]:
    """Every finished cache entry (verified, byte for byte) and the tables into PACK.

    Returns the files in `pack_dir`, all of which must come back from the GPU machine.
    """
    entries = {}
    for path in sorted(cache.glob("*/*.json")):
        entry = results.read_entry(path, path.parent.name, path.stem)
        entries[f"entries/{entry.kind}/{entry.key}.json"] = path.read_bytes()
    manifest = {**manifest, "staged": _staged(), "entries": sorted(entries)}
    (pack_dir / "manifest.json").write_text(json.dumps(manifest, indent=1, default=str))
    tables = sorted(p for p in pack_dir.iterdir() if p.name != PACK and not p.name.startswith("."))
    fd, tmp = tempfile.mkstemp(dir=pack_dir, prefix=".pack.", suffix=".tmp")
    with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w:gz") as tar:
        members = {**entries, **{f"tables/{p.name}": p.read_bytes() for p in tables}}
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(blob), int(time.time())
            tar.addfile(info, io.BytesIO(blob))
    os.replace(tmp, pack_dir / PACK)
    files = [*tables, pack_dir / PACK]
    too_big = [p.name for p in files if p.stat().st_size > MAX_BYTES]
    if len(files) > MAX_FILES or too_big:
        raise RuntimeError(f"pack has {len(files)} files (max {MAX_FILES}); over 16 MiB: {too_big}")
    return files


def unpack(archive: Path, into: Path) -> list[Path]:
    """Verified entries of a pack into `into`/<kind>/; refuses (writing nothing) if any differs."""
    with tarfile.open(archive, "r:gz") as tar:
        blobs = {
            m.name: tar.extractfile(m).read()
            for m in tar.getmembers()
            if m.isfile() and ENTRY.fullmatch(m.name)
        }
    new, conflicts = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        for name, blob in sorted(blobs.items()):
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
    print(f"{len(new)} new entries in {into} ({len(blobs) - len(new)} already there)")
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


def _write(table: pd.DataFrame, details: dict, pack_dir: Path, name: str) -> None:
    table.to_csv(pack_dir / f"{name}.csv", index=False)
    record = {"table": table.to_dict("records"), **details}
    (pack_dir / f"{name}.json").write_text(json.dumps(record, indent=1, default=str))


def run_check(out: Path, pack_dir: Path, sizes: Sizes, budget_s: float) -> dict[str, Any]:
    """All three steps, each packed when done, so a cut-off command still returns its tables.

    A failing step is recorded in the manifest and the next one runs. Sets LRGAP_CACHE (into
    `out`) and LRGAP_PROGRESS (bars to out/progress.log) for this process.
    """
    stop_at = time.monotonic() + budget_s - PACK_MARGIN_S
    out.mkdir(parents=True, exist_ok=True)
    pack_dir.mkdir(parents=True, exist_ok=True)
    os.environ["LRGAP_CACHE"] = str((out / "cache").resolve())
    os.environ["LRGAP_PROGRESS"] = str((out / "progress.log").resolve())
    dev = device.pick_device()
    manifest: dict[str, Any] = {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "device": device.device_name(dev),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "dtype": autocast_dtype(dev),
        "sizes": dataclasses.asdict(sizes),
        "budget_s": budget_s,
        "errors": {},
    }
    print(f"gpu_check on {manifest['device']} ({manifest['dtype']})", flush=True)
    speeds = None  # the speed table once measured; the runs step's lambda reads it then
    steps: dict[str, Callable[[], tuple[pd.DataFrame, dict]]] = {
        "correctness": lambda: correctness(sizes, dev, out),
        "speed": lambda: speed(sizes, dev),
        "runs": lambda: (run_paper(paper_runs(sizes), stop_at, speeds), {}),
    }
    for name, step in steps.items():
        start = time.monotonic()
        try:
            table, details = step()
        except Exception:
            manifest["errors"][name] = traceback.format_exc()
            print(manifest["errors"][name], file=sys.stderr, flush=True)
        else:
            _write(table, details, pack_dir, name)
            print(f"{name} ({time.monotonic() - start:.0f} s):\n{table.to_string(index=False)}")
            speeds = table if name == "speed" else speeds
        manifest[f"{name}_s"] = round(time.monotonic() - start, 1)
        pack(out / "cache", pack_dir, manifest)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="working folder: results cache, checkpoints")
    parser.add_argument("--pack-dir", type=Path, help="the files to bring back (default OUT/pack)")
    parser.add_argument(
        "--budget-s",
        type=float,
        default=None,
        help="wall time of the whole check, s (450; dry run 120)",
    )
    parser.add_argument("--dry-run", action="store_true", help="toy sizes on the CPU")
    parser.add_argument("--stage-data", action="store_true", help=f"copy the data to {STAGE_DIR}/")
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
    if args.stage_data:
        stage_data(paths.data_root(), paths.project_root() / STAGE_DIR)
        return 0
    if args.out is None:
        parser.error("--out is required to run the check")
    if args.dry_run:
        os.environ["LRGAP_DEVICE"] = "cpu"
    elif not torch.cuda.is_available():
        parser.error("no CUDA device here; on a CPU run --dry-run")
    if commit := _staged().get("git_commit"):  # the GPU machine's copy has no .git
        os.environ.setdefault("LRGAP_GIT_COMMIT", commit)
    budget = args.budget_s or (120.0 if args.dry_run else 450.0)
    manifest = run_check(
        args.out, args.pack_dir or args.out / "pack", DRY if args.dry_run else GPU, budget
    )
    return 1 if manifest["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
