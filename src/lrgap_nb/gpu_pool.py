"""Several runs at once on one GPU: worker processes that train cache units side by side.

One WRN-16-10 run at batch 128 kept an H200 at 22.5% of its bf16 ceiling, WRN-16-4 at 4.8%
(launch-bound), so runs side by side use the minutes better. Each worker is a spawned process
(its own CUDA context) that executes Runs through the results cache, whose claims already make
sure no entry is computed twice. `Pool.measure` times short bursts of the runs' network at 1, 2,
4 and 8 workers at once and gives the aggregate images/s; `Pool.execute` trains a list of runs on
the workers while a deadline allows and kills what is still running at it (a killed run stays a
checkpoint, its claim is released).
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import queue
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from . import paths, results
from .gpu_plan import Item

LEVELS = (1, 2, 4, 8)  # concurrent runs measured
POLL_S = 0.5


@dataclasses.dataclass(frozen=True)
class Burst:
    """A timed burst of training steps: the network, its batch and how long to time it."""

    model: str = "wrn16_10"
    width: int | None = None
    batch_size: int = 128
    warmup: int = 5  # untimed steps (cudnn autotunes here)
    seconds: float = 4.0


def _burst(burst: Burst, inbox: Any, outbox: Any, index: int) -> None:
    """Prepare the network, say ready, wait for the common start time, train until it ends."""
    import torch

    from . import data, device, gpu_check, models

    dev = device.pick_device()
    device.configure(dev)
    split = data.load("cifar10_subset", device=dev)["train"]
    torch.manual_seed(index)
    net = device.prepare_model(models.build_model(burst.model, 10, 3, burst.width), dev)
    step = gpu_check.step_fn(net, dev)
    batches = gpu_check.resident_batches(split, burst.batch_size, dev)
    for _ in range(burst.warmup):
        step(*next(batches))
    device.synchronize(dev)
    outbox.put((index, "ready", None))
    start_at = inbox.get()
    time.sleep(max(0.0, start_at - time.time()))
    steps = 0
    while time.time() < start_at + burst.seconds:
        step(*next(batches))
        steps += 1
    device.synchronize(dev)
    outbox.put((index, "burst", {"images": steps * burst.batch_size, "end": time.time()}))
    del net, step, batches
    if dev.type == "cuda":
        torch.cuda.empty_cache()


def _worker(index: int, threads: int, inbox: Any, outbox: Any) -> None:
    """A worker's loop: ("burst", Burst) or ("run", Run) messages until None."""
    import torch

    torch.set_num_threads(threads)
    while (message := inbox.get()) is not None:
        what, arg = message
        try:
            if what == "burst":
                _burst(arg, inbox, outbox, index)
            else:
                result = arg.execute()
                done = {"wall_s": result.provenance["wall_time_s"], "computed": result.computed}
                outbox.put((index, "done", {**done, "final": result.payload.get("final", {})}))
        except Exception:
            outbox.put((index, "failed", traceback.format_exc()))


class Pool:
    """Up to `size` spawned workers sharing this process's environment (cache, data, device)."""

    def __init__(self, size: int, threads: int | None = None) -> None:
        if size < 1:
            raise ValueError(f"a pool needs at least one worker, not {size}")
        self.context = mp.get_context("spawn")
        self.outbox = self.context.Queue()
        self.threads = threads or max(1, (os.cpu_count() or 1) // size)
        self.workers: list[tuple[Any, Any]] = []
        self.grow(size)

    def grow(self, size: int) -> None:
        while len(self.workers) < size:
            inbox = self.context.Queue()
            args = (len(self.workers), self.threads, inbox, self.outbox)
            process = self.context.Process(target=_worker, args=args, daemon=True)
            process.start()
            self.workers.append((process, inbox))

    def shrink(self, size: int) -> None:
        """Let the workers beyond `size` finish and exit (their GPU memory goes with them)."""
        for process, inbox in self.workers[size:]:
            inbox.put(None)
            process.join(timeout=30)
        self.workers = self.workers[:size]

    def close(self) -> None:
        """Stop every worker; one still training is killed."""
        for process, inbox in self.workers:
            if process.is_alive():
                inbox.put(None)
        for process, _ in self.workers:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
        self.workers = []

    def _get(self, timeout: float) -> tuple[int, str, Any]:
        index, what, value = self.outbox.get(timeout=timeout)
        if what == "failed":
            raise RuntimeError(f"worker {index} failed:\n{value}")
        return index, what, value

    def measure(self, burst: Burst, levels: Sequence[int] = LEVELS) -> list[dict[str, Any]]:
        """Aggregate images/s of `n` bursts at once, for each n in `levels`.

        All n workers prepare and warm up first; then they start together at one wall-clock
        time, and the aggregate is their images over the time until the last one finishes.
        """
        self.grow(max(levels))
        rows = []
        for n in levels:
            for _, inbox in self.workers[:n]:
                inbox.put(("burst", burst))
            for _ in range(n):
                self._get(timeout=600)
            start_at = time.time() + 0.2
            for _, inbox in self.workers[:n]:
                inbox.put(start_at)
            ends = [self._get(timeout=600)[2] for _ in range(n)]
            images = sum(e["images"] for e in ends)
            elapsed = max(e["end"] for e in ends) - start_at
            rows.append(
                {"concurrent": n, "images_per_s": images / elapsed, "per_run": images / elapsed / n}
            )
            print(rows[-1], flush=True)
        return rows

    def execute(
        self,
        items: Sequence[Item],
        stop_at: float,
        estimate: Callable[[Item], float],
        finished: Callable[[Item, dict[str, Any]], None],
    ) -> list[dict[str, Any]]:
        """Train `items` in order on the workers until `stop_at` (time.monotonic).

        An item already cached is noted; one whose estimate (s) exceeds the time left is skipped;
        `finished` is called with each finished run and its row (to pack it at once). At `stop_at` the
        runs still training are killed: their checkpoints stay, their claims are released.
        """
        pending, running, rows = list(items), {}, []
        idle = list(range(len(self.workers)))
        while pending or running:
            while idle and pending:
                item = pending.pop(0)
                row = _row(item)
                left = stop_at - time.monotonic()
                guess = estimate(item)
                if item.run.lookup() is not None:
                    rows.append({**row, "status": "cached before"})
                elif guess > left:
                    rows.append(
                        {**row, "status": f"skipped (needs ~{guess:.0f} s, {left:.0f} left)"}
                    )
                else:
                    worker = idle.pop(0)
                    self.workers[worker][1].put(("run", item.run))
                    running[worker] = (item, row, time.monotonic())
            if not running:
                break
            if time.monotonic() >= stop_at:
                rows += self._interrupt(running)
                rows += [{**_row(i), "status": "skipped (budget used up)"} for i in pending]
                break
            try:
                index, what, value = self.outbox.get(timeout=POLL_S)
            except queue.Empty:
                continue
            item, row, started = running.pop(index)
            idle.append(index)
            if what == "done":
                row.update(status="done", wall_s=value["wall_s"], computed=value["computed"])
                row.update(value["final"])
            else:
                row.update(status="failed", error=value.strip().splitlines()[-1][:300])
            row["elapsed_s"] = round(time.monotonic() - started, 1)
            print({k: v for k, v in row.items() if k != "key"}, flush=True)
            rows.append(row)
            finished(item, row)
        return rows

    def _interrupt(self, running: dict[int, tuple[Item, dict, float]]) -> list[dict[str, Any]]:
        """Kill the workers still training; their runs stay checkpoints and let go of their keys."""
        rows = []
        for index, (item, row, _) in running.items():
            process, _ = self.workers[index]
            process.kill()
            process.join()
            claim = results.entry_path(paths.cache_dir(), item.run.kind, item.run.key)
            claim.with_suffix(".claim").unlink(missing_ok=True)
            rows.append({**row, "status": "interrupted (checkpoint kept, not packed)"})
        self.workers = [w for i, w in enumerate(self.workers) if i not in running]
        return rows


def _row(item: Item) -> dict[str, Any]:
    config = item.run.config
    return {
        "part": item.part,
        "chapter": item.chapter,
        "group": item.group,
        "label": item.label,
        "seed": item.seed,
        "kind": item.run.kind,
        "key": item.run.key,
        "epochs": getattr(config, "epochs", getattr(config, "max_epochs", None)),
    }
