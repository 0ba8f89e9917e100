"""Fault injection: bad values, corrupt files, killed runs and failed chapters.

Each fault must end in a clear error (one line on the terminal, naming the parameter or the file)
or be recovered from, never in a crash, a stall or lost good output.
"""

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

import nbformat
import pandas as pd
import pytest
import torch

from lrgap_nb import cli, data, results, sweep, train
from lrgap_nb.book import run as book_run
from lrgap_nb.params import ParameterError, parse_override
from lrgap_nb.runs import Run
from lrgap_nb.train import TrainConfig


@dataclasses.dataclass(frozen=True)
class Toy:
    value: int
    log: str = ""  # every computation appends a line here
    seconds: float = 0.0


def toy_payload(config: Toy) -> dict:
    if config.log:
        with open(config.log, "a") as handle:
            handle.write(f"{config.value} {os.getpid()}\n")
    time.sleep(config.seconds)
    return {"square": config.value**2}


def toy_run(value: int, log: str = "", seconds: float = 0.0) -> Run:
    return Run("toy", "test_faults:toy_payload", Toy(value, log, seconds), 1)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Root, cache and book under tmp_path: no test here touches the user's files."""
    monkeypatch.setenv("LRGAP_ROOT", str(tmp_path))
    monkeypatch.setenv("LRGAP_CACHE", str(tmp_path / "cache"))
    (tmp_path / "book").mkdir()
    return tmp_path


def cache_folder() -> Path:
    return Path(os.environ["LRGAP_CACHE"]) / "toy"


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


# --- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("seed=010", 10),  # YAML 1.1: octal 8
        ("lr_large=1e-3", 0.001),  # YAML 1.1: the string "1e-3"
        ("lr_large=1E3", 1000.0),
        ("lr_large=.5", 0.5),
        ("seed=+7", 7),
        ("augment=yes", "yes"),  # YAML 1.1: True
        ("augment=on", "on"),
        ("augment=true", True),
        ("seed=1:30", "1:30"),  # YAML 1.1: sexagesimal 90
        ("lr_large_sweep=[1e-3, 010]", [0.001, 10]),
        ("eval_sets=[test, train]", ["test", "train"]),
        ("eval_sets=[]", []),
        ("name='010'", "010"),
    ],
)
def test_cli_values_are_read_as_numbers_not_yaml_1_1(text, expected):
    assert parse_override(text)[1] == expected
    assert type(parse_override(text)[1]) is type(expected)


GOOD_NOTEBOOK = "a good chapter notebook, built at cpu"

BAD_VALUES = [  # (-p options, what the one-line error says)
    (["lr_large=nan"], "parameter 'lr_large' is nan; it must be finite"),
    (["lr_large=inf"], "parameter 'lr_large' is inf; it must be finite"),
    (["lr_large=-inf"], "parameter 'lr_large' is -inf; it must be finite"),
    (["lr_large_sweep=[0.1, nan]"], "parameter 'lr_large_sweep' is [0.1, nan]; it must be finite"),
    (["lr_large="], "parameter 'lr_large' has an empty value"),
    (["lr_large_sweep=[0.1,,0.2]"], "parameter 'lr_large_sweep' has an empty value"),
    (["seed=yes"], "parameter 'seed' must be of type int, got 'yes'"),
    (["seed=1:30"], "parameter 'seed' must be of type int, got '1:30'"),
    (["seed=-1"], "parameter 'seed' is -1; it must be >= 0"),
    (["lr_large_sweep=[0.1, 0.2"], "parameter 'lr_large_sweep': list '[0.1, 0.2' does not end"),
    (["lr_large_sweep=[[0.1]]"], "parameter 'lr_large_sweep': cannot read '[0.1]'"),
    (["lr_large_sweep={a: 1}"], "parameter 'lr_large_sweep': cannot read '{a: 1}'"),
    (["anneal_step=none"], "parameter 'anneal_step' is 'none': leave the parameter out"),
    (["epsilon=0x10"], "parameter 'epsilon' must be of type float, got '0x10'"),
    (["gauss_repeats=1e11"], "parameter 'gauss_repeats' must be of type int"),
    (["gauss_repeats=100000000000"], "parameter 'gauss_repeats' is 100000000000: "),
    (["seed=1", "seed=2"], "parameter 'seed' is given twice"),
    (["lr large=1"], "'lr large' is not a parameter name"),
    (["=1"], "expected key=value, got '=1'"),
    (["learning_rate=0.1"], "unknown parameter(s) learning_rate"),
]


@pytest.fixture
def no_kernel(monkeypatch):
    """Fail the test if a kernel is started."""
    import papermill

    def refuse(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(papermill, "execute_notebook", refuse)


@pytest.mark.parametrize("command", ["run", "sweep"])
@pytest.mark.parametrize(("options", "message"), BAD_VALUES, ids=lambda v: str(v))
def test_bad_values_fail_in_one_line_before_a_kernel(
    command, options, message, isolated, no_kernel, capsys
):
    book = isolated / "book" / "01_convex.ipynb"
    book.write_text(GOOD_NOTEBOOK)
    argv = (
        [command, "convex", "--executor", "inprocess"]
        if command == "sweep"
        else [command, "convex"]
    )
    for option in options:
        argv += ["-p", option]
    assert cli.main(argv) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("lrgap: ") and message in line
    assert book.read_text() == GOOD_NOTEBOOK
    assert not (isolated / "cache").exists()  # nothing computed


def test_memory_cap_names_what_the_size_would_take():
    with pytest.raises(ParameterError, match=r"take at least [\d,.]+ GiB of memory"):
        book_run.chapter_config("convex", "smoke", gauss_repeats=10**11)


@pytest.mark.parametrize("workers", ["0", "-3", "two", "1.5"])
def test_workers_must_be_a_positive_integer(workers, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.parser().parse_args(["sweep", "convex", "--workers", workers])
    assert stop.value.code == 2
    assert "argument --workers" in capsys.readouterr().err
    assert cli.parser().parse_args(["sweep", "convex", "--workers", "3"]).workers == 3


@pytest.mark.parametrize("field", ["lr", "momentum", "weight_decay"])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_training_configs_refuse_non_finite_values(field, value):
    with pytest.raises(ValueError, match=f"'{field}' is {value}; it must be finite"):
        TrainConfig("f1", "mnist", **{field: value})


# --- chapter checks that used to run only in the kernel ---------------------------------------


@dataclasses.dataclass(frozen=True)
class FakeChapter:
    """A chapter whose runs are the given training configs (the real ones are being rebuilt)."""

    configs: tuple
    notebook: str = "01_convex"

    def runs(self, cfg):
        return [train.train_run(TrainConfig(**c)) for c in self.configs]


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_unknown_model_in_a_chapters_runs_fails_before_a_kernel(
    command, monkeypatch, no_kernel, capsys
):
    monkeypatch.setattr(
        book_run, "get_chapter", lambda name: FakeChapter(({"model": "bogus", "dataset": "mnist"},))
    )
    assert cli.main([command, "convex"]) == 2
    line = one_line(capsys.readouterr().err)
    assert "convex: unknown model 'bogus'" in line


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_missing_data_fails_before_a_kernel_naming_folder_and_files(
    command, isolated, monkeypatch, no_kernel, capsys
):
    monkeypatch.setenv("LRGAP_DATA", str(isolated / "nowhere"))
    monkeypatch.setenv("LRGAP_DOWNLOAD", "0")
    chapter = FakeChapter(({"model": "f1", "dataset": "cifar100"},))
    monkeypatch.setattr(book_run, "get_chapter", lambda name: chapter)
    assert cli.main([command, "convex"]) == 1
    line = one_line(capsys.readouterr().err)
    assert str(isolated / "nowhere" / "cifar-100-python") in line
    assert "train, test, meta" in line and "LRGAP_DATA" in line


def test_data_is_checked_only_for_runs_still_to_compute(data_files, isolated, monkeypatch):
    monkeypatch.setenv("LRGAP_DATA", str(isolated / "nowhere"))
    monkeypatch.setenv("LRGAP_DOWNLOAD", "0")
    config = {"model": "f1", "dataset": "mnist", "model_width": 4}
    monkeypatch.setattr(book_run, "get_chapter", lambda name: FakeChapter((config,)))
    cfg = book_run.chapter_config("convex", "smoke")
    with pytest.raises(book_run.RunFailed, match="MNIST/raw"):
        book_run.check_before_running("convex", cfg)
    monkeypatch.setenv("LRGAP_DOWNLOAD", "1")  # a download may fetch them: the kernel tries
    assert len(book_run.check_before_running("convex", cfg)) == 1
    monkeypatch.setenv("LRGAP_DOWNLOAD", "0")
    data_files.mnist(isolated / "data", 48, 48)
    monkeypatch.setenv("LRGAP_DATA", str(isolated / "data"))
    train.run_cached(TrainConfig(**config))  # now cached: its data are no longer needed
    monkeypatch.setenv("LRGAP_DATA", str(isolated / "nowhere"))
    assert len(book_run.check_before_running("convex", cfg)) == 1


# --- failed chapters never replace good output ------------------------------------------------


def notebook_with(code: str):
    """A chapter notebook: the tagged parameters cell, then `code`."""
    parameters = nbformat.v4.new_code_cell('profile = "smoke"')
    parameters.metadata["tags"] = ["parameters"]
    notebook = nbformat.v4.new_notebook(cells=[parameters, nbformat.v4.new_code_cell(code)])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return notebook


def test_failed_run_keeps_the_good_notebook_and_saves_the_traceback(isolated, monkeypatch, capsys):
    monkeypatch.setenv("LRGAP_DATA", str(isolated / "nowhere"))
    monkeypatch.setenv("LRGAP_DOWNLOAD", "0")
    failing = notebook_with("import lrgap_nb.data\nlrgap_nb.data.load('mnist')")
    monkeypatch.setattr(book_run, "read_source", lambda stem: failing)
    book = isolated / "book" / "01_convex.ipynb"
    book.write_text(GOOD_NOTEBOOK)
    assert cli.main(["run", "convex"]) == 1
    line = one_line(capsys.readouterr().err)
    failed = isolated / "book" / ".failed" / "01_convex.ipynb"
    assert "DataNotFoundError: dataset files missing in" in line and str(failed) in line
    assert book.read_text() == GOOD_NOTEBOOK
    outputs = [o for cell in nbformat.read(failed, 4).cells for o in cell.get("outputs", [])]
    assert any(o.get("ename") == "DataNotFoundError" and o["traceback"] for o in outputs)
    assert sorted(p.name for p in book.parent.iterdir()) == [".failed", "01_convex.ipynb"]


def test_concurrent_readers_never_see_a_half_written_notebook(isolated, monkeypatch):
    text = "x" * 2_000_000  # a large output makes a non-atomic write visible
    monkeypatch.setattr(book_run, "read_source", lambda stem: notebook_with(f"print({text!r})"))
    book = isolated / "book" / "01_convex.ipynb"
    nbformat.write(notebook_with("1"), book)
    seen, errors, stop = [], [], threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                seen.append(len(nbformat.read(book, 4).cells))
            except Exception as err:  # a half-written or missing file
                errors.append(repr(err))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(2):
            book_run.run_chapter("convex", "smoke", {})
    finally:
        stop.set()
        reader.join()
    assert errors == [] and len(seen) > 10
    assert text in book.read_text()
    assert book.stat().st_mode & 0o777 == 0o666 & ~umask()


# --- the results cache ------------------------------------------------------------------------


def umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


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


def test_racing_processes_meeting_one_corrupt_entry(isolated):
    """Two processes meet the same corrupt entry: no crash, one computation, one good entry."""
    context = multiprocessing.get_context("fork")
    log = isolated / "log"
    outcomes = []
    for trial in range(40):
        value = 100 + trial
        toy_run(value, str(log)).execute()
        path = results.entry_path(isolated / "cache", "toy", toy_run(value, str(log)).key)
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


def test_cache_files_and_checkpoints_honour_the_umask(isolated):
    old = os.umask(0o002)  # a group-shared cache
    try:
        entry = toy_run(1).execute().path
        checkpoint = isolated / "cache" / "checkpoints" / "x.pt"
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


def test_claim_of_a_killed_run_is_taken_over_at_once(isolated):
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


def test_wall_time_counts_the_attempt_that_was_killed(isolated):
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


def test_an_uninterrupted_run_has_no_attempt_fields(isolated):
    prov = toy_run(5).execute().provenance
    assert "attempts" not in prov and "last_attempt_s" not in prov
    assert not claim_path(toy_run(5)).with_suffix(".spent").exists()


def test_claim_of_a_live_run_gets_one_waiting_line(isolated, monkeypatch, capsys):
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


def test_claim_from_another_host_waits_for_its_heartbeat(isolated, monkeypatch):
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


# --- checkpoints ------------------------------------------------------------------------------


TINY = TrainConfig("f1", "mnist", model_width=8, epochs=2, batch_size=16, device="cpu")


def stop_after_first_epoch(epoch: int, row: dict) -> None:
    if epoch == 0:
        raise KeyboardInterrupt("killed after epoch 1")


def save_without_history(path: Path) -> None:
    torch.save({"model": {}}, path)


CHECKPOINT_DAMAGE = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "empty": lambda p: p.write_bytes(b""),
    "not a checkpoint": lambda p: p.write_bytes(b"PK\3\4 not really a zip"),
    "missing keys": save_without_history,
}


@pytest.mark.parametrize("damage", CHECKPOINT_DAMAGE, ids=str)
def test_damaged_checkpoint_is_named_moved_aside_and_retrained(
    data_files, isolated, monkeypatch, damage
):
    data_files.mnist(isolated / "data", 48, 48)
    monkeypatch.setenv("LRGAP_DATA", str(isolated / "data"))
    whole = train.train(TINY, show_progress=False, save_weights=False)
    monkeypatch.setenv("LRGAP_CACHE", str(isolated / "killed"))
    with pytest.raises(KeyboardInterrupt):
        train.train(TINY, callback=stop_after_first_epoch, show_progress=False)
    checkpoint = train.checkpoint_path(TINY)
    CHECKPOINT_DAMAGE[damage](checkpoint)
    damaged = checkpoint.read_bytes()
    with pytest.warns(UserWarning, match=f"checkpoint {checkpoint} is unreadable") as caught:
        again = train.train(TINY, show_progress=False, save_weights=False)
    assert "training this run from scratch" in str(caught[0].message)
    pd.testing.assert_frame_equal(again.history, whole.history, check_exact=True)
    (kept,) = checkpoint.parent.glob("*.corrupt-*")
    assert kept.read_bytes() == damaged


def test_unreadable_weights_name_the_file(data_files, isolated, monkeypatch):
    data_files.mnist(isolated / "data", 48, 48)
    monkeypatch.setenv("LRGAP_DATA", str(isolated / "data"))
    config = dataclasses.replace(TINY, epochs=1)
    train.run_cached(config)
    weights = train.weights_path(config)
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(RuntimeError, match=f"trained weights {weights} are unreadable"):
        train.load_model(config)


def test_missing_dataset_is_one_line_with_folder_files_and_remedy(isolated):
    with pytest.raises(data.DataNotFoundError) as err:
        data.require_dataset("timit", isolated / "none", download=True)  # never downloadable
    assert one_line(str(err.value)).startswith(
        f"dataset files missing in {isolated / 'none' / 'timit'}"
    )
    assert "LDC93S1" in str(err.value)
    data.require_dataset("mnist", isolated / "none", download=True)  # a download may fetch it


def test_sweep_row_of_an_entry_without_wall_time():
    stored = results.write_entry(
        Path(os.environ["LRGAP_CACHE"]), "toy", toy_run(11).key, {"value": 11}, {"square": 121}, {}
    )
    row = sweep._outcome(toy_run(11), lambda: stored)
    assert row["status"] == "ran" and row["seconds"] == 0.0


@pytest.mark.parametrize(
    "refusal",
    [
        ParameterError("parameter 'gauss_repeats' is 10**12: more memory than here"),
        data.DataNotFoundError("dataset files missing in /x: the full profile's data"),
    ],
    ids=["memory", "data"],
)
def test_build_skips_a_larger_profile_this_machine_refuses(monkeypatch, refusal):
    real = book_run.chapter_config

    def refuse_full(name, profile="smoke", **overrides):
        if profile == "full":
            raise refusal
        return real(name, profile, **overrides)

    monkeypatch.setattr(book_run, "chapter_config", refuse_full)
    assert book_run.profile_for("convex", "smoke") == "smoke"


def test_failed_download_is_one_line(isolated, monkeypatch):
    def offline(root, download, normalise):
        if download:
            raise RuntimeError("Error downloading x.gz:\nTried https://a/, got:\n<urlopen error>")
        data.MNIST_FILES.require(root)

    spec = data.DatasetSpec("offline_mnist", 10, offline, data.MNIST_FILES)
    monkeypatch.setitem(data.DATASETS, "offline_mnist", spec)
    with pytest.raises(data.DataNotFoundError) as err:
        data.load("offline_mnist", isolated / "none", download=True)
    assert "Downloading failed (RuntimeError: Error downloading x.gz: Tried" in one_line(
        str(err.value)
    )


def test_data_missing_while_a_chapter_builds_its_runs_is_one_line(monkeypatch, no_kernel, capsys):
    class LoadsDataForItsRuns(FakeChapter):
        def runs(self, cfg):
            raise data.DataNotFoundError("dataset files missing in /x:\nmore detail")

    monkeypatch.setattr(book_run, "get_chapter", lambda name: LoadsDataForItsRuns(()))
    assert cli.main(["sweep", "convex"]) == 1
    assert one_line(capsys.readouterr().err) == (
        "lrgap: convex: dataset files missing in /x: more detail"
    )


def test_subset_larger_than_the_dataset_fails_before_a_kernel(monkeypatch, no_kernel, capsys):
    configs = ({"model": "f1", "dataset": "cifar10_subset", "subset": 6000},)
    monkeypatch.setattr(book_run, "get_chapter", lambda name: FakeChapter(configs))
    assert cli.main(["run", "convex"]) == 2
    assert one_line(capsys.readouterr().err) == (
        "lrgap: convex: a run keeps subset=6000 training examples of cifar10_subset, which has 5085"
    )
