"""Cost of the learning-order chapter's runs before sizing a profile: ms per run and step.

    python benchmarks/learning_order_cost.py --profile overnight [--steps 200]

Times `--steps` steps of one unit (all the profile's seeds in one batch, one torch thread) at the
main N and at the largest N of the sweep, then prints the profile's worst case: every run for
max_steps (runs that reach epsilon2 stop earlier, so the real cost is lower). On a shared CPU the
figure moves with the load; the printed numbers are the ones measured in this run.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import torch

import lrgap_nb as lg
from lrgap_nb.chapters.learning_order import learner, runs


def ms_per_run_step(setting: learner.Setting, n_train: int, seeds: int, steps: int) -> float:
    seed_list = list(range(seeds))
    cfg = dataclasses.replace(setting, max_steps=steps, eval_every=steps)
    batch = learner.make_batch(cfg, seed_list, [n_train] * seeds)
    schedule = learner.schedule_for("S", cfg, seeds)
    schedule = dataclasses.replace(schedule, stop_loss=torch.full((seeds,), -1.0))  # never stop
    start = time.perf_counter()
    learner.train(
        batch,
        schedule,
        cfg,
        torch.Generator().manual_seed(0),
        learner.initial_weights(cfg, seed_list),
    )
    return 1000 * (time.perf_counter() - start) / (steps * seeds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="overnight")
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = lg.chapter_config("learning_order", args.profile)
    setting = learner.Setting.of(cfg)
    cost = {
        n: ms_per_run_step(setting, n, cfg.seeds, args.steps)
        for n in {cfg.n_train, max(cfg.sweep_n)}
    }
    for n, ms in sorted(cost.items()):
        print(
            f"N = {n}: {ms:.2f} ms per run and step (d = {cfg.d}, width {cfg.width}, {cfg.seeds} runs per batch)"
        )
    per_step = cost[cfg.n_train]
    worst = 0.0
    for run in runs.chapter_runs(cfg):
        unit = run.config
        n = unit.n_train
        ms = per_step * n / cfg.n_train  # cost grows linearly with N
        steps = unit.steps * 2 if run.kind == "learning_order_noise" else cfg.max_steps
        worst += ms * len(unit.seeds) * steps / 1000
    print(
        f"profile {args.profile}: {len(runs.chapter_runs(cfg))} units, at most {worst / 3600:.2f} h on one thread"
    )


if __name__ == "__main__":
    main()
