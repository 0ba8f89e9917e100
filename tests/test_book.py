"""Build the whole book at the smoke profile, Sphinx warnings as errors (what CI publishes).

The build happens in a temporary copy of the repository (the `built_book` fixture), so running
the tests never replaces a book the user built at a larger profile.
"""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_book_builds_at_smoke_with_warnings_as_errors(built_book):
    assert ROOT not in built_book.parents  # never over the user's book/
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]] + [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    for page in pages:
        assert (built_book / f"{page}.html").stat().st_size > 1000, page
