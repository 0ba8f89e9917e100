import dataclasses
import json
import subprocess
from pathlib import Path

import pytest

from lrgap_nb import results


@dataclasses.dataclass(frozen=True)
class Toy:
    lr: float
    seed: int


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LRGAP_ROOT", str(tmp_path))
    monkeypatch.setenv("LRGAP_CACHE", str(tmp_path / "cache"))
    return tmp_path


def counting(value):
    calls = []

    def compute():
        calls.append(1)
        return {"value": value}

    return compute, calls


def test_key_depends_on_every_field_and_kind():
    base = results.config_key("toy", Toy(0.1, 0), 1)
    assert base == results.config_key("toy", Toy(0.1, 0), 1)
    assert base != results.config_key("toy", Toy(0.1, 1), 1)
    assert base != results.config_key("toy", Toy(0.2, 0), 1)
    assert base != results.config_key("other", Toy(0.1, 0), 1)


def test_second_call_is_a_hit_with_provenance():
    compute, calls = counting(3)
    first = results.cached("toy", Toy(0.1, 0), compute, 1)
    second = results.cached("toy", Toy(0.1, 0), compute, 1)
    assert len(calls) == 1
    assert second.payload == {"value": 3} == first.payload
    for field in ("package_version", "torch_version", "device", "wall_time_s", "date"):
        assert field in second.provenance
    assert second.config == {"lr": 0.1, "seed": 0}


def test_corrupt_entry_is_moved_aside_and_recomputed(isolated_cache):
    compute, calls = counting(3)
    entry = results.cached("toy", Toy(0.1, 0), compute, 1)
    data = json.loads(entry.path.read_text())
    data["payload"]["value"] = 4  # tampered: checksum no longer matches
    entry.path.write_text(json.dumps(data))
    with pytest.warns(UserWarning, match="checksum mismatch"):
        again = results.cached("toy", Toy(0.1, 0), compute, 1)
    assert again.payload == {"value": 3}
    assert len(calls) == 2
    kept = list(entry.path.parent.glob("*.corrupt-*"))
    assert len(kept) == 1 and json.loads(kept[0].read_text())["payload"]["value"] == 4


def test_truncated_entry_is_detected(isolated_cache):
    compute, calls = counting(1)
    entry = results.cached("toy", Toy(0.3, 0), compute, 1)
    entry.path.write_text(entry.path.read_text()[:20])
    with pytest.warns(UserWarning, match="results cache"):
        results.cached("toy", Toy(0.3, 0), compute, 1)
    assert len(calls) == 2


def test_committed_results_are_used_without_recomputing(isolated_cache):
    compute, calls = counting(7)
    key = results.config_key("toy", Toy(0.5, 0), 1)
    prov = results.provenance(12.0, device="NVIDIA H200")
    committed = isolated_cache / "results" / "committed"
    results.write_entry(committed, "toy", key, {"lr": 0.5, "seed": 0}, {"value": 7}, prov)
    hit = results.cached("toy", Toy(0.5, 0), compute, 1)
    assert calls == [] and hit.provenance["device"] == "NVIDIA H200"


def test_no_temporary_files_are_left_behind(isolated_cache):
    compute, _ = counting(1)
    entry = results.cached("toy", Toy(0.7, 0), compute, 1)
    assert [p.name for p in entry.path.parent.iterdir()] == [entry.path.name]


def test_key_depends_on_the_protocol_version_not_the_package_version(monkeypatch):
    key = results.config_key("toy", Toy(0.1, 0), 1)
    assert key != results.config_key("toy", Toy(0.1, 0), 2)
    monkeypatch.setattr("lrgap_nb.__version__", "99.0")
    assert key == results.config_key("toy", Toy(0.1, 0), 1)  # a release keeps committed results


def test_provenance_records_a_dirty_working_tree(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.setenv("LRGAP_ROOT", str(repo))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "runner.py").write_text("A = 1\n")
    subprocess.run([*git, "add", "runner.py"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "first"], check=True)
    clean = results.git_commit()
    assert clean and not clean.endswith("-dirty")
    (repo / "runner.py").write_text("A = 2\n")  # an uncommitted change to the code
    assert results.git_commit() == f"{clean}-dirty"
    assert results.provenance(0.0, device="cpu")["git_commit"] == f"{clean}-dirty"


def test_provenance_is_part_of_the_checksum(isolated_cache):
    compute, calls = counting(5)
    entry = results.cached("toy", Toy(0.9, 0), compute, 1)
    data = json.loads(entry.path.read_text())
    data["provenance"]["device"] = "NVIDIA H200"  # a CPU result passed off as a GPU one
    entry.path.write_text(json.dumps(data))
    with pytest.warns(UserWarning, match="checksum mismatch"):
        assert results.cached("toy", Toy(0.9, 0), compute, 1).provenance["device"] != "NVIDIA H200"
    assert len(calls) == 2


@pytest.mark.parametrize("covered", [False, True], ids=["config+payload", "with provenance"])
def test_entries_written_before_the_checksum_scope_was_recorded_are_still_read(covered):
    entry = results.cached("toy", Toy(0.4, 1), counting(2)[0], 1)
    data = json.loads(entry.path.read_text())
    del data["checksum_scope"]  # as older code wrote them
    prov = data["provenance"] if covered else None
    data["checksum"] = results._checksum(data["config"], data["payload"], prov)
    entry.path.write_text(json.dumps(data))
    assert results.read_entry(entry.path, "toy", entry.key).payload == {"value": 2}


def test_steps_keep_finished_values_and_redo_a_torn_file(tmp_path: Path) -> None:
    path = tmp_path / "run.probes.json"
    calls = []
    first = results.Steps(path).get("phi", lambda: calls.append(1) or {"phi": 0.1 + 0.2})
    assert first == {"phi": 0.1 + 0.2}  # the exact float survives JSON
    assert results.Steps(path).get("phi", lambda: calls.append(1) or {"phi": -1.0}) == first
    assert calls == [1]
    path.write_text('{"phi": {"phi"')  # killed mid-write by something else
    with pytest.warns(UserWarning, match="unreadable"):
        steps = results.Steps(path)
    assert steps.get("phi", lambda: {"phi": 2.0}) == {"phi": 2.0}
    steps.clear()
    assert not path.exists()
