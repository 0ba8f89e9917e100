"""Running chapters (lrgap_nb.book.run) under faults: checks before a kernel starts, failed
chapters never replacing good output, profiles a machine refuses."""

from __future__ import annotations

import dataclasses
import threading

import nbformat
import pytest
from faults import one_line, umask

from lrgap_nb import cli, data, train
from lrgap_nb.book import run as book_run
from lrgap_nb.params import ParameterError
from lrgap_nb.train import TrainConfig

pytestmark = pytest.mark.usefixtures("isolated_root")


GOOD_NOTEBOOK = "a good chapter notebook, built at cpu"


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
    command, isolated_root, monkeypatch, no_kernel, capsys
):
    monkeypatch.setenv("LRGAP_DATA", str(isolated_root / "nowhere"))
    monkeypatch.setenv("LRGAP_DOWNLOAD", "0")
    chapter = FakeChapter(({"model": "f1", "dataset": "cifar100"},))
    monkeypatch.setattr(book_run, "get_chapter", lambda name: chapter)
    assert cli.main([command, "convex"]) == 1
    line = one_line(capsys.readouterr().err)
    assert str(isolated_root / "nowhere" / "cifar-100-python") in line
    assert "train, test, meta" in line and "LRGAP_DATA" in line


def test_data_is_checked_only_for_runs_still_to_compute(data_files, isolated_root, monkeypatch):
    monkeypatch.setenv("LRGAP_DATA", str(isolated_root / "nowhere"))
    monkeypatch.setenv("LRGAP_DOWNLOAD", "0")
    config = {"model": "f1", "dataset": "mnist", "model_width": 4}
    monkeypatch.setattr(book_run, "get_chapter", lambda name: FakeChapter((config,)))
    cfg = book_run.chapter_config("convex", "smoke")
    with pytest.raises(book_run.RunFailed, match="MNIST/raw"):
        book_run.check_before_running("convex", cfg)
    monkeypatch.setenv("LRGAP_DOWNLOAD", "1")  # a download may fetch them: the kernel tries
    assert len(book_run.check_before_running("convex", cfg)) == 1
    monkeypatch.setenv("LRGAP_DOWNLOAD", "0")
    data_files.mnist(isolated_root / "data", 48, 48)
    monkeypatch.setenv("LRGAP_DATA", str(isolated_root / "data"))
    train.run_cached(TrainConfig(**config))  # now cached: its data are no longer needed
    monkeypatch.setenv("LRGAP_DATA", str(isolated_root / "nowhere"))
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


def test_failed_run_keeps_the_good_notebook_and_saves_the_traceback(
    isolated_root, monkeypatch, capsys
):
    monkeypatch.setenv("LRGAP_DATA", str(isolated_root / "nowhere"))
    monkeypatch.setenv("LRGAP_DOWNLOAD", "0")
    failing = notebook_with("import lrgap_nb.data\nlrgap_nb.data.load('mnist')")
    monkeypatch.setattr(book_run, "read_source", lambda stem: failing)
    book = isolated_root / "book" / "01_convex.ipynb"
    book.write_text(GOOD_NOTEBOOK)
    assert cli.main(["run", "convex"]) == 1
    line = one_line(capsys.readouterr().err)
    failed = isolated_root / "book" / ".failed" / "01_convex.ipynb"
    assert "DataNotFoundError: dataset files missing in" in line and str(failed) in line
    assert book.read_text() == GOOD_NOTEBOOK
    outputs = [o for cell in nbformat.read(failed, 4).cells for o in cell.get("outputs", [])]
    assert any(o.get("ename") == "DataNotFoundError" and o["traceback"] for o in outputs)
    assert sorted(p.name for p in book.parent.iterdir()) == [".failed", "01_convex.ipynb"]


def test_concurrent_readers_never_see_a_half_written_notebook(isolated_root, monkeypatch):
    text = "x" * 2_000_000  # a large output makes a non-atomic write visible
    monkeypatch.setattr(book_run, "read_source", lambda stem: notebook_with(f"print({text!r})"))
    book = isolated_root / "book" / "01_convex.ipynb"
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
