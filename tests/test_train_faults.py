"""Training checkpoints under faults: damaged or unreadable files are named, moved aside and
retrained, never silently reused."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
import torch

from lrgap_nb import train
from lrgap_nb.train import TrainConfig

pytestmark = pytest.mark.usefixtures("isolated_root")

# --- checkpoints ------------------------------------------------------------------------------


TINY = TrainConfig("f1", "mnist", model_width=8, epochs=2, batch_size=16, device="cpu")


def stop_after_first_epoch(epoch: int, row: dict) -> None:
    if epoch == 0:
        raise KeyboardInterrupt("killed after epoch 1")


def save_without_history(path: Path) -> None:
    torch.save({"model": {}}, path)


CHECKPOINT_DAMAGE = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "empty": lambda p: p.write_bytes(b""),
    "not a checkpoint": lambda p: p.write_bytes(b"PK\3\4 not really a zip"),
    "missing keys": save_without_history,
}


@pytest.mark.parametrize("damage", CHECKPOINT_DAMAGE, ids=str)
def test_damaged_checkpoint_is_named_moved_aside_and_retrained(
    data_files, isolated_root, monkeypatch, damage
):
    data_files.mnist(isolated_root / "data", 48, 48)
    monkeypatch.setenv("LRGAP_DATA", str(isolated_root / "data"))
    whole = train.train(TINY, show_progress=False, save_weights=False)
    monkeypatch.setenv("LRGAP_CACHE", str(isolated_root / "killed"))
    with pytest.raises(KeyboardInterrupt):
        train.train(TINY, callback=stop_after_first_epoch, show_progress=False)
    checkpoint = train.checkpoint_path(TINY)
    CHECKPOINT_DAMAGE[damage](checkpoint)
    damaged = checkpoint.read_bytes()
    with pytest.warns(UserWarning, match=f"checkpoint {checkpoint} is unreadable") as caught:
        again = train.train(TINY, show_progress=False, save_weights=False)
    assert "training this run from scratch" in str(caught[0].message)
    pd.testing.assert_frame_equal(again.history, whole.history, check_exact=True)
    (kept,) = checkpoint.parent.glob("*.corrupt-*")
    assert kept.read_bytes() == damaged


def test_unreadable_weights_name_the_file(data_files, isolated_root, monkeypatch):
    data_files.mnist(isolated_root / "data", 48, 48)
    monkeypatch.setenv("LRGAP_DATA", str(isolated_root / "data"))
    config = dataclasses.replace(TINY, epochs=1)
    train.run_cached(config)
    weights = train.weights_path(config)
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(RuntimeError, match=f"trained weights {weights} are unreadable"):
        train.load_model(config)
