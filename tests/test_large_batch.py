"""Large-batch chapter (Keskar et al. 2017): identical SB/LB initial weights, LB = 10% of the data
at the paper's ratio, training to a train-accuracy gate (resumed runs stop where uninterrupted
ones do), the runner's payload, verdicts only at minima, clear errors for missing data, the
flat-versus-sharp sketch and the configs of every profile."""

from __future__ import annotations

import dataclasses
import json
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lrgap_nb import data, results, stats, train
from lrgap_nb.chapters import chapter_config
from lrgap_nb.chapters.large_batch import runs as lb
from lrgap_nb.chapters.large_batch import sketch, tables
from lrgap_nb.params import ParameterError


def write_idx_mnist(root: Path, n_train: int, n_test: int) -> None:
    """MNIST's IDX files (big-endian header, then uint8 data) under root/MNIST/raw/."""
    rng = np.random.default_rng(0)
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28), dtype=np.uint8)
        images[np.arange(n), 2 * labels.astype(int), :] = 255  # a learnable stripe per class
        header = struct.pack(">IIII", 0x0803, n, 28, 28)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(header + images.tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
            struct.pack(">II", 0x0801, n) + labels.tobytes()
        )


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny MNIST (200 train, 80 test) in LRGAP_DATA and an empty cache under tmp_path."""
    write_idx_mnist(tmp_path / "data", n_train=200, n_test=80)
    monkeypatch.setenv("LRGAP_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LRGAP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LRGAP_DEVICE", "cpu")
    train._load_splits.cache_clear()
    return tmp_path


TINY = lb.SbLbConfig(
    model="f1",
    dataset="mnist",
    small_batch=10,
    large_batch=100,  # ratio 10, both divide the 200 training images
    model_width=16,
    gate=0.5,
    max_epochs=4,
    probe_size=64,
    bn_batch=32,
    subspace_dim=5,
    lbfgs_iters=3,
    random_starts=1,
    power_iters=5,
    interpolation_points=7,  # alphas -1, -0.5, ..., 2: the grid holds 0 (SB) and 1 (LB)
    line_size=64,
)


def _parameters(model: torch.nn.Module) -> torch.Tensor:
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach()


def test_sb_and_lb_start_from_identical_weights(env: Path) -> None:
    """With a vanishing LR, training leaves the weights at the start: SB's equal LB's."""
    frozen = dataclasses.replace(TINY, lr=1e-30)
    sb, lb_ = (frozen.train_config(b, epochs=1) for b in (frozen.small_batch, frozen.large_batch))
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


def test_gated_training_stops_at_the_first_epoch_past_the_gate(env: Path) -> None:
    tcfg = TINY.train_config(TINY.small_batch)
    result = train.train(tcfg, show_progress=False, stop=lb.gate_reached(TINY.gate))
    accuracies = list(result.history["train_eval_acc"])
    first = next(i for i, a in enumerate(accuracies) if a >= TINY.gate)
    assert len(accuracies) == first + 1 < TINY.max_epochs  # stopped there, before the cap
    assert all(a < TINY.gate for a in accuracies[:-1])


def test_resumed_gated_run_equals_uninterrupted(env: Path) -> None:
    """Killed after each epoch and started again, it ends where the uninterrupted run ends."""
    tcfg = TINY.train_config(TINY.small_batch)
    stop = lb.gate_reached(TINY.gate)
    whole = train.train(tcfg, show_progress=False, stop=stop)
    whole.checkpoint.unlink()

    class Killed(Exception):
        pass

    def kill(epoch, row):
        raise Killed

    for _ in range(TINY.max_epochs):
        try:
            resumed = train.train(tcfg, show_progress=False, stop=stop, callback=kill)
            break
        except Killed:
            continue
    pd.testing.assert_frame_equal(resumed.history, whole.history)


def test_runner_payload_holds_everything_the_chapter_needs(env: Path) -> None:
    payload = lb.sb_lb_payload(TINY)
    assert payload["train_size"] == 200
    for label, batch in (("SB", 10), ("LB", 100)):
        run = payload[label]
        assert run["batch_size"] == batch
        assert run["steps"] == run["epochs"] * (200 // batch)
        assert [h["epoch"] for h in run["history"]] == list(range(1, run["epochs"] + 1))
        assert run["reached_gate"] == (run["train_acc"] >= TINY.gate)
        assert run["train_acc"] == run["history"][-1]["train_eval_acc"]
    if payload["SB"]["epochs"] < TINY.max_epochs:  # Hoffer's control: LB for SB's epochs
        assert payload["LB_budget"]["epochs"] == payload["SB"]["epochs"]
        assert payload["LB_budget"]["grad_norm"] > 0
    sharp = payload["sharpness"]
    assert {(s["batch"], s["space"], s["epsilon"]) for s in sharp} == {
        (b, sp, e) for b in ("SB", "LB") for sp in ("full", "subspace") for e in (1e-3, 5e-4)
    }
    assert all(s["phi"] >= 0 and s["fmax"] >= s["f0"] and s["grad_norm"] > 0 for s in sharp)
    assert all(np.isfinite(v) for v in payload["eigenvalue"].values())
    rows = payload["interpolation"]
    assert len(rows) == 7 * 2 * 2  # alphas x (train, test) x (batch, recomputed BN)
    # The line's end points are the two solutions: with batch statistics, the same loss as phi's f0.
    f0 = {s["batch"]: s["f0"] for s in sharp if s["space"] == "full"}
    at = {(r["alpha"], r["set"], r["bn"]): r["loss"] for r in rows}
    assert at[(0.0, "train", "batch")] == pytest.approx(f0["SB"], rel=1e-5)
    assert at[(1.0, "train", "batch")] == pytest.approx(f0["LB"], rel=1e-5)
    assert payload["probe"]["probe_examples"] == 64
    assert not list((env / "cache" / "checkpoints").glob("*.pt"))  # weights do not travel


def test_sharpness_verdict_needs_the_gate_and_noise_and_factor() -> None:
    acc = pd.DataFrame(
        {
            "network": ["f1"] * 3,
            "optimizer": ["adam"] * 3,
            "seed": [0, 1, 2],
            "gate": [99.0] * 3,
            "train SB": [99.5, 99.6, 99.4],
            "train LB": [99.2, 98.1, 99.3],
            "SB reached gate": [True] * 3,
            "LB reached gate": [True, False, True],
        }
    )
    unmet = tables.gate_precondition(acc)
    assert unmet.label == stats.PRECONDITION_NOT_MET and "LB seed 1 at 98.10%" in unmet.reason
    assert (
        tables.sharper_verdict([1, 1, 1], [50, 60, 70], unmet).label == stats.PRECONDITION_NOT_MET
    )
    assert tables.sharper_verdict([1.0, 1.1, 0.9], [50, 60, 70]).label == stats.REPRODUCED
    # Consistently sharper, but only by 1.3x: beyond noise, below the stated factor of 2.
    assert tables.sharper_verdict([1.0, 2.0, 3.0], [1.3, 2.6, 3.9]).label == stats.TOO_SMALL
    assert tables.sharper_verdict([1.0, 2.0, 3.0], [3.0, 1.0, 2.5]).label == stats.INCONCLUSIVE


def test_sketch_minima_have_the_claimed_curvatures() -> None:
    h = 1e-4
    curvature = {}
    for name, well in (("flat", sketch.FLAT_WELL), ("sharp", sketch.SHARP_WELL)):
        c = well[0]
        f = sketch.sketch_loss
        grad = (f(c + h) - f(c - h)) / (2 * h)
        second = (f(c + h) - 2 * f(c) + f(c - h)) / h**2
        assert abs(grad) < 1e-6  # the well's centre is the minimum
        assert second == pytest.approx(sketch.well_curvature(well), rel=1e-3)
        curvature[name] = second
    assert curvature["sharp"] / curvature["flat"] == pytest.approx((0.6 / 0.15) ** 2, rel=1e-3)
    rise = {
        name: sketch.sketch_loss(w[0], sketch.SKETCH_SHIFT) - sketch.sketch_loss(w[0])
        for name, w in (("flat", sketch.FLAT_WELL), ("sharp", sketch.SHARP_WELL))
    }
    assert sketch.sketch_loss(sketch.FLAT_WELL[0]) == pytest.approx(
        sketch.sketch_loss(sketch.SHARP_WELL[0]), abs=1e-6
    )
    assert rise["sharp"] > 10 * rise["flat"]  # equal depth, but the test curve rises more


@pytest.fixture
def no_local_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty LRGAP_DATA with downloads off, as on an offline machine."""
    monkeypatch.setenv("LRGAP_DATA", str(tmp_path))
    monkeypatch.setenv("LRGAP_DOWNLOAD", "0")
    return tmp_path


def test_missing_data_raises_a_clear_error(no_local_data: Path) -> None:
    cfg = chapter_config("large_batch", profile="overnight")
    with pytest.raises(data.DataNotFoundError, match=r"MNIST.*train-images-idx3-ubyte"):
        lb.chapter_runs(cfg)


def _present(root: Path, *datasets: str) -> None:
    for name in datasets:
        (root / lb.DATA_FILES[name]).parent.mkdir(parents=True, exist_ok=True)
        (root / lb.DATA_FILES[name]).touch()


def test_overnight_profile_keeps_the_papers_ratio(no_local_data: Path) -> None:
    _present(no_local_data, "mnist", "cifar10_subset")
    configs = lb.pair_configs(chapter_config("large_batch", profile="overnight"))
    f1 = [c for c in configs["main"] if c.model == "f1"]
    c1 = [c for c in configs["main"] if c.model == "c1"]
    assert len(f1) == len(c1) >= 3
    for c in f1:
        assert (c.subset, c.small_batch, c.large_batch, c.lr) == (None, 256, 6000, 1e-3)
    for c in c1:
        assert (c.dataset, c.subset, c.small_batch, c.large_batch) == (
            "cifar10_subset",
            5000,
            25,
            500,
        )
        assert c.subset % c.small_batch == c.subset % c.large_batch == 0 and c.drop_last
    for c in f1 + c1:
        assert c.large_batch / c.small_batch >= 19.5  # the paper's ratio (256 vs 5,000 / 6,000)
        assert (c.gate, c.budget_control, c.probes, c.epsilons) == (0.99, True, True, (1e-3, 5e-4))
        assert c.probe_size >= 5000 and c.subspace_dim == 100 and c.lbfgs_iters == 10
    assert [c.interpolation_points for c in f1] == [25, 0, 0]
    assert {(c.optimizer, c.small_batch, c.large_batch) for c in configs["optimizers"]} == {
        ("sgd", 256, 6000),
        ("adagrad", 256, 6000),
    }
    assert all(not c.probes and not c.budget_control for c in configs["optimizers"])


def test_full_profile_runs_keskar_protocol(no_local_data: Path) -> None:
    _present(no_local_data, "mnist", "cifar10", "cifar100")
    cfg = chapter_config("large_batch", profile="full")
    configs = lb.pair_configs(cfg)
    main = configs["main"]
    assert {c.model for c in main} == {"f1", "c1", "c2", "c3", "c4"}  # F2 needs TIMIT features
    assert len(main) == 5 * 5  # five networks, five seeds, as the paper
    expected_lb = {"mnist": 6000, "cifar10": 5000, "cifar100": 5000}
    for c in main:
        assert c.large_batch == expected_lb[c.dataset] and c.small_batch == 256
        assert c.subset is None and c.model_width is None and c.probe_size is None
        tcfg = c.train_config(c.large_batch)
        assert (tcfg.normalise, tcfg.augment, tcfg.weight_decay) == ("unit", False, 0.0)
    assert {c.model for c in configs["networks"]} == {"resnet44", "vgg16_bn", "wrn16_4"}
    assert len(lb.chapter_runs(cfg)) == 25 + 2 * 3 + 3 * 3


def test_unknown_network_fails_before_any_work() -> None:
    with pytest.raises(ParameterError, match="'networks'"):
        chapter_config("large_batch", profile="smoke", networks=("f9",))


def test_probes_killed_midway_resume_from_the_finished_steps(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill during the eigenvalue keeps every phi already measured; the resumed run measures
    none again and returns what an uninterrupted run returns (C1's probes take hours)."""
    from lrgap_nb import results

    whole = json.loads(results._canonical(lb.sb_lb_payload(TINY)))
    monkeypatch.setenv("LRGAP_CACHE", str(env / "second_cache"))

    class Killed(Exception):
        pass

    def killed(*args, **kwargs):
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(lb.sharpness, "top_hessian_eigenvalue", killed)
        with pytest.raises(Killed):
            lb.sb_lb_payload(TINY)
    steps = lb.probe_steps(TINY)
    assert sorted(steps.done) == sorted(
        f"phi {b} {s} {e!r}"
        for b in ("SB", "LB")
        for s in ("full", "subspace")
        for e in (1e-3, 5e-4)
    )
    measured = []
    original = lb.sharpness.keskar_sharpness
    monkeypatch.setattr(
        lb.sharpness, "keskar_sharpness", lambda *a, **k: measured.append(1) or original(*a, **k)
    )
    resumed = json.loads(results._canonical(lb.sb_lb_payload(TINY)))
    assert measured == []
    assert resumed == whole
    assert not steps.path.exists()  # the finished run leaves no partial probes behind


def test_wall_times_count_every_epoch_a_pair_trained(isolated_cache, empty_committed) -> None:
    """A pair's epochs are SB's, LB's and the budget control's, not a history's length (a pair's
    payload has none at the top level)."""
    from lrgap_nb import results
    from lrgap_nb.runs import wall_times

    payload = {"SB": {"epochs": 4}, "LB": {"epochs": 9}, "LB_budget": {"epochs": 4}}
    done = {TINY: results.cached(lb.KIND, TINY, lambda: payload, lb.PROTOCOL)}
    table = wall_times({"main": {("f1", "adam", 0): TINY}}, done, epochs=tables.epochs_trained)
    assert table["key"].tolist() == ["f1, adam, 0", ""]
    assert table["epochs"].tolist() == [17, 17]
    assert tables.epochs_trained({"SB": {"epochs": 4}, "LB": {"epochs": 9}}) == 13


def test_setup_note_says_when_a_network_is_narrower_than_the_papers() -> None:
    from types import SimpleNamespace

    def run(model: str, width: int | None) -> SimpleNamespace:
        config = dataclasses.asdict(dataclasses.replace(TINY, model=model, model_width=width))
        pair = {"batch_size": 10, "epochs": 2, "steps": 40, "reached_gate": True}
        pair |= {"train_acc": 1.0, "test_acc": 0.5}
        return SimpleNamespace(config=config, payload={"train_size": 200, "SB": pair, "LB": pair})

    note = tables.setup_note(tables.accuracy_frame([run("f1", None), run("c1", 32)]))
    first, second = note.splitlines()
    assert "narrower" not in first and first.startswith("- F1 (adam)")
    assert second.startswith("- C1 at width 32 (narrower than the paper's) (adam)")


def test_the_claims_scale_names_a_narrowed_network() -> None:
    cfg = chapter_config("large_batch", "overnight")
    acc = pd.DataFrame(
        {
            "network": ["F1", "C1", "C2"],
            "data": ["mnist (60,000 train)", "cifar10_subset (5,000 train)", "-"],
            "batches SB / LB": ["256 / 6000", "25 / 500", None],
            "seeds": [3, 3, 0],
        }
    )
    assert tables.scale_note(cfg, acc) == (
        "overnight: F1 on mnist (60,000 train), batches 256 / 6000, 3 seeds; "
        f"C1 at width {cfg.conv_width} on cifar10_subset (5,000 train), batches 25 / 500, 3 seeds"
    )


def test_papers_single_start_phi_is_added_and_leaves_the_rest_unchanged(env: Path) -> None:
    """paper_phi: Keskar's phi from the solution alone, f on all 200 training images; the rest of
    the payload is what the run computes without it (the option sits outside the key too)."""
    short = dataclasses.replace(
        TINY, max_epochs=2, budget_control=False, interpolation_points=0, power_iters=2
    )
    plain = json.loads(results._canonical(lb.sb_lb_payload(short)))
    with_phi = lb.sb_lb_payload(dataclasses.replace(short, paper_phi=True))
    with_phi = json.loads(results._canonical(with_phi))
    rows = with_phi.pop("paper_phi")
    assert with_phi == plain
    assert {(r["batch"], r["epsilon"]) for r in rows} == {
        (b, e) for b in ("SB", "LB") for e in short.epsilons
    }
    assert all(r["examples"] == 200 and r["iterations"] <= short.lbfgs_iters for r in rows)
    assert all(r["phi"] >= 0 and r["fmax"] >= r["f0"] for r in rows)
    assert "paper_phi" not in results.config_dict(TINY)
