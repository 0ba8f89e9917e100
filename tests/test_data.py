"""Loaders read tiny fixtures written in the real file formats; batching and transforms on tensors.

CIFAR fixtures: torchvision verifies the official md5 sum of every CIFAR batch file, which a
fixture cannot match, so those tests replace `torchvision.datasets.cifar.check_integrity` with a
plain existence check and then load through the real loader. MNIST needs no such patch:
torchvision only checks that the uncompressed raw files exist.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from lrgap_nb import data


@pytest.fixture
def no_md5(monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets.cifar as tv_cifar

    monkeypatch.setattr(tv_cifar, "check_integrity", lambda fpath, md5=None: Path(fpath).is_file())


def test_mnist_fixture_through_real_loader(
    data_files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_files.mnist(tmp_path)
    monkeypatch.setenv("LRGAP_DATA", str(tmp_path))
    splits = data.load("mnist", normalise="unit")
    assert splits["train"].x.shape == (40, 1, 28, 28) and splits["test"].x.shape == (20, 1, 28, 28)
    assert splits["train"].y.dtype == torch.int64
    assert splits["train"].y[:12].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    raw = np.random.default_rng(0).integers(0, 256, (40, 28, 28), dtype=np.uint8)
    assert torch.equal(splits["train"].x[:, 0], torch.from_numpy(raw).float() / 255)
    standard = data.load("mnist", root=tmp_path)["train"].x
    expected = (torch.from_numpy(raw).float() / 255 - 0.1307) / 0.3081
    torch.testing.assert_close(standard[:, 0], expected)


def test_cifar10_fixture_through_real_loader(data_files, tmp_path: Path, no_md5: None) -> None:
    images = data_files.cifar10(tmp_path)
    splits = data.load("cifar10", root=tmp_path)
    train = splits["train"]
    assert train.x.shape == (20, 3, 32, 32) and len(splits["test"]) == 4
    mean = torch.tensor(data.CIFAR_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(data.CIFAR_STD).view(1, 3, 1, 1)
    expected = (torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255 - mean) / std
    torch.testing.assert_close(train.x, expected)  # batches 1..5 in order, HWC -> CHW


def test_cifar100_fixture(data_files, tmp_path: Path, no_md5: None) -> None:
    data_files.cifar100(tmp_path)
    splits = data.load("cifar100", root=tmp_path, normalise="unit")
    assert splits["train"].y.tolist() == list(range(6))
    assert 0 <= splits["test"].x.min() and splits["test"].x.max() <= 1
    assert data.dataset_spec("cifar100").num_classes == 100


def test_cifar10_subset_npz(data_files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_files.subset(tmp_path)
    monkeypatch.setenv("LRGAP_DATA", str(tmp_path))
    splits = data.load("cifar10_subset", device=torch.device("cpu"))
    assert splits["train"].x.shape == (12, 3, 32, 32) and splits["test"].y.shape == (6,)


def test_timit_npz(tmp_path: Path) -> None:
    folder = tmp_path / "timit"
    folder.mkdir()
    rng = np.random.default_rng(3)
    np.savez(
        folder / "timit.npz",
        train_x=rng.normal(2.0, 3.0, (50, 360)).astype(np.float32),
        train_y=rng.integers(0, 1973, 50),
        test_x=rng.normal(2.0, 3.0, (10, 360)).astype(np.float32),
        test_y=rng.integers(0, 1973, 10),
    )
    train = data.load("timit", root=tmp_path)["train"]
    torch.testing.assert_close(train.x.mean(0), torch.zeros(360), atol=1e-5, rtol=0)
    unit = data.load("timit", root=tmp_path, normalise="unit")["train"].x
    assert unit.min() == 0 and unit.max() == 1


@pytest.mark.parametrize(
    ("name", "folder", "expected"),
    [
        ("mnist", "MNIST/raw", "train-images-idx3-ubyte"),
        ("cifar10", "cifar-10-batches-py", "data_batch_1"),
        ("cifar100", "cifar-100-python", "meta"),
        ("cifar10_subset", "cifar-10-subset", "cifar10_subset.npz"),
        ("timit", "timit", "timit.npz"),
    ],
)
def test_missing_data_names_folder_and_files(
    tmp_path: Path, name: str, folder: str, expected: str
) -> None:
    with pytest.raises(data.DataNotFoundError) as err:
        data.load(name, root=tmp_path, download=False)
    assert isinstance(err.value, FileNotFoundError)
    assert str(tmp_path / folder) in str(err.value) and expected in str(err.value)


def test_failed_download_names_folder_files_and_reason(tmp_path: Path, monkeypatch) -> None:
    from urllib.error import URLError

    from torchvision import datasets

    def offline(self):
        raise URLError("no route to host")

    monkeypatch.setattr(datasets.MNIST, "download", offline)
    with pytest.raises(data.DataNotFoundError) as err:
        data.load("mnist", root=tmp_path, download=True)
    message = str(err.value)
    assert str(tmp_path / "MNIST" / "raw") in message and "train-images-idx3-ubyte" in message
    assert "no route to host" in message


def test_download_default_follows_lrgap_download(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LRGAP_DOWNLOAD", "0")
    with pytest.raises(data.DataNotFoundError, match="dataset files missing"):
        data.load("mnist", root=tmp_path)


def test_unknown_dataset_and_normalise() -> None:
    with pytest.raises(ValueError, match="unknown dataset 'svhn'"):
        data.load("svhn")
    with pytest.raises(ValueError, match="normalise"):
        data.load("mnist", normalise="zscore")


def _toy(n: int = 10) -> data.TensorData:
    x = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 2, 4, 4).contiguous()
    return data.TensorData(x, torch.arange(n))


def test_batches_cover_every_example_once_and_are_seeded() -> None:
    toy = _toy()
    order = [
        y for _, yb in toy.batches(3, data.epoch_generator(0, 0, toy.device)) for y in yb.tolist()
    ]
    assert sorted(order) == list(range(10)) and order != list(range(10))
    again = [
        y for _, yb in toy.batches(3, data.epoch_generator(0, 0, toy.device)) for y in yb.tolist()
    ]
    other = [
        y for _, yb in toy.batches(3, data.epoch_generator(0, 1, toy.device)) for y in yb.tolist()
    ]
    assert order == again and order != other
    assert [len(yb) for _, yb in toy.batches(3)] == [3, 3, 3, 1]
    assert [len(yb) for _, yb in toy.batches(3, drop_last=True)] == [3, 3, 3]
    assert toy.num_batches(3) == 4 and toy.num_batches(3, drop_last=True) == 3


def test_subsets_are_deterministic() -> None:
    toy = _toy()
    assert toy.subset(4).y.tolist() == [0, 1, 2, 3]
    first, second = toy.subset(4, "random", seed=5), toy.subset(4, "random", seed=5)
    assert torch.equal(first.y, second.y) and len(set(first.y.tolist())) == 4
    assert not torch.equal(first.y, toy.subset(4, "random", seed=6).y)
    with pytest.raises(ValueError, match="subset size"):
        toy.subset(11)


def test_transform_hook_sees_indices_and_runs_after_augment() -> None:
    toy = _toy()
    calls = []

    def mark(x: torch.Tensor, idx: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        calls.append(idx.clone())
        return x + 100 * idx.view(-1, 1, 1, 1)

    served = toy.with_transform(mark)
    for x, y in served.batches(4, data.epoch_generator(0, 0, toy.device)):
        assert torch.equal(x[:, 0, 0, 0], 101.0 * y.float())  # x = idx and y = idx in the toy
    assert sorted(torch.cat(calls).tolist()) == list(range(10))
    assert toy.transform is None  # the original is untouched


def test_crop_flip_is_a_crop_of_the_reflect_padded_image() -> None:
    x = torch.randn(6, 3, 32, 32)
    gen = torch.Generator().manual_seed(0)
    out = data.crop_flip(x, torch.arange(6), gen)
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (4, 4, 4, 4), mode="reflect")
    for i in range(6):
        crops = [padded[i, :, t : t + 32, s : s + 32] for t in range(9) for s in range(9)]
        crops += [c.flip(2) for c in crops]
        assert any(torch.equal(out[i], c) for c in crops)
    again = data.crop_flip(x, torch.arange(6), torch.Generator().manual_seed(0))
    assert torch.equal(out, again)


def test_missing_data_is_one_line_naming_each_file_once_and_lrgap_data(tmp_path: Path) -> None:
    with pytest.raises(data.DataNotFoundError) as err:
        data.load("mnist", root=tmp_path, download=False)
    message = str(err.value)
    assert "\n" not in message and "`lrgap data`" in message
    assert all(message.count(name) == 1 for name in data.MNIST_FILES.files)
    assert "LRGAP_DOWNLOAD" not in message and "allow downloads" not in message


def test_a_long_download_error_is_shortened_between_words(tmp_path: Path, monkeypatch) -> None:
    from torchvision import datasets

    said = " ".join(f"word{i}" for i in range(100))

    def offline(self):
        raise RuntimeError(said)

    monkeypatch.setattr(datasets.MNIST, "download", offline)
    with pytest.raises(data.DataNotFoundError) as err:
        data.load("mnist", root=tmp_path, download=True)
    reason = str(err.value).split("Downloading failed (RuntimeError: ", 1)[1]
    kept = reason.removesuffix(" ...).").split(" ")
    assert reason.endswith(" ...).") and kept == said.split(" ")[: len(kept)]


@pytest.mark.parametrize(
    ("name", "shape", "sizes"),
    [
        ("mnist_synthetic", (1, 28, 28), (1000, 200)),
        ("cifar10_synthetic", (3, 32, 32), (1000, 300)),
    ],
)
def test_synthetic_stand_ins_need_no_files_and_are_learnable(name, shape, sizes, tmp_path) -> None:
    """The smoke profiles' data: real shapes, the same on every load, and ten separable classes
    (nearest class mean of the training split labels the test split)."""
    splits = data.load(name, root=tmp_path / "nothing here", download=False)
    train, test = splits["train"], splits["test"]
    assert train.x.shape[1:] == shape and (len(train), len(test)) == sizes
    assert torch.equal(data.load(name, root=tmp_path)["train"].x, train.x)
    assert data.dataset_spec(name).files is None and data.dataset_spec(name).train_size == sizes[0]
    means = torch.stack([train.x[train.y == c].mean(0).flatten() for c in range(10)])
    predicted = torch.cdist(test.x.flatten(1), means).argmin(1)
    assert (predicted == test.y).float().mean() > 0.9
    assert not torch.equal(train.x[: len(test)], test.x)
