"""The large-LR and patch chapters' configs: each profile, and the paper-scale shape without a GPU."""

import dataclasses

import pytest
import torch

from lrgap_nb import data, large_lr, models, patch, report, train
from lrgap_nb.chapters import chapter_config

METHODS = ("large LR + anneal", "small LR", "small LR + noise")


def lr_and_noise(config: train.TrainConfig, epochs: tuple[int, ...]) -> list[tuple[float, float]]:
    return [
        (pytest.approx(train.lr_at(config, e, [])), pytest.approx(train.noise_at(config, e)))
        for e in epochs
    ]


def test_patch_full_profile_matches_the_official_code():
    cfg = chapter_config("patch", "full")
    configs = patch.train_configs(cfg)
    assert sorted({m for m, _ in configs}) == sorted(METHODS) and len(cfg.seeds) >= 3
    for config in configs.values():
        assert config.model == "wrn16_10" and config.model_width is None  # official wideresnet16
        assert (config.epochs, config.batch_size, config.momentum) == (60, 128, 0.9)
        assert config.nesterov and config.weight_decay == 5e-4 and not config.augment
        assert config.eval_sets == ("test", "mixed", "patch_only")
        assert patch.PatchConfig.from_name(config.dataset) == patch.PatchConfig(base="cifar10")
    # 0-based epochs 0, 28, 29, 59 are the official 1-based epochs 1, 29, 30, 60 (`epoch >= 30`).
    epochs = (0, 28, 29, 59)
    large, small, noisy = (configs[(m, 0)] for m in METHODS)
    assert [x for x, _ in lr_and_noise(large, epochs)] == [0.1, 0.1, 0.004, 0.004]
    assert [n for _, n in lr_and_noise(large, epochs)] == [0, 0, 0, 0]
    assert [x for x, _ in lr_and_noise(small, epochs)] == [0.004] * 4
    assert lr_and_noise(noisy, epochs) == [(0.004, 0.4), (0.004, 0.4), (0.004, 4e-6), (0.004, 4e-6)]


def test_large_lr_full_profile_matches_the_seed_report():
    cfg = chapter_config("large_lr", "full")
    main = large_lr.main_configs(cfg)
    epochs = (0, 58, 59, 119, 149, 199)
    for (method, _), config in main.items():
        assert (config.model, config.dataset, config.epochs) == ("wrn16_10", "cifar10", 200)
        assert config.batch_size == 128 and config.nesterov and not config.augment
        lr0 = 0.1 if method == "large LR + anneal" else 0.01
        lrs = [x for x, _ in lr_and_noise(config, epochs)]
        assert lrs == [lr0, lr0, lr0 * 0.2, lr0 * 0.04, lr0 * 0.008, lr0 * 0.008]
    noisy = main[("small LR + noise", 0)]
    assert [n for _, n in lr_and_noise(noisy, (0, 58, 59))] == [0.4, 0.4, 4e-6]
    c100 = large_lr.cifar100_configs(cfg)
    assert {m for m, _ in c100} == {"large LR + anneal", "small LR"}
    assert all(c.dataset == "cifar100" and c.epochs == 200 for c in c100.values())
    sizes = large_lr.size_configs(cfg)
    assert {s for _, s, _ in sizes} == {10_000, 50_000}
    assert sizes[("small LR", 50_000, 0)] == main[("small LR", 0)]  # the whole set is a main run
    assert sizes[("small LR", 10_000, 0)].subset == 10_000
    runs = large_lr.chapter_runs(cfg)
    assert len(runs) == len({r.key for r in runs}) == 9 + 6 + 6


@pytest.mark.parametrize("profile", ["smoke", "cpu"])
def test_small_profiles_use_the_real_subset_and_enough_seeds(profile):
    for name, module in (("large_lr", large_lr), ("patch", patch)):
        cfg = chapter_config(name, profile)
        assert cfg.dataset == "cifar10_subset"
        assert len(cfg.seeds) >= (3 if profile == "cpu" else 1)
        runs = module.chapter_runs(cfg)
        assert len({r.key for r in runs}) == len(runs)
    sizes = large_lr.size_configs(chapter_config("large_lr", "cpu"))
    assert {s for _, s, _ in sizes} == {1000, 5085}
    assert sizes[("large LR + anneal", 1000, 1)].subset_mode == "random"


def test_wrn_base_width_scales_every_stage():
    assert models.count_parameters(models.build_model("wrn16_4", 10)) == pytest.approx(
        2.75e6, rel=0.01
    )
    narrow = models.build_model("wrn16_1", 10, 3, width=4)
    convs = [m.out_channels for m in narrow.modules() if isinstance(m, torch.nn.Conv2d)]
    assert sorted(set(convs)) == [4, 8, 16]


def test_mean_std_over_seeds():
    assert report.mean_std([1.0, 2.0, 3.0]) == "2.0 ± 1.0"
    assert report.mean_std([4.25]) == "4.2"


def _fake_cifar(root, download, normalise):
    gen = torch.Generator().manual_seed(0)
    return {
        split: data.TensorData(
            torch.randn(n, 3, 32, 32, generator=gen), torch.randint(0, 10, (n,), generator=gen)
        )
        for split, n in (("train", 64), ("test", 32))
    }


def test_full_patch_code_path_runs_one_tiny_epoch(tmp_path, monkeypatch):
    """The full profile's config with only data size and width shrunk trains and evaluates."""
    monkeypatch.setenv("LRGAP_CACHE", str(tmp_path))
    data.register_dataset("fake_cifar_for_patch_test", 10, _fake_cifar)
    cfg = chapter_config("patch", "full")
    cfg = dataclasses.replace(cfg, epochs=2, anneal_epoch=1, n_patch_eval=20)
    config = patch.train_configs(cfg)[("small LR + noise", 0)]
    tiny = patch.PatchConfig(base="fake_cifar_for_patch_test", n_patch_eval=20)
    config = dataclasses.replace(config, dataset=tiny.name, model_width=1, device="cpu")
    result = train.run_cached(config)
    history = train.history_frame(result)
    assert list(history["epoch"]) == [1, 2]
    assert list(history["noise"]) == pytest.approx([0.4, 4e-6])
    for split in ("test", "mixed", "patch_only"):
        assert history[f"{split}_acc"].between(0, 1).all()


def test_full_large_lr_code_path_runs_one_tiny_epoch(tmp_path, monkeypatch):
    """The full profile's WRN-16-10 config, shrunk in data, width and epochs, trains."""
    monkeypatch.setenv("LRGAP_CACHE", str(tmp_path))
    data.register_dataset("fake_cifar_for_large_lr_test", 10, _fake_cifar)
    config = large_lr.main_configs(chapter_config("large_lr", "full"))[("large LR + anneal", 0)]
    config = dataclasses.replace(
        config, dataset="fake_cifar_for_large_lr_test", model_width=1, epochs=1, device="cpu"
    )
    history = train.history_frame(train.run_cached(config))
    assert history["lr"].tolist() == [0.1] and 0 <= history["test_acc"].iloc[0] <= 1


@pytest.mark.parametrize(
    ("ours", "reference", "paper_gap", "expected"),
    [
        (
            [40.0, 41.0, 42.0],
            [20.0, 21.0, 22.0],
            5.5,
            "direction reproduced (gap +20.0 vs paper +5.5 pts, larger)",
        ),
        ([30.0, 31.0, 32.0], [25.0, 26.0, 27.0], 5.5, "similar size"),
        ([30.0, 31.0, 32.0], [28.0, 29.0, 30.0], 5.5, "smaller"),
        ([20.0, 25.0, 30.0], [21.0, 24.0, 27.0], 5.5, "inconclusive"),
        ([20.0, 21.0, 22.0], [30.0, 31.0, 32.0], 5.5, "not reproduced"),
    ],
)
def test_gap_verdict_names_direction_and_size(ours, reference, paper_gap, expected):
    assert expected in large_lr.gap_verdict(ours, reference, paper_gap)
