"""Where the project keeps things: found from the working directory or set by environment variables.

`LRGAP_ROOT` overrides the project root, `LRGAP_CACHE` the writable results cache, `LRGAP_DATA`
the dataset root, `LRGAP_OUTPUTS` the chapters' tables and figures and `LRGAP_DOWNLOAD=0` forbids
downloads. Without them the root is the nearest parent folder holding `_config.yml` and
`pyproject.toml` (the repository), so notebooks run from `notebooks/` or `book/` agree.
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    if env := os.environ.get("LRGAP_ROOT"):
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").is_file() and (folder / "pyproject.toml").is_file():
            return folder
    return here


def book_dir() -> Path:
    return project_root() / "book"


def outputs_root() -> Path:
    """Where chapters save tables and figures: `LRGAP_OUTPUTS`, else `outputs/` in the working
    directory. `lrgap run` and `lrgap build` set it to `book_outputs_root()` for their kernels;
    a notebook run any other way (papermill, Jupyter, nbval) never replaces the book's files."""
    if env := os.environ.get("LRGAP_OUTPUTS"):
        return Path(env).resolve()
    return Path.cwd().resolve() / "outputs"


def book_outputs_root() -> Path:
    """The rendered chapters' tables and figures, book/_extra/outputs (served at outputs/)."""
    return book_dir() / "_extra" / "outputs"


def outputs_dir(chapter: str) -> Path:
    """Folder for a chapter's downloadable tables and figures."""
    folder = outputs_root() / chapter
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def cache_dir() -> Path:
    """The writable results cache (git-ignored)."""
    if env := os.environ.get("LRGAP_CACHE"):
        return Path(env).resolve()
    return project_root() / "results" / "local"


def committed_cache_dir() -> Path:
    """Read-only cache of paper-scale results committed to the repository."""
    return project_root() / "results" / "committed"


def download_allowed() -> bool:
    """Datasets may be downloaded unless LRGAP_DOWNLOAD is 0/false/no (offline machines, CI)."""
    return os.environ.get("LRGAP_DOWNLOAD", "1").strip().lower() not in ("0", "false", "no")


def data_root() -> Path:
    if env := os.environ.get("LRGAP_DATA"):
        return Path(env).resolve()
    return Path.home() / ".cache" / "lrgap" / "data"


def failed_dir() -> Path:
    """Where `lrgap run` keeps a chapter notebook that failed (with its traceback), out of git."""
    folder = book_dir() / ".failed"
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    return folder


def _umask() -> int:
    try:  # Linux states it; elsewhere read it by setting it (not thread-safe) and putting it back
        status = Path("/proc/self/status").read_text()
        return int(
            next(line for line in status.splitlines() if line.startswith("Umask:")).split()[1], 8
        )
    except (OSError, StopIteration, ValueError):
        current = os.umask(0o022)
        os.umask(current)
        return current


def share_like_open(target: int | str | Path) -> None:
    """Give a file made by `tempfile.mkstemp` (always 0600) the mode `open` would: 0666 & ~umask,
    so a cache or book shared by a group stays readable. `target` is a descriptor or a path."""
    mode = 0o666 & ~_umask()
    if isinstance(target, int):
        os.fchmod(target, mode)
    else:
        os.chmod(target, mode)
