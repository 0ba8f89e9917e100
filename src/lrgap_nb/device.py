"""The one place that names CUDA: pick the device, set it up, seed it, and describe it.

On CUDA a run trades bit-exactness for speed (bf16 autocast, channels_last, cudnn.benchmark,
optional torch.compile); on CPU it runs in float32 with deterministic algorithms, so two runs with
the same seed give bit-identical numbers. `LRGAP_DEVICE` (or a `prefer` argument) overrides the pick.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn


def pick_device(prefer: str | None = None) -> torch.device:
    """CUDA when present unless `prefer` or `LRGAP_DEVICE` says otherwise."""
    choice = (
        prefer or os.environ.get("LRGAP_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    )
    if choice.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {choice!r} requested but CUDA is not available here")
    return torch.device(choice)


def device_name(device: torch.device | None = None) -> str:
    device = device or pick_device()
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({os.cpu_count()} cores, {torch.get_num_threads()} threads)"


def configure(device: torch.device, strict: bool = False) -> None:
    """Global backend switches: fast autotuned kernels on CUDA, float32 and fixed kernels on CPU.

    CPU kernels are already bit-reproducible at a fixed thread count (checked: two processes give
    identical weights); `strict` adds torch.use_deterministic_algorithms, which also disables
    oneDNN convolutions and so makes a conv net's backward pass about 10x slower here.
    """
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.use_deterministic_algorithms(False)
    elif strict or torch.are_deterministic_algorithms_enabled():
        # only when it changes something: the call imports torch._inductor (2.5 s a process)
        torch.use_deterministic_algorithms(strict, warn_only=True)


def seed_everything(seed: int) -> None:
    """Seed every generator a run may touch (torch on all devices, numpy, random)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def rng_state() -> dict[str, Any]:
    """The global torch generator states (CPU and, when present, CUDA), for checkpoints."""
    state: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state` returned, so a resumed run draws the same numbers."""
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def compute_dtype(device: torch.device) -> torch.dtype:
    """What training computes in on `device`: bf16 (autocast) on CUDA, float32 elsewhere."""
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA; nothing (float32) on CPU."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=compute_dtype(device))
    return contextlib.nullcontext()


def memory_format(device: torch.device) -> torch.memory_format:
    """channels_last on CUDA (faster convolutions with bf16), contiguous elsewhere."""
    return torch.channels_last if device.type == "cuda" else torch.contiguous_format


def to_images(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Move a batch to `device`, in channels_last when it is a 4-D image batch on CUDA."""
    x = x.to(device)
    return x.contiguous(memory_format=memory_format(device)) if x.dim() == 4 else x


def prepare_model(
    model: nn.Module, device: torch.device, compile: bool = False
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Move `model` to `device` (channels_last on CUDA) and return the callable to train with.

    The returned callable is the model itself or, with `compile`, its torch.compile wrapper; it
    shares parameters with `model`, so save and load `model.state_dict()`.
    """
    model.to(device=device, memory_format=memory_format(device))
    if compile and device.type == "cuda":
        return torch.compile(model)
    return model


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels, so wall-clock timings are honest."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timer(device: torch.device) -> Callable[[], float]:
    """Start a timer; calling the result returns elapsed seconds (CUDA events on the GPU)."""
    if device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()

        def elapsed_cuda() -> float:
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1000.0

        return elapsed_cuda
    t0 = time.perf_counter()
    return lambda: time.perf_counter() - t0
