"""Runs as picklable units of work, executed in-process, on a process pool, on dask and via SLURM."""

import dataclasses
import os
import pickle
import time
from concurrent.futures import ProcessPoolExecutor

import pytest

from lrgap_nb import results, sweep
from lrgap_nb.runs import Run, execute_run


@dataclasses.dataclass(frozen=True)
class SlowConfig:
    value: int
    log: str  # every computation appends a line here, so duplicates would show
    seconds: float = 0.3


def slow_payload(config: SlowConfig) -> dict:
    with open(config.log, "a") as handle:
        handle.write(f"{config.value} {os.getpid()}\n")
    time.sleep(config.seconds)
    if config.value < 0:
        raise ValueError("negative values are refused")
    return {"square": config.value**2}


def slow_run(value: int, log, seconds: float = 0.3) -> Run:
    return Run("slow", "test_sweep:slow_payload", SlowConfig(value, str(log), seconds), 1)


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LRGAP_ROOT", str(tmp_path))
    monkeypatch.setenv("LRGAP_CACHE", str(tmp_path / "cache"))


def computations(log) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_run_pickles_and_keys_like_the_cache(tmp_path):
    run = slow_run(3, tmp_path / "log")
    assert pickle.loads(pickle.dumps(run)) == run
    assert run.key == results.config_key("slow", run.config, 1)


def test_racing_workers_compute_each_config_once(tmp_path):
    log = tmp_path / "log"
    runs = [slow_run(v, log) for v in (2, 3)] * 4  # every config submitted four times
    with ProcessPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(execute_run, runs))
    assert sorted(line.split()[0] for line in computations(log)) == ["2", "3"]
    assert {o.payload["square"] for o in outcomes} == {4, 9}
    assert sum(o.computed for o in outcomes) == 2
    entries = list((tmp_path / "cache" / "slow").iterdir())
    assert sorted(p.suffix for p in entries) == [".json", ".json"]  # no claims left behind


def test_stale_claim_of_a_dead_worker_is_taken_over(tmp_path):
    run = slow_run(5, tmp_path / "log", seconds=0.0)
    claim = results.entry_path(tmp_path / "cache", "slow", run.key).with_suffix(".claim")
    claim.parent.mkdir(parents=True)
    claim.write_text("{}")
    old = time.time() - results.CLAIM_TTL_S - 1
    os.utime(claim, (old, old))
    assert run.execute().payload == {"square": 25}
    assert not claim.exists()


def test_live_claim_makes_a_second_caller_wait_for_the_entry(tmp_path, monkeypatch):
    run = slow_run(6, tmp_path / "log", seconds=0.0)
    claim = results.Claim.try_acquire(
        results.entry_path(tmp_path / "cache", "slow", run.key).with_suffix(".claim")
    )
    assert claim is not None
    with ProcessPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(execute_run, run)
        time.sleep(1.0)
        assert not waiting.done()  # blocked on our claim, not computing
        results.write_entry(
            tmp_path / "cache",
            "slow",
            run.key,
            results.config_dict(run.config),
            {"square": -1},
            results.provenance(0.0, device="test"),
        )
        claim.release()
        assert waiting.result(timeout=30).payload == {"square": -1}
    assert computations(tmp_path / "log") == []


def test_sweep_reports_ran_cached_and_failed(tmp_path):
    log = tmp_path / "log"
    slow_run(1, log, 0.0).execute()
    report = sweep.execute([slow_run(v, log, 0.0) for v in (1, 2, -1, 2)])
    assert report.counts() == {"cached": 1, "ran": 1, "failed": 1}
    assert "ValueError: negative values are refused" in report.summary()


def test_staged_runs_are_listed_and_run_until_no_stage_adds_one(tmp_path):
    """A calibration (value 1) decides the next stage (value 2, then 3): one call runs all."""
    log = tmp_path / "log"

    def list_runs():
        stages = [slow_run(v, log, 0.0) for v in (1, 2, 3)]
        done = sum(r.lookup() is not None for r in stages)
        return stages[: done + 1]

    report = sweep.execute_stages(list_runs)
    assert report.counts() == {"cached": 0, "ran": 3, "failed": 0}
    assert [line.split()[0] for line in computations(log)] == ["1", "2", "3"]
    assert sweep.execute_stages(list_runs).counts() == {"cached": 3, "ran": 0, "failed": 0}


def test_a_failed_stage_ends_the_sweep_before_the_next_is_listed(tmp_path):
    log = tmp_path / "log"
    listings = []

    def list_runs():
        listings.append(1)
        first = slow_run(-1, log, 0.0)  # fails
        return [first] if first.lookup() is None else [first, slow_run(2, log, 0.0)]

    report = sweep.execute_stages(list_runs)
    assert report.counts() == {"cached": 0, "ran": 0, "failed": 1} and len(listings) == 1


def test_a_chapters_runs_come_back_by_config_stage_by_stage(tmp_path):
    """The executor behind every notebook: later stages are listed once earlier ones are cached."""
    log = tmp_path / "log"

    def list_runs():
        stages = [slow_run(v, log, 0.0) for v in (1, 2, 3)]
        return stages[: sum(r.lookup() is not None for r in stages) + 1]

    done = sweep.execute_chapter(list_runs)
    assert {c.value: r.payload["square"] for c, r in done.items()} == {1: 1, 2: 4, 3: 9}
    assert len(computations(log)) == 3
    assert sweep.execute_chapter(list_runs).keys() == done.keys() and len(computations(log)) == 3


def test_a_chapter_whose_run_fails_raises_naming_it(tmp_path):
    with pytest.raises(RuntimeError, match="ValueError: negative values are refused"):
        sweep.execute_chapter(lambda: [slow_run(-1, tmp_path / "log", 0.0)])


def test_local_pool_executor_through_the_sweep(tmp_path):
    log = tmp_path / "log"
    executor = sweep.make_executor("local", workers=2)
    try:
        report = sweep.execute([slow_run(v, log) for v in range(4)], executor)
    finally:
        sweep.close_executor(executor)
    assert report.counts()["ran"] == 4
    assert len({line.split()[1] for line in computations(log)}) <= 2


def test_dask_local_cluster_on_loopback(tmp_path):
    pytest.importorskip("distributed")
    log = tmp_path / "log"
    executor = sweep.make_executor("dask", workers=2)
    try:
        report = sweep.execute([slow_run(v, log, 0.0) for v in range(3)] * 2, executor)
    finally:
        sweep.close_executor(executor)
    assert report.counts() == {"cached": 0, "ran": 3, "failed": 0}
    assert len(computations(log)) == 3


def test_slurm_jobs_are_constructed_without_a_scheduler(tmp_path, monkeypatch):
    pytest.importorskip("submitit")
    fake_bin = tmp_path / "bin"  # submitit only checks that srun exists; nothing is submitted
    fake_bin.mkdir()
    (fake_bin / "srun").write_text("#!/bin/sh\nexit 1\n")
    (fake_bin / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}:{os.environ['PATH']}")
    executor = sweep.make_executor(
        "slurm", folder=str(tmp_path / "slurm"), slurm_time=60, slurm_gpus_per_node=1
    )
    script = executor._executor._make_submission_file_text("python -m lrgap_nb", "uid")
    assert "#SBATCH --gpus-per-node=1" in script
    assert "#SBATCH --time=60" in script


def test_unknown_executor_is_rejected():
    with pytest.raises(ValueError, match="unknown executor 'mpi'"):
        sweep.make_executor("mpi")
