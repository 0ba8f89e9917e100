"""The book in headless Chromium (tests/browser/check_book.py); CI builds the book first.

The explorer check also runs on a page of its own (no book build needed), so a change to the
explorer is caught by the unit tests too.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHECK = ROOT / "tests" / "browser" / "check_book.py"


def check(*args: str) -> None:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install chromium chromium-driver)")
    run = subprocess.run([sys.executable, str(CHECK), *args], capture_output=True, text=True)
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr


def test_explorer_on_its_own_page_recomputes_and_matches_python(tmp_path):
    check("--standalone", "--out", str(tmp_path))


def test_book_renders_offline_and_its_explorer_responds(request):
    if not CHROMIUM.exists():  # before the book is built, not after
        pytest.skip("no /usr/bin/chromium (apt-get install chromium chromium-driver)")
    html = request.getfixturevalue("built_book")  # a smoke build in a temporary copy (conftest)
    check(str(html), "--out", str(ROOT / "screenshots"))
