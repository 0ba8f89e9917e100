"""`lrgap data`: download MNIST and CIFAR-10 into `LRGAP_DATA` and build the CIFAR-10 subset.

The subset (5,085 training and 1,017 test images) is cut from the official CIFAR-10 python
batches by fixed rows, the first 1,017 of each batch in official order, and checked against the
sha256 of the copy the committed results were computed on, so a user's subset is that copy.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np

from . import paths

SUBSET_PER_BATCH = 1017  # images kept from each official CIFAR-10 batch
# (split, official batch files in order): rows [0, SUBSET_PER_BATCH) of each, concatenated.
SUBSET_SOURCES = (
    ("train", tuple(f"data_batch_{i}" for i in range(1, 6))),
    ("test", ("test_batch",)),
)
SUBSET_FILE = Path("cifar-10-subset") / "cifar10_subset.npz"
# sha256 of cifar10_subset.npz as np.savez_compressed writes it (the project's shared copy's
# SHA256SUMS), and of its four arrays' names, dtypes, shapes and bytes, which does not depend on
# the zip encoding of the numpy and zlib installed.
SUBSET_SHA256 = "90ab742805b8288f680e5fc7c6f6b7eabdc1934fdd7f619d7898703c23a63a1e"
SUBSET_CONTENT_SHA256 = "a48eefa03e02f8ec2199a3c7e47e0222b16a04e2e93156e23d0e439f3c5d75d4"
ARRAYS = ("train_x", "train_y", "test_x", "test_y")


class SubsetMismatch(ValueError):
    """A built subset is not the one the committed results were computed on."""


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One official python batch: images (N, 32, 32, 3) uint8 HWC and labels (N,) uint8."""
    with open(path, "rb") as handle:
        entry = pickle.load(handle, encoding="latin1")
    images = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), np.asarray(entry["labels"], dtype=np.uint8)


def subset_arrays(batches: Path) -> dict[str, np.ndarray]:
    """The subset's arrays from a `cifar-10-batches-py` folder."""
    k, arrays = SUBSET_PER_BATCH, {}
    for split, files in SUBSET_SOURCES:
        parts = [read_batch(batches / name) for name in files]
        short = [name for name, (x, _) in zip(files, parts, strict=True) if len(x) < k]
        if short:
            raise SubsetMismatch(f"{batches}: {', '.join(short)} hold fewer than {k} images")
        arrays[f"{split}_x"] = np.concatenate([x[:k] for x, _ in parts])
        arrays[f"{split}_y"] = np.concatenate([y[:k] for _, y in parts])
    return arrays


def content_sha256(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over each array's name, dtype, shape and bytes, in the subset's order."""
    digest = hashlib.sha256()
    for name in ARRAYS:
        a = np.ascontiguousarray(arrays[name])
        digest.update(f"{name} {a.dtype.str} {a.shape}\n".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_cifar10_subset(root: Path, expected: str | None = None) -> Path:
    """Write <root>/cifar-10-subset/cifar10_subset.npz from <root>/cifar-10-batches-py/.

    The arrays must hash to `expected` (default: SUBSET_CONTENT_SHA256, the committed subset's),
    checked before the file is written; an existing file is replaced only by a verified one.
    """
    expected = expected or SUBSET_CONTENT_SHA256
    arrays = subset_arrays(root / "cifar-10-batches-py")
    found = content_sha256(arrays)
    if found != expected:
        raise SubsetMismatch(
            f"the CIFAR-10 subset built from {root / 'cifar-10-batches-py'} has content sha256 "
            f"{found}, not {expected}: the batches are not the official CIFAR-10 python batches"
        )
    target = root / SUBSET_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".cifar10_subset.", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez_compressed(handle, **arrays)
        paths.share_like_open(tmp)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def download(root: Path, cifar100: bool = False) -> list[str]:
    """Download MNIST and CIFAR-10 (and CIFAR-100 if asked) through torchvision, which checks
    their md5 sums, then build the subset; returns one line per dataset for the terminal."""
    from torchvision import datasets

    root.mkdir(parents=True, exist_ok=True)
    wanted = [(datasets.MNIST, "MNIST"), (datasets.CIFAR10, "cifar-10-batches-py")]
    if cifar100:
        wanted.append((datasets.CIFAR100, "cifar-100-python"))
    lines = []
    for cls, folder in wanted:
        for train in (True, False):
            cls(str(root), train=train, download=True)
        lines.append(f"{cls.__name__}: {root / folder}")
    subset = build_cifar10_subset(root)
    lines.append(f"CIFAR-10 subset: {subset} (sha256 {file_sha256(subset)})")
    return lines
