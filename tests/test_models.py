"""Models: published parameter counts, output shapes, the noise hook and the two BN modes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lrgap_nb import models


@pytest.mark.parametrize(
    ("name", "published"),
    [
        ("wrn16_4", 2.75e6),  # Zagoruyko & Komodakis 2016, Table 1 / Li, Wei & Ma 2019
        ("wrn16_10", 17.1e6),
        ("resnet44", 0.66e6),  # He et al. 2016, Table 6
    ],
)
def test_published_parameter_counts(name: str, published: float) -> None:
    count = models.count_parameters(models.build_model(name, 10))
    assert abs(count - published) / published < 0.005


def test_f1_parameter_count_by_hand() -> None:
    linear = lambda n_in, n_out: n_in * n_out + n_out  # noqa: E731 (weights + biases)
    bn = 2 * 512  # BN scale and shift
    expected = linear(784, 512) + 4 * linear(512, 512) + 5 * bn + linear(512, 10)
    assert expected == 1_462_794
    assert models.count_parameters(models.build_model("f1", 10)) == expected


@pytest.mark.parametrize(
    ("name", "classes", "shape"),
    [
        ("f1", 10, (3, 1, 28, 28)),
        ("f2", 1973, (3, 360)),
        ("c1", 10, (3, 3, 32, 32)),
        ("c3", 100, (3, 3, 32, 32)),
        ("c2", 10, (3, 3, 32, 32)),
        ("c4", 100, (3, 3, 32, 32)),
        ("vgg16_bn", 10, (3, 3, 32, 32)),
        ("resnet44", 10, (3, 3, 32, 32)),
        ("wrn16_4", 100, (3, 3, 32, 32)),
    ],
)
def test_output_shapes(name: str, classes: int, shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    net = models.build_model(name, classes).eval()
    with torch.no_grad():
        assert net(torch.randn(shape)).shape == (shape[0], classes)


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown model 'resnet9000x'"):
        models.build_model("resnet9000x", 10)
    with pytest.raises(ValueError, match="unknown model"):
        models.check_model_name("wrn")
    with pytest.raises(ValueError, match="6n \\+ 4"):
        models.build_model("wrn15_4", 10)


def _hook(mode: str, scale: float) -> models.PreActNoise:
    hook = models.PreActNoise()
    models.set_noise(hook, scale, mode)
    return hook.train()


def test_shared_noise_is_one_map_over_batch_and_channels() -> None:
    torch.manual_seed(0)
    out = _hook("shared", 0.5)(torch.zeros(4, 3, 5, 5))
    assert torch.equal(out, out[:1, :1].expand_as(out))
    assert out[0, 0].std() > 0.1  # but it varies over positions
    dense = _hook("shared", 0.5)(torch.zeros(4, 7))
    assert torch.equal(dense, dense[:1].expand_as(dense))


def test_iid_noise_differs_across_batch_and_channels() -> None:
    torch.manual_seed(0)
    out = _hook("iid", 0.5)(torch.zeros(4, 3, 5, 5))
    assert not torch.equal(out[0], out[1]) and not torch.equal(out[0, 0], out[0, 1])
    assert 0.4 < out.std() < 0.6


def test_zero_scale_and_eval_mode_are_identity() -> None:
    x = torch.randn(2, 3, 4, 4)
    assert torch.equal(_hook("iid", 0.0)(x), x)
    assert torch.equal(_hook("shared", 1.0).eval()(x), x)
    with pytest.raises(ValueError, match="noise scale"):
        models.set_noise(models.PreActNoise(), -1.0)


def test_noise_reaches_every_bn_of_a_wrn() -> None:
    net = models.build_model("wrn16_1", 10).train()
    hooks = [m for m in net.modules() if isinstance(m, models.PreActNoise)]
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(hooks) == len(bns) == 13  # 2 per block x 6 blocks + the final BN
    x = torch.randn(4, 3, 32, 32)
    torch.manual_seed(1)
    clean = net(x)
    models.set_noise(net, 0.0)
    torch.manual_seed(1)
    assert torch.equal(net(x), clean)
    models.set_noise(net, 0.3)
    assert not torch.allclose(net(x), clean)


def test_bn_batch_mode_uses_batch_statistics_at_evaluation() -> None:
    torch.manual_seed(0)
    bn = models.BatchNorm1d(5)
    bn.running_mean.fill_(3.0)
    x = torch.randn(8, 5) * 2 + 1
    batch_normed = F.batch_norm(x, None, None, bn.weight, bn.bias, True, 0.0, bn.eps)
    net = torch.nn.Sequential(bn).eval()
    models.set_bn_mode(net, "batch")
    running_before = bn.running_mean.clone()
    torch.testing.assert_close(net(x), batch_normed)
    assert torch.equal(bn.running_mean, running_before)  # evaluation leaves the buffers alone
    models.set_bn_mode(net, "running")
    assert not torch.allclose(net(x), batch_normed)
    with pytest.raises(ValueError, match="bn mode"):
        models.set_bn_mode(net, "keras")


def test_wrn_he_init() -> None:
    net = models.build_model("wrn16_10", 10)
    conv = net.features[6].conv2  # last block's second conv: 640 -> 640, 3x3
    expected = (2.0 / (3 * 3 * 640)) ** 0.5
    assert abs(conv.weight.std().item() - expected) / expected < 0.02
