"""A fresh clone without datasets: the tests, `lrgap build` from committed results, and notebooks
run by papermill directly (which must never write into the book)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lrgap_nb import data
from lrgap_nb.book import run as book_run
from lrgap_nb.chapters import chapter_config, registry

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty LRGAP_DATA with downloads off: any dataset read fails."""
    monkeypatch.setenv("LRGAP_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LRGAP_DOWNLOAD", "0")
    return tmp_path / "data"


@pytest.mark.parametrize("chapter", list(registry()))
def test_smoke_runs_need_no_dataset(chapter, no_data, isolated_cache, empty_committed) -> None:
    """Smoke trains on synthetic stand-ins (no files), so CI runs with LRGAP_DATA unset."""
    runs = book_run.check_before_running(chapter, chapter_config(chapter, "smoke"))
    names = {c.dataset for run in runs for c in book_run._data_configs(run.config)}
    assert all(data.dataset_spec(name).files is None for name in names), names


@pytest.mark.parametrize("chapter", list(registry()))
def test_rendering_committed_results_needs_no_dataset(chapter, no_data, isolated_cache) -> None:
    """`lrgap build --profile cpu` checks data only for runs it will execute; a chapter whose
    committed runs cover a larger profile renders at it with no dataset here."""
    profile = book_run.profile_for(chapter, "cpu")
    if profile == "cpu":
        pytest.skip(f"{chapter}: no larger profile is committed; it renders at cpu by computing")
    runs = book_run.check_before_running(chapter, chapter_config(chapter, profile))
    assert runs and all(run.lookup() is not None for run in runs)


def test_papermill_from_the_repository_root_never_writes_the_book(tmp_path: Path) -> None:
    """README: `papermill notebooks/01_convex.ipynb OUT -k python3 -p profile smoke` from the
    root writes tables and figures to outputs/ in its working directory, not book/_extra/outputs."""
    project = tmp_path / "project"
    for name in ("_config.yml", "pyproject.toml", "notebooks/01_convex.ipynb"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, project / name)
    rendered = project / "book" / "_extra" / "outputs" / "convex" / "claims.csv"
    rendered.parent.mkdir(parents=True)
    rendered.write_text("rendered at overnight\n")
    env = {k: v for k, v in os.environ.items() if k not in ("LRGAP_OUTPUTS", "LRGAP_ROOT")}
    env |= {"LRGAP_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT / "src")}
    papermill = Path(sys.executable).with_name("papermill")
    command = [str(papermill), "notebooks/01_convex.ipynb", str(tmp_path / "out.ipynb")]
    command += ["-k", "python3", "-p", "profile", "smoke", "--no-progress-bar"]
    subprocess.run(command, cwd=project, env=env, check=True, capture_output=True)
    assert rendered.read_text() == "rendered at overnight\n"
    assert sorted(p.name for p in rendered.parent.iterdir()) == ["claims.csv"]
    assert (project / "outputs" / "convex" / "claims.csv").is_file()
