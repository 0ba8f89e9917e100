"""Training throughput: our device-resident batches versus the official PIL + DataLoader pipeline.

Both pipelines train the same WideResNet (SGD, Nesterov momentum, batch 128, crop + flip
augmentation) on CIFAR-shaped random images, one after the other in one process; the only
difference is how batches are made. The official pipeline (Li, Wei & Ma's train_util.load_data)
converts every image to a tensor, reflect-pads it, goes back to PIL, crops, flips, converts and
normalises it, in one DataLoader worker. Ours slices normalised tensors already on the device.

    python benchmarks/train_throughput.py               # GPU: 50 timed batches per pipeline
    python benchmarks/train_throughput.py --batches 1   # CPU default: 1 (WRN-16-10 is slow)

Epoch times are extrapolated to CIFAR-10's 50,000 training images.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import numpy as np
import pandas as pd
import torch

from lrgap_nb import data, device, models
from lrgap_nb.gpu_check import measure, official_batches, resident_batches, step_fn

EPOCH_IMAGES = 50_000  # CIFAR-10 training set


def on_device(
    images: np.ndarray, labels: np.ndarray, batch_size: int, dev: torch.device
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Ours: normalised tensors on the device, permuted, cropped and flipped there."""
    x = data.images_to_tensor(images, "standard", data.CIFAR_MEAN, data.CIFAR_STD)
    split = data.TensorData(x, torch.as_tensor(labels, dtype=torch.int64)).to(dev)
    return resident_batches(split, batch_size, dev)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=None, help="timed batches per pipeline")
    parser.add_argument("--warmup", type=int, default=None, help="untimed batches per pipeline")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--models", nargs="+", default=["wrn16_4", "wrn16_10"])
    parser.add_argument("--device", default=None, help="cpu or cuda (default: LRGAP_DEVICE/auto)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model (CUDA)")
    args = parser.parse_args()

    dev = device.pick_device(args.device)
    device.configure(dev)
    on_gpu = dev.type != "cpu"
    n = args.batches or (50 if on_gpu else 1)
    warmup = args.warmup if args.warmup is not None else (10 if on_gpu else 1)
    n_images = args.batch_size * (n + warmup + 1)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n_images, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, n_images)
    print(
        f"device: {device.device_name(dev)}; {n} timed + {warmup} warm-up batches of {args.batch_size}"
    )

    rows = []
    for name in args.models:
        torch.manual_seed(0)
        model = models.build_model(name, 10)
        step = step_fn(device.prepare_model(model, dev, args.compile), dev)
        for pipeline, make in (
            ("official PIL DataLoader", official_batches),
            ("ours (on device)", on_device),
        ):
            seconds = measure(step, make(images, labels, args.batch_size, dev), n, dev, warmup)
            per_s = n * args.batch_size / seconds
            rows.append(
                {
                    "model": name,
                    "pipeline": pipeline,
                    "images/s": round(per_s, 1),
                    "epoch s (50k)": round(EPOCH_IMAGES / per_s, 1),
                }
            )
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    speed = table.pivot(index="model", columns="pipeline", values="images/s")
    ratio = speed["ours (on device)"] / speed["official PIL DataLoader"]
    for name, value in ratio.items():
        print(f"{name}: ours / official = {value:.2f}x images/s")


if __name__ == "__main__":
    main()
