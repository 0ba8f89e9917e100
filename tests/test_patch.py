"""The patch dataset is built exactly as Li, Wei & Ma's official data_util.py builds it."""

import dataclasses

import pytest
import torch

from lrgap_nb import data, patch
from lrgap_nb.patch import CLEAN, MIXED, PATCH_ONLY, PatchConfig

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
    idx = torch.arange(len(split))
    return split.transform(split.x, idx, torch.Generator().manual_seed(seed))


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
    x = serve(train)
    mixed = torch.nonzero(train.transform.kinds == MIXED).flatten()
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
    mixed = torch.nonzero(train.transform.kinds == MIXED).flatten()
    signs = []
    for seed in range(2):  # two epochs' generators
        block = serve(train, seed)[mixed, :, START:STOP, START:STOP] - z
        signs.append(torch.sign(block.flatten(1)[:, 0]))
    flipped = (signs[0] != signs[1]).float().mean().item()
    assert 0.3 < flipped < 0.7  # independent fair signs differ about half the time
    torch.testing.assert_close(serve(train, 0), serve(train, 0))  # same generator, same data


def test_patch_only_examples_are_zero_but_a_scaled_patch(splits, base, cfg):
    train = splits["train"]
    z, zeta = patch.make_patterns(cfg, 3, K)
    x = serve(train)
    only = torch.nonzero(train.transform.kinds == PATCH_ONLY).flatten()
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


def test_kinds_split_20_16_64_fixed_and_reproducible(splits, base, cfg):
    kinds = splits["train"].transform.kinds
    counts = torch.bincount(kinds, minlength=3).tolist()
    assert counts == [100, 80, 320]  # 20% / 16% / 64% of 500
    again = patch.patch_splits(base, cfg, K)["train"].transform.kinds
    assert torch.equal(kinds, again)
    other = patch.patch_splits(base, dataclasses.replace(cfg, seed=3), K)["train"].transform.kinds
    assert not torch.equal(kinds, other)


def test_validation_sets(splits, base, cfg):
    assert splits["test"] is base["test"]  # clean test set, no transform
    mixed = splits["mixed"]
    assert torch.bincount(mixed.transform.kinds, minlength=3).tolist() == [60, 48, 192]
    assert torch.equal(mixed.y, base["test"].y)
    only = splits["patch_only"]
    assert len(only) == cfg.n_patch_eval and torch.count_nonzero(only.x) == 0
    assert torch.bincount(only.y, minlength=K).min() > 0  # random labels over all classes
    kinds = only.transform.kinds  # official TransformOnlyDataset: 20% alpha-scaled patches
    assert torch.bincount(kinds, minlength=3).tolist() == [0, 80, 320]
    served = serve(only)
    served[:, :, START:STOP, START:STOP] = 0
    assert torch.count_nonzero(served) == 0


def test_subset_of_a_patched_split_keeps_each_examples_kind(splits, base, cfg):
    train = splits["train"]
    sub = train.subset(50, "random", seed=1)
    full_x = serve(train)
    positions = torch.randperm(len(train), generator=torch.Generator().manual_seed(1))[:50]
    positions = positions.sort().values
    sub_x = sub.transform(sub.x, torch.arange(50), torch.Generator().manual_seed(0))
    kinds = train.transform.kinds[positions]
    clean = kinds == CLEAN
    torch.testing.assert_close(sub_x[clean], full_x[positions][clean])
    only = kinds == PATCH_ONLY
    outside = sub_x[only].clone()
    outside[:, :, START:STOP, START:STOP] = 0
    assert torch.count_nonzero(outside) == 0


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
    assert (cfg.clean, cfg.patch_only) == (0.2, 0.16)
    assert cfg.mixed == pytest.approx(0.64)
    with pytest.raises(ValueError):
        PatchConfig(clean=0.9, patch_only=0.2)
