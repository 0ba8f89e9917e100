"""Pairing: notebooks/<stem>.py (jupytext percent, the source) -> notebooks/<stem>.ipynb, its
parameters cell generated from the chapter's dataclass."""

from __future__ import annotations

from pathlib import Path

from .. import paths
from ..chapters import get_chapter
from ..params import parameters_cell
from .notebook import kernel_options, outputs_to, read_source, source


def parameters_source(name: str) -> str:
    """The `parameters` cell chapter `name` must have: generated from its dataclass."""
    return parameters_cell(get_chapter(name).params_class())


def write_parameters_cell(name: str) -> Path:
    """Rewrite the `parameters` cell of notebooks/<stem>.py from the chapter's dataclass."""
    import jupytext

    path = source(get_chapter(name).notebook)
    notebook = jupytext.read(path)
    (cell,) = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    cell.source = parameters_source(name)
    jupytext.write(notebook, path, fmt="py:percent")
    return path


def pair_chapter(name: str) -> Path:
    """Regenerate the parameters cell, then rewrite notebooks/<stem>.ipynb from the .py source.

    Only cells marked `# NBVAL_CHECK_OUTPUT` keep their (smoke) outputs, so the pair stays small.
    When no code cell changed (a prose edit), those outputs come from the existing pair instead
    of a smoke execution, which takes minutes for the image chapters.
    """
    import nbformat

    chapter = get_chapter(name)
    write_parameters_cell(name)
    notebook = read_source(chapter.notebook)
    target = paths.project_root() / "notebooks" / f"{chapter.notebook}.ipynb"
    previous = nbformat.read(target, 4) if target.is_file() else None
    if previous is not None and _code(previous) == _code(notebook):
        ran = previous.cells
    else:
        ran = _execute_at_smoke(read_source(chapter.notebook)).cells
        ran = [c for c in ran if "injected-parameters" not in c.metadata.get("tags", [])]
    for cell, result in zip(notebook.cells, ran, strict=True):
        if cell.cell_type == "code" and "# NBVAL_CHECK_OUTPUT" in cell.source:
            cell.outputs = result.outputs
            cell.execution_count = result.execution_count
    _stable_cell_ids(notebook)
    nbformat.write(notebook, target)
    return target


def _code(notebook) -> list[tuple[str, str]]:
    """Each cell's type, and a code cell's source: what decides a pair's outputs."""
    return [(c.cell_type, c.source if c.cell_type == "code" else "") for c in notebook.cells]


def _execute_at_smoke(notebook):
    """Run `notebook` as papermill does, its tables and figures into a throwaway folder (never
    over book/'s rendered chapters)."""
    import tempfile

    import papermill

    with tempfile.TemporaryDirectory() as tmp, outputs_to(Path(tmp) / "outputs"):
        return papermill.execute_notebook(
            notebook,
            str(Path(tmp) / "executed.ipynb"),
            cwd=str(paths.project_root() / "notebooks"),
            progress_bar=False,
            **kernel_options(),
        )


def _stable_cell_ids(notebook) -> None:
    """Ids from each cell's source (jupytext draws random ones), so re-pairing changes only the
    cells that changed; a repeated source gets its position appended."""
    import hashlib

    seen: set[str] = set()
    for index, cell in enumerate(notebook.cells):
        cell_id = hashlib.sha1(cell.source.encode()).hexdigest()[:8]
        cell.id = cell_id if cell_id not in seen else f"{cell_id}-{index}"
        seen.add(cell.id)
