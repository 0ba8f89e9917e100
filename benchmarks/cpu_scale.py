"""How fast can this CPU train the large-LR chapters' candidate networks? (issue 12, "speed first")

Trains WRN-16-1 and WRN-16-2 at the paper's base width 16 (stages 16/16/32/64 and 16/32/64/128)
and the `cpu` profile's net (base width 4: 4/4/8/16) on the real 5,085-image CIFAR-10 subset
(SGD Nesterov, batch 128, as the chapters) and prints, per setting: training images/s, evaluation
images/s, achieved GFLOP/s (counted with torch.utils.flop_counter) and its ratio to a dense
float32 matmul ceiling measured in the same run at the same thread count. Variants: 1 vs 2
threads, channels-last, torch.compile, evaluation batch size, and two 1-thread processes side by
side against one 2-thread process. Determinism: two runs of the same steps from the same seed
must give bit-identical weights.

The cores are shared, so absolute numbers move with the load (printed at the start and end);
compare ratios within one run.

    LRGAP_DATA=/work/shared/data .venv/bin/python benchmarks/cpu_scale.py [--steps 8] [--compile]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time

import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from lrgap_nb import data, models

NETS = {"WRN-16-1 (base 16)": ("wrn16_1", 16), "WRN-16-2 (base 16)": ("wrn16_2", 16),
        "cpu profile (wrn16_1, base 4)": ("wrn16_1", 4)}  # fmt: skip
BATCH = 128


def matmul_ceiling(threads: int, n: int = 1024, reps: int = 10) -> float:
    """GFLOP/s of a dense float32 n×n matmul at `threads` threads (best of `reps`)."""
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def train_flops(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """FLOPs of one training step (forward + backward) on the batch."""
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(net(x), y).backward()
    net.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def eval_flops(net: torch.nn.Module, x: torch.Tensor) -> int:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(x)
    return counter.get_total_flops()


def build(name: str, width: int, channels_last: bool, compiled: bool, seed: int = 0):
    torch.manual_seed(seed)
    net = models.build_model(name, 10, 3, width)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    run = torch.compile(net) if compiled else net
    return net, run


def batches(splits: data.Splits, split: str, size: int, channels_last: bool):
    x, y = splits[split].x, splits[split].y
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return [(x[i : i + size], y[i : i + size]) for i in range(0, len(y), size)]


def time_training(net, run, train_batches, steps: int) -> float:
    """Seconds per training image over `steps` batches after one warm-up step."""
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    net.train()
    seen, start = 0, None
    for i, (x, y) in enumerate(train_batches[: steps + 1]):
        if i == 1:
            start, seen = time.perf_counter(), 0
        loss = F.cross_entropy(run(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        seen += len(y)
    return (time.perf_counter() - start) / seen


@torch.no_grad()
def time_eval(net, run, eval_batches, images: int) -> float:
    net.eval()
    run(eval_batches[0][0])  # warm-up
    seen, start = 0, time.perf_counter()
    for x, _ in eval_batches:
        run(x)
        seen += len(x)
        if seen >= images:
            break
    return (time.perf_counter() - start) / seen


def measure(name, width, threads, channels_last, compiled, steps, splits) -> dict:
    torch.set_num_threads(threads)
    net, run = build(name, width, channels_last, compiled)
    train_b = batches(splits, "train", BATCH, channels_last)
    x, y = train_b[0]
    flops_train = train_flops(net, x, y) / len(y)
    flops_eval = eval_flops(net, x) / len(y)
    s_train = time_training(net, run, train_b, steps)
    row = {
        "threads": threads,
        "channels-last": channels_last,
        "compile": compiled,
        "train img/s": 1 / s_train,
        "train GFLOP/s": flops_train / s_train / 1e9,
        "MFLOP/img (train)": flops_train / 1e6,
    }
    for size in (128, 250, 1000):
        s_eval = time_eval(net, run, batches(splits, "test", size, channels_last), 1000)
        row[f"eval img/s @{size}"] = 1 / s_eval
    row["eval GFLOP/s @250"] = flops_eval * row["eval img/s @250"] / 1e9
    return row


def _worker(args) -> float:
    name, width, steps, seed = args
    torch.set_num_threads(1)
    splits = load_subset()
    net, run = build(name, width, False, False, seed)
    start = time.perf_counter()
    time_training(net, run, batches(splits, "train", BATCH, False), steps)
    return time.perf_counter() - start


def two_processes(name: str, width: int, steps: int) -> float:
    """Aggregate training img/s of two 1-thread processes side by side (excluding start-up)."""
    ctx = multiprocessing.get_context("forkserver")
    with ctx.Pool(2) as pool:
        pool.map(_worker, [(name, width, 1, 0)] * 2)  # load data, warm both
        start = time.perf_counter()
        pool.map(_worker, [(name, width, steps, s) for s in (0, 1)])
        wall = time.perf_counter() - start
    return 2 * steps * BATCH / wall  # includes the data reload; see the note printed


def deterministic(name: str, width: int, channels_last: bool, steps: int, splits) -> bool:
    """Two trainings of `steps` batches from one seed end with bit-identical weights."""
    weights = []
    for _ in range(2):
        net, run = build(name, width, channels_last, False, seed=3)
        time_training(net, run, batches(splits, "train", BATCH, channels_last), steps)
        weights.append(torch.cat([p.detach().flatten() for p in net.parameters()]))
    return torch.equal(weights[0], weights[1])


def load_subset() -> data.Splits:
    return data.load("cifar10_subset", device=torch.device("cpu"))


def load_line() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=6, help="timed training batches per setting")
    parser.add_argument(
        "--compile", action="store_true", help="also try torch.compile (slow start)"
    )
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {os.cpu_count()} cores; at start: {load_line()}")
    splits = load_subset()
    ceilings = {t: matmul_ceiling(t) for t in (1, 2)}
    print("dense float32 1024² matmul ceiling: " + ", ".join(
        f"{t} thread(s) {g:.1f} GFLOP/s" for t, g in ceilings.items()))  # fmt: skip
    rows = []
    for label, (name, width) in NETS.items():
        variants = [(1, False, False), (2, False, False), (1, True, False)]
        if args.compile and width == 16 and name == "wrn16_1":
            variants.append((1, False, True))
        for threads, cl, comp in variants:
            row = measure(name, width, threads, cl, comp, args.steps, splits)
            row["net"] = label
            row["ratio to matmul ceiling"] = row["train GFLOP/s"] / ceilings[threads]
            rows.append(row)
            print(f"  {label}: {threads} thr cl={cl} compile={comp}: "
                  f"{row['train img/s']:.0f} img/s", flush=True)  # fmt: skip
    table = pd.DataFrame(rows).set_index(["net", "threads", "channels-last", "compile"])
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(2))
    name, width = NETS["WRN-16-1 (base 16)"]
    one_two = table.loc[("WRN-16-1 (base 16)", 2, False, False), "train img/s"]
    pair = two_processes(name, width, args.steps)
    print(f"\nWRN-16-1: one 2-thread process {one_two:.0f} img/s; two 1-thread processes "
          f"{pair:.0f} img/s together (ratio {pair / one_two:.2f})")  # fmt: skip
    for cl in (False, True):
        same = deterministic(name, width, cl, 3, splits)
        print(f"bit-identical weights after 3 steps, channels-last={cl}: {same}")
    per_epoch = (
        len(splits["train"]) / table.loc[("WRN-16-1 (base 16)", 1, False, False), "train img/s"]
    )
    print(f"WRN-16-1, 1 thread: {per_epoch:.0f} s per training epoch of the subset")
    print(f"at end: {load_line()}")


if __name__ == "__main__":
    main()
