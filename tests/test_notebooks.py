"""The notebooks: jupytext pairs in sync, generated parameters cells, registered chapters."""

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import papermill
import pytest
import yaml

from lrgap_nb import cli
from lrgap_nb.book import pair as book_pair
from lrgap_nb.book import run as book_run
from lrgap_nb.chapters import registry

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
CHAPTERS = list(registry().values())


def cells(notebook):
    return [
        (c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in notebook.cells
    ]


def parameters_cells(notebook):
    return [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_pair_is_in_sync(source):
    pair = source.with_suffix(".ipynb")
    assert pair.exists(), f"{pair.name} missing: run lrgap pair"
    assert cells(jupytext.read(source)) == cells(jupytext.read(pair)), (
        f"{pair.name} drifted from {source.name}: run lrgap pair"
    )
    assert jupytext.read(pair).metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_cell_ids_come_from_their_sources_so_re_pairing_is_quiet(source):
    notebook = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    ids = [c.id for c in notebook.cells]
    assert len(set(ids)) == len(ids)
    for index, cell in enumerate(notebook.cells):
        digest = hashlib.sha1(cell.source.encode()).hexdigest()[:8]
        assert cell.id in (digest, f"{digest}-{index}"), f"{source.name}: run lrgap pair"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.name)
def test_parameters_cell_is_generated_from_the_dataclass(chapter):
    notebook = jupytext.read(ROOT / "notebooks" / f"{chapter.notebook}.py")
    (cell,) = parameters_cells(notebook)
    assert cell.source.strip() == book_pair.parameters_source(chapter.name).strip(), (
        f"the parameters cell of {chapter.notebook}.py drifted from its dataclass: "
        f"run lrgap pair {chapter.name}"
    )
    exposed = list(papermill.inspect_notebook(notebook))
    assert exposed[0] == "profile"
    assert exposed == [f for f in chapter.params_class().__dataclass_fields__ if f != "profiles"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.name)
def test_the_configuration_call_does_not_repeat_the_names(chapter):
    source = (ROOT / "notebooks" / f"{chapter.notebook}.py").read_text()
    assert f'lg.configure("{chapter.name}", globals())' in source
    assert "chapter_config(" not in source


def test_every_registered_chapter_has_a_notebook_pair_and_a_toc_entry():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = {entry["file"] for part in toc["parts"] for entry in part["chapters"]}
    registered = {c.notebook for c in CHAPTERS}
    assert {p.stem for p in SOURCES} == registered
    assert registered <= listed
    for stem in registered:
        assert (ROOT / "notebooks" / f"{stem}.ipynb").is_file(), stem


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_each_figure_is_named_once_its_label_is_its_file_name(source):
    for cell in jupytext.read(source).cells:
        label = cell.metadata.get("mystnb", {}).get("figure", {}).get("name")
        saved = re.findall(r'out\.figure\([^,]+, "([\w-]+)"\)', cell.source)
        if label or saved:
            assert saved == [label], (source.name, label, saved)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.name)
def test_tables_claims_and_parameters_import_no_torch(chapter):
    code = (
        f"import sys; import lrgap_nb.chapters.{chapter.name}.params, lrgap_nb.chapters.{chapter.name}.tables, "
        f"lrgap_nb.chapters.{chapter.name}.claims; sys.exit('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_cli_rejects_bad_parameters_before_starting_a_kernel(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LRGAP_ROOT", str(ROOT))
    output = ROOT / "book" / "01_convex.ipynb"
    before = output.stat().st_mtime if output.exists() else None
    assert cli.main(["run", "convex", "-p", "lr_large=-1"]) == 2
    assert "parameter 'lr_large' is -1; it must be > 0" in capsys.readouterr().err
    assert (output.stat().st_mtime if output.exists() else None) == before


def test_build_renders_the_largest_fully_cached_profile(convex_project):
    # a project root without the repository's committed results: only what this test computes
    assert book_run.profile_for("convex", "smoke") == "smoke"
    chapter = registry()["convex"]
    overnight = chapter.runs(book_run.chapter_config("convex", "overnight"))
    for run in overnight[:-1]:
        run.execute()
    assert book_run.profile_for("convex", "cpu") == "cpu"  # one run still missing
    overnight[-1].execute()
    # convex's full runs are its overnight runs
    assert book_run.profile_for("convex", "cpu") == "full"
    assert book_run.profile_for("convex", "full") == "full"


@pytest.fixture
def convex_project(tmp_path, monkeypatch) -> Path:
    """A project root holding only the convex chapter's source, with its own cache."""
    import shutil

    for name in ("_config.yml", "pyproject.toml", "notebooks/01_convex.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    monkeypatch.setenv("LRGAP_ROOT", str(tmp_path))
    monkeypatch.setenv("LRGAP_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_pairing_never_replaces_the_rendered_outputs(convex_project):
    """`lrgap pair` executes the notebook at smoke; the chapter's tables in book/_extra/outputs
    (rendered at a larger profile, say) stay as they were."""
    claims = convex_project / "book" / "_extra" / "outputs" / "convex" / "claims.csv"
    claims.parent.mkdir(parents=True)
    claims.write_text("rendered at overnight\n")
    book_pair.pair_chapter("convex")
    assert claims.read_text() == "rendered at overnight\n"
    assert (convex_project / "notebooks" / "01_convex.ipynb").is_file()


def test_repairing_after_a_prose_edit_keeps_the_outputs_without_executing(
    convex_project, monkeypatch
):
    """A markdown edit re-pairs at once with the checked outputs of the existing pair; a code
    edit executes the notebook again."""
    pair = book_pair.pair_chapter("convex")
    checked = [c.outputs for c in jupytext.read(pair).cells if "NBVAL_CHECK_OUTPUT" in c.source]
    assert checked and all(checked)

    executions = []
    real = papermill.execute_notebook
    monkeypatch.setattr(
        papermill, "execute_notebook", lambda *a, **k: executions.append(1) or real(*a, **k)
    )
    source = convex_project / "notebooks" / "01_convex.py"
    source.write_text(
        source.read_text().replace("# %% [markdown]\n", "# %% [markdown]\n# Edited.\n#\n", 1)
    )
    book_pair.pair_chapter("convex")
    again = jupytext.read(pair)
    assert executions == [] and "Edited." in "".join(c.source for c in again.cells)
    assert [c.outputs for c in again.cells if "NBVAL_CHECK_OUTPUT" in c.source] == checked

    source.write_text(source.read_text() + "\n# %%\nprint('a new code cell')\n")
    book_pair.pair_chapter("convex")
    assert executions == [1]


def test_the_book_copy_hides_parameters_cells_and_nbval_markers():
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("profile = 'smoke'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nx = 1\nx"),
    ]
    book_run.hide_configuration(notebook)
    assert "remove-cell" in notebook.cells[0].metadata["tags"]
    assert notebook.cells[1].source == "x = 1\nx"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.name)
def test_every_chapter_implements_the_contract(chapter):
    assert chapter.breaks_contract() == []


def test_the_contract_check_names_what_is_missing(monkeypatch):
    chapter = CHAPTERS[0]
    claims_module = chapter.module("claims")
    monkeypatch.delattr(claims_module, "claims")
    assert chapter.breaks_contract() == ["claims.py with ClaimsModule's functions"]
