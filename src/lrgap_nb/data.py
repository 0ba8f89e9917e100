"""Datasets as tensors on the device, sliced into batches there (no per-image PIL pipeline).

A loaded split is a `TensorData` (x, y and an optional batch transform). Images are normalised
once at load time: "standard" uses the fixed per-dataset statistics of Li, Wei & Ma's official code
(CIFAR mean 125.3/123.0/113.9, std 63.0/62.1/66.7, over 255), "unit" scales pixels to [0, 1]
as in Keskar et al.'s experiments. Data are read from `paths.data_root()` (env `LRGAP_DATA`) unless
a root is given; nothing is downloaded unless `download=True`.

Batch transforms (augmentation, or a dataset that redraws something each time an example is
served) share one signature, `transform(x_batch, idx_batch, generator) -> x_batch`: `x_batch` is
the normalised batch on the device, `idx_batch` the examples' indices into the split (same device)
and `generator` a torch.Generator on that device, reseeded from (seed, epoch) every epoch. Draw all
randomness from that generator and a run stays reproducible and resumable.
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import paths
from .datasets import SIZES, train_size
from .device import memory_format, to_images

BatchTransform = Callable[[torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]
Splits = dict[str, "TensorData"]
NORMALISE = ("standard", "unit")

CIFAR_MEAN = (125.3 / 255, 123.0 / 255, 113.9 / 255)  # Li, Wei & Ma's official data_util.py
CIFAR_STD = (63.0 / 255, 62.1 / 255, 66.7 / 255)
MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)  # the usual MNIST statistics (PyTorch examples)


class DataNotFoundError(FileNotFoundError):
    """Dataset files are missing and downloading was not allowed."""


@dataclasses.dataclass(frozen=True, eq=False)
class TensorData:
    """One split held as tensors: x (N, ...) float, y (N,) int64, both on the same device."""

    x: torch.Tensor
    y: torch.Tensor
    transform: BatchTransform | None = None

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y):
            raise ValueError(f"x has {len(self.x)} examples but y has {len(self.y)}")

    def __len__(self) -> int:
        return len(self.y)

    @property
    def device(self) -> torch.device:
        return self.x.device

    def to(self, device: torch.device) -> TensorData:
        return dataclasses.replace(self, x=to_images(self.x, device), y=self.y.to(device))

    def with_transform(self, transform: BatchTransform | None) -> TensorData:
        """The same data served through `transform` (see the module docstring)."""
        return dataclasses.replace(self, transform=transform)

    def subset(self, k: int, mode: str = "first", seed: int = 0) -> TensorData:
        """The first k examples, or k drawn without replacement with `seed` (deterministic)."""
        if not 0 < k <= len(self):
            raise ValueError(f"subset size must be in 1..{len(self)}, got {k}")
        if mode == "first":
            idx = torch.arange(k)
        elif mode == "random":
            gen = torch.Generator().manual_seed(seed)
            idx = torch.randperm(len(self), generator=gen)[:k].sort().values
        else:
            raise ValueError(f"subset mode must be 'first' or 'random', got {mode!r}")
        idx = idx.to(self.device)
        transform = self.transform
        if transform is not None:  # the transform indexes the full split: map subset positions back
            transform = _reindexed(transform, idx)
        return dataclasses.replace(self, x=self.x[idx], y=self.y[idx], transform=transform)

    def num_batches(self, batch_size: int, drop_last: bool = False) -> int:
        full, rest = divmod(len(self), batch_size)
        return full + (0 if drop_last or rest == 0 else 1)

    def batches(
        self,
        batch_size: int,
        generator: torch.Generator | None = None,
        augment: BatchTransform | None = None,
        drop_last: bool = False,
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield (x, y) batches; shuffled by `generator` when given, in order otherwise.

        `augment` (e.g. `crop_flip`) runs before the split's own transform, as in the official
        code, where random crops and flips precede the extra patch transforms. Unshuffled
        iteration (evaluation) hands transforms a generator seeded with 0, so it is repeatable.
        """
        n = len(self)
        if generator is not None:
            order = torch.randperm(n, generator=generator, device=generator.device).to(self.device)
        else:
            order = torch.arange(n, device=self.device)
            generator = torch.Generator(device=self.device).manual_seed(0)
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            idx = order[start : start + batch_size]
            x = self.x[idx]
            if augment is not None:
                x = augment(x, idx, generator)
            if self.transform is not None:
                x = self.transform(x, idx, generator)
            yield x, self.y[idx]


def _reindexed(transform: BatchTransform, positions: torch.Tensor) -> BatchTransform:
    """`transform` of a full split, served through a subset whose i-th example is positions[i]."""

    def subset_transform(x: torch.Tensor, idx: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return transform(x, positions.to(idx.device)[idx], gen)

    return subset_transform


def epoch_generator(seed: int, epoch: int, device: torch.device) -> torch.Generator:
    """A generator for one epoch's order and augmentation, reseeded so resuming needs no state."""
    return torch.Generator(device=device).manual_seed(seed * 1_000_003 + epoch)


def crop_flip(x: torch.Tensor, idx: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Pad 4 (reflect, as the official code), random crop back to size, random horizontal flip."""
    n, _, h, w = x.shape
    padded = F.pad(x, (4, 4, 4, 4), mode="reflect")
    dev = generator.device
    top = torch.randint(0, 9, (n,), generator=generator, device=dev).to(x.device)
    left = torch.randint(0, 9, (n,), generator=generator, device=dev).to(x.device)
    flip = torch.rand(n, generator=generator, device=dev).to(x.device) < 0.5
    rows = (top[:, None] + torch.arange(h, device=x.device))[:, :, None]  # (n, h, 1)
    cols = left[:, None] + torch.arange(w, device=x.device)  # (n, w)
    cols = torch.where(flip[:, None], cols.flip(1), cols)[:, None, :]  # (n, 1, w)
    batch = torch.arange(n, device=x.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows, cols]  # (n, h, w, c)
    return out.permute(0, 3, 1, 2).contiguous(memory_format=memory_format(x.device))


# --- normalisation ----------------------------------------------------------------------------


def images_to_tensor(
    images: np.ndarray | torch.Tensor,
    normalise: str,
    mean: tuple[float, ...],
    std: tuple[float, ...],
) -> torch.Tensor:
    """uint8 images, (N, H, W, C) or (N, H, W), to float32 (N, C, H, W), normalised."""
    x = torch.as_tensor(np.asarray(images))
    if x.dim() == 3:
        x = x[..., None]
    x = x.permute(0, 3, 1, 2).float().div_(255.0)
    if normalise == "unit":
        return x.contiguous()
    if normalise != "standard":
        raise ValueError(f"normalise must be one of {NORMALISE}, got {normalise!r}")
    m = torch.tensor(mean).view(1, -1, 1, 1)
    s = torch.tensor(std).view(1, -1, 1, 1)
    return ((x - m) / s).contiguous()


def _labels(y: np.ndarray | list | torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(np.asarray(y), dtype=torch.int64)


def _require(folder: Path, files: tuple[str, ...], how: str) -> None:
    """Raise DataNotFoundError, one line (folder, missing files, how to get them), if any is absent."""
    missing = [name for name in files if not (folder / name).is_file()]
    if missing:
        raise DataNotFoundError(f"dataset files missing in {folder}: {', '.join(missing)}. {how}")


def _hint(command: str, what: str = "them") -> str:
    return (
        f"Run `{command}` to download {what} into LRGAP_DATA, or set LRGAP_DATA to a folder "
        "holding them."
    )


@dataclasses.dataclass(frozen=True)
class DataFiles:
    """The files a dataset is read from, so they can be checked before any work starts."""

    folder: str  # relative to the data root
    files: tuple[str, ...]
    how: str = _hint("lrgap data")  # how to get them
    downloadable: bool = True  # a download on first use (when allowed) can fetch or build them

    def require(self, root: Path) -> None:
        _require(root / self.folder, self.files, self.how)


MNIST_FILES = DataFiles(
    "MNIST/raw",
    (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ),
)
CIFAR10_FILES = DataFiles(
    "cifar-10-batches-py",
    tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta"),
)
CIFAR100_FILES = DataFiles(
    "cifar-100-python", ("train", "test", "meta"), _hint("lrgap data cifar100")
)
CIFAR10_SUBSET_FILES = DataFiles(
    "cifar-10-subset",
    ("cifar10_subset.npz",),
    _hint("lrgap data", "CIFAR-10 and build it (the first 1,017 images of each official batch)"),
)


# --- loaders: each returns {"train": TensorData, "test": TensorData} on the CPU -----------------


def load_mnist(root: Path, download: bool, normalise: str) -> Splits:
    """MNIST through torchvision (layout <root>/MNIST/raw/, uncompressed IDX files)."""
    from torchvision import datasets

    if not download:
        MNIST_FILES.require(root)
    out = {}
    for split, train in (("train", True), ("test", False)):
        ds = datasets.MNIST(str(root), train=train, download=download)
        x = images_to_tensor(ds.data, normalise, MNIST_MEAN, MNIST_STD)
        out[split] = TensorData(x, _labels(ds.targets))
    return out


def _load_cifar(cls_name: str, files: DataFiles) -> Callable[..., Splits]:
    def loader(root: Path, download: bool, normalise: str) -> Splits:
        from torchvision import datasets

        if not download:
            files.require(root)
        cls = getattr(datasets, cls_name)
        out = {}
        for split, train in (("train", True), ("test", False)):
            ds = cls(str(root), train=train, download=download)
            x = images_to_tensor(ds.data, normalise, CIFAR_MEAN, CIFAR_STD)
            out[split] = TensorData(x, _labels(ds.targets))
        return out

    loader.__doc__ = (
        f"{cls_name} through torchvision (layout <root>/{files.folder}/, python batches)."
    )
    return loader


load_cifar10 = _load_cifar("CIFAR10", CIFAR10_FILES)
load_cifar100 = _load_cifar("CIFAR100", CIFAR100_FILES)


def load_cifar10_subset(root: Path, download: bool, normalise: str) -> Splits:
    """The real-image CIFAR-10 subset: <root>/cifar-10-subset/cifar10_subset.npz.

    Arrays train_x (5085, 32, 32, 3) uint8 HWC, train_y, test_x (1017, ...), test_y, cut from the
    official batches by `lrgap data` (see `fetch`); `download` downloads CIFAR-10 and builds it.
    """
    from . import fetch

    if download and not (root / fetch.SUBSET_FILE).is_file():
        from torchvision import datasets

        datasets.CIFAR10(str(root), train=True, download=True)
        datasets.CIFAR10(str(root), train=False, download=True)
        fetch.build_cifar10_subset(root)
    CIFAR10_SUBSET_FILES.require(root)
    with np.load(root / fetch.SUBSET_FILE) as d:
        return {
            split: TensorData(
                images_to_tensor(d[f"{split}_x"], normalise, CIFAR_MEAN, CIFAR_STD),
                _labels(d[f"{split}_y"]),
            )
            for split in ("train", "test")
        }


TIMIT_FEATURES, TIMIT_CLASSES = 360, 1973  # Keskar et al. 2017, network F2
TIMIT_FILES = DataFiles(
    "timit",
    ("timit.npz",),
    "TIMIT is licensed by the LDC (LDC93S1); extract 360-dim frame features with "
    f"{TIMIT_CLASSES} state labels and save them as train_x, train_y, test_x, test_y.",
    downloadable=False,
)


def load_timit(root: Path, download: bool, normalise: str) -> Splits:
    """User-provided TIMIT frame features: <root>/timit/timit.npz (Keskar et al.'s F2).

    The file holds train_x (N, 360) float32 (e.g. 40 filterbank features over 9 frames), train_y
    (N,) integers in [0, 1973) (HMM state labels), test_x and test_y. TIMIT is licensed (LDC93S1)
    and cannot be downloaded here. "standard" standardises each feature with training mean and
    std; "unit" maps each feature's training range to [0, 1].
    """
    folder = root / "timit"
    TIMIT_FILES.require(root)
    with np.load(folder / "timit.npz") as d:
        xs = {s: torch.as_tensor(d[f"{s}_x"], dtype=torch.float32) for s in ("train", "test")}
        ys = {s: _labels(d[f"{s}_y"]) for s in ("train", "test")}
    if xs["train"].shape[1] != TIMIT_FEATURES:
        raise ValueError(f"TIMIT features must be {TIMIT_FEATURES}-dim, got {xs['train'].shape}")
    ref = xs["train"]
    if normalise == "standard":
        shift, scale = ref.mean(0), ref.std(0).clamp_min(1e-8)
    elif normalise == "unit":
        shift, scale = ref.min(0).values, (ref.max(0).values - ref.min(0).values).clamp_min(1e-8)
    else:
        raise ValueError(f"normalise must be one of {NORMALISE}, got {normalise!r}")
    return {s: TensorData((xs[s] - shift) / scale, ys[s]) for s in ("train", "test")}


# --- synthetic stand-ins: the `smoke` profiles run on them, so tests and a fresh clone need no data


def synthetic_images(
    sizes: dict[str, int], shape: tuple[int, int, int], seed: int = 0
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """uint8 images (N, H, W, C) and labels per split, in ten classes, each class a fixed random
    image plus per-example noise: learnable, so a smoke run's curves move, and the same on every
    machine (numpy's PCG64 from `seed`)."""
    rng = np.random.default_rng(seed)
    templates = rng.normal(0.0, 60.0, (10, *shape))
    out = {}
    for split, n in sizes.items():
        labels = rng.integers(0, 10, n).astype(np.uint8)
        noise = rng.normal(0.0, 40.0, (n, *shape))
        out[split] = np.clip(127.5 + templates[labels] + noise, 0, 255).astype(np.uint8), labels
    return out


def _load_synthetic(
    shape: tuple[int, int, int],
    mean: tuple[float, ...],
    std: tuple[float, ...],
    train: int,
    test: int,
) -> Callable[..., Splits]:
    def loader(root: Path, download: bool, normalise: str) -> Splits:
        made = synthetic_images({"train": train, "test": test}, shape)
        return {
            split: TensorData(images_to_tensor(x, normalise, mean, std), _labels(y))
            for split, (x, y) in made.items()
        }

    loader.__doc__ = f"Synthetic {shape} images (no files): {train:,} train, {test:,} test."
    return loader


SYNTHETIC_SIZES = {name: SIZES[name] for name in ("mnist_synthetic", "cifar10_synthetic")}
load_mnist_synthetic = _load_synthetic(
    (28, 28, 1), MNIST_MEAN, MNIST_STD, *SYNTHETIC_SIZES["mnist_synthetic"]
)
load_cifar10_synthetic = _load_synthetic(
    (32, 32, 3), CIFAR_MEAN, CIFAR_STD, *SYNTHETIC_SIZES["cifar10_synthetic"]
)


# --- the registry -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A named dataset: its class count, a loader `(root, download, normalise) -> splits` and
    the files it reads (None: not checkable before loading)."""

    name: str
    num_classes: int
    loader: Callable[[Path, bool, str], Splits]
    files: DataFiles | None = None
    train_size: int | None = None  # training examples, so a too-large subset fails before loading


DATASETS: dict[str, DatasetSpec] = {}


def register_dataset(
    name: str,
    num_classes: int,
    loader: Callable[[Path, bool, str], Splits],
    files: DataFiles | None = None,
    train_size: int | None = None,
) -> None:
    """Make `name` usable in `load` and in a TrainConfig (e.g. a patch-augmented CIFAR-10).

    A derived dataset passes the files of the one it is built from, so `require_dataset` (run by
    `lrgap` before a kernel starts) can name them.
    """
    DATASETS[name] = DatasetSpec(name, num_classes, loader, files, train_size)


for _name, _classes, _loader, _files in (
    ("mnist", 10, load_mnist, MNIST_FILES),
    ("cifar10", 10, load_cifar10, CIFAR10_FILES),
    ("cifar100", 100, load_cifar100, CIFAR100_FILES),
    ("cifar10_subset", 10, load_cifar10_subset, CIFAR10_SUBSET_FILES),
    ("timit", TIMIT_CLASSES, load_timit, TIMIT_FILES),
    ("mnist_synthetic", 10, load_mnist_synthetic, None),
    ("cifar10_synthetic", 10, load_cifar10_synthetic, None),
):
    register_dataset(_name, _classes, _loader, _files, train_size(_name))


DATASET_FAMILIES: dict[str, Callable[[str], DatasetSpec]] = {}


def register_dataset_family(prefix: str, resolve: Callable[[str], DatasetSpec]) -> None:
    """Datasets named "<prefix>:<settings>", built by `resolve(name)` on first use.

    The name carries every setting of the derived dataset (e.g. the patch experiment's sigma_z,
    beta, alpha, fractions and seed), so the settings enter a TrainConfig's cache key, and a worker
    process rebuilds the same dataset from the name alone.
    """
    DATASET_FAMILIES[prefix] = resolve


def dataset_spec(name: str) -> DatasetSpec:
    prefix = name.split(":", 1)[0]
    if name not in DATASETS and ":" in name and prefix in DATASET_FAMILIES:
        DATASETS[name] = DATASET_FAMILIES[prefix](name)
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}")
    return DATASETS[name]


def require_dataset(
    name: str, root: str | Path | None = None, download: bool | None = None
) -> None:
    """Fail now, with DataNotFoundError naming folder, files and how to get them, if the files of
    dataset `name` are missing and cannot be downloaded (checked before any kernel starts)."""
    files = dataset_spec(name).files
    download = paths.download_allowed() if download is None else download
    if files is None or (download and files.downloadable):
        return
    files.require(Path(root) if root is not None else paths.data_root())


def load(
    name: str,
    root: str | Path | None = None,
    download: bool | None = None,
    normalise: str = "standard",
    device: torch.device | None = None,
) -> Splits:
    """Load a named dataset's splits onto `device` (CPU when None); root defaults to LRGAP_DATA.

    download=None downloads missing files unless LRGAP_DOWNLOAD=0; a failed download raises
    DataNotFoundError naming the folder.
    """
    if normalise not in NORMALISE:
        raise ValueError(f"normalise must be one of {NORMALISE}, got {normalise!r}")
    spec = dataset_spec(name)
    folder = Path(root) if root is not None else paths.data_root()
    download = paths.download_allowed() if download is None else download
    try:
        splits = spec.loader(folder, download, normalise)
    except DataNotFoundError:
        raise
    except (OSError, RuntimeError) as err:
        if not download:
            raise
        said = textwrap.shorten(" ".join(str(err).split()), 160, placeholder=" ...")
        reason = f"Downloading failed ({type(err).__name__}: {said})."
        try:
            spec.loader(folder, False, normalise)  # names the folder and the files it expects
        except DataNotFoundError as missing:
            raise DataNotFoundError(f"{missing} {reason}") from err
        raise
    if device is None:
        return splits
    return {split: data.to(device) for split, data in splits.items()}
