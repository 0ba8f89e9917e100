"""The large-LR chapter: configs at every profile, the pilot, the gate and the verdicts."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import torch

from lrgap_nb import models, results, stats, train
from lrgap_nb.chapters import chapter_config
from lrgap_nb.chapters.large_lr import claims, runs, tables
from lrgap_nb.chapters.large_lr.params import LARGE, NOISE, NOISE_PATCH, SMALL
from lrgap_nb.runs import network_name


def lr_and_noise(config: train.TrainConfig, epochs: tuple[int, ...]) -> list[tuple[float, float]]:
    return [
        (pytest.approx(train.lr_at(config, e, [])), pytest.approx(train.noise_at(config, e)))
        for e in epochs
    ]


def test_full_profile_matches_the_official_code_and_the_survey_report():
    cfg = chapter_config("large_lr", "full")
    main = runs.main_configs(cfg)
    assert {m for m, _ in main} == {LARGE, SMALL, NOISE, NOISE_PATCH} and len(cfg.seeds) >= 3
    epochs = (0, 58, 59, 119, 149, 199)
    for (method, _), config in main.items():
        assert (config.model, config.dataset, config.epochs) == ("wrn16_10", "cifar10", 200)
        assert config.batch_size == 128 and config.nesterov and not config.augment
        assert (config.momentum, config.weight_decay) == (0.9, 5e-4)
        lr0 = 0.1 if method == LARGE else 0.01
        lrs = [x for x, _ in lr_and_noise(config, epochs)]
        assert lrs == [lr0, lr0, lr0 * 0.2, lr0 * 0.04, lr0 * 0.008, lr0 * 0.008]
    official = main[(NOISE, 0)]  # train_cifar.py default: 0.01, x0.995 per epoch
    assert [n for _, n in lr_and_noise(official, (0, 1, 100))] == [0.01, 0.00995, 0.01 * 0.995**100]
    patch_level = main[(NOISE_PATCH, 0)]
    assert [n for _, n in lr_and_noise(patch_level, (0, 58, 59))] == [0.4, 0.4, 4e-6]
    c100 = runs.cifar100_configs(cfg)
    assert {m for m, _ in c100} == {LARGE, SMALL}
    assert all(c.dataset == "cifar100" and c.epochs == 200 for c in c100.values())
    chapter = runs.chapter_runs(cfg)
    assert len(chapter) == len({r.key for r in chapter}) == 5 + 12 + 6 + 6


def test_size_table_trains_the_smaller_set_for_as_many_sgd_steps():
    for profile in ("cpu", "full"):
        cfg = chapter_config("large_lr", profile)
        sizes = runs.size_configs(cfg)
        whole, part = sizes[(SMALL, 1.0, 0)], sizes[(SMALL, cfg.size_fraction, 0)]
        assert whole == runs.main_configs(cfg)[(SMALL, 0)]  # the whole set is a main run
        assert part.subset == round(cfg.size_fraction * runs.whole(cfg))
        assert part.subset_mode == "random" and part.subset_seed == 0
        steps = [c.epochs * math.ceil((c.subset or runs.whole(cfg)) / 128) for c in (whole, part)]
        assert steps[1] == pytest.approx(steps[0], rel=0.02)
        ratio = part.epochs / whole.epochs
        assert part.lr_milestones == tuple(round(m * ratio) for m in whole.lr_milestones)
    assert sizes[(SMALL, 0.2, 0)].subset == 10_000  # full: the survey report's 10,000 images


@pytest.mark.parametrize("profile", ["smoke", "cpu", "overnight"])
def test_small_profiles_use_the_real_subset_and_smoke_a_synthetic_stand_in(profile):
    cfg = chapter_config("large_lr", profile)
    dataset = "cifar10_synthetic" if profile == "smoke" else "cifar10_subset"  # smoke needs no data
    assert cfg.dataset == dataset and len(cfg.seeds) >= (3 if profile != "smoke" else 1)
    assert cfg.pilot_seed not in cfg.seeds  # calibrate on seeds that are never reported
    if profile == "overnight":
        assert (cfg.model, cfg.model_width) == ("wrn16_1", None)  # the paper's base width 16
        assert cfg.lr_from_pilot and min(cfg.pilot_lrs) == 0.01 and max(cfg.pilot_lrs) == 0.4


def history(train_acc, test_acc=None, loss=None, anneal: int = 2) -> pd.DataFrame:
    """A run's history; the LR drops tenfold after epoch `anneal`."""
    n = len(train_acc)
    return pd.DataFrame(
        {
            "epoch": range(1, n + 1),
            "lr": [0.1 if e <= anneal else 0.01 for e in range(1, n + 1)],
            "train_loss": loss if loss is not None else np.linspace(2.0, 0.1, n),
            "train_acc": train_acc,
            "test_acc": test_acc if test_acc is not None else train_acc,
        }
    )


def test_pilot_picks_the_largest_rate_whose_loss_falls():
    pilot = {
        0.01: history([0.2] * 4, loss=[2.3, 2.0, 1.8, 1.5]),
        0.1: history([0.2] * 4, loss=[2.3, 1.9, 1.5, 1.2]),
        0.4: history([0.1] * 4, loss=[2.3, 2.3, 2.25, 2.2]),  # 2.2 > 0.9 x 2.3: not stable
        0.8: history([0.1] * 4, loss=[2.3, np.nan, 2.0, 1.0]),  # a NaN: never stable
    }
    assert tables.largest_stable_lr(pilot) == 0.1
    table = tables.pilot_table(pilot)
    assert table.loc[table["role"] == "large", "LR"].tolist() == [0.1]
    assert tables.largest_stable_lr({0.1: history([0.1] * 3, loss=[2.3, 2.3, 2.3])}) is None


def test_pilot_and_schedule_glue_the_same_keys_on_every_branch():
    """The prose pastes these values; a key missing on one profile would fail the book's build,
    and a numpy scalar would not parse under a format spec ({glue:text}`lr_large:g`)."""
    pilot = {
        0.01: history([0.2] * 4, loss=[2.3, 2.0, 1.8, 1.5]),
        0.4: history([0.1] * 4, loss=[2.3, 2.3, 2.3, 2.3]),
    }
    official, gated = chapter_config("large_lr", "cpu"), chapter_config("large_lr", "overnight")
    plan = runs.Plan(0.1, 0.01, 12, (6,))
    values = tables.pilot_choice(tables.pilot_table(pilot), official, plan)
    assert (values["pilot_stable"], values["pilot_unstable"]) == ("0.01", "0.4")
    assert values["lr_origin"] == "the official rates (the pilot is a check)"
    unstable = tables.pilot_choice(tables.pilot_table({0.4: pilot[0.4]}), gated, plan)
    assert (unstable["pilot_stable"], unstable["pilot_unstable"]) == ("none", "0.4")
    assert (
        unstable["lr_origin"].startswith("the largest stable rate")
        and unstable.keys() == values.keys()
    )
    schedule = tables.schedule(official, plan)
    assert schedule == {
        "epochs": 12,
        "anneal": 6,
        "gate_margin": 1.25,
        "schedule_origin": "the profile's",
    }
    assert tables.schedule(gated, plan)["schedule_origin"] == "the gate calibration's"
    glued = [*values.values(), *unstable.values(), *schedule.values()]
    assert {type(v) for v in glued} <= {int, float, str}


def test_settings_and_gate_calibration_tables_read_the_plan_and_say_what_did_not_run():
    cfg, plan = chapter_config("large_lr", "overnight"), runs.Plan(0.4, 0.04, 76, (38,))
    settings = dict(tables.settings(cfg, plan).to_numpy())
    assert settings["initial LR, large LR + anneal"] == "0.4 (the pilot's choice)"
    assert settings["initial LR, small LR (+ noise)"] == "0.04 (a tenth of the pilot's choice)"
    assert settings["epochs"] == "76 (from the gate calibration)"
    assert settings["LR schedule"] == "×0.1 after epoch(s) 38"
    reached = tables.gate_calibration(cfg, plan, history([0.5, 0.98, 0.995])).iloc[0]
    assert reached["epochs trained"] == 3 and reached["last running train acc. (%)"] == 99.5
    assert reached["reached the gate"]
    assert not tables.gate_calibration(cfg, plan, history([0.5, 0.9]))["reached the gate"].iloc[0]
    none = tables.gate_calibration(chapter_config("large_lr", "cpu"), plan, None)
    assert none.to_numpy().tolist() == [["not run at this profile: the schedule is the profile's"]]
    empty = tables.final_table({}, {LARGE: 90.41}, "toy")  # the paper-width runs, none cached
    assert empty.to_dict("records") == [{"method": "no run cached", "scale": "toy"}]


def test_a_size_whose_runs_do_not_fit_their_data_gets_no_verdict():
    """Large LR 4 points ahead on both sizes, but on 200 images one small-LR seed ends at 90%
    train accuracy: only the whole set is compared."""
    hist = {}
    for seed in range(3):
        for fraction, small_fit in ((0.2, 0.9 if seed == 1 else 1.0), (1.0, 1.0)):
            hist[(LARGE, fraction, seed)] = history([0.5, 1.0], [0.3, 0.64 + 0.01 * seed], anneal=1)
            hist[(SMALL, fraction, seed)] = history([0.6, small_fit], [0.3, 0.60 + 0.01 * seed],
                                                    anneal=1)  # fmt: skip
    table = tables.size_table(hist, {0.2: 200, 1.0: 1000}, {0.2: 50, 1.0: 10})
    assert table["lowest final train acc. (%)"].tolist() == [90.0, 100.0]
    sizes = claims.size_runs(hist, {0.2: 200, 1.0: 1000}, {0.2: 1, 1.0: 1}, "toy")
    small_set, whole = (claims.large_ahead_at_size(r, *key) for key, r in sorted(sizes.items()))
    assert small_set.verdict.label == stats.PRECONDITION_NOT_MET
    assert "small LR's lowest final train acc.: 90% < 99%" in small_set.verdict.reason
    assert whole.verdict.label == stats.REPRODUCED


def test_main_runs_wait_for_the_pilot_and_the_gate_calibration(isolated_cache, empty_committed):
    cfg = chapter_config("large_lr", "overnight")
    listed = runs.chapter_runs(cfg)
    assert [r.config for r in listed] == list(runs.pilot_configs(cfg).values())
    with pytest.raises(LookupError, match="not cached"):
        runs.main_configs(cfg)
    for lr, config in runs.pilot_configs(cfg).items():  # store fake pilot results: 0.2 is stable
        loss = [2.3, 2.0] if lr <= 0.2 else [2.3, 2.3]
        payload = {"history": history([0.5, 0.6], loss=loss).to_dict("records")}
        results.cached("train", config, lambda p=payload: p, train.PROTOCOL)
    assert runs.rates(cfg) == (0.2, pytest.approx(0.02))
    gate = runs.gate_run(cfg, 0.02)
    assert [r.key for r in runs.chapter_runs(cfg)][-1] == gate.key and runs.plan(cfg) is None
    assert (
        gate.config.config.lr == pytest.approx(0.02) and gate.config.config.seed == cfg.pilot_seed
    )
    payload = {"history": [], "epochs_to_gate": 8}  # 1.25 x 8 -> anneal after 10 of 20 epochs
    results.cached(gate.kind, gate.config, lambda: payload, gate.protocol)
    assert runs.plan(cfg) == runs.Plan(0.2, pytest.approx(0.02), 20, (10,))
    main = runs.main_configs(cfg)
    assert main[(LARGE, 0)].lr == 0.2 and main[(SMALL, 0)].lr == pytest.approx(0.02)
    assert main[(LARGE, 0)].epochs == 20 and main[(SMALL, 0)].lr_milestones == (10,)
    assert len(runs.chapter_runs(cfg)) == 5 + 1 + 4 * 3 + 2 * 3


def test_gate_run_stops_at_the_first_epoch_that_reaches_the_gate(fake_cifar, isolated_cache):
    fake_cifar("fake_cifar_for_gate_test")
    config = runs.gate_run(chapter_config("large_lr", "smoke"), 0.01).config.config
    config = dataclasses.replace(
        config, dataset="fake_cifar_for_gate_test", subset=None, epochs=5, device="cpu"
    )
    payload = runs.gate_payload(runs.GateRun(config, 0.01))  # any accuracy reaches 1%
    assert payload["epochs_to_gate"] == 1 and len(payload["history"]) == 1
    payload = runs.gate_payload(runs.GateRun(dataclasses.replace(config, epochs=2), 1.0))
    assert payload["epochs_to_gate"] is None and len(payload["history"]) == 2


def gate_histories(small_before: float, end: float) -> dict:
    """Two seeds per method, 4 epochs, anneal after epoch 2: small LR ahead before, large after."""
    out = {}
    for seed, jitter in ((0, 0.0), (1, 0.002), (2, -0.002)):
        out[(SMALL, seed)] = history(
            [0.9, small_before + jitter, end, end], [0.5, 0.6 + jitter, 0.61, 0.62 + jitter]
        )
        out[(LARGE, seed)] = history(
            [0.5, 0.7 + jitter, end, end], [0.4, 0.45 + jitter, 0.7, 0.72 + jitter]
        )
        out[(NOISE, seed)] = history([0.5, 0.7, end, end], [0.4, 0.5, 0.66, 0.67 + jitter])
    return out


def main_claims(hist) -> list:
    runs = claims.Runs(hist, 2, "toy")
    return [claims.small_ahead_in_val_before_anneal(runs), claims.large_ends_better(runs),
            claims.noise_recovers_the_gap(runs, NOISE)]  # fmt: skip


def test_claims_reproduced_when_the_gate_passes():
    hist = gate_histories(small_before=0.995, end=0.999)
    assert tables.gate_table(hist, 2, 0.99)["passes"].all()
    assert [c.verdict.label for c in main_claims(hist)] == [stats.REPRODUCED] * 3


def test_claims_get_precondition_not_met_with_the_numbers_when_the_gate_fails():
    hist = gate_histories(small_before=0.9, end=0.999)
    assert tables.gate_table(hist, 2, 0.99)["passes"].tolist() == [False, True, True, True]
    before, end, _ = main_claims(hist)
    assert before.verdict.label == stats.PRECONDITION_NOT_MET and "89.8%" in before.verdict.reason
    assert end.verdict.label == stats.REPRODUCED


def test_a_run_whose_anneal_never_fired_is_a_failed_precondition_not_a_verdict():
    hist = gate_histories(small_before=0.995, end=0.999)
    hist[(NOISE, 1)] = hist[(NOISE, 1)].assign(lr=0.1)  # this run never annealed
    noise = main_claims(hist)[2]
    assert noise.verdict.label == stats.PRECONDITION_NOT_MET
    assert "small LR + noise, seed 1: lr anneal never fired" in noise.verdict.reason


def test_the_gate_is_judged_on_the_unrounded_accuracy():
    hist = gate_histories(small_before=0.991996, end=0.999)  # lowest seed: 98.9996%
    gate = tables.gate_table(hist, 2, 0.99)
    assert gate.loc[0, "lowest seed (%)"] == 99.0  # shown to two decimals
    assert not gate.loc[0, "passes"]


def test_network_names_give_the_channel_widths():
    assert network_name("wrn16_1", 4) == "WRN-16-1 (channels 4/4/8/16)"
    assert network_name("wrn16_10", None) == "WRN-16-10 (channels 16/160/320/640)"
    assert models.count_parameters(models.build_model("wrn16_4", 10)) == pytest.approx(
        2.75e6, rel=0.01
    )
    narrow = models.build_model("wrn16_1", 10, 3, width=4)
    convs = [m.out_channels for m in narrow.modules() if isinstance(m, torch.nn.Conv2d)]
    assert sorted(set(convs)) == [4, 8, 16]


def test_full_code_path_runs_one_tiny_epoch(fake_cifar, isolated_cache):
    """The full profile's WRN-16-10 config, shrunk in data, width and epochs, trains."""
    fake_cifar("fake_cifar_for_large_lr_test")
    config = runs.main_configs(chapter_config("large_lr", "full"))[(LARGE, 0)]
    config = dataclasses.replace(
        config, dataset="fake_cifar_for_large_lr_test", model_width=1, epochs=1, device="cpu"
    )
    history_ = train.history_frame(train.run_cached(config))
    assert history_["lr"].tolist() == [0.1] and 0 <= history_["test_acc"].iloc[0] <= 1


def test_tables_module_imports_no_torch():
    import subprocess
    import sys

    code = "import sys, lrgap_nb.chapters.large_lr.tables; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_commit_finished_copies_only_cached_entries(isolated_cache, tmp_path, monkeypatch):
    from lrgap_nb.runs import commit_finished

    monkeypatch.setenv("LRGAP_ROOT", str(tmp_path))  # results/committed/ of an empty checkout
    cfg = chapter_config("large_lr", "overnight")
    pilot = [train.train_run(c) for c in runs.pilot_configs(cfg).values()]
    payload = {"history": history([0.5, 0.6]).to_dict("records")}
    monkeypatch.setattr(results, "git_commit", lambda: "abc1234")  # computed from a clean tree
    results.cached("train", pilot[0].config, lambda: payload, train.PROTOCOL)
    copied = commit_finished(pilot)
    assert copied == [f"results/committed/train/{pilot[0].key}.json"]
    assert (tmp_path / copied[0]).is_file() and commit_finished(pilot) == []  # once only


def test_wall_times_lists_every_run_once_and_the_total(isolated_cache, empty_committed):
    from lrgap_nb.runs import wall_times

    cfg = chapter_config("large_lr", "overnight")
    configs = list(runs.pilot_configs(cfg).values())[:2]
    done = {
        c: results.cached("train", c, lambda: {"history": [{"epoch": 1}] * 3}, train.PROTOCOL)
        for c in configs
    }
    table = wall_times(
        {"pilot": {0.01: configs[0], 0.03: configs[1]}, "again": {0: configs[0]}}, done
    )
    assert table["runs"].tolist() == ["pilot", "pilot", "total"]
    assert table["epochs"].tolist() == [3, 3, 6]
    assert table["wall time (s)"].iloc[-1] == pytest.approx(table["wall time (s)"].iloc[:2].sum())
    assert table["attempts"].tolist() == [1, 1, 2]  # neither was killed and resumed
