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
