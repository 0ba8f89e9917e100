"""Building the HTML book with Jupyter Book 1, after writing the landing page's summary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .. import paths
from .report import write_summary
from .run import outputs_to


def build_html(strict: bool = True) -> Path:
    with outputs_to(paths.book_outputs_root()):
        write_summary()  # the landing page's table, from whatever chapters have run
    root = paths.project_root()
    command = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(root / "book"),
        "--config",
        str(root / "_config.yml"),
        "--toc",
        str(root / "_toc.yml"),
        "--path-output",
        str(root / "book"),
    ]
    if strict:
        command += ["--warningiserror", "--keep-going"]
    subprocess.run(command, check=True)
    return root / "book" / "_build" / "html"
