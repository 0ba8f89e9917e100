"""Build the whole book at the smoke profile, Sphinx warnings as errors (what CI publishes)."""

import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_book_builds_at_smoke_with_warnings_as_errors():
    start = time.perf_counter()
    lrgap = Path(sys.executable).with_name("lrgap")
    subprocess.run([str(lrgap), "build", "--profile", "smoke"], cwd=ROOT, check=True)
    print(f"lrgap build --profile smoke: {time.perf_counter() - start:.1f} s")
    html = ROOT / "book" / "_build" / "html"
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]] + [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    for page in pages:
        assert (html / f"{page}.html").stat().st_size > 1000, page
