"""Execute many runs through any `concurrent.futures.Executor`-like object.

In-process by default; a local process pool, a `dask.distributed.Client` (which is an executor)
or a `submitit` SLURM executor spread the same runs over more workers. Cached runs are skipped
before submission, and racing duplicates are resolved by the cache's claims.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

import pandas as pd

from . import progress
from .runs import Run, execute_run

EXECUTORS = ("inprocess", "local", "dask", "slurm")


def _init_worker(progress_target: str | None) -> None:
    """One torch thread per worker; progress bars where the parent's go."""
    import torch

    torch.set_num_threads(1)
    progress.set_target(progress_target)


@dataclasses.dataclass
class SweepReport:
    rows: list[dict[str, Any]]
    wall_time_s: float

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["kind", "key", "status", "seconds", "error"])

    def counts(self) -> dict[str, int]:
        table = self.table()
        return {s: int((table["status"] == s).sum()) for s in ("cached", "ran", "failed")}

    def summary(self) -> str:
        counts = self.counts()
        lines = [
            f"{len(self.rows)} runs in {self.wall_time_s:.1f} s: "
            f"{counts['ran']} ran, {counts['cached']} cached, {counts['failed']} failed"
        ]
        lines += [f"  failed {r['kind']}/{r['key']}: {r['error']}" for r in self.rows if r["error"]]
        return "\n".join(lines)


def make_executor(
    name: str, workers: int | None = None, address: str | None = None, **options: Any
) -> Executor | Any | None:
    """Build the named executor; None means in-process."""
    if name == "inprocess":
        return None
    if name == "local":
        # forkserver: workers never inherit a parent's torch thread pools; one torch thread each,
        # since N single-threaded workers beat fewer multi-threaded ones on small CPU models.
        return ProcessPoolExecutor(
            max_workers=workers or os.cpu_count(),
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=_init_worker,
            initargs=(progress.target(),),
        )
    if name == "dask":
        from distributed import Client, LocalCluster

        if address:
            return Client(address)
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count(), threads_per_worker=1, host="127.0.0.1"
        )
        return Client(cluster)
    if name == "slurm":
        import submitit

        folder = options.pop("folder", "results/slurm")
        executor = submitit.AutoExecutor(folder=folder, cluster="slurm")
        executor.update_parameters(**options)
        return executor
    raise ValueError(f"unknown executor {name!r}; choose from {', '.join(EXECUTORS)}")


def close_executor(executor: Any | None) -> None:
    """Shut a local pool down, disconnect from dask (leaving a remote scheduler running)."""
    if executor is None:
        return
    if isinstance(executor, Executor):
        executor.shutdown()
    elif hasattr(executor, "close"):
        cluster = getattr(executor, "cluster", None)
        executor.close()
        if cluster is not None:
            cluster.close()


def execute(runs: Sequence[Run], executor: Any | None = None, poll_s: float = 0.1) -> SweepReport:
    """Run every run not yet cached, with one aggregated progress bar and a summary."""
    start = time.perf_counter()
    unique = list(dict.fromkeys(runs))
    rows: list[dict[str, Any]] = []
    pending = []
    for run in unique:
        if run.lookup() is not None:
            rows.append({"kind": run.kind, "key": run.key, "status": "cached", "seconds": 0.0})
        else:
            pending.append(run)
    with progress.bar(total=len(unique), initial=len(rows), desc="sweep", unit="run") as bar:
        if executor is None:
            for run in pending:
                rows.append(_outcome(run, lambda run=run: execute_run(run)))
                bar.update()
        else:
            futures = {executor.submit(execute_run, run): run for run in pending}
            while futures:
                done = [f for f in futures if f.done()]
                for future in done:
                    rows.append(_outcome(futures.pop(future), future.result))
                    bar.update()
                if futures:
                    time.sleep(poll_s)
    for row in rows:
        row.setdefault("error", "")
    return SweepReport(rows, time.perf_counter() - start)


def execute_stages(
    list_runs: Callable[[], Sequence[Run]], executor: Any | None = None
) -> SweepReport:
    """Execute a chapter whose later runs are listed only once earlier ones are cached (a pilot or
    calibration decides their configs): list, execute, list again, until a listing adds no new
    run or a run fails. One report over all the passes."""
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    while new := [r for r in dict.fromkeys(list_runs()) if (r.kind, r.key) not in seen]:
        report = execute(new, executor)
        rows += report.rows
        seen.update((r.kind, r.key) for r in new)
        if report.counts()["failed"]:
            break
    return SweepReport(rows, time.perf_counter() - start)


def execute_chapter(list_runs: Callable[[], Sequence[Run]], workers: int = 1) -> dict[Any, Any]:
    """Config -> result of every run a chapter lists, the missing ones computed stage by stage
    (in process, or by `workers` single-threaded processes): the one executor behind a chapter's
    notebook, `lrgap sweep` and the tests. A failed run raises, naming it."""
    executor = make_executor("local", workers) if workers > 1 else None
    try:
        report = execute_stages(list_runs, executor)
    finally:
        close_executor(executor)
    if report.counts()["failed"]:
        raise RuntimeError(report.summary())
    return {run.config: run.execute() for run in list_runs()}


def _outcome(run: Run, get_result) -> dict[str, Any]:
    try:
        result = get_result()
    except Exception as err:  # a failed run is reported, never fatal for the sweep
        return {
            "kind": run.kind,
            "key": run.key,
            "status": "failed",
            "seconds": 0.0,
            "error": f"{type(err).__name__}: {err}",
        }
    return {
        "kind": run.kind,
        "key": run.key,
        "status": "ran" if result.computed else "cached",
        "seconds": result.provenance.get("wall_time_s", 0.0),
    }
