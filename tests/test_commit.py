"""Committing results: never those of uncommitted code, unless asked."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from lrgap_nb import results, runs


@dataclasses.dataclass(frozen=True)
class Config:
    x: int


def finished(monkeypatch: pytest.MonkeyPatch, x: int, commit: str) -> runs.Run:
    monkeypatch.setattr(results, "git_commit", lambda: commit)
    run = runs.Run("toy", "builtins:repr", Config(x), 1)
    results.cached(run.kind, run.config, lambda: {"x": x}, run.protocol)
    return run


def test_results_of_a_dirty_checkout_are_refused_unless_allowed(
    isolated_cache: Path, empty_committed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = finished(monkeypatch, 1, "abc1234")
    dirty = finished(monkeypatch, 2, "abc1234-dirty")
    with pytest.raises(runs.DirtyResults, match=r"1 of 2 .*git abc1234-dirty.*allow_dirty=True"):
        runs.commit_finished([clean, dirty])
    assert not empty_committed.exists()  # nothing copied, not even the clean one
    copied = runs.commit_finished([clean, dirty], allow_dirty=True)
    assert sorted(Path(p).name for p in copied) == sorted(f"{r.key}.json" for r in (clean, dirty))


def test_results_of_a_clean_checkout_are_committed_once(
    isolated_cache: Path, empty_committed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = finished(monkeypatch, 1, "abc1234")
    assert [Path(p).name for p in runs.commit_finished([clean])] == [f"{clean.key}.json"]
    assert (empty_committed / "toy" / f"{clean.key}.json").is_file()
    assert runs.commit_finished([clean]) == []
