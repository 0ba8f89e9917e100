"""The learning-order calibration's pilot (results/calibration/learning_order_pilot.json): S on P
alone from the p0·N P-only examples and from the (1-q0)·N examples containing P, on calibration
seeds 100-104, for a few (d, N, gamma0, eta_2), with the wall time of each setting.

    OMP_NUM_THREADS=1 python benchmarks/learning_order_pilot.py > pilot.jsonl

The committed rows with d = 400 were run before the chapter moved into its folder, when the
initial weights came from the batch's generator instead of one generator per seed: they
reproduce in distribution, not to the digit. The d = 200 rows are this script's.
"""

from __future__ import annotations

import dataclasses
import json
import time

import torch

import lrgap_nb as lg
from lrgap_nb.chapters.learning_order import learner

SEEDS = [100, 101, 102, 103, 104]
SETTINGS = [  # d, N, gamma0, eta_2, step cap
    (400, 800, 0.0, 0.5, 3000),
    (400, 800, 0.02, 0.5, 3000),
    (200, 400, 0.02, 2.0, 4000),
    (200, 400, 0.0, 2.0, 4000),
    (200, 400, 0.02, 0.5, 4000),
    (200, 400, 0.04, 2.0, 4000),
]


def main() -> None:
    torch.set_num_threads(1)
    base = learner.Setting.of(lg.chapter_config("learning_order", "overnight"))
    for d, n, gamma0, lr_small, steps in SETTINGS:
        cfg = dataclasses.replace(
            base, d=d, gamma0=gamma0, lr_small=lr_small, max_steps=steps, eval_every=100
        )
        start = time.time()
        row = {"d": d, "N": n, "gamma0": gamma0, "lr_small": lr_small}
        for keep in ("P only", "with P"):
            batch = learner.make_batch(cfg, SEEDS, [n] * len(SEEDS), keep=keep)
            out = learner.train(
                batch,
                learner.schedule_for("S", cfg, len(SEEDS)),
                cfg,
                torch.Generator().manual_seed(1),
                learner.initial_weights(cfg, SEEDS),
            )
            row[keep] = [round(1 - a, 4) for a in out["history"]["P only"][-1]]
            row[f"{keep} stop"] = out["stop_step"]
        row["sec"] = round(time.time() - start, 1)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
