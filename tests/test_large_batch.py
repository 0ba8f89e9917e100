"""Large-batch chapter (Keskar et al. 2017): identical SB/LB initial weights, LB = 10% of the data
at the paper's ratio, training to a train-accuracy gate (resumed runs stop where uninterrupted
ones do), the runner's payload, verdicts only at minima, clear errors for missing data, the
flat-versus-sharp sketch and the configs of every profile."""

from __future__ import annotations

import dataclasses
import json
import math
import struct
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from lrgap_nb import results, stats, train
from lrgap_nb.book import run as book_run
from lrgap_nb.chapters import chapter_config
from lrgap_nb.chapters.large_batch import claims as lb_claims
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


def pair_result(
    model: str = "f1",
    seed: int = 0,
    test: tuple[float, float] = (0.98, 0.97),
    train_acc: float = 0.995,
    gate: float = 0.99,
    lb_reached: bool = True,
    optimizer: str = "adam",
    final_loss: float = 0.05,
) -> SimpleNamespace:
    """A finished run as the chapter reads it: config and payload of SB and LB."""
    config = dataclasses.asdict(
        dataclasses.replace(TINY, model=model, seed=seed, gate=gate, optimizer=optimizer)
    )
    payload = {"train_size": 200, "init": {"train_loss": 2.3, "train_acc": 0.1}}
    for label, batch, acc in (("SB", 10, test[0]), ("LB", 100, test[1])):
        history = [{"train_eval_loss": 1.0}, {"train_eval_loss": final_loss}]
        reached = label == "SB" or lb_reached
        payload[label] = {"batch_size": batch, "epochs": 2, "steps": 40, "history": history}
        payload[label] |= {"reached_gate": reached, "train_acc": train_acc, "test_acc": acc}
    return SimpleNamespace(config=config, payload=payload)


def test_a_profile_gate_below_the_papers_never_judges_the_claim() -> None:
    """A smoke run reaches its own 30% gate at 33% train accuracy: the claim's premise is the
    paper's 99%, so LB testing worse by far still reads "precondition not met"."""
    cfg = chapter_config("large_batch", "smoke")
    results = [pair_result(seed=s, test=(0.33, 0.29), train_acc=0.33, gate=0.3) for s in range(3)]
    claim = lb_claims.lb_tests_worse(cfg, tables.accuracy_frame(results))
    assert claim.verdict.label == stats.PRECONDITION_NOT_MET
    assert claim.verdict.reason == "train accuracy (lowest run): 33% < 99%"
    passed = [pair_result(seed=s, test=(0.98, 0.96 + 0.001 * s)) for s in range(3)]
    assert lb_claims.lb_tests_worse(cfg, tables.accuracy_frame(passed)).label == stats.REPRODUCED


def test_a_run_stopped_at_the_epoch_cap_fails_its_protocol() -> None:
    cfg = chapter_config("large_batch", "overnight")
    results = [pair_result(seed=0, lb_reached=False), pair_result(seed=1, final_loss=2.4)]
    claim = lb_claims.lb_tests_worse(cfg, tables.accuracy_frame(results))
    assert claim.verdict.label == stats.PRECONDITION_NOT_MET
    assert "LB seed 0: stopped at the 4-epoch cap at 99.50% train accuracy" in claim.verdict.reason
    assert "SB seed 1: loss never fell" in claim.verdict.reason


def test_sharpness_claims_read_the_log_ratio_against_the_factor() -> None:
    cfg = chapter_config("large_batch", "overnight")
    runs = tables.accuracy_frame([pair_result(seed=s) for s in range(3)])

    def sharper(sb: list[float], lb: list[float]) -> str:
        rows = [
            {"network": "f1", "seed": s, "batch": b, "space": "full", "epsilon": 1e-3, "phi": v}
            for b, values in (("SB", sb), ("LB", lb))
            for s, v in enumerate(values)
        ]
        return lb_claims.lb_sharper(cfg, runs, pd.DataFrame(rows), "full", 1e-3).label

    assert sharper([1.0, 1.1, 0.9], [50, 60, 70]) == stats.REPRODUCED
    # Consistently sharper, but only by 1.3x: clear of zero, below the stated factor of 2.
    assert sharper([1.0, 2.0, 3.0], [1.3, 2.6, 3.9]) == stats.TOO_SMALL
    assert sharper([1.0, 2.0, 3.0], [3.0, 1.0, 2.5]) == stats.INCONCLUSIVE


def test_seeds_added_after_a_verdict_make_a_changed_verdict_exploratory() -> None:
    cfg = dataclasses.replace(
        chapter_config("large_batch", "overnight"), seeds=(0, 1, 2), f1_seeds=tuple(range(6))
    )
    lb = [0.97, 0.979, 0.965, 0.970, 0.971, 0.969]  # noisy in the first three seeds
    frame = tables.accuracy_frame([pair_result(seed=s, test=(0.98, lb[s])) for s in range(6)])
    empty = pd.DataFrame(columns=["network", "seed", "space", "SB", "LB"])
    gap = lb_claims.claims(cfg, frame, empty, empty)[0]
    assert gap.verdict.label == stats.REPRODUCED and gap.seeds == list(range(6))
    assert gap.label == "reproduced (exploratory)" and "seeds 3, 4, 5" in gap.exploratory
    assert lb_claims.judged(cfg, frame[frame["seed"] < 3], empty, empty)[0].label == (
        stats.INCONCLUSIVE
    )


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


def test_runs_list_without_data_and_lrgap_names_what_is_missing(
    no_local_data: Path, isolated_cache: Path, empty_committed: Path
) -> None:

    cfg = chapter_config("large_batch", profile="overnight")
    assert lb.chapter_runs(cfg)  # listing reads no data: cached runs render without it
    with pytest.raises(
        book_run.RunFailed, match=r"cifar-10-subset: cifar10_subset.npz\. Run `lrgap data`"
    ):
        book_run.check_before_running("large_batch", cfg)


def test_overnight_profile_keeps_the_papers_ratio(no_local_data: Path) -> None:
    configs = lb.pair_configs(chapter_config("large_batch", profile="overnight"))
    f1 = [c for c in configs["main"] if c.model == "f1"]
    c1 = [c for c in configs["main"] if c.model == "c1"]
    assert len(f1) == 6 and len(c1) == 3  # F1 is CPU minutes a seed, C1 over an hour
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
    assert [c.interpolation_points for c in f1] == [25, 0, 0, 0, 0, 0]
    seeds = {
        o: [c.seed for c in configs["optimizers"] if c.optimizer == o] for o in ("sgd", "adagrad")
    }
    assert seeds == {"sgd": [0, 1, 2], "adagrad": [0, 1, 2, 3, 4, 5]}
    assert {(c.optimizer, c.small_batch, c.large_batch) for c in configs["optimizers"]} == {
        ("sgd", 256, 6000),
        ("adagrad", 256, 6000),
    }
    assert all(not c.probes and not c.budget_control for c in configs["optimizers"])


def test_full_profile_runs_keskar_protocol(no_local_data: Path) -> None:
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


def test_setup_table_says_when_a_network_is_narrower_than_the_papers() -> None:
    f1, c1 = pair_result("f1"), pair_result("c1")
    f1.config["model_width"], c1.config["model_width"] = None, 32
    setup = tables.setup_frame(tables.accuracy_frame([f1, c1, pair_result("c1", seed=1)]))
    assert setup["network"].tolist() == ["F1", "C1"]
    assert setup["width"].tolist() == ["the paper's", "32 (narrower than the paper's)"]
    assert setup[["SB", "LB", "LB / SB", "seeds"]].to_numpy().tolist() == [[10, 100, 10, 1]] + [
        [10, 100, 10, 2]
    ]


def test_the_reading_spans_the_networks_that_ran() -> None:
    """The verdict's prose pastes, per quantity, the lowest and highest network; one network
    gives both ends, and a measurement no run made reads NaN (pasted as "nan", not a failure)."""
    runs = [pair_result("f1", s, test=(0.98, 0.97)) for s in range(2)]
    runs += [pair_result("c1", s, test=(0.80, 0.75)) for s in range(2)]
    frame = tables.accuracy_frame(runs)
    sharp = pd.DataFrame(
        [
            {"network": n, "seed": 0, "space": "full", "epsilon": 1e-3, "batch": b}
            | {"phi": phi, "first_order_phi": phi / 4}
            for n, sb, lb in (("f1", 2.0, 20.0), ("c1", 1.0, 30.0))
            for b, phi in (("SB", sb), ("LB", lb))
        ]
    )
    eigen = pd.DataFrame({"network": ["f1", "c1"], "seed": 0, "SB": [1.0, 2.0], "LB": [3.0, 20.0]})
    line = pd.DataFrame(
        {"network": ["F1", "F1", "C1"], "BN statistics": ["batch", "recomputed", "batch"]}
        | {"rise near SB": [0.01, 0.02, 0.05], "rise near LB": [0.3, 0.2, 1.5]}
    )
    values = tables.reading(frame, sharp, eigen, line)
    assert values["networks"] == "F1 and C1"
    assert values["gap_low"] == pytest.approx(1.0) and values["gap_low_network"] == "F1"
    assert values["gap_high"] == pytest.approx(5.0) and values["gap_high_network"] == "C1"
    assert values["paper_gap_low"] == pytest.approx(98.03 - 97.81)
    assert (values["phi_ratio_low"], values["phi_ratio_high"]) == (10.0, 30.0)
    assert values["first_order_share_lb_high"] == 0.25
    assert (values["eigen_ratio_low"], values["eigen_ratio_high"]) == (3.0, 10.0)
    assert (values["rise_sb_low"], values["rise_sb_low_network"]) == (0.02, "F1")
    assert (values["rise_lb_high"], values["rise_lb_high_network"]) == (1.5, "C1")
    alone = tables.reading(tables.accuracy_frame(runs[:2]), sharp[:0], eigen[:0], line[:0])
    assert alone["networks"] == "F1" and alone["gap_low"] == alone["gap_high"]
    assert math.isnan(alone["phi_ratio_low"]) and alone["rise_lb_high_network"] == "-"


def test_the_claims_scale_names_a_narrowed_network() -> None:
    cfg = chapter_config("large_batch", "overnight")
    frame = tables.accuracy_frame([pair_result("c1", s) for s in range(3)])
    assert lb_claims.scale(cfg, frame) == (
        f"overnight: C1 at width {cfg.conv_width} (adam) on mnist (200 train), batches 10 / 100, "
        "3 seeds"
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
