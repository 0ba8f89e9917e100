"""`lrgap data`: the CIFAR-10 subset built from official-layout batches, verified by sha256.

There is no internet here, so the builder reads fake `cifar-10-batches-py` folders (python
pickles, as the official download holds); torchvision's downloads are replaced by fakes.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from lrgap_nb import cli, data, fetch

ROOT = Path(__file__).resolve().parents[1]
BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def shared_subset() -> Path | None:
    """The real subset, if this machine has it: under LRGAP_DATA, or ../shared/data (CI)."""
    roots = [os.environ.get("LRGAP_DATA"), ROOT.parent / "shared" / "data"]
    found = [Path(r) / fetch.SUBSET_FILE for r in roots if r]
    return next((path for path in found if path.is_file()), None)


def write_batches(root: Path, heads: dict[str, tuple[np.ndarray, np.ndarray]], rows: int = 1100):
    """Official-layout pickles whose first rows are `heads[name]` (HWC images, labels), the rest
    noise; a batch not in `heads` is all noise."""
    rng = np.random.default_rng(5)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in BATCHES:
        x = rng.integers(0, 256, (rows, 32, 32, 3), dtype=np.uint8)
        y = rng.integers(0, 10, rows).astype(np.uint8)
        if name in heads:
            hx, hy = heads[name]
            x[: len(hx)], y[: len(hy)] = hx, hy
        flat = x.transpose(0, 3, 1, 2).reshape(rows, -1)  # the official CHW rows
        with open(folder / name, "wb") as handle:
            pickle.dump({"data": flat, "labels": y.tolist()}, handle)
    return folder


def official_rows(folder: Path) -> dict[str, np.ndarray]:
    """What the subset must hold, read independently of `fetch` (CHW rows back to HWC)."""
    parts = {}
    for name in BATCHES:
        with open(folder / name, "rb") as handle:
            entry = pickle.load(handle)
        x = np.asarray(entry["data"]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)[:1017]
        parts[name] = (x, np.asarray(entry["labels"], dtype=np.uint8)[:1017])
    train = [parts[f"data_batch_{i}"] for i in range(1, 6)]
    return {
        "train_x": np.concatenate([x for x, _ in train]),
        "train_y": np.concatenate([y for _, y in train]),
        "test_x": parts["test_batch"][0],
        "test_y": parts["test_batch"][1],
    }


def test_subset_is_the_first_1017_rows_of_each_batch_in_official_order(tmp_path: Path) -> None:
    folder = write_batches(tmp_path, {})
    expected = official_rows(folder)
    built = fetch.build_cifar10_subset(tmp_path, expected=fetch.content_sha256(expected))
    with np.load(built) as d:
        assert {k: d[k].shape for k in fetch.ARRAYS} == {
            "train_x": (5085, 32, 32, 3),
            "train_y": (5085,),
            "test_x": (1017, 32, 32, 3),
            "test_y": (1017,),
        }
        for name in fetch.ARRAYS:
            assert d[name].dtype == np.uint8 and np.array_equal(d[name], expected[name]), name
    splits = data.load("cifar10_subset", root=tmp_path, download=False, normalise="unit")
    assert len(splits["train"]) == 5085 and len(splits["test"]) == 1017


def test_batches_that_are_not_the_official_ones_are_refused_and_nothing_replaced(
    tmp_path: Path,
) -> None:
    write_batches(tmp_path, {})
    good = tmp_path / fetch.SUBSET_FILE
    good.parent.mkdir(parents=True)
    good.write_bytes(b"the subset in use")
    with pytest.raises(fetch.SubsetMismatch, match=fetch.SUBSET_CONTENT_SHA256):
        fetch.build_cifar10_subset(tmp_path)
    assert good.read_bytes() == b"the subset in use"
    assert sorted(p.name for p in good.parent.iterdir()) == ["cifar10_subset.npz"]


def test_a_short_batch_is_named(tmp_path: Path) -> None:
    write_batches(tmp_path, {}, rows=1000)
    with pytest.raises(fetch.SubsetMismatch, match="data_batch_1, .*fewer than 1017"):
        fetch.build_cifar10_subset(tmp_path)


def test_built_from_the_real_images_it_hashes_to_the_committed_sha256(tmp_path: Path) -> None:
    real = shared_subset()
    if real is None:
        pytest.skip("the real CIFAR-10 subset is not on this machine (LRGAP_DATA, ../shared/data)")
    assert fetch.file_sha256(real) == fetch.SUBSET_SHA256  # the copy the results were made on
    with np.load(real) as d:
        arrays = {name: d[name] for name in fetch.ARRAYS}
    heads = {
        f"data_batch_{i + 1}": (arrays["train_x"][i * 1017 : (i + 1) * 1017],
                                arrays["train_y"][i * 1017 : (i + 1) * 1017])
        for i in range(5)
    }  # fmt: skip
    heads["test_batch"] = (arrays["test_x"], arrays["test_y"])
    write_batches(tmp_path, heads)
    built = fetch.build_cifar10_subset(tmp_path)  # checked against the committed content hash
    assert fetch.file_sha256(built) == fetch.SUBSET_SHA256


def test_lrgap_data_downloads_both_datasets_and_builds_the_subset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from torchvision import datasets

    calls = []

    def fake(name: str, make=None):
        class Fake:
            def __init__(self, root: str, train: bool, download: bool) -> None:
                calls.append((name, Path(root), train, download))
                if make and not (Path(root) / "cifar-10-batches-py").exists():
                    make(Path(root))

        return Fake

    folder = {}
    monkeypatch.setattr(datasets, "MNIST", fake("MNIST"))
    monkeypatch.setattr(
        datasets, "CIFAR10", fake("CIFAR10", lambda r: folder.setdefault("f", write_batches(r, {})))
    )
    monkeypatch.setenv("LRGAP_DATA", str(tmp_path / "data"))
    real_build = fetch.build_cifar10_subset
    monkeypatch.setattr(
        fetch,
        "build_cifar10_subset",
        lambda root: real_build(root, fetch.content_sha256(official_rows(folder["f"]))),
    )
    assert cli.main(["data"]) == 0
    root = tmp_path / "data"
    assert calls == [
        ("MNIST", root, True, True),
        ("MNIST", root, False, True),
        ("CIFAR10", root, True, True),
        ("CIFAR10", root, False, True),
    ]
    assert (root / fetch.SUBSET_FILE).is_file()
    assert f"sha256 {fetch.file_sha256(root / fetch.SUBSET_FILE)}" in capsys.readouterr().out
