"""The results cache under faults: corrupt entries, full or read-only disks, killed and live
runs' claims. Each fault is recovered from or ends in one clear line; good entries are kept."""

from __future__ import annotations

import dataclasses
import errno
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
import torch
from faults import cache_folder, one_line, toy_run

from lrgap_nb import results, sweep, train
from lrgap_nb.runs import Run

pytestmark = pytest.mark.usefixtures("isolated_root")

# --- the results cache ------------------------------------------------------------------------


def entry_of(value: int) -> Path:
    run = toy_run(value)
    return results.entry_path(Path(os.environ["LRGAP_CACHE"]), "toy", run.key)


def corrupted(value: int, how) -> Path:
    """Compute the toy entry, then damage it with `how(text) -> text`."""
    path = toy_run(value).execute().path
    path.write_text(how(path.read_text()))
    return path


def no_provenance(text: str) -> str:
    record = json.loads(text)
    del record["provenance"]
    return json.dumps(record)


def other_device(text: str) -> str:
    record = json.loads(text)
    record["provenance"]["device"] = "a GPU it never ran on"
    return json.dumps(record)


DAMAGE = {
    "empty": lambda text: "",
    "truncated": lambda text: text[: len(text) // 2],
    "one byte": lambda text: text[:1],
    "not json": lambda text: "\0\1\2 garbage",
    "a list": lambda text: "[1, 2]",
    "no provenance": no_provenance,
    "provenance changed": other_device,
}


@pytest.mark.parametrize("damage", DAMAGE, ids=str)
def test_damaged_entry_is_moved_aside_and_recomputed(damage):
    path = corrupted(3, DAMAGE[damage])
    bad = path.read_text()
    with pytest.warns(UserWarning, match="moved to"):
        again = toy_run(3).execute()
    assert again.computed and again.payload == {"square": 9}
    (kept,) = path.parent.glob("*.corrupt-*")
    assert kept.read_text() == bad  # never silently lost


def test_two_corruptions_in_one_second_keep_both_copies():
    for _ in range(2):
        corrupted(4, DAMAGE["truncated"])
        with pytest.warns(UserWarning, match="moved to"):
            toy_run(4).execute()
    assert len(list(cache_folder().glob("*.corrupt-*"))) == 2


def test_entry_that_vanishes_while_being_moved_aside_is_a_miss(monkeypatch):
    path = corrupted(5, DAMAGE["truncated"])
    real = results.read_entry

    def racing_read(*args):
        try:
            return real(*args)
        except results.CorruptEntry:
            path.rename(path.with_name("moved-by-another-process"))  # it got there first
            raise

    monkeypatch.setattr(results, "read_entry", racing_read)
    assert results.lookup("toy", toy_run(5).config, 1) is None


def _race(barrier, value: int, log: str, queue) -> None:
    barrier.wait()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            queue.put(toy_run(value, log).execute().payload["square"])
    except BaseException as err:
        queue.put(repr(err))


def test_racing_processes_meeting_one_corrupt_entry(isolated_root):
    """Two processes meet the same corrupt entry: no crash, one computation, one good entry."""
    context = multiprocessing.get_context("fork")
    log = isolated_root / "log"
    outcomes = []
    for trial in range(40):
        value = 100 + trial
        toy_run(value, str(log)).execute()
        path = results.entry_path(isolated_root / "cache", "toy", toy_run(value, str(log)).key)
        path.write_text(path.read_text()[:30])
        barrier, queue = context.Barrier(2), context.Queue()
        workers = [
            context.Process(target=_race, args=(barrier, value, str(log), queue)) for _ in range(2)
        ]
        for w in workers:
            w.start()
        outcomes += [queue.get(timeout=60) for _ in workers]
        for w in workers:
            w.join()
    assert outcomes == [(100 + t) ** 2 for t in range(40) for _ in range(2)]
    counts = pd.Series([line.split()[0] for line in log.read_text().splitlines()]).value_counts()
    assert (counts == 2).all()  # the first computation, then exactly one recomputation


def make_read_only(folder: Path, tmpfs: Path | None) -> None:
    """A read-only file system where mount works, else read-only permissions (not as root)."""
    if tmpfs is not None:
        subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
        return
    if os.geteuid() == 0:
        pytest.skip("root without mount: permissions cannot make a folder read-only")
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)


def test_read_only_cache_with_a_corrupt_entry_does_not_crash_a_sweep(tmpfs, monkeypatch):
    if tmpfs is not None:
        monkeypatch.setenv("LRGAP_CACHE", str(tmpfs))
    good, bad = toy_run(1).execute(), toy_run(2).execute()
    bad.path.write_text("{")
    make_read_only(Path(os.environ["LRGAP_CACHE"]), tmpfs)
    with pytest.warns(UserWarning, match="could not move it aside"):
        report = sweep.execute([toy_run(1), toy_run(2), toy_run(3)])
    table = report.table().set_index("key")
    assert table.loc[good.key, "status"] == "cached"
    assert table.loc[bad.key, "status"] == "failed"
    assert "is not writable" in table.loc[bad.key, "error"]
    assert "LRGAP_CACHE" in table.loc[bad.key, "error"]
    assert bad.path.read_text() == "{"
    assert results.read_entry(good.path, "toy", good.key).payload == {"square": 1}


def fill_disk_or_refuse(tmpfs: Path | None, monkeypatch) -> None:
    """Put the cache on a tiny tmpfs, or make every write past 1 kB fail with ENOSPC."""
    if tmpfs is not None:
        monkeypatch.setenv("LRGAP_CACHE", str(tmpfs))
        return
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, handle):
            self.handle, self.written = handle, 0

        def write(self, chunk):
            self.written += len(chunk)
            if self.written > 1000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.handle.write(chunk)

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    monkeypatch.setattr(results.os, "fdopen", lambda *a, **k: Full(real_fdopen(*a, **k)))


def test_full_disk_leaves_no_partial_files_and_keeps_good_entries(tmpfs, monkeypatch):
    fill_disk_or_refuse(tmpfs, monkeypatch)
    good = toy_run(1).execute()

    @dataclasses.dataclass(frozen=True)
    class Big:
        size: int

    with pytest.raises(OSError) as err:
        results.cached("big", Big(400_000), lambda: {"data": "x" * 400_000}, 1)
    assert err.value.errno == errno.ENOSPC
    leftovers = [p for p in Path(os.environ["LRGAP_CACHE"]).rglob("*") if p.is_file()]
    spent = [p for p in leftovers if p.suffix == ".spent"]  # the failed attempt's time, kept
    assert [p.name for p in leftovers if p not in spent] == [good.path.name]  # no .tmp, .claim
    assert [json.loads(p.read_text())["attempts"] for p in spent] == [1]
    assert results.read_entry(good.path, "toy", good.key).payload == {"square": 1}


def test_full_disk_while_checkpointing_keeps_the_last_checkpoint(tmpfs, monkeypatch):
    if tmpfs is None:
        pytest.skip("needs a tmpfs (root): torch writes through its own file handle")
    path = tmpfs / "checkpoints" / "run.pt"
    train._atomic_save({"epoch": torch.tensor(1)}, path)
    with pytest.raises((RuntimeError, OSError)):
        train._atomic_save({"weights": torch.zeros(200_000)}, path)
    assert [p.name for p in path.parent.iterdir()] == ["run.pt"]
    assert torch.load(path, weights_only=True)["epoch"] == 1


def test_cache_files_and_checkpoints_honour_the_umask(isolated_root):
    old = os.umask(0o002)  # a group-shared cache
    try:
        entry = toy_run(1).execute().path
        checkpoint = isolated_root / "cache" / "checkpoints" / "x.pt"
        train._atomic_save({"a": 1}, checkpoint)
    finally:
        os.umask(old)
    assert entry.stat().st_mode & 0o777 == 0o664
    assert checkpoint.stat().st_mode & 0o777 == 0o664


# --- claims of killed and live runs -----------------------------------------------------------


def claim_path(run: Run) -> Path:
    return results.entry_path(Path(os.environ["LRGAP_CACHE"]), run.kind, run.key).with_suffix(
        ".claim"
    )


def owner_pid(claim: Path) -> int | None:
    try:
        return json.loads(claim.read_text())["pid"]
    except (OSError, ValueError, KeyError):
        return None  # not there yet, or being written


def in_thread(function):
    """Start `function` in a daemon thread; returns (thread, box of its result)."""
    box: list = []
    thread = threading.Thread(target=lambda: box.append(function()), daemon=True)
    thread.start()
    return thread, box


def test_claim_of_a_killed_run_is_taken_over_at_once(isolated_root):
    run = toy_run(7, seconds=600.0)
    code = (  # the same cache key from a plain dict: the child needs neither torch nor pytest
        "import time; from lrgap_nb import results\n"
        "config = {'value': 7, 'log': '', 'seconds': 600.0}\n"
        "results.cached('toy', config, lambda: time.sleep(600), 1)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", code], env=dict(os.environ))
    try:
        deadline = time.time() + 60
        while owner_pid(claim_path(run)) is None and time.time() < deadline:
            time.sleep(0.05)  # until it has claimed the run and is computing it
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    assert owner_pid(claim_path(run)) == owner.pid  # the claim is left behind by the kill
    start = time.perf_counter()
    thread, box = in_thread(
        lambda: results.cached("toy", run.config, lambda: {"square": 49}, run.protocol)
    )
    thread.join(timeout=10)
    assert box and box[0].computed and box[0].payload == {"square": 49}
    assert time.perf_counter() - start < 10 < results.CLAIM_TTL_S
    assert not claim_path(run).exists()


def test_wall_time_counts_the_attempt_that_was_killed(isolated_root):
    """A run killed after about 1.5 s and finished by a second attempt reports both attempts."""
    run = toy_run(6, seconds=600.0)
    code = (
        "import time; from lrgap_nb import results\n"
        "results.HEARTBEAT_S = 0.1\n"
        "config = {'value': 6, 'log': '', 'seconds': 600.0}\n"
        "results.cached('toy', config, lambda: time.sleep(600), 1)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", code], env=dict(os.environ))
    spent = claim_path(run).with_suffix(".spent")
    try:
        deadline = time.time() + 60
        while owner_pid(claim_path(run)) is None and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    killed = json.loads(spent.read_text())
    assert killed["attempts"] == 1 and 1.0 <= killed["seconds"] <= 2.0
    result = results.cached("toy", run.config, lambda: {"square": 36}, run.protocol)
    prov = result.provenance
    assert prov["attempts"] == 2 and prov["last_attempt_s"] < 1.0
    assert prov["wall_time_s"] == pytest.approx(
        killed["seconds"] + prov["last_attempt_s"], abs=0.01
    )
    assert not spent.exists()


def test_an_uninterrupted_run_has_no_attempt_fields(isolated_root):
    prov = toy_run(5).execute().provenance
    assert "attempts" not in prov and "last_attempt_s" not in prov
    assert not claim_path(toy_run(5)).with_suffix(".spent").exists()


def test_claim_of_a_live_run_gets_one_waiting_line(isolated_root, monkeypatch, capsys):
    monkeypatch.setattr(results, "WAIT_POLL_S", 0.02)
    run = toy_run(8)
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        claim_path(run).parent.mkdir(parents=True)
        owner_info = {"host": socket.gethostname(), "pid": owner.pid, "time": time.time()}
        claim_path(run).write_text(json.dumps(owner_info))
        thread, box = in_thread(run.execute)
        time.sleep(1.0)  # about 50 polls
        assert thread.is_alive() and not box  # waiting, not computing
        results.write_entry(
            Path(os.environ["LRGAP_CACHE"]),
            "toy",
            run.key,
            results.config_dict(run.config),
            {"square": -1},
            results.provenance(0.0, device="test"),
        )
        thread.join(timeout=10)
    finally:
        owner.kill()
        owner.wait()
    assert box[0].payload == {"square": -1}
    line = one_line(capsys.readouterr().err)
    assert (
        line
        == f"results cache: waiting for pid {owner.pid} on {socket.gethostname()} computing toy/{run.key}"
    )


def test_claim_from_another_host_waits_for_its_heartbeat(isolated_root, monkeypatch):
    monkeypatch.setattr(results, "WAIT_POLL_S", 0.02)
    run = toy_run(9)
    claim_path(run).parent.mkdir(parents=True)
    claim_path(run).write_text(json.dumps({"host": "elsewhere", "pid": 1, "time": 0}))
    thread, box = in_thread(run.execute)
    time.sleep(0.5)
    assert thread.is_alive() and not box  # its pid means nothing here: wait, up to the TTL
    old = time.time() - results.CLAIM_TTL_S - 1
    os.utime(claim_path(run), (old, old))
    thread.join(timeout=10)
    assert box and box[0].payload == {"square": 81}


def test_sweep_row_of_an_entry_without_wall_time():
    stored = results.write_entry(
        Path(os.environ["LRGAP_CACHE"]), "toy", toy_run(11).key, {"value": 11}, {"square": 121}, {}
    )
    row = sweep._outcome(toy_run(11), lambda: stored)
    assert row["status"] == "ran" and row["seconds"] == 0.0
