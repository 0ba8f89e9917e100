"""Shared fixtures and options of the test suite."""

import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/<kind>.json from the current code (after a protocol bump)",
    )


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    """A results cache (and checkpoints) in a temporary folder, never the user's."""
    monkeypatch.setenv("LRGAP_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def tmpfs(tmp_path):
    """A 256 KiB tmpfs for full-disk and read-only faults (root, where mount works), else None.

    `subprocess.run(["mount", "-o", "remount,ro", str(point)])` makes it read-only.
    """
    import os
    import subprocess

    point = tmp_path / "tmpfs"
    point.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(point)]
    if os.geteuid() != 0 or subprocess.run(mount, capture_output=True).returncode != 0:
        yield None
        return
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The book built at smoke in a temporary copy of the repository; its HTML folder.

    Never over the user's book/ or results cache: a user who built the book at cpu keeps it.
    """
    import os
    import shutil
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    copy = tmp_path_factory.mktemp("repository")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = root / name
        if source.is_file():  # tracked files deleted in the working tree are skipped
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    env = {**os.environ, "LRGAP_ROOT": str(copy), "LRGAP_CACHE": str(copy / "results" / "local")}
    start = time.perf_counter()
    lrgap = Path(sys.executable).with_name("lrgap")
    subprocess.run([str(lrgap), "build", "--profile", "smoke"], cwd=copy, env=env, check=True)
    print(f"lrgap build --profile smoke (in {copy}): {time.perf_counter() - start:.1f} s")
    return copy / "book" / "_build" / "html"


@pytest.fixture
def empty_committed(tmp_path, monkeypatch):
    """No committed results: lookups see only the (isolated) local cache."""
    from lrgap_nb import paths

    folder = tmp_path / "committed"
    monkeypatch.setattr(paths, "committed_cache_dir", lambda: folder)
    return folder
