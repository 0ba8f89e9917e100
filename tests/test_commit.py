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


def test_lrgap_commit_copies_a_chapters_finished_runs_and_refuses_dirty_ones(
    isolated_cache: Path, empty_committed: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from lrgap_nb import cli
    from lrgap_nb.chapters import chapter_config, get_chapter

    listed = get_chapter("convex").runs(chapter_config("convex", "smoke"))
    monkeypatch.setattr(results, "git_commit", lambda: "abc1234-dirty")
    listed[0].execute()
    assert cli.main(["commit", "convex", "--profile", "smoke"]) == 1
    assert "computed with uncommitted changes" in capsys.readouterr().err
    assert cli.main(["commit", "convex", "--profile", "smoke", "--allow-dirty"]) == 0
    assert (empty_committed / listed[0].kind / f"{listed[0].key}.json").is_file()


def test_lrgap_calibrate_runs_only_the_calibration_stages(
    isolated_cache: Path, empty_committed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lrgap_nb import cli, sweep
    from lrgap_nb.chapters import chapter_config, get_chapter

    seen = []
    monkeypatch.setattr(sweep, "execute", lambda r, executor=None: seen.extend(r) or
                        sweep.SweepReport([], 0.0))  # fmt: skip
    assert cli.main(["calibrate", "large_lr", "--profile", "smoke"]) == 0
    pilot = (
        get_chapter("large_lr").module("runs").pilot_configs(chapter_config("large_lr", "smoke"))
    )
    assert [r.config for r in seen] == list(pilot.values())
    assert get_chapter("convex").calibration(chapter_config("convex", "smoke")) == []
