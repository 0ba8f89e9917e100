"""What one unit of the large-batch chapter's overnight runs costs on one torch thread.

    LRGAP_DATA=/work/shared/data python benchmarks/large_batch_cost.py [--networks f1 c1]

Per network at the overnight settings: one training epoch at SB and at LB (drop_last), one
evaluation of the whole training set (the gate), and on the 5,000 probe examples one loss and
gradient (a step of phi's L-BFGS-B) and one Hessian-vector product (a step of the power
iteration). Multiply by the epochs and iterations a run needs to budget a sweep.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--networks", nargs="+", default=["f1", "c1"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = chapter_config("large_batch", "overnight", networks=tuple(args.networks))
    dev = torch.device("cpu")
    for config in runs.pair_configs(cfg)["main"][:: len(cfg.seeds)]:
        tcfg = config.train_config(config.small_batch)
        splits = train.load_data(tcfg)
        for batch in (config.small_batch, config.large_batch):
            bcfg = config.train_config(batch)
            net = train.make_model(bcfg, splits["train"].x.shape[1:]).train()
            optimizer = train.make_optimizer(bcfg, net.parameters())
            epoch = seconds(
                train._train_epoch, net, optimizer, splits["train"], bcfg, 0, dev, False
            )
            print(f"{config.model} batch {batch}: one epoch {epoch:.1f} s", flush=True)
        net.eval()
        gate = seconds(train.evaluate, net, splits["train"], config.bn_batch, dev)
        probe = runs.fixed_subset(splits["train"], config.probe_size)
        loss = sharpness.ModelLoss(net, probe.x, probe.y, config.bn_batch)
        w = loss.vector()
        grad = seconds(loss.value_and_grad, w)
        hvp = seconds(loss.hvp, w, torch.randn_like(w))
        print(
            f"{config.model}: gate evaluation on {len(splits['train']):,} examples {gate:.1f} s; "
            f"on {len(probe):,} probe examples: loss and gradient {grad:.1f} s, "
            f"Hessian-vector product {hvp:.1f} s ({hvp / grad:.1f} x the gradient)",
            flush=True,
        )


if __name__ == "__main__":
    main()
