"""Running a chapter: check it before a kernel starts, execute it with papermill into book/,
and pick the largest profile whose runs are all cached."""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from .. import paths, progress
from ..chapters import chapter_config, get_chapter
from ..params import PROFILES, ParameterError, profiles_of
from .notebook import kernel_options, notebook_parameters, outputs_to, read_source

NBVAL_MARKER = re.compile(r"\s*# NBVAL_\w+\s*$")
HIDDEN_IN_BOOK = ("parameters", "injected-parameters")  # tags of cells the book does not show


class RunFailed(RuntimeError):
    """A chapter that cannot run or failed in its kernel; the message is one line for the terminal."""


def _data_configs(config: Any) -> list[Any]:
    """The configs within a run's config (itself included) that name a `dataset`."""
    if isinstance(config, (list, tuple)):
        return [found for item in config for found in _data_configs(item)]
    if not dataclasses.is_dataclass(config):
        return []
    own = [config] if isinstance(getattr(config, "dataset", None), str) else []
    return own + [
        c for f in dataclasses.fields(config) for c in _data_configs(getattr(config, f.name))
    ]


def _check_subset(name: str, config: Any) -> None:
    """A training subset larger than the dataset fails here, not after loading it in a kernel."""
    from .. import data

    subset, size = getattr(config, "subset", None), data.dataset_spec(config.dataset).train_size
    if isinstance(subset, int) and size is not None and subset > size:
        raise ParameterError(
            f"{name}: a run keeps subset={subset} training examples of {config.dataset}, "
            f"which has {size}"
        )


def check_before_running(name: str, cfg: Any) -> list:
    """What a kernel would find wrong, found first: build the chapter's runs (their configs check
    model and dataset names), compare training subsets with the datasets' sizes, and check that
    the data of every run not yet cached is there.

    Raises ParameterError for a bad value and RunFailed for missing data, each one line.
    """
    from .. import data

    try:
        runs = get_chapter(name).runs(cfg)
    except ParameterError:
        raise
    except data.DataNotFoundError as err:
        raise RunFailed(f"{name}: {err}") from err
    except (ValueError, TypeError) as err:
        raise ParameterError(f"{name}: {err}") from err
    for config in (c for run in runs for c in _data_configs(run.config)):
        _check_subset(name, config)
    pending = [c for run in runs if run.lookup() is None for c in _data_configs(run.config)]
    for dataset in sorted({c.dataset for c in pending}):
        try:
            data.require_dataset(dataset)
        except data.DataNotFoundError as err:
            raise RunFailed(f"{name}: {err}") from err
    return runs


def run_chapter(name: str, profile: str, overrides: dict[str, Any]) -> Path:
    """Execute notebooks/<stem>.py (the jupytext source) with papermill into book/<stem>.ipynb,
    its tables and figures into book/_extra/outputs/ (only `lrgap run` and `build` write there).

    The notebook is written next to its target and renamed into place only when it succeeds, so
    a failed run never replaces a good chapter. Progress bars go to this terminal.
    """
    import tempfile

    import nbformat
    import papermill

    chapter = get_chapter(name)
    check_before_running(name, chapter_config(name, profile, **overrides))  # before any kernel
    notebook = read_source(chapter.notebook)
    exposed = notebook_parameters(notebook)
    hidden = sorted(set(overrides) - set(exposed))
    if hidden:
        raise ParameterError(
            f"{chapter.notebook}'s parameters cell does not expose {', '.join(hidden)}"
        )
    output = paths.book_dir() / f"{chapter.notebook}.ipynb"
    failed = paths.book_dir() / ".failed" / output.name
    start = time.perf_counter()
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.stem}.", suffix=".ipynb")
    paths.share_like_open(fd)
    os.close(fd)
    try:
        with progress.to_terminal(), outputs_to(paths.book_outputs_root()):
            executed = papermill.execute_notebook(
                notebook,
                tmp,
                parameters={"profile": profile, **overrides},
                cwd=str(paths.book_dir()),
                progress_bar=sys.stderr.isatty(),
                **kernel_options(),
            )
        hide_configuration(executed)
        nbformat.write(executed, tmp)
        os.replace(tmp, output)
        failed.unlink(missing_ok=True)
    except Exception as err:  # a cell raised, or the kernel died: one line here, the rest saved
        if isinstance(err, papermill.PapermillExecutionError):
            what, text = err.ename, str(err.evalue)
        else:
            what, text = type(err).__name__, str(err)
        first = textwrap.shorten((text.strip().splitlines() or [""])[0], 300, placeholder=" ...")
        saved = ""
        if Path(tmp).is_file() and Path(tmp).stat().st_size:
            failed = paths.failed_dir() / output.name
            os.replace(tmp, failed)
            saved = f"traceback in {failed}; "
        raise RunFailed(
            f"{name} failed at profile {profile}: {what}: {first} "
            f"({saved}{output.name} was left as it was)"
        ) from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    print(
        f"{name}: {chapter.notebook}.ipynb at profile {profile} in {time.perf_counter() - start:.1f} s"
    )
    return output


def hide_configuration(notebook) -> None:
    """The parameters cell and papermill's injected one are not shown in the book, nor nbval's
    markers (they tell the tests which outputs to compare, nothing a reader needs)."""
    for cell in notebook.cells:
        tags = cell.metadata.setdefault("tags", [])
        if any(tag in HIDDEN_IN_BOOK for tag in tags) and "remove-cell" not in tags:
            tags.append("remove-cell")
        if cell.cell_type == "code":
            lines = cell.source.splitlines()
            cell.source = "\n".join(line for line in lines if not NBVAL_MARKER.match(line))


def profile_for(name: str, requested: str) -> str:
    """The largest profile at or above `requested` all of whose runs are cached (committed
    overnight or GPU results), so the book shows the largest scale computed, without training;
    only the profiles the chapter states count (not every chapter has "paper-subset")."""
    from ..data import DataNotFoundError

    chapter = get_chapter(name)
    own = profiles_of(chapter.params_class())
    larger = [p for p in own if PROFILES.index(p) > PROFILES.index(requested)]
    for profile in reversed(larger):
        try:
            runs = chapter.runs(chapter_config(name, profile))
        except (ParameterError, DataNotFoundError):  # more memory or data than here: not cached
            continue
        if runs and all(run.lookup() is not None for run in runs):
            return profile
    return nearest_profile(name, requested)


def nearest_profile(name: str, requested: str) -> str:
    """`requested` if chapter `name` states it, else its largest profile below (a chapter without
    a "paper-subset" profile builds at "overnight" when asked for it)."""
    below = PROFILES[: PROFILES.index(requested) + 1]
    return [p for p in profiles_of(get_chapter(name).params_class()) if p in below][-1]
