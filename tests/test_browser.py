"""The built book in headless Chromium (tests/browser/check_book.py); CI builds the book first."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "book" / "_build" / "html"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not (HTML / "index.html").exists(), reason="book not built (lrgap build)")
@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)")
def test_book_renders_offline_and_its_sliders_respond():
    check = ROOT / "tests" / "browser" / "check_book.py"
    out = ROOT / "screenshots"
    run = subprocess.run(
        [sys.executable, str(check), str(HTML), "--out", str(out)], capture_output=True, text=True
    )
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
