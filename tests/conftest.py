"""Shared fixtures and options of the test suite."""

import pickle
import struct
from pathlib import Path

import numpy as np
import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/<kind>.json from the current code (after a protocol bump)",
    )


# `pytest -m "not slow"` leaves out what takes seconds each: executing notebooks, building the
# book, retraining golden results, process pools and long fault runs (measured with --durations).
SLOW_MODULES = {"test_book.py", "test_browser.py", "test_golden.py", "test_gpu_check.py"}
SLOW_TESTS = {
    "test_build_renders_the_largest_fully_cached_profile",
    "test_runner_payload_holds_everything_the_chapter_needs",
    "test_probes_killed_midway_resume_from_the_finished_steps",
    "test_papermill_from_the_repository_root_never_writes_the_book",
    "test_resumed_gated_run_equals_uninterrupted",
    "test_racing_processes_meeting_one_corrupt_entry",
    "test_repairing_after_a_prose_edit_keeps_the_outputs_without_executing",
    "test_pairing_never_replaces_the_rendered_outputs",
    "test_dask_local_cluster_on_loopback",
    "test_local_pool_executor_through_the_sweep",
    "test_failed_run_keeps_the_good_notebook_and_saves_the_traceback",
    "test_concurrent_readers_never_see_a_half_written_notebook",
    "test_rendering_committed_results_needs_no_dataset",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        slow = (
            item.path.suffix == ".ipynb"  # nbval executes the notebook
            or item.path.name in SLOW_MODULES
            or getattr(item, "originalname", None) in SLOW_TESTS
            or "built_book" in getattr(item, "fixturenames", ())
        )
        if slow:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    """A results cache (and checkpoints) in a temporary folder, never the user's."""
    monkeypatch.setenv("LRGAP_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def tmpfs(tmp_path):
    """A 256 KiB tmpfs for full-disk and read-only faults (root, where mount works), else None.

    `subprocess.run(["mount", "-o", "remount,ro", str(point)])` makes it read-only.
    """
    import os
    import subprocess

    point = tmp_path / "tmpfs"
    point.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(point)]
    if os.geteuid() != 0 or subprocess.run(mount, capture_output=True).returncode != 0:
        yield None
        return
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The book built at smoke in a temporary copy of the repository; its HTML folder.

    Never over the user's book/ or results cache: a user who built the book at cpu keeps it.
    """
    import os
    import shutil
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    copy = tmp_path_factory.mktemp("repository")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = root / name
        if source.is_file():  # tracked files deleted in the working tree are skipped
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    env = {**os.environ, "LRGAP_ROOT": str(copy), "LRGAP_CACHE": str(copy / "results" / "local")}
    start = time.perf_counter()
    lrgap = Path(sys.executable).with_name("lrgap")
    subprocess.run([str(lrgap), "build", "--profile", "smoke"], cwd=copy, env=env, check=True)
    print(f"lrgap build --profile smoke (in {copy}): {time.perf_counter() - start:.1f} s")
    return copy / "book" / "_build" / "html"


@pytest.fixture
def empty_committed(tmp_path, monkeypatch):
    """No committed results: lookups see only the (isolated) local cache."""
    from lrgap_nb import paths

    folder = tmp_path / "committed"
    monkeypatch.setattr(paths, "committed_cache_dir", lambda: folder)
    return folder


class DataFiles:
    """Tiny datasets written in the real file formats (IDX, CIFAR pickles, the subset's npz)."""

    @staticmethod
    def mnist(root: Path, n_train: int = 40, n_test: int = 20, seed: int = 0) -> None:
        """IDX files (big-endian header, then uint8 data) under root/MNIST/raw/."""
        rng = np.random.default_rng(seed)
        raw = root / "MNIST" / "raw"
        raw.mkdir(parents=True)
        for prefix, n in (("train", n_train), ("t10k", n_test)):
            images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
            labels = (np.arange(n) % 10).astype(np.uint8)
            header = struct.pack(">IIII", 0x0803, n, 28, 28)
            (raw / f"{prefix}-images-idx3-ubyte").write_bytes(header + images.tobytes())
            (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
                struct.pack(">II", 0x0801, n) + labels.tobytes()
            )

    @staticmethod
    def cifar10(root: Path, per_batch: int = 4, seed: int = 0) -> np.ndarray:
        """Python-pickled batches under root/cifar-10-batches-py/; returns the training images (HWC)."""
        rng = np.random.default_rng(seed)
        folder = root / "cifar-10-batches-py"
        folder.mkdir(parents=True)
        train = []
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            flat = rng.integers(0, 256, (per_batch, 3 * 32 * 32), dtype=np.uint8)
            labels = list(rng.integers(0, 10, per_batch))
            with open(folder / name, "wb") as handle:
                pickle.dump({"data": flat, "labels": labels}, handle)
            if name != "test_batch":
                train.append(flat.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        with open(folder / "batches.meta", "wb") as handle:
            pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, handle)
        return np.concatenate(train)

    @staticmethod
    def cifar100(root: Path, n: int = 6) -> None:
        folder = root / "cifar-100-python"
        folder.mkdir(parents=True)
        rng = np.random.default_rng(1)
        for name in ("train", "test"):
            entry = {
                "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                "fine_labels": list(range(n)),
            }
            with open(folder / name, "wb") as handle:
                pickle.dump(entry, handle)
        with open(folder / "meta", "wb") as handle:
            pickle.dump({"fine_label_names": [f"c{i}" for i in range(100)]}, handle)

    @staticmethod
    def subset(root: Path, n_train: int = 12, n_test: int = 6) -> None:
        rng = np.random.default_rng(2)
        folder = root / "cifar-10-subset"
        folder.mkdir(parents=True)
        np.savez(
            folder / "cifar10_subset.npz",
            train_x=rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8),
            train_y=(np.arange(n_train) % 10).astype(np.uint8),
            test_x=rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8),
            test_y=(np.arange(n_test) % 10).astype(np.uint8),
        )


@pytest.fixture
def data_files() -> type[DataFiles]:
    return DataFiles


@pytest.fixture(scope="session")
def fixture_data_root(tmp_path_factory) -> Path:
    """A data root the smoke profiles can run on: MNIST and the CIFAR subset, random images."""
    root = tmp_path_factory.mktemp("data")
    DataFiles.mnist(root, n_train=1000, n_test=200)
    DataFiles.subset(root, n_train=1000, n_test=300)
    return root


@pytest.fixture
def fake_cifar():
    """Register a CIFAR-shaped dataset of random tensors (64 train, 32 test) under a name."""
    import torch

    from lrgap_nb import data

    def load(root, download, normalise):
        gen = torch.Generator().manual_seed(0)
        return {
            split: data.TensorData(
                torch.randn(n, 3, 32, 32, generator=gen), torch.randint(0, 10, (n,), generator=gen)
            )
            for split, n in (("train", 64), ("test", 32))
        }

    def register(name: str) -> str:
        data.register_dataset(name, 10, load)
        return name

    return register


@pytest.fixture
def no_kernel(monkeypatch):
    """Fail the test if a kernel is started."""
    import papermill

    def refuse(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(papermill, "execute_notebook", refuse)


@pytest.fixture
def isolated_root(tmp_path, monkeypatch):
    """Root, cache and book under tmp_path: a test using it touches none of the user's files."""
    monkeypatch.setenv("LRGAP_ROOT", str(tmp_path))
    monkeypatch.setenv("LRGAP_CACHE", str(tmp_path / "cache"))
    (tmp_path / "book").mkdir()
    return tmp_path
