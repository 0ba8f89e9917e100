"""The built book in headless Chromium (tests/browser/check_book.py); CI builds the book first."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "book" / "_build" / "html"
CHROMIUM = Path("/usr/bin/chromium")


def test_book_renders_offline_and_its_sliders_respond():
    # Checked at run time, not collection time: tests/test_book.py builds the book just before.
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install chromium chromium-driver)")
    if not (HTML / "index.html").exists():
        pytest.skip("book not built (lrgap build)")
    check = ROOT / "tests" / "browser" / "check_book.py"
    out = ROOT / "screenshots"
    run = subprocess.run(
        [sys.executable, str(check), str(HTML), "--out", str(out)], capture_output=True, text=True
    )
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
