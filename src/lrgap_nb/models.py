"""The networks of both papers, built by name with `build_model(name, num_classes)`.

Every BatchNorm is followed by a `PreActNoise` hook and then its ReLU, so Li, Wei & Ma's
pre-activation noise can be switched on at run time with `set_noise` (off by default). BatchNorm
layers can evaluate with running statistics (PyTorch's default) or with batch statistics, as
Keskar et al.'s Keras `BatchNormalization(mode=2)` did at test time too (`set_bn_mode`).
"""

from __future__ import annotations

import math
import re

import torch
import torch.nn.functional as F
from torch import nn

NOISE_MODES = ("shared", "iid")
BN_MODES = ("running", "batch")


class PreActNoise(nn.Module):
    """Add scale·N(0, 1) noise to a BatchNorm output in training mode (Li, Wei & Ma 2019, §6).

    "shared" (the official code): one Gaussian map over the spatial positions per step, broadcast
    over batch and channels (for a dense layer, one vector over features broadcast over the
    batch). "iid": independent noise for every entry. Scale 0 or eval mode: identity.
    """

    def __init__(self, mode: str = "shared") -> None:
        super().__init__()
        self.mode = mode
        self.active = False  # python flag, so compiled graphs skip the noise when it is off
        self.register_buffer("scale", torch.zeros(()), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and self.active):
            return x
        if self.mode == "iid":
            noise = torch.randn_like(x)
        elif x.dim() > 2:
            noise = torch.randn(x.shape[2:], device=x.device, dtype=x.dtype)
        else:
            noise = torch.randn(x.shape[1:], device=x.device, dtype=x.dtype)
        return x + self.scale.to(x.dtype) * noise


def set_noise(model: nn.Module, scale: float, mode: str | None = None) -> None:
    """Set every pre-activation noise hook's scale (and mode), e.g. once per epoch."""
    if scale < 0:
        raise ValueError(f"noise scale must be >= 0, got {scale}")
    if mode is not None and mode not in NOISE_MODES:
        raise ValueError(f"noise mode must be one of {NOISE_MODES}, got {mode!r}")
    for m in model.modules():
        if isinstance(m, PreActNoise):
            m.scale.fill_(scale)
            m.active = scale > 0
            if mode is not None:
                m.mode = mode


class _BatchStatsMixin:
    """BatchNorm that can also normalise with batch statistics in eval mode."""

    eval_batch_stats = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training or not self.eval_batch_stats:
            return super().forward(x)
        return F.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)


class BatchNorm1d(_BatchStatsMixin, nn.BatchNorm1d):
    pass


class BatchNorm2d(_BatchStatsMixin, nn.BatchNorm2d):
    pass


def set_bn_mode(model: nn.Module, mode: str) -> None:
    """Evaluate BatchNorm with "running" statistics (PyTorch) or "batch" statistics (Keskar's Keras)."""
    if mode not in BN_MODES:
        raise ValueError(f"bn mode must be one of {BN_MODES}, got {mode!r}")
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            if not isinstance(m, _BatchStatsMixin):
                raise TypeError(f"{type(m).__name__} does not support bn mode {mode!r}")
            m.eval_batch_stats = mode == "batch"


def bn_act(features: int, dims: int = 2) -> list[nn.Module]:
    """BatchNorm, the noise hook, ReLU: the unit every model here is built from."""
    bn = BatchNorm2d(features) if dims == 2 else BatchNorm1d(features)
    return [bn, PreActNoise(), nn.ReLU(inplace=True)]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# --- WideResNet (Zagoruyko & Komodakis 2016), as in Li, Wei & Ma's official code ----------------


class WideBlock(nn.Module):
    """Pre-activation basic block: BN-ReLU-conv3x3-BN-ReLU-conv3x3 plus a (1x1 conv) shortcut."""

    def __init__(self, in_planes: int, out_planes: int, stride: int) -> None:
        super().__init__()
        self.act1 = nn.Sequential(*bn_act(in_planes))
        self.conv1 = nn.Conv2d(in_planes, out_planes, 3, stride, 1, bias=False)
        self.act2 = nn.Sequential(*bn_act(out_planes))
        self.conv2 = nn.Conv2d(out_planes, out_planes, 3, 1, 1, bias=False)
        self.equal = in_planes == out_planes
        self.shortcut = (
            None if self.equal else nn.Conv2d(in_planes, out_planes, 1, stride, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act1(x)
        if not self.equal:  # the official code feeds the activated input to the shortcut conv
            x = out
        out = self.conv2(self.act2(self.conv1(out)))
        return out + (x if self.shortcut is None else self.shortcut(x))


class WideResNet(nn.Module):
    """WRN-depth-k for 32x32 inputs; dropout 0, He (fan-out) init. WRN-16-4: 2.75M parameters.

    `base` (16 in the paper) scales every stage, giving CPU-sized nets narrower than WRN-16-1.
    """

    def __init__(
        self, depth: int, k: int, num_classes: int, in_channels: int = 3, base: int = 16
    ) -> None:
        super().__init__()
        if (depth - 4) % 6:
            raise ValueError(f"WideResNet depth must be 6n + 4, got {depth}")
        n = (depth - 4) // 6
        widths = [base, base * k, 2 * base * k, 4 * base * k]
        layers: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False)]
        for stage, stride in enumerate((1, 2, 2)):
            for i in range(n):
                cin = widths[stage] if i == 0 else widths[stage + 1]
                layers.append(WideBlock(cin, widths[stage + 1], stride if i == 0 else 1))
        layers += [*bn_act(widths[3]), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(widths[3], num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out))
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


# --- Keskar et al. 2017, Table 1 ------------------------------------------------------------


def keskar_mlp(in_features: int, hidden: int, depth: int, num_classes: int) -> nn.Sequential:
    """F1 (784 → 5×[512, BN, ReLU] → 10) and F2 (360 → 7×[512, BN, ReLU] → 1973)."""
    layers: list[nn.Module] = [nn.Flatten()]
    for i in range(depth):
        layers += [nn.Linear(in_features if i == 0 else hidden, hidden), *bn_act(hidden, dims=1)]
    layers.append(nn.Linear(hidden, num_classes))
    return nn.Sequential(*layers)


def keskar_shallow_conv(num_classes: int, in_channels: int = 3, width: int = 64) -> nn.Sequential:
    """C1 (CIFAR-10) / C3 (CIFAR-100): Keskar's `shallownet`, an AlexNet-like network."""
    layers: list[nn.Module] = []
    for cin in (in_channels, width):
        layers += [nn.Conv2d(cin, width, 5, padding=2), *bn_act(width), nn.MaxPool2d(3, 2, 1)]
    layers += [nn.Flatten(), nn.Linear(width * 8 * 8, 384), *bn_act(384, 1), nn.Dropout(0.5)]
    layers += [nn.Linear(384, 192), *bn_act(192, 1), nn.Dropout(0.5), nn.Linear(192, num_classes)]
    return nn.Sequential(*layers)


# conv widths; "M" is a 2x2 max-pool. The same stack as VGG-16 (Simonyan & Zisserman 2015).
_VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


def keskar_deep_conv(num_classes: int, in_channels: int = 3) -> nn.Sequential:
    """C2 (CIFAR-10) / C4 (CIFAR-100): Keskar's `deepnet`, VGG-16 with BN and dropout 0.3/0.4."""
    layers: list[nn.Module] = []
    cin = in_channels
    for i, item in enumerate(_VGG16):
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
            continue
        layers += [nn.Conv2d(cin, item, 3, padding=1), *bn_act(item)]
        if _VGG16[i + 1] != "M":  # dropout after every conv not followed by a pool
            layers.append(nn.Dropout(0.3 if i == 0 else 0.4))
        cin = item
    layers += [nn.Flatten(), nn.Dropout(0.5), nn.Linear(512, 512), *bn_act(512, 1)]
    layers += [nn.Dropout(0.5), nn.Linear(512, num_classes)]
    return nn.Sequential(*layers)


def vgg16_bn(num_classes: int, in_channels: int = 3) -> nn.Sequential:
    """VGG-16 with BN for 32x32 inputs: the conv stack, then one linear classifier."""
    layers: list[nn.Module] = []
    cin = in_channels
    for item in _VGG16:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, item, 3, padding=1, bias=False), *bn_act(item)]
            cin = item
    layers += [nn.Flatten(), nn.Linear(512, num_classes)]
    return nn.Sequential(*layers)


# --- CIFAR ResNet (He et al. 2016, §4.2), option A shortcuts ----------------------------------


class ResBlock(nn.Module):
    """conv-BN-ReLU-conv-BN, plus a parameter-free shortcut (subsample, zero-pad channels)."""

    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.act1 = nn.Sequential(*bn_act(planes))
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = BatchNorm2d(planes)
        self.act2 = nn.Sequential(PreActNoise(), nn.ReLU(inplace=True))
        self.stride, self.pad = stride, planes - in_planes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.act1(self.conv1(x))))
        short = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
        if self.pad:
            short = F.pad(short, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return self.act2(out + short)


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for CIFAR: 16/32/64 channels, n blocks per stage. ResNet-44: 0.66M parameters."""

    def __init__(self, depth: int, num_classes: int, in_channels: int = 3) -> None:
        super().__init__()
        if (depth - 2) % 6:
            raise ValueError(f"CIFAR ResNet depth must be 6n + 2, got {depth}")
        n = (depth - 2) // 6
        layers: list[nn.Module] = [nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False), *bn_act(16)]
        cin = 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(n):
                layers.append(ResBlock(cin, planes, stride if i == 0 else 1))
                cin = planes
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


# --- the factory ----------------------------------------------------------------------------

MODELS = ("wrn{depth}_{k}", "f1", "f2", "c1", "c2", "c3", "c4", "resnet{depth}", "vgg16_bn")


def build_model(
    name: str, num_classes: int, in_channels: int = 3, width: int | None = None
) -> nn.Module:
    """A fresh network by name: wrn16_4, wrn16_10, f1, f2, c1..c4, resnet44, vgg16_bn.

    `width` overrides the hidden width of f1/f2 (512), the conv width of c1/c3 (64) and the base
    width of wrn (16), for small and CPU-sized models. f1 takes 784 inputs (MNIST), f2 360 (TIMIT
    features).
    """
    if m := re.fullmatch(r"wrn(\d+)_(\d+)", name):
        return WideResNet(int(m[1]), int(m[2]), num_classes, in_channels, width or 16)
    if m := re.fullmatch(r"resnet(\d+)", name):
        return CifarResNet(int(m[1]), num_classes, in_channels)
    if name == "f1":
        return keskar_mlp(784, width or 512, 5, num_classes)
    if name == "f2":
        return keskar_mlp(360, width or 512, 7, num_classes)
    if name in ("c1", "c3"):
        return keskar_shallow_conv(num_classes, in_channels, width or 64)
    if name in ("c2", "c4"):
        return keskar_deep_conv(num_classes, in_channels)
    if name == "vgg16_bn":
        return vgg16_bn(num_classes, in_channels)
    raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")


def check_model_name(name: str) -> None:
    """Raise a clear ValueError for a name `build_model` does not know, without building it."""
    known = re.fullmatch(r"wrn\d+_\d+|resnet\d+|f1|f2|c[1-4]|vgg16_bn", name)
    if not known:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
