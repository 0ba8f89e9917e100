"""What the book knows of each dataset without loading it (no torch): training and test sizes.

One owner for these numbers: `lrgap_nb.data` registers its loaders with them, and the chapters'
parameters and tables read them here (`lrgap list` and the tables import no torch).
"""

from __future__ import annotations

# name -> (training examples, test examples); None where the loader alone knows (TIMIT)
SIZES: dict[str, tuple[int, int] | None] = {
    "mnist": (60_000, 10_000),
    "cifar10": (50_000, 10_000),
    "cifar100": (50_000, 10_000),
    "cifar10_subset": (5_085, 1_017),  # the first 1,017 of each official batch (data README)
    "timit": None,
    "mnist_synthetic": (1_000, 200),  # smoke-only stand-ins, made in memory (lrgap_nb.data)
    "cifar10_synthetic": (1_000, 300),
}


def train_size(name: str) -> int | None:
    """Training examples of dataset `name` (None where only its loader knows)."""
    if name not in SIZES:
        raise KeyError(f"unknown dataset {name!r}; datasets: {', '.join(SIZES)}")
    sizes = SIZES[name]
    return sizes[0] if sizes else None
