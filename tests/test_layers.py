"""The science core never imports the book machinery (lrgap_nb.book)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "lrgap_nb"
# Commands that drive the book as well as the science: the command line and the GPU check's
# notebook step (which runs a chapter with papermill on the GPU machine).
ENTRY_POINTS = {"__init__.py", "cli.py", "gpu_notebook.py"}
CORE = sorted(
    p
    for p in PACKAGE.rglob("*.py")
    if "book" not in p.relative_to(PACKAGE).parts
    and str(p.relative_to(PACKAGE)) not in ENTRY_POINTS
)


def imported_modules(path: Path, source: str | None = None) -> set[str]:
    """Absolute names of what a module imports, relative imports resolved against its package."""
    package = ["lrgap_nb", *path.relative_to(PACKAGE).parent.parts]
    found = set()
    for node in ast.walk(ast.parse(path.read_text() if source is None else source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return found


def test_the_core_is_found():
    names = {p.name for p in CORE}
    assert {"data.py", "train.py", "stats.py", "claims.py", "results.py"} <= names


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_core_module_imports_nothing_from_the_book(path):
    book = sorted(m for m in imported_modules(path) if m.startswith("lrgap_nb.book"))
    assert not book, f"{path.relative_to(PACKAGE)} imports {book}"


def test_the_check_sees_a_relative_import_of_the_book():
    module = PACKAGE / "chapters" / "x" / "tables.py"
    assert "lrgap_nb.book.report" in imported_modules(module, "from ...book import report")
    assert "lrgap_nb.book.run" in imported_modules(module, "from lrgap_nb.book import run")
