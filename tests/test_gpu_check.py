"""The GPU check's dry run on the CPU: every step, the pack and the unpacking, on a tiny subset."""

from __future__ import annotations

import hashlib
import json
import tarfile
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import torch

from lrgap_nb import gpu_check, results, train


@pytest.fixture
def dry_run(data_files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The dry run's pack folder, after `--dry-run` on a staged 96-image subset (one thread)."""
    data_files.subset(tmp_path / "data", n_train=96, n_test=32)
    gpu_check.stage_data(tmp_path / "data", tmp_path / "staged")
    for name, value in {
        "LRGAP_DATA": tmp_path / "staged",
        "OMP_NUM_THREADS": 1,  # the torch.compile subprocess
        "LRGAP_CACHE": tmp_path / "unused",
        "LRGAP_DEVICE": "cpu",
        "LRGAP_PROGRESS": tmp_path / "progress.log",
    }.items():
        monkeypatch.setenv(name, str(value))  # restored after the test; the check sets them
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        code = gpu_check.main(["--dry-run", "--out", str(tmp_path / "out")])
    finally:
        torch.set_num_threads(threads)
    assert code == 0
    return tmp_path / "out" / "pack"


def test_dry_run_tables_pack_and_unpack(dry_run: Path, tmp_path: Path) -> None:
    manifest = json.loads((dry_run / "manifest.json").read_text())
    assert manifest["errors"] == {} and manifest["dtype"] == "torch.float32"
    staged = manifest["staged"]["files"][gpu_check.SUBSET_FILE]
    assert (
        staged
        == hashlib.sha256((tmp_path / "data" / gpu_check.SUBSET_FILE).read_bytes()).hexdigest()
    )

    checks = pd.read_csv(dry_run / "correctness.csv")
    assert list(checks.columns) == ["check", "value", "expected", "passed"]
    assert checks.passed.all(), checks[~checks.passed]
    assert {"parameters wrn16_4", "parameters wrn16_10"} <= set(checks.check)
    assert checks.check.str.startswith("project+compile vs float32").any()  # the subprocess ran
    compiled = json.loads((dry_run / "correctness.json").read_text())
    assert compiled["compile"].startswith("ran uncompiled")

    speed = pd.read_csv(dry_run / "speed.csv")
    assert {"images_per_s", "achieved_tflops", "ceiling_tflops", "x_compute_floor"} <= set(
        speed.columns
    )
    assert len(speed) == 2 * 2 * 2  # models x batch sizes x pipelines
    assert (speed.images_per_s > 0).all() and speed.x_dataloader.notna().sum() == 4

    runs = pd.read_csv(dry_run / "runs.csv")
    assert set(runs.chapter) == {"patch", "large_lr"} and (runs.status == "done").all()

    files = sorted(dry_run.iterdir())
    assert len(files) <= gpu_check.MAX_FILES
    assert all(f.stat().st_size <= gpu_check.MAX_BYTES for f in files)
    with tarfile.open(dry_run / gpu_check.PACK) as tar:
        names = tar.getnames()
    assert not any(n.endswith(".pt") for n in names) and "tables/speed.csv" in names

    committed = tmp_path / "committed"
    written = gpu_check.unpack(dry_run / gpu_check.PACK, committed)
    assert {p.stem for p in written} == set(runs.key)
    for path in written:
        entry = results.read_entry(path, path.parent.name, path.stem)
        assert entry.provenance["device"].startswith("cpu") and entry.provenance["wall_time_s"] > 0
    assert gpu_check.unpack(dry_run / gpu_check.PACK, committed) == []  # identical: no-op

    record = json.loads(written[0].read_text())
    record["provenance"]["device"] = "another GPU"
    written[0].write_text(json.dumps(record))
    with pytest.raises(FileExistsError, match="different entries"):
        gpu_check.unpack(dry_run / gpu_check.PACK, committed)


def test_deadline_interrupts_and_clears() -> None:
    start = time.monotonic()
    with pytest.raises(gpu_check.BudgetExceeded), gpu_check.deadline(0.05):
        while time.monotonic() - start < 5:
            pass
    assert time.monotonic() - start < 1
    with gpu_check.deadline(10):
        pass
    time.sleep(0.01)  # the timer is off: nothing fires after the block


def test_budget_cuts_a_run_and_skips_the_rest(
    data_files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_files.subset(tmp_path / "data", n_train=96, n_test=32)
    monkeypatch.setenv("LRGAP_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LRGAP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LRGAP_DEVICE", "cpu")
    config = replace(gpu_check.correctness_config(gpu_check.DRY), epochs=50)
    runs = [
        {"chapter": "c", "method": "m", "seed": s, "run": train.train_run(replace(config, seed=s))}
        for s in (0, 1)
    ]
    table = gpu_check.run_paper(runs, time.monotonic() + 0.3, None)
    assert list(table.status.str.split().str[0]) == ["interrupted", "skipped"]
    assert not list((tmp_path / "cache").glob("*/*.json"))  # nothing finished, nothing to pack
    assert not list((tmp_path / "cache").glob("*/*.claim"))  # the cut-off run let go of its key


def test_committed_gpu_entries_are_the_paper_subset_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The H200 entries, packed under the label "full" on the subset, are the chapters' own runs
    at "paper-subset": a run's key holds its training config, never the profile, so none moved."""
    from lrgap_nb import paths
    from lrgap_nb.chapters import chapter_config, get_chapter

    monkeypatch.setenv("LRGAP_CACHE", str(tmp_path / "cache"))  # only committed entries count
    gpu = {
        (path.parent.name, path.stem)
        for path in paths.committed_cache_dir().glob("*/*.json")
        if "H200" in json.loads(path.read_text())["provenance"]["device"]
    }
    assert len(gpu) >= 6
    runs = [
        run
        for name in ("patch", "large_lr")
        for run in get_chapter(name).runs(chapter_config(name, "paper-subset"))
    ]
    found = {(run.kind, run.key) for run in runs if run.lookup() is not None}
    assert gpu <= found
    assert found <= gpu  # no CPU run is mistaken for a paper-width one
