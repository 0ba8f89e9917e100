"""The notebooks: jupytext pairs in sync, parameters cells that match the chapters' configs."""

import dataclasses
from pathlib import Path

import jupytext
import papermill
import pytest
import yaml

from lrgap_nb import cli
from lrgap_nb.chapters import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def cells(notebook):
    return [
        (c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in notebook.cells
    ]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_pair_is_in_sync(source):
    pair = source.with_suffix(".ipynb")
    assert pair.exists(), f"{pair.name} missing: jupytext --to ipynb --set-kernel python3 {source}"
    assert cells(jupytext.read(source)) == cells(jupytext.read(pair)), (
        f"{pair.name} drifted from {source.name}: run jupytext --sync {source}"
    )
    assert jupytext.read(pair).metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_one_parameters_cell_starting_with_smoke_profile(source):
    notebook = jupytext.read(source)
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    first = tagged[0].source.splitlines()[0]
    assert first.startswith('profile = "smoke"'), first


@pytest.mark.parametrize("chapter", list(CHAPTERS.values()), ids=lambda c: c.name)
def test_parameters_cell_exposes_exactly_the_config_fields(chapter):
    notebook = jupytext.read(ROOT / "notebooks" / f"{chapter.notebook}.py")
    exposed = list(papermill.inspect_notebook(notebook))
    fields = [f.name for f in dataclasses.fields(chapter.params_class())]
    assert exposed == fields


def test_every_notebook_is_a_registered_chapter_in_the_toc():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = {entry["file"] for part in toc["parts"] for entry in part["chapters"]}
    registered = {c.notebook for c in CHAPTERS.values()}
    assert {p.stem for p in SOURCES} == registered
    assert registered <= listed


def test_cli_rejects_bad_parameters_before_starting_a_kernel(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LRGAP_ROOT", str(ROOT))
    output = ROOT / "book" / "01_convex.ipynb"
    before = output.stat().st_mtime if output.exists() else None
    assert cli.main(["run", "convex", "-p", "lr_large=-1"]) == 2
    assert "parameter 'lr_large' is -1; it must be > 0" in capsys.readouterr().err
    assert (output.stat().st_mtime if output.exists() else None) == before


def test_build_renders_full_when_every_full_run_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("LRGAP_ROOT", str(ROOT))
    monkeypatch.setenv("LRGAP_CACHE", str(tmp_path / "cache"))
    assert cli.profile_for("convex", "smoke") == "smoke"
    full = CHAPTERS["convex"].runs(cli.chapter_config("convex", "full"))
    for run in full[:-1]:
        run.execute()
    assert cli.profile_for("convex", "cpu") == "cpu"  # one run still missing
    full[-1].execute()
    assert cli.profile_for("convex", "cpu") == "full"
