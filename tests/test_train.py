"""Training: config validation, schedules, determinism, resume equals uninterrupted, the cache."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest
import torch

from lrgap_nb import data, schedules, train
from lrgap_nb.train import TrainConfig


@pytest.fixture
def env(data_files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny MNIST in LRGAP_DATA and an empty results cache, both under tmp_path."""
    data_files.mnist(tmp_path / "data", n_train=96, n_test=32)
    monkeypatch.setenv("LRGAP_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LRGAP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LRGAP_DEVICE", "cpu")
    return tmp_path


# A small F1 (width 32) with the features resume has to restore: momentum, iid noise that
# decays, augmentation draws, a milestone anneal and a loss-threshold anneal.
TINY = TrainConfig(
    model="f1",
    dataset="mnist",
    model_width=32,
    epochs=4,
    batch_size=16,
    lr=0.05,
    nesterov=True,
    lr_milestones=(3,),
    lr_factors=(0.5,),
    anneal_below_loss=50.0,
    anneal_factor=0.2,
    noise=0.1,
    noise_mode="iid",
    noise_decay=0.9,
    augment=True,
    eval_sets=("test", "train"),
)


def test_config_is_json_and_validated() -> None:
    assert json.loads(json.dumps(dataclasses.asdict(TINY)))["lr_milestones"] == [3]
    assert TrainConfig("f1", "mnist", lr=1).lr == 1.0 and isinstance(
        TrainConfig("f1", "mnist", lr=1).lr, float
    )
    with pytest.raises(ValueError, match="'lr'"):
        TrainConfig("f1", "mnist", lr=-0.1)
    with pytest.raises(ValueError, match="'batch_size'"):
        TrainConfig("f1", "mnist", batch_size=0)
    with pytest.raises(ValueError, match="'optimizer'"):
        TrainConfig("f1", "mnist", optimizer="lbfgs")
    with pytest.raises(ValueError, match="unknown model 'f9'"):
        TrainConfig("f9", "mnist")
    with pytest.raises(ValueError, match="unknown dataset"):
        TrainConfig("f1", "imagenet")
    with pytest.raises(ValueError, match="lr_factors"):
        TrainConfig("f1", "mnist", lr_milestones=(1, 2, 3), lr_factors=(0.1, 0.1))
    with pytest.raises(ValueError, match="noise_milestones"):
        TrainConfig("f1", "mnist", noise_factors=(0.5,))


def test_schedules() -> None:
    official = schedules.multi_step(0.1, (59, 119, 149), (0.2,))
    assert [official(t) for t in (0, 58)] == [0.1, 0.1]
    assert official(59) == pytest.approx(0.02) and official(199) == pytest.approx(0.1 * 0.2**3)
    assert schedules.exponential(2.0, 0.5)(3) == 0.25
    with pytest.raises(ValueError, match="increasing"):
        schedules.multi_step(1.0, (5, 2), (0.1,))
    history = [{"train_loss": 2.0}, {"train_loss": 0.5}, {"train_loss": 0.4}]
    cfg = TrainConfig("f1", "mnist", lr=1.0, anneal_below_loss=1.0, anneal_factor=0.1)
    assert [train.lr_at(cfg, e, history) for e in range(4)] == [1.0, 1.0, 0.1, 0.1]
    noisy = TrainConfig("f1", "mnist", noise=1.0, noise_milestones=(2,), noise_factors=(0.5,))
    assert [train.noise_at(noisy, e) for e in range(3)] == [1.0, 1.0, 0.5]


def test_two_cpu_runs_are_bit_identical(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = dataclasses.replace(TINY, epochs=2)
    first = train.train(cfg, show_progress=False)
    monkeypatch.setenv("LRGAP_CACHE", str(env / "cache2"))
    second = train.train(cfg, show_progress=False)
    pd.testing.assert_frame_equal(first.history, second.history, check_exact=True)
    a, b = (torch.load(r.weights, weights_only=True)["model"] for r in (first, second))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert list(first.history.columns) == [
        "epoch", "lr", "noise", "train_loss", "train_acc",
        "test_loss", "test_acc", "train_eval_loss", "train_eval_acc",
    ]  # fmt: skip
    assert first.history["lr"].tolist() == [0.05, 0.05 * 0.2]  # loss < 50 after epoch 1


def test_resume_after_a_kill_equals_uninterrupted(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = train.train(TINY, show_progress=False)

    monkeypatch.setenv("LRGAP_CACHE", str(env / "killed"))

    def kill(epoch: int, row: dict) -> None:
        if epoch == 1:
            raise KeyboardInterrupt("killed after epoch 2")

    with pytest.raises(KeyboardInterrupt):
        train.train(TINY, callback=kill, show_progress=False)
    saved = torch.load(train.checkpoint_path(TINY), weights_only=True)
    assert len(saved["history"]) == 2
    resumed = train.train(TINY, show_progress=False)
    pd.testing.assert_frame_equal(whole.history, resumed.history, check_exact=True)
    assert resumed.history["lr"].tolist() == pytest.approx([0.05, 0.01, 0.01, 0.005])
    assert resumed.history["noise"].tolist() == pytest.approx([0.1 * 0.9**e for e in range(4)])


def test_missing_data_folder_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LRGAP_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(data.DataNotFoundError, match="nowhere"):
        train.train(TrainConfig("f1", "mnist"), show_progress=False)


def test_unknown_eval_split_fails_clearly(env: Path) -> None:
    with pytest.raises(ValueError, match="no split"):
        train.train(TrainConfig("f1", "mnist", eval_sets=("valid",)), show_progress=False)


def test_run_cached_stores_history_and_weights(env: Path) -> None:
    cfg = TrainConfig("f1", "mnist", model_width=16, epochs=2, optimizer="adam", lr=1e-3)
    result = train.run_cached(cfg)
    table = train.history_frame(result)
    assert table["epoch"].tolist() == [1, 2] and result.payload["final"]["epoch"] == 2
    assert not train.checkpoint_path(cfg).exists()  # deleted once cached; weights kept
    assert train.run_cached(cfg).path == result.path  # a cache hit
    net = train.load_model(cfg)
    test = train.load_data(cfg)["test"]
    loss, acc = train.evaluate(net, test, 1000, torch.device("cpu"))
    assert acc == table["test_acc"].iloc[-1] and loss == pytest.approx(table["test_loss"].iloc[-1])


def test_adagrad_conv_net_with_shared_noise_and_batch_bn(
    data_files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torchvision.datasets.cifar as tv_cifar

    monkeypatch.setattr(tv_cifar, "check_integrity", lambda fpath, md5=None: Path(fpath).is_file())
    data_files.cifar10(tmp_path, per_batch=8)
    monkeypatch.setenv("LRGAP_DATA", str(tmp_path))
    monkeypatch.setenv("LRGAP_CACHE", str(tmp_path / "cache"))
    cfg = TrainConfig(
        "wrn16_1",
        "cifar10",
        subset=32,
        subset_mode="random",
        batch_size=16,
        optimizer="adagrad",
        lr=0.01,
        noise=0.05,
        augment=True,
        bn_mode="batch",
        device="cpu",
    )
    result = train.train(cfg, save_weights=False, show_progress=False)
    assert result.weights is None and result.history.notna().all().all()
    assert result.final["train_acc"] * 32 == round(result.final["train_acc"] * 32)
