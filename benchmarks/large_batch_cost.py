"""What one unit of the large-batch chapter's overnight runs costs on one torch thread.

    LRGAP_DATA=/work/shared/data python benchmarks/large_batch_cost.py [--networks f1 c1]
        [--conv-widths 32 64]

Per network at the overnight settings: one training epoch at SB and at LB (drop_last), one
evaluation of the whole training set (the gate), and on the 5,000 probe examples one loss and
gradient (a step of phi's L-BFGS-B) and one Hessian-vector product (a step of the power
iteration). Multiply by the epochs and iterations a run needs to budget a sweep. C1 is measured
at each of `--conv-widths` (the paper's is 64), with each cost's ratio to the first width's.
"""

from __future__ import annotations

import argparse
import time

import torch

from lrgap_nb import train
from lrgap_nb.chapters import chapter_config
from lrgap_nb.chapters.large_batch import runs, sharpness


def seconds(work, *args) -> float:
    start = time.perf_counter()
    work(*args)
    return time.perf_counter() - start


def costs(config: runs.SbLbConfig, dev: torch.device) -> dict[str, float]:
    """Seconds of one SB epoch, one LB epoch, the gate's evaluation, one gradient, one HVP."""
    splits = train.load_data(config.train_config(config.small_batch))
    out = {}
    for label, batch in (("SB epoch", config.small_batch), ("LB epoch", config.large_batch)):
        bcfg = config.train_config(batch)
        net = train.make_model(bcfg, splits["train"].x.shape[1:]).train()
        optimizer = train.make_optimizer(bcfg, net.parameters())
        out[label] = seconds(
            train._train_epoch, net, optimizer, splits["train"], bcfg, 0, dev, False
        )
    net.eval()
    out["gate evaluation"] = seconds(train.evaluate, net, splits["train"], config.bn_batch, dev)
    probe = runs.fixed_subset(splits["train"], config.probe_size)
    loss = sharpness.ModelLoss(net, probe.x, probe.y, config.bn_batch)
    w = loss.vector()
    out["loss and gradient"] = seconds(loss.value_and_grad, w)
    out["Hessian-vector product"] = seconds(loss.hvp, w, torch.randn_like(w))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--networks", nargs="+", default=["f1", "c1"])
    parser.add_argument("--conv-widths", nargs="+", type=int, default=[32, 64])
    args = parser.parse_args()
    torch.set_num_threads(1)
    dev = torch.device("cpu")
    for network in args.networks:
        widths = args.conv_widths if network in ("c1", "c3") else [None]
        first = None
        for width in widths:
            overrides = {"networks": (network,)} | ({"conv_width": width} if width else {})
            cfg = chapter_config("large_batch", "overnight", **overrides)
            measured = costs(runs.pair_configs(cfg)["main"][0], dev)
            first = first or measured
            name = network if width is None else f"{network} width {width}"
            for what, s in measured.items():
                ratio = f" ({s / first[what]:.2f} x width {widths[0]})" if width else ""
                print(f"{name}: {what} {s:.1f} s{ratio}", flush=True)


if __name__ == "__main__":
    main()
