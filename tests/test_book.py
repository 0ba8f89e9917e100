"""Build the whole book at the smoke profile, Sphinx warnings as errors (what CI publishes).

The build happens in a temporary copy of the repository (the `built_book` fixture), so running
the tests never replaces a book the user built at a larger profile.
"""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_book_builds_at_smoke_with_warnings_as_errors(built_book):
    assert ROOT not in built_book.parents  # never over the user's book/
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]] + [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    for page in pages:
        assert (built_book / f"{page}.html").stat().st_size > 1000, page


PROGRESS = re.compile(r"\d+%\|[^|]*\||\d+/\d+ \[\d+:\d+|it/s\]|s/it\]")


def test_no_page_shows_progress_bar_text(built_book):
    """Progress goes to the terminal running lrgap, never into the rendered page."""
    shown = {
        page.name: match.group(0)
        for page in built_book.glob("*.html")
        if (match := PROGRESS.search(page.read_text()))
    }
    assert not shown, f"progress-bar text in the book: {shown}"


def test_configuration_cells_are_hidden(built_book):
    """The book opens with the question: no parameters cell, no papermill injected cell."""
    for page in built_book.glob("0[0-9]_*.html"):
        text = page.read_text()
        assert "Parameters at profile" in text, page.name  # the rendered parameter table
        assert "injected-parameters" not in text and "lg.configure(" not in text, page.name
