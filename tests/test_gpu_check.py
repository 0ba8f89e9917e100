"""The GPU check's dry run on the CPU: every step, the pack and the unpacking, on a tiny subset;
runs side by side on worker processes; the order, the records that skip steps, the notebook step."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import torch

from lrgap_nb import gpu_check, gpu_notebook, gpu_plan, gpu_pool, gpu_record, results, train


@pytest.fixture
def staged(data_files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A staged 96-image subset, a throwaway cache and the CPU (restored after the test)."""
    data_files.subset(tmp_path / "data", n_train=96, n_test=32)
    gpu_check.stage_data(tmp_path / "data", tmp_path / "staged")
    for name, value in {
        "LRGAP_DATA": tmp_path / "staged",
        "OMP_NUM_THREADS": 1,  # the torch.compile subprocess and the workers
        "LRGAP_CACHE": tmp_path / "cache",
        "LRGAP_DEVICE": "cpu",
        "LRGAP_PROGRESS": tmp_path / "progress.log",
    }.items():
        monkeypatch.setenv(name, str(value))  # restored after the test; the check sets them
    return tmp_path / "staged"


@pytest.fixture
def dry_run(staged: Path, tmp_path: Path) -> Path:
    """The dry run's pack folder: correctness, speed and the paper runs on two workers."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        argv = ["--dry-run", "--out", str(tmp_path / "out"), "--steps", "correctness,speed,runs"]
        code = gpu_check.main([*argv, "--parts", "paper"])
    finally:
        torch.set_num_threads(threads)
    assert code == 0
    return tmp_path / "out" / "pack"


def test_dry_run_tables_pack_and_unpack(dry_run: Path, tmp_path: Path) -> None:
    manifest = json.loads((dry_run / "manifest.json").read_text())
    assert manifest["errors"] == {} and manifest["dtype"] == "torch.float32"
    assert manifest["record"]["passed"] == {"correctness": True, "speed": True}
    assert manifest["record"]["fingerprint"] == gpu_record.fingerprint()
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

    speed = pd.read_csv(dry_run / "speed.csv")
    assert len(speed) == 2 * 2 * 2  # models x batch sizes x pipelines
    assert (speed.images_per_s > 0).all() and speed.x_dataloader.notna().sum() == 4

    levels = pd.read_csv(dry_run / "concurrency.csv")
    assert list(levels.concurrent) == list(gpu_check.DRY.levels)
    assert (levels.images_per_s > 0).all() and levels.used.sum() == 1
    assert int(levels.loc[levels.used, "concurrent"].iloc[0]) == gpu_check.DRY.workers

    runs = pd.read_csv(dry_run / "runs.csv")
    assert set(runs.chapter) == {"patch", "large_lr"} and (runs.status == "done").all()
    assert runs.key.is_unique and runs.computed.all()

    files = sorted(dry_run.iterdir())
    assert len(files) <= gpu_check.MAX_FILES
    assert all(f.stat().st_size <= gpu_check.MAX_BYTES for f in files)
    with tarfile.open(dry_run / gpu_check.PACK) as tar:
        names = tar.getnames()
    assert not any(n.endswith(".pt") for n in names)
    assert {"tables/speed.csv", "tables/correctness.json", "tables/runs.json"} <= set(names)

    committed, records = tmp_path / "committed", tmp_path / "records"
    written = gpu_check.unpack(dry_run / gpu_check.PACK, committed, records)
    assert {p.stem for p in written} == set(runs.key)
    for path in written:
        entry = results.read_entry(path, path.parent.name, path.stem)
        assert entry.provenance["device"].startswith("cpu") and entry.provenance["wall_time_s"] > 0
    (folder,) = records.iterdir()
    assert json.loads((folder / gpu_record.RECORD).read_text()) == manifest["record"]
    assert (folder / "runs.csv").is_file()
    found = gpu_record.find(
        manifest["device"], manifest["torch"], gpu_record.fingerprint(), records
    )
    assert set(found) == {"correctness", "speed"}
    assert gpu_check.unpack(dry_run / gpu_check.PACK, committed, records) == []  # identical: no-op

    record = json.loads(written[0].read_text())
    record["provenance"]["device"] = "another GPU"
    written[0].write_text(json.dumps(record))
    with pytest.raises(FileExistsError, match="different entries"):
        gpu_check.unpack(dry_run / gpu_check.PACK, committed, records)


def _tiny_runs(seeds: tuple[int, ...], epochs: int = 1) -> list[gpu_plan.Item]:
    config = replace(gpu_check.correctness_config(gpu_check.DRY), epochs=epochs, subset=32)
    return [
        gpu_plan.Item("paper", "c", "main", "m", s, train.train_run(replace(config, seed=s)))
        for s in seeds
    ]


def test_workers_compute_each_entry_once_and_as_one_process_would(staged: Path) -> None:
    items = _tiny_runs((0, 1, 2))
    items.append(items[1])  # the same run twice: one computes, the other waits for its entry
    pool = gpu_pool.Pool(2, threads=1)
    try:
        rows = pool.execute(items, time.monotonic() + 600, lambda item: 0.0, lambda *_: None)
    finally:
        pool.close()
    table = pd.DataFrame(rows)
    assert set(table.status) <= {"done", "cached before"}
    assert table.computed.sum() == 3 and table[table.status == "done"].computed.sum() == 3
    entries = sorted((Path(results.paths.cache_dir()) / "train").glob("*.json"))
    assert [e.stem for e in entries] == sorted({i.run.key for i in items})
    side_by_side = {i.run.key: i.run.lookup().payload for i in items}

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for entry in entries:
            entry.unlink()
        in_turn = {i.run.key: i.run.execute().payload for i in items}
    finally:
        torch.set_num_threads(threads)
    assert in_turn == side_by_side


def test_budget_cuts_a_run_and_skips_the_rest(staged: Path) -> None:
    items = _tiny_runs((0, 1), epochs=200)
    pool = gpu_pool.Pool(1, threads=1)
    try:
        rows = pool.execute(items, time.monotonic() + 3, lambda item: 0.0, lambda *_: None)
    finally:
        pool.close()
    assert [r["status"].split()[0] for r in rows] == ["interrupted", "skipped"]
    cache = Path(results.paths.cache_dir())
    assert not list(cache.glob("*/*.json"))  # nothing finished, nothing to pack
    assert not list(cache.glob("*/*.claim"))  # the cut-off run let go of its key


def test_a_run_is_skipped_when_its_estimate_exceeds_the_time_left(staged: Path) -> None:
    pool = gpu_pool.Pool(1, threads=1)
    try:
        rows = pool.execute(_tiny_runs((0,)), time.monotonic() + 60, lambda i: 61.0, print)
    finally:
        pool.close()
    assert rows[0]["status"].startswith("skipped (needs ~61 s")


def test_the_level_chosen_finishes_the_most_work() -> None:
    start = gpu_check.START_S
    assert gpu_check.planned_images([10.0] * 3, 1, 1.0, 2 * (start + 10) + 1) == 20.0
    assert gpu_check.planned_images([10.0] * 3, 3, 0.5, start + 20) == 30.0
    # one long run: alone it fits, beside another it is too slow to finish
    assert gpu_check.planned_images([100.0], 1, 2.0, start + 60) == 100.0
    assert gpu_check.planned_images([100.0], 2, 1.2, start + 60) == 0.0
    # a run that does not fit is passed over; a shorter one after it still runs
    assert gpu_check.planned_images([100.0, 10.0], 1, 1.0, start + 20) == 10.0


def test_paired_comparisons_come_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LRGAP_CACHE", str(tmp_path / "cache"))
    overrides = {name: dict(gpu_check.DRY.chapters[name]) for name in gpu_check.DRY.chapters}
    for name in ("patch", "large_lr"):
        overrides[name]["seeds"] = (0, 1, 2)
    items = gpu_plan.plan(["large_batch", "paper", "widths"], overrides)
    parts = [i.part for i in items]
    assert parts == sorted(parts, key=gpu_plan.PARTS.index)  # paper, widths, large batch
    paper = [i for i in items if i.part == "paper"]
    main = [i for i in paper if i.group == "main"]
    assert paper[: len(main)] == main  # every main comparison before any other run
    assert [i.seed for i in main] == sorted(i.seed for i in main)  # seed by seed
    for seed in (0, 1, 2):  # each seed: every method of every chapter
        chapters = [i.chapter for i in main if i.seed == seed]
        assert chapters.count("patch") == 3 and chapters.count("large_lr") == 4
    keys = [(i.run.kind, i.run.key) for i in items]
    assert len(keys) == len(set(keys))  # the width sweep's WRN-16-10 runs are the paper's
    widths = {i.run.config.model for i in items if i.part == "widths"}
    assert widths == {f"wrn16_{k}" for k in gpu_plan.WIDTHS if k != 10}
    (large_batch,) = [i for i in items if i.part == "large_batch"]
    assert large_batch.run.config.paper_phi and large_batch.run.config.model == "c1"


def test_unknown_step_or_part_fails_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    for argv, message in (
        (["--steps", "runs,speeed"], "unknown step(s) ['speeed']"),
        (["--parts", "paper,width"], "unknown part(s) ['width']"),
        (["--workers", "0"], "--workers must be at least 1, not 0"),
        (["--notebook", "nope"], "unknown chapter 'nope'"),
    ):
        with pytest.raises(SystemExit):
            gpu_check.main(["--dry-run", "--out", str(tmp_path / "out"), *argv])
        assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.fixture
def records_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict]:
    """An empty records folder in place of results/gpu, and a record of this machine's device,
    torch and training path (what a check here would match)."""
    records = tmp_path / "records"
    monkeypatch.setattr(gpu_record, "records_dir", lambda: records)
    dev = gpu_check.device.pick_device()
    record = {"device": gpu_check.device.device_name(dev), "torch": torch.__version__}
    return records, {**record, "fingerprint": gpu_record.fingerprint(), "created": "2026-12-04"}


def test_recorded_steps_are_skipped_for_the_same_device_torch_and_path(
    staged: Path, records_here: tuple[Path, dict], tmp_path: Path
) -> None:
    records, record = records_here
    here = {"device": record["device"], "torch": record["torch"]}
    for name, fields in {
        "a": {**record, "passed": {"correctness": True, "speed": True}},
        "b": {**record, "fingerprint": "another path", "passed": {"correctness": True}},
        "c": {**record, "torch": "0.0", "passed": {"correctness": True}},
    }.items():
        (records / name).mkdir(parents=True)
        (records / name / gpu_record.RECORD).write_text(json.dumps(fields))
    assert set(gpu_record.find(here["device"], "0.0", record["fingerprint"])) == {"correctness"}
    assert gpu_record.find(here["device"], here["torch"], "elsewhere") == {}

    options = gpu_check.Options(steps=("correctness", "speed"))
    out = tmp_path / "out"
    manifest = gpu_check.Check(out, out / "pack", gpu_check.DRY, 60, options).run()
    assert set(manifest["skipped"]) == {"correctness", "speed"} and manifest["errors"] == {}
    assert manifest["skipped"]["correctness"] == f"passed in {records / 'a'}"
    assert not (out / "pack" / "correctness.csv").exists()


def test_a_recorded_concurrency_is_reused_instead_of_measured(
    staged: Path, records_here: tuple[Path, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records, record = records_here
    (records / "earlier").mkdir(parents=True)
    (records / "earlier" / gpu_record.RECORD).write_text(json.dumps(record))
    rates = {"concurrent": [1, 2], "images_per_s": [500.0, 450.0], "per_run": [500.0, 225.0]}
    pd.DataFrame(rates).to_csv(records / "earlier" / gpu_record.CONCURRENCY, index=False)

    def no_bursts(*_args, **_kwargs):
        raise AssertionError("the recorded rates should have been used")

    monkeypatch.setattr(gpu_check.gpu_pool.Pool, "measure", no_bursts)
    monkeypatch.setattr(gpu_check.gpu_plan, "plan", lambda *_: _tiny_runs((0, 1)))
    options = gpu_check.Options(steps=("runs",))
    sizes = replace(gpu_check.DRY, workers=None)  # let the rates choose
    out = tmp_path / "out"
    manifest = gpu_check.Check(out, out / "pack", sizes, 120, options).run()
    assert manifest["errors"] == {}, manifest["errors"]
    assert manifest["skipped"]["concurrency"] == f"measured in {records / 'earlier'}"
    levels = pd.read_csv(out / "pack" / "concurrency.csv")
    assert levels.images_per_s.tolist() == [500.0, 450.0]
    assert levels.loc[levels.used, "concurrent"].tolist() == [
        1
    ]  # both finish every run: the fewest
    assert set(pd.read_csv(out / "pack" / "runs.csv").status) == {"done"}


def test_two_checks_of_one_day_keep_their_own_record_folders() -> None:
    first = {"device": "NVIDIA H200", "created": "2026-12-04T10:25:05+00:00"}
    second = {**first, "created": "2026-12-04T10:33:56+00:00"}
    assert gpu_record.folder_name(first) == "2026-12-04-1025-h200"
    assert gpu_record.folder_name(second) == "2026-12-04-1033-h200"


def test_pack_refuses_more_than_eight_files(tmp_path: Path) -> None:
    pack_dir, tables = tmp_path / "pack", tmp_path / "tables"
    pack_dir.mkdir()
    for n in range(gpu_check.MAX_FILES - 2):  # + manifest + results.tar.gz = 8
        (pack_dir / f"t{n}.csv").write_text("a\n1\n")
    assert len(gpu_check.pack(tmp_path / "cache", pack_dir, tables, {})) == gpu_check.MAX_FILES
    (pack_dir / "one_more.csv").write_text("a\n1\n")
    with pytest.raises(RuntimeError, match="9 files"):
        gpu_check.pack(tmp_path / "cache", pack_dir, tables, {})


def test_an_option_outside_the_key_keeps_committed_large_batch_keys() -> None:
    from lrgap_nb import paths
    from lrgap_nb.chapters.large_batch.runs import PROTOCOL, SbLbConfig

    committed = sorted(paths.committed_cache_dir().glob("large_batch/*.json"))
    assert committed
    for path in committed:
        entry = json.loads(path.read_text())
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in entry["config"].items()}
        config = SbLbConfig(**fields)
        assert "paper_phi" not in results.config_dict(config)
        assert results.config_key("large_batch", config, PROTOCOL) == path.stem
        with_phi = dataclasses.replace(config, paper_phi=True)
        assert results.config_dict(with_phi)["paper_phi"] is True
        assert results.config_key("large_batch", with_phi, PROTOCOL) != path.stem


def _jupyter_here() -> bool:
    try:
        import ipykernel  # noqa: F401
        import papermill  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _jupyter_here(), reason="needs this environment's Jupyter stack")
def test_notebook_step_runs_a_chapter_with_a_kernel_in_its_own_prefix(
    staged: Path, tmp_path: Path
) -> None:
    """The GPU flow less the wheel install (this environment's stack): the kernel registered in
    a fresh prefix, papermill in a subprocess at smoke, the executed notebook packed."""
    out = tmp_path / "out"
    options = gpu_check.Options(steps=("notebook",), notebook="convex")
    manifest = gpu_check.Check(out, out / "pack", gpu_check.DRY, 600, options).run()
    assert manifest["errors"] == {}
    assert (out / "notebook" / "prefix" / "share" / "jupyter" / "kernels" / "python3").is_dir()
    with tarfile.open(out / "pack" / gpu_check.PACK) as tar:
        status = json.loads(tar.extractfile("tables/notebook.json").read())
        executed = json.loads(tar.extractfile("tables/01_convex.ipynb").read())
    assert status["status"] == "executed" and status["profile"] == "smoke"
    assert executed["metadata"]["papermill"]["parameters"] == {"profile": "smoke"}


TEST_WHEELS = os.environ.get("LRGAP_TEST_WHEELS")  # wheels for this Python (stage_wheels)


@pytest.mark.skipif(
    not TEST_WHEELS, reason="set LRGAP_TEST_WHEELS to a wheel folder for this Python"
)
def test_the_jupyter_stack_installs_from_wheels_alone(tmp_path: Path) -> None:
    """pip from the folder only (--no-index): what the GPU machine does with .gpu_wheels/."""
    env = gpu_notebook.install(Path(TEST_WHEELS), tmp_path / "prefix")
    modules = "import papermill, nbclient, nbformat, ipykernel, jupytext"
    subprocess.run([sys.executable, "-c", modules], env=env, check=True)
    assert (tmp_path / "prefix" / "share" / "jupyter" / "kernels" / "python3").is_dir()


def test_missing_wheels_fail_with_the_command_to_stage_them(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="--stage-wheels"):
        gpu_notebook.install(tmp_path, tmp_path / "prefix")


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
    trained = [r for r in runs if hasattr(getattr(r.config, "config", r.config), "epochs")]
    found = {(run.kind, run.key) for run in trained if run.lookup() is not None}
    assert gpu <= found
    assert found <= gpu  # no CPU run is mistaken for a paper-width one


def test_lrgap_gpu_check_passes_its_options_through(capsys) -> None:
    from lrgap_nb import cli

    with pytest.raises(SystemExit) as done:
        cli.main(["gpu-check", "--help"])
    assert done.value.code == 0 and "--budget-s" in capsys.readouterr().out
