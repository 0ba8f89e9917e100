"""Large-batch chapter: identical SB/LB initial weights, LB = 10% of the data, the runner's payload,
the flat-versus-sharp sketch's curvatures and the configs of every profile (Keskar et al. 2017)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from test_data import write_mnist

from lrgap_nb import large_batch as lb
from lrgap_nb import train
from lrgap_nb.chapters import chapter_config
from lrgap_nb.params import ParameterError


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny MNIST (200 train, 80 test) in LRGAP_DATA and an empty cache under tmp_path."""
    write_mnist(tmp_path / "data", n_train=200, n_test=80)
    monkeypatch.setenv("LRGAP_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LRGAP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LRGAP_DEVICE", "cpu")
    return tmp_path


TINY = lb.SbLbConfig(
    model="f1",
    dataset="mnist",
    large_batch=20,  # 10% of the fixture's 200 training images
    small_batch=8,
    epochs=2,
    model_width=16,
    train_eval_size=100,
    probe_size=64,
    line_size=64,
    subspace_dim=5,
    lbfgs_iters=3,
    power_iters=5,
    interpolation_points=7,  # alphas -1, -0.5, ..., 2: the grid holds 0 (SB) and 1 (LB)
)


def _parameters(model: torch.nn.Module) -> torch.Tensor:
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach()


def test_sb_and_lb_start_from_identical_weights(env: Path) -> None:
    """With a vanishing LR, training leaves the weights at the start: SB's equal LB's."""
    frozen = dataclasses.replace(TINY, lr=1e-30)
    sb, lb_ = frozen.train_config(frozen.small_batch), frozen.train_config(frozen.large_batch)
    assert sb.batch_size != lb_.batch_size and sb.seed == lb_.seed
    ends = []
    for tcfg in (sb, lb_):
        train.train(tcfg, show_progress=False)
        ends.append(_parameters(train.load_model(tcfg)))
    start = _parameters(lb.initial_model(sb, train.load_data(sb)))
    torch.testing.assert_close(ends[0], ends[1], rtol=0, atol=1e-20)
    torch.testing.assert_close(ends[0], start, rtol=0, atol=1e-20)
    other_seed = dataclasses.replace(sb, seed=1)
    assert not torch.equal(start, _parameters(lb.initial_model(other_seed, train.load_data(sb))))


def test_runner_payload_holds_everything_the_chapter_needs(env: Path) -> None:
    payload = lb.sb_lb_payload(TINY)
    assert payload["train_size"] == 200
    for label, batch in (("SB", 8), ("LB", 20)):
        run = payload[label]
        assert run["batch_size"] == batch and run["steps"] == 2 * -(-200 // batch)
        assert [h["epoch"] for h in run["history"]] == [1, 2]
        assert {"train_acc", "test_acc", "train_loss", "test_loss"} <= set(run)
    sharp = payload["sharpness"]
    assert {(s["batch"], s["space"], s["epsilon"]) for s in sharp} == {
        (b, sp, e) for b in ("SB", "LB") for sp in ("full", "subspace") for e in (1e-3, 5e-4)
    }
    assert all(s["phi"] >= 0 and s["fmax"] >= s["f0"] for s in sharp)
    assert all(np.isfinite(v) for v in payload["eigenvalue"].values())
    rows = payload["interpolation"]
    assert len(rows) == 7 * 2 * 2  # alphas x (train, test) x (batch, recomputed BN)
    # The line's end points are the two solutions: with batch statistics, the same loss as phi's f0.
    f0 = {(s["batch"]): s["f0"] for s in sharp if s["space"] == "full"}
    at = {(r["alpha"], r["set"], r["bn"]): r["loss"] for r in rows}
    assert at[(0.0, "train", "batch")] == pytest.approx(f0["SB"], rel=1e-5)
    assert at[(1.0, "train", "batch")] == pytest.approx(f0["LB"], rel=1e-5)
    assert payload["probe"]["probe_examples"] == 64
    assert not list((env / "cache" / "checkpoints").glob("*.pt"))  # weights do not travel


def test_sketch_minima_have_the_claimed_curvatures() -> None:
    h = 1e-4
    curvature = {}
    for name, well in (("flat", lb.FLAT_WELL), ("sharp", lb.SHARP_WELL)):
        c = well[0]
        grad = (lb.sketch_loss(c + h) - lb.sketch_loss(c - h)) / (2 * h)
        second = (lb.sketch_loss(c + h) - 2 * lb.sketch_loss(c) + lb.sketch_loss(c - h)) / h**2
        assert abs(grad) < 1e-6  # the well's centre is the minimum
        assert second == pytest.approx(lb.well_curvature(well), rel=1e-3)
        curvature[name] = second
    assert curvature["sharp"] / curvature["flat"] == pytest.approx((0.6 / 0.15) ** 2, rel=1e-3)
    # Equal depth, but the shifted (test) curve rises much more at the sharp minimum.
    rise = {
        name: lb.sketch_loss(w[0], lb.SKETCH_SHIFT) - lb.sketch_loss(w[0])
        for name, w in (("flat", lb.FLAT_WELL), ("sharp", lb.SHARP_WELL))
    }
    assert lb.sketch_loss(lb.FLAT_WELL[0]) == pytest.approx(
        lb.sketch_loss(lb.SHARP_WELL[0]), abs=1e-6
    )
    assert rise["sharp"] > 10 * rise["flat"]


@pytest.fixture
def no_local_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty LRGAP_DATA with downloads allowed: every dataset but TIMIT counts as obtainable."""
    monkeypatch.setenv("LRGAP_DATA", str(tmp_path))
    monkeypatch.setenv("LRGAP_DOWNLOAD", "1")


def test_full_profile_runs_keskar_protocol(no_local_data: None) -> None:
    cfg = chapter_config("large_batch", profile="full")
    configs = lb.pair_configs(cfg)
    main = configs["main"]
    assert {c.model for c in main} == {"f1", "c1", "c2", "c3", "c4"}  # F2 needs TIMIT features
    assert len(main) == 5 * 5  # five networks, five seeds, as the paper
    expected_lb = {"mnist": 6000, "cifar10": 5000, "cifar100": 5000}
    for c in main:
        assert c.large_batch == expected_lb[c.dataset] == lb.TRAIN_SIZES[c.dataset] // 10
        assert (c.small_batch, c.optimizer, c.lr, c.epochs) == (256, "adam", 1e-3, 100)
        assert c.subset is None and c.model_width is None and c.probe_size is None
        assert (c.subspace_dim, c.lbfgs_iters, c.epsilons) == (100, 10, (1e-3, 5e-4))
        tcfg = c.train_config(c.large_batch)
        assert (tcfg.normalise, tcfg.augment, tcfg.weight_decay) == ("unit", False, 0.0)
    assert [c.interpolation_points for c in main if c.model == "f1"] == [25, 0, 0, 0, 0]
    assert {(c.model, c.optimizer) for c in configs["optimizers"]} == {
        ("f1", "sgd"),
        ("f1", "adagrad"),
    }
    assert {c.model for c in configs["networks"]} == {"resnet44", "vgg16_bn", "wrn16_4"}
    assert all(not c.probes for group in ("optimizers", "networks") for c in configs[group])
    assert len(lb.chapter_runs(cfg)) == 25 + 2 * 3 + 3 * 3


def test_cpu_and_smoke_profiles(no_local_data: None, tmp_path: Path) -> None:
    (tmp_path / "cifar-10-subset").mkdir()
    (tmp_path / "cifar-10-subset" / "cifar10_subset.npz").touch()  # present: C1 runs at cpu
    cpu = lb.pair_configs(chapter_config("large_batch", profile="cpu"))["main"]
    f1 = [c for c in cpu if c.model == "f1"]
    c1 = [c for c in cpu if c.model == "c1"]
    assert len(f1) == len(c1) >= 3
    assert all(c.subset is None and c.large_batch == 6000 and c.model_width is None for c in f1)
    assert all(c.dataset == "cifar10_subset" and c.large_batch == 508 for c in c1)
    assert lb.large_batch_size("cifar10_subset") == 508
    smoke = chapter_config("large_batch", profile="smoke")
    f1_smoke = next(c for c in lb.pair_configs(smoke)["main"] if c.model == "f1")
    assert (
        f1_smoke.large_batch == smoke.train_subset // 10 and f1_smoke.subset == smoke.train_subset
    )
    with pytest.raises(ParameterError, match="'networks'"):
        chapter_config("large_batch", profile="smoke", networks=("f9",))
