"""The patch chapter: the dataset built as Li, Wei & Ma's official data_util.py builds it
(with PatchAugmentFixed's per-serve draw), its configs, calibration and verdicts."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import torch

from lrgap_nb import data, results, stats, train
from lrgap_nb.chapters import chapter_config
from lrgap_nb.chapters.patch import claims as patch_claims
from lrgap_nb.chapters.patch import dataset as patch
from lrgap_nb.chapters.patch import runs, tables
from lrgap_nb.chapters.patch.dataset import CLEAN, MIXED, PATCH_ONLY, PATCHED, PatchConfig
from lrgap_nb.chapters.patch.params import LARGE, METHODS, NOISE, SMALL
from lrgap_nb.params import ParameterError

N_TRAIN, N_TEST, K = 500, 300, 10
START, STOP = 12, 19  # rows and columns 12-18


@pytest.fixture(scope="module")
def base() -> data.Splits:
    """Random normalised "images" standing in for CIFAR-10 (no file needed)."""
    gen = torch.Generator().manual_seed(0)
    return {
        "train": data.TensorData(
            torch.randn(N_TRAIN, 3, 32, 32, generator=gen),
            torch.randint(0, K, (N_TRAIN,), generator=gen),
        ),
        "test": data.TensorData(
            torch.randn(N_TEST, 3, 32, 32, generator=gen),
            torch.randint(0, K, (N_TEST,), generator=gen),
        ),
    }


@pytest.fixture(scope="module")
def cfg() -> PatchConfig:
    return PatchConfig(base="cifar10_subset", n_patch_eval=400)


@pytest.fixture(scope="module")
def splits(base, cfg) -> data.Splits:
    return patch.patch_splits(base, cfg, K)


def serve(split: data.TensorData, seed: int = 0) -> torch.Tensor:
    """Every example of the split, in order, through its transform with a seeded generator."""
    return served(split, seed)[0]


def served(split: data.TensorData, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The served split and each example's served kind (clean / patch-only / mixed)."""
    idx = torch.arange(len(split))
    return split.transform.serve(split.x, idx, torch.Generator().manual_seed(seed))


def test_patterns_z_shared_and_zeta_per_class_within_beta(cfg):
    z, zeta = patch.make_patterns(cfg, 3, K)
    assert z.shape == (3, 7, 7) and zeta.shape == (K, 3, 7, 7)
    assert zeta.abs().max() <= cfg.beta
    assert zeta.abs().max() > 0.9 * cfg.beta  # uniform over the whole interval, not a sliver
    assert not torch.allclose(zeta[0], zeta[1])  # one pattern per class
    assert z.std().item() == pytest.approx(cfg.sigma_z, rel=0.25)  # 147 draws of 1.25·N(0, 1)
    z2, zeta2 = patch.make_patterns(cfg, 3, K)
    assert torch.equal(z, z2) and torch.equal(zeta, zeta2)  # fixed by the patch seed


def test_patch_sits_in_rows_and_columns_12_to_18():
    assert patch.patch_start(32, 7) == START
    assert patch.patch_start(28, 7) == 10  # MNIST: int(14 - 3.5)


def test_mixed_examples_carry_z_plus_or_minus_zeta_of_their_label(splits, base, cfg):
    train = splits["train"]
    z, zeta = patch.make_patterns(cfg, 3, K)
    x, kinds = served(train)
    mixed = torch.nonzero(kinds == MIXED).flatten()
    block = x[mixed, :, START:STOP, START:STOP]
    offset = block - z
    expected = zeta[base["train"].y[mixed]]
    sign = torch.sign((offset * expected).sum((1, 2, 3)))
    torch.testing.assert_close(offset, sign[:, None, None, None] * expected)
    assert set(sign.tolist()) == {-1.0, 1.0}
    outside = torch.ones(32, 32, dtype=torch.bool)
    outside[START:STOP, START:STOP] = False
    torch.testing.assert_close(x[mixed][:, :, outside], base["train"].x[mixed][:, :, outside])


def test_sign_is_redrawn_every_time_an_example_is_served(splits, cfg):
    train = splits["train"]
    z, _ = patch.make_patterns(cfg, 3, K)
    signs, kinds = [], []
    for seed in range(2):  # two epochs' generators
        x, kind = served(train, seed)
        kinds.append(kind)
        signs.append(torch.sign((x[:, :, START:STOP, START:STOP] - z).flatten(1)[:, 0]))
    mixed = (kinds[0] == MIXED) & (kinds[1] == MIXED)
    signs = [s[mixed] for s in signs]
    flipped = (signs[0] != signs[1]).float().mean().item()
    assert 0.3 < flipped < 0.7  # independent fair signs differ about half the time
    torch.testing.assert_close(serve(train, 0), serve(train, 0))  # same generator, same data


def test_patch_only_examples_are_zero_but_a_scaled_patch(splits, base, cfg):
    train = splits["train"]
    z, zeta = patch.make_patterns(cfg, 3, K)
    x, kinds = served(train)
    only = torch.nonzero(kinds == PATCH_ONLY).flatten()
    outside = x[only].clone()
    outside[:, :, START:STOP, START:STOP] = 0
    assert torch.count_nonzero(outside) == 0
    offset = x[only, :, START:STOP, START:STOP] - z
    unit = zeta[base["train"].y[only]]
    scale = (offset * unit).sum((1, 2, 3)) / (unit * unit).sum((1, 2, 3))  # = ± alpha·u
    torch.testing.assert_close(offset, scale[:, None, None, None] * unit, rtol=1e-4, atol=1e-5)
    assert scale.abs().max() <= cfg.alpha
    assert scale.abs().mean().item() == pytest.approx(
        cfg.alpha / 2, rel=0.25
    )  # E|alpha·U| = alpha/2
    assert (scale > 0).any() and (scale < 0).any()


def test_clean_examples_are_untouched(splits, base):
    train = splits["train"]
    clean = torch.nonzero(train.transform.kinds == CLEAN).flatten()
    torch.testing.assert_close(serve(train)[clean], base["train"].x[clean])


def test_patched_images_fixed_at_build_patch_only_redrawn_at_every_serve(splits, base, cfg):
    kinds = splits["train"].transform.kinds
    assert torch.bincount(kinds, minlength=2).tolist() == [100, 400]  # 20% clean, fixed
    again = patch.patch_splits(base, cfg, K)["train"].transform.kinds
    assert torch.equal(kinds, again)
    other = patch.patch_splits(base, dataclasses.replace(cfg, seed=3), K)["train"].transform.kinds
    assert not torch.equal(kinds, other)
    serves = torch.stack([served(splits["train"], seed)[1] for seed in range(40)])
    clean = kinds == CLEAN
    assert (serves[:, clean] == patch.SERVED_CLEAN).all()  # clean images are never patched
    assert ((serves[:, ~clean] == PATCH_ONLY) | (serves[:, ~clean] == MIXED)).all()
    share = (serves[:, ~clean] == PATCH_ONLY).float().mean(0)  # per patched image, over serves
    assert share.mean().item() == pytest.approx(0.2, abs=0.02)
    assert (share < 0.6).all()  # no image is patch-only most of the time: CIFAR shows in ~80%
    assert (share > 0).sum() > 0.9 * (~clean).sum()  # almost every patched image is sometimes
    fractions = cfg.expected_fractions
    assert fractions == pytest.approx({"clean": 0.2, "patch-only": 0.16, "mixed": 0.64})


def test_validation_sets(splits, base, cfg):
    assert splits["test"] is base["test"]  # clean test set, no transform
    mixed = splits["mixed"]
    assert torch.bincount(mixed.transform.kinds, minlength=2).tolist() == [60, 240]
    assert torch.equal(mixed.y, base["test"].y)
    only = splits["patch_only"]
    assert len(only) == cfg.n_patch_eval and torch.count_nonzero(only.x) == 0
    assert torch.bincount(only.y, minlength=K).min() > 0  # random labels over all classes
    assert (only.transform.kinds == PATCHED).all()  # TransformOnlyDataset: every image patched
    x, kinds = served(only)
    assert (kinds == PATCH_ONLY).float().mean().item() == pytest.approx(0.2, abs=0.05)
    torch.testing.assert_close(x, served(only)[0])  # evaluation is repeatable
    x[:, :, START:STOP, START:STOP] = 0
    assert torch.count_nonzero(x) == 0


def test_subset_of_a_patched_split_keeps_each_examples_kind(splits, base, cfg):
    train_split = splits["train"]
    sub = train_split.subset(50, "random", seed=1)
    positions = torch.randperm(len(train_split), generator=torch.Generator().manual_seed(1))[:50]
    positions = positions.sort().values
    assert torch.equal(sub.y, base["train"].y[positions])
    sub_x = sub.transform(sub.x, torch.arange(50), torch.Generator().manual_seed(0))
    clean = train_split.transform.kinds[positions] == CLEAN
    torch.testing.assert_close(sub_x[clean], base["train"].x[positions][clean])
    assert not torch.equal(sub_x[~clean], base["train"].x[positions][~clean])


def test_name_round_trips_and_registers_the_dataset(cfg):
    assert PatchConfig.from_name(cfg.name) == cfg
    assert cfg.name.startswith("patch:base=cifar10_subset,sigma_z=1.25,beta=0.1,alpha=1.75")
    spec = data.dataset_spec(cfg.name)
    assert spec.num_classes == 10
    other = dataclasses.replace(cfg, alpha=1.5)
    assert other.name != cfg.name  # every setting changes the name, so the cache key


def test_official_defaults():
    cfg = PatchConfig()
    assert (cfg.sigma_z, cfg.beta, cfg.alpha, cfg.size, cfg.seed) == (1.25, 0.1, 1.75, 7, 2)
    assert (cfg.clean, cfg.patch_only_prob) == (0.2, 0.2)
    with pytest.raises(ValueError):
        PatchConfig(clean=1.0)
    with pytest.raises(ValueError):
        PatchConfig(patch_only_prob=1.5)


def lr_and_noise(config: train.TrainConfig, epochs: tuple[int, ...]) -> list[tuple[float, float]]:
    return [
        (pytest.approx(train.lr_at(config, e, [])), pytest.approx(train.noise_at(config, e)))
        for e in epochs
    ]


def test_full_profile_matches_the_official_code():
    cfg = chapter_config("patch", "full")
    configs = runs.main_configs(cfg)
    assert {m for m, _ in configs} == set(METHODS) and len(cfg.seeds) >= 3
    for config in configs.values():
        assert config.model == "wrn16_10" and config.model_width is None  # official wideresnet16
        assert (config.epochs, config.batch_size, config.momentum) == (60, 128, 0.9)
        assert config.nesterov and config.weight_decay == 5e-4 and not config.augment
        assert config.eval_sets == ("test", "mixed", "patch_only")
        assert PatchConfig.from_name(config.dataset) == PatchConfig(base="cifar10")
    # 0-based epochs 0, 28, 29, 59 are the official 1-based epochs 1, 29, 30, 60 (`epoch >= 30`).
    epochs = (0, 28, 29, 59)
    large, small, noisy = (configs[(m, 0)] for m in METHODS)
    assert [x for x, _ in lr_and_noise(large, epochs)] == [0.1, 0.1, 0.004, 0.004]
    assert [n for _, n in lr_and_noise(large, epochs)] == [0, 0, 0, 0]
    assert [x for x, _ in lr_and_noise(small, epochs)] == [0.004] * 4
    assert lr_and_noise(noisy, epochs) == [(0.004, 0.4), (0.004, 0.4), (0.004, 4e-6), (0.004, 4e-6)]
    # the examples grid, no calibration at full, three methods and two clean references a seed
    assert len(runs.chapter_runs(cfg)) == 1 + 9 + 6


def test_clean_references_train_as_many_sgd_steps_on_clean_images():
    overnight = chapter_config("patch", "overnight")  # without its calibration: the step arithmetic
    cfg = dataclasses.replace(overnight, calibration_lrs=(), calibration_betas=())
    refs = runs.reference_configs(cfg)
    assert {f for f, _ in refs} == {0.2, 0.84} and {s for _, s in refs} == set(cfg.seeds)
    for (fraction, seed), config in refs.items():
        assert config.dataset == "cifar10_subset" and config.eval_sets == ("test",)
        assert config.subset == round(fraction * 5085) and config.subset_seed == seed
        steps = config.epochs * math.ceil(config.subset / 128)
        assert steps == pytest.approx(cfg.epochs * math.ceil(5085 / 128), rel=0.03)
        assert config.lr == cfg.lr_large and config.lr_milestones[0] / config.epochs == (
            pytest.approx(cfg.anneal_epoch / cfg.epochs, abs=0.02)
        )


def patch_history(patch_only: list[float], clean: list[float]) -> pd.DataFrame:
    """A run's history; LR and noise drop after epoch 3."""
    n = len(patch_only)
    return pd.DataFrame(
        {
            "epoch": range(1, n + 1),
            "lr": [0.1 if e <= 3 else 0.004 for e in range(1, n + 1)],
            "noise": [0.4 if e <= 3 else 0.0 for e in range(1, n + 1)],
            "train_loss": np.linspace(2.0, 0.1, n),
            "train_acc": [0.5] * n,
            "patch_only_acc": patch_only,
            "test_acc": clean,
            "mixed_acc": clean,
        }
    )


def test_calibration_tries_rates_then_betas_in_turn_and_stops_at_the_first_that_memorises(
    isolated_cache, empty_committed
):
    cfg = chapter_config("patch", "overnight")
    assert cfg.calibration_seed not in cfg.seeds
    official = runs.Setting(0.004, 0.1)
    listed, setting = runs.calibration(cfg)
    assert list(listed) == [official] and setting is None  # the official setting first
    assert [r.config for r in runs.calibration_runs(cfg)] == list(listed.values())
    assert listed[official].lr == 0.004 and listed[official].lr_milestones == ()
    assert listed[official].epochs == cfg.anneal_epoch == 20  # the first phase, as the claim

    def store(setting_, last_patch_only):
        history = patch_history([0.1, last_patch_only], [0.3, 0.3])
        payload = {"history": history.to_dict("records")}
        config = runs.calibration_config(cfg, setting_)
        results.cached("patch_train", config, lambda: payload, runs.PROTOCOL)

    for beta in cfg.calibration_betas:  # the official rate memorises at no strength tried
        store(runs.Setting(0.004, beta), 0.093)
    listed, setting = runs.calibration(cfg)
    assert list(listed)[-1] == runs.Setting(0.04, 0.1) and setting is None
    store(runs.Setting(0.04, 0.1), 0.5)
    store(runs.Setting(0.04, 0.2), 0.9)
    listed, setting = runs.calibration(cfg)
    assert len(listed) == 5 and setting == runs.Setting(0.04, 0.2)
    main = runs.main_configs(cfg)
    assert all(PatchConfig.from_name(c.dataset).beta == 0.2 for c in main.values())
    large = main[(LARGE, 0)]
    assert (large.lr, large.lr_factors) == (0.4, (0.1,))  # anneals 0.4 -> 0.04, the chosen rate
    assert main[(SMALL, 0)].lr == main[(NOISE, 0)].lr == 0.04
    references = runs.reference_configs(cfg)
    assert all((c.lr, c.lr_factors) == (0.4, (0.1,)) for c in references.values())
    assert len(runs.chapter_runs(cfg)) == 1 + 5 + 9 + 6
    own = runs.own_reference_configs(cfg)
    assert len(own) == 2 * 2 * 3  # small LR and small LR + noise, two fractions, three seeds
    for (method, fraction, seed), config in own.items():
        large = references[(fraction, seed)]  # same images, epochs and so SGD steps
        assert (config.subset, config.subset_seed, config.epochs) == (
            large.subset, large.subset_seed, large.epochs,
        )  # fmt: skip
        assert (config.lr, config.lr_milestones) == (0.04, ())  # the small rate, no LR anneal
        noisy = config.noise_milestones == large.lr_milestones  # noise anneals when LR would
        assert noisy if method == NOISE else config.noise == 0.0
    with_own = chapter_config("patch", "overnight", method_references=True)
    assert len(runs.chapter_runs(with_own)) == 1 + 5 + 9 + 6 + 12


def test_a_calibration_longer_than_the_first_phase_is_refused():
    with pytest.raises(ParameterError, match="calibration_epochs 30 exceeds the first phase"):
        chapter_config("patch", "overnight", calibration_epochs=30)


def test_calibration_facts_name_the_choice_and_how_it_was_reached():
    cfg = chapter_config("patch", "overnight")
    failed = {runs.Setting(0.004, b): patch_history([0.1, 0.093], [0.3, 0.3]) for b in (0.1, 0.2)}
    works = {**failed, runs.Setting(0.04, 0.1): patch_history([0.5, 0.95], [0.3, 0.4])}
    facts = tables.calibration_facts(cfg, runs.Setting(0.04, 0.1), works)
    assert (facts["chosen_lr"], facts["chosen_beta"], facts["anneal_to"]) == ("0.04", "0.1", "0.04")
    assert facts["calibration_choice"].startswith("the first of the 3 settings tried")
    table = tables.calibration_table(works, runs.Setting(0.04, 0.1), cfg.memorised)
    assert table["used"].tolist() == [False, False, True]
    assert table["patch-only acc. (%)"].tolist() == [9.3, 9.3, 95.0]
    assert str(runs.Setting(0.04, 0.1)) == "small LR 0.04, beta 0.1"  # its wall-time row
    none = tables.calibration_facts(cfg, runs.Setting(0.004, 0.2), failed)
    assert none["calibration_choice"].startswith("the last of the 2 settings tried: none")
    official = tables.calibration_facts(
        chapter_config("patch", "cpu"), runs.Setting(0.004, 0.1), {}
    )
    assert official["anneal_to"] == "0.004"  # 0.1 x 0.04, the official anneal


def test_settings_table_reads_every_value_from_the_parameters():
    cfg = chapter_config("patch", "overnight", seeds=(4, 5))
    table = tables.settings_table(cfg).set_index("setting")["value"]
    assert table["seeds"] == "4, 5"
    assert table["calibration"].startswith("small LR 0.004, 0.04 in turn, each with beta 0.1, 0.2")
    assert (
        table["large LR"] == "0.4, annealed after epoch 20 to the small LR the calibration chooses"
    )
    cpu = tables.settings_table(chapter_config("patch", "cpu")).set_index("setting")["value"]
    assert cpu["clean-only references"] == "none at this profile"


def test_each_method_is_read_against_references_trained_as_it_was():
    hist = {(m, s): patch_history([0.1] * 4, [acc] * 4)
            for m, acc in ((LARGE, 0.6), (SMALL, 0.4), (NOISE, 0.5)) for s in range(3)}  # fmt: skip
    large_refs = {(f, s): patch_history([0.1] * 4, [acc + 0.01 * s] * 4)
                  for f, acc in ((0.2, 0.45), (0.84, 0.6)) for s in range(3)}  # fmt: skip
    survey = tables.reference_table(hist, large_refs)
    assert survey["clean-only reference"].tolist() == [
        "20% of the images, large LR + anneal",  # small LR against 20%, as the survey reads it
        "84% of the images, large LR + anneal",
    ]
    assert survey["difference (pts)"].tolist() == [-6.0, -1.0]
    own = {(SMALL, 0.2, s): patch_history([0.1] * 4, [0.41] * 4) for s in range(2)}
    table = tables.reference_table(hist, large_refs, own)
    assert table["difference (pts)"].tolist() == [-6.0, -1.0, 14.0, -1.0]  # + large LR's 20%
    last = table.iloc[-1]
    assert (last["patched run"], last["clean-only reference"]) == (
        SMALL, "20% of the images, small LR",
    )  # fmt: skip
    assert (last["reference seeds"], last["difference (pts)"]) == (2, -1.0)
    assert tables.reference_table(hist, {}).empty


def test_paper_width_facts_average_the_seeds_and_mark_missing_methods():
    cfg = chapter_config("patch", "paper-subset")
    hist = {
        (SMALL, seed): patch_history([0.2 + 0.1 * seed] * cfg.epochs, [0.5] * cfg.epochs)
        for seed in range(2)
    }
    facts = tables.paper_width_facts(hist, cfg)
    assert facts["pw_small_patch_last"] == "25.0" and facts["pw_large_clean_last"] == "—"
    assert (facts["pw_runs"], facts["pw_seeds"]) == ("2", "2")
    assert facts["pw_anneal_steps"] == f"{cfg.anneal_epoch * tables.steps_per_epoch(cfg):,}"


def mechanism(small_memorises: bool, large_early: bool = False) -> dict:
    """Three seeds, 6 epochs, anneal after epoch 3; large LR learns the patch after it (or, with
    `large_early`, from the first epoch, as the overnight runs do)."""
    out = {}
    for seed in range(3):
        j = 0.01 * seed
        small_patch = [0.9 + j] * 6 if small_memorises else [0.11 + j] * 6
        out[(SMALL, seed)] = patch_history(small_patch, [0.5 + j] * 6)
        large_patch = [0.96 + j] * 6 if large_early else [0.1 + j] * 3 + [0.95] * 3
        out[(LARGE, seed)] = patch_history(large_patch, [0.5, 0.5, 0.5, 0.6, 0.6, 0.6 + j])
        out[(NOISE, seed)] = patch_history([0.1 + j] * 3 + [0.95] * 3, [0.55 + j] * 6)
    return out


def judged(hist, beta: float = 0.1) -> list:
    runs = patch_claims.Runs(hist, 3, 40, 80.0, 30.0, beta, "toy")
    return patch_claims.claims(runs)


def test_each_mechanism_claim_checks_its_own_premise():
    assert [c.verdict.label for c in judged(mechanism(True))] == [stats.REPRODUCED] * 5
    found = judged(mechanism(False))
    assert found[0].verdict.label == stats.NOT_REPRODUCED  # 12% is never "memorised"
    assert all(c.verdict.label == stats.PRECONDITION_NOT_MET for c in found[1:])
    assert "the patch can be learnt before the anneal" in found[1].verdict.reason
    # A large LR that learns the patch at once refutes "near chance" (the patch is learnable);
    # "learns it right after the anneal" then has nothing left to learn.
    found = judged(mechanism(False, large_early=True))
    assert [c.verdict.label for c in found[:3]] == [
        stats.NOT_REPRODUCED,
        stats.NOT_REPRODUCED,
        stats.PRECONDITION_NOT_MET,
    ]
    assert found[2].verdict.reason.endswith("until the anneal: not reproduced")
    assert all(c.verdict.label == stats.PRECONDITION_NOT_MET for c in found[3:])


def test_a_patch_stronger_than_the_papers_is_a_different_task_not_a_refutation():
    found = judged(mechanism(False, large_early=True), beta=0.4)
    assert all(c.verdict.label == stats.PRECONDITION_NOT_MET for c in found)
    assert all("patch strength beta (the paper's): 0.4 > 0.1" in c.verdict.reason for c in found)


def test_timing_is_given_in_sgd_steps_beside_epochs():
    runs = patch_claims.Runs(mechanism(True), 3, 40, 80.0, 30.0, 0.1, "toy")
    assert runs.when(30) == "epoch 30, 1,200 SGD steps (the paper's epoch 3.1)"
    assert "within 3 epochs (120 SGD steps)" in judged(mechanism(True))[2].statement


def test_a_noise_run_whose_noise_never_annealed_fails_its_protocol():
    hist = mechanism(True)
    hist[(NOISE, 2)] = hist[(NOISE, 2)].assign(noise=0.4)
    noise = judged(hist)[4]
    assert noise.verdict.label == stats.PRECONDITION_NOT_MET
    assert "small LR + noise, seed 2: noise anneal never fired" in noise.verdict.reason


def test_best_on_mixed_epoch_is_reported_beside_the_last():
    hist = {(m, 0): patch_history([0.1] * 3, [0.5, 0.7, 0.6]) for m in METHODS}
    final = tables.final_table(hist, "test").set_index("method")
    assert final.loc[SMALL, "ours clean, last (%)"] == "60.00"
    assert final.loc[SMALL, "ours clean, best-on-mixed epoch (%)"] == "70.00"
    assert final.loc[SMALL, "best-on-mixed epochs"] == "2"
    assert final.loc[NOISE, "source"] == "talk_slides"  # 94.43 / 81.36: only in the slides


def test_full_code_path_runs_one_tiny_epoch(fake_cifar, isolated_cache):
    """The full profile's config with only data size and width shrunk trains and evaluates."""
    fake_cifar("fake_cifar_for_patch_test")
    cfg = dataclasses.replace(
        chapter_config("patch", "full"), epochs=2, anneal_epoch=1, n_patch_eval=20
    )
    config = runs.main_configs(cfg)[(NOISE, 0)]
    tiny = PatchConfig(base="fake_cifar_for_patch_test", n_patch_eval=20)
    config = dataclasses.replace(config, dataset=tiny.name, model_width=1, device="cpu")
    history = train.history_frame(runs.run(config).execute())
    assert list(history["epoch"]) == [1, 2]
    assert list(history["noise"]) == pytest.approx([0.4, 4e-6])
    for split in ("test", "mixed", "patch_only"):
        assert history[f"{split}_acc"].between(0, 1).all()


def test_tables_module_imports_no_torch():
    import subprocess
    import sys

    code = "import sys, lrgap_nb.chapters.patch.tables; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("profile", ["smoke", "cpu", "overnight"])
def test_small_profiles_use_the_real_subset_and_smoke_a_synthetic_stand_in(profile):
    cfg = chapter_config("patch", profile)
    dataset = "cifar10_synthetic" if profile == "smoke" else "cifar10_subset"  # smoke needs no data
    assert cfg.dataset == dataset and len(cfg.seeds) >= (3 if profile != "smoke" else 1)
    assert cfg.calibration_seed not in cfg.seeds
    if profile == "overnight":
        assert (cfg.model, cfg.model_width) == ("wrn16_1", None)  # the paper's base width 16
        assert cfg.calibration_betas[0] == cfg.beta  # the official strength is tried first
        assert cfg.calibration_lrs[0] == cfg.lr_small  # and the official small rate


def test_accuracy_bands_stay_within_zero_and_hundred_percent():
    """Seeds at 0.05 and 0.95 patch-only accuracy: mean 50%, std 64 points; the drawn band is
    clipped to the possible range instead of reaching below 0% and above 100%."""
    import matplotlib

    matplotlib.use("Agg")
    from lrgap_nb.chapters.patch import figures

    hist = {(m, s): patch_history([0.05 + 0.9 * s] * 3, [0.5] * 3) for m in METHODS for s in (0, 1)}
    axes = figures.accuracy_curves(hist, 1)
    for ax in axes:
        for band in ax.collections:
            y = band.get_paths()[0].vertices[:, 1]
            assert y.min() >= 0.0 and y.max() <= 100.0
    patch_only = axes[1].collections[0].get_paths()[0].vertices[:, 1]
    assert patch_only.min() == 0.0 and patch_only.max() == 100.0  # clipped, not just narrow


def test_the_calibration_figure_draws_every_setting_and_the_memorised_threshold():
    import matplotlib

    matplotlib.use("Agg")
    from lrgap_nb.chapters.patch import figures

    calibration = {
        runs.Setting(0.004, beta): patch_history([0.1, 0.1 + beta], [0.3, 0.4])
        for beta in (0.1, 0.2, 0.4)
    }
    train_panel, patch_panel = figures.calibration_curves(calibration, 0.8)
    assert [t.get_text() for t in train_panel.figure.legends[0].get_texts()] == [
        "small LR 0.004, beta 0.1",
        "small LR 0.004, beta 0.2",
        "small LR 0.004, beta 0.4",
    ]
    patch_means = [y for line in patch_panel.lines[:3] for y in line.get_ydata()]
    assert patch_means == pytest.approx([10.0, 20.0, 10.0, 30.0, 10.0, 50.0])
    assert patch_panel.lines[3].get_ydata()[0] == 80.0  # the threshold, in percent
