"""`lrgap`: run chapters through papermill with a profile and overrides, then build the book."""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import paths, progress
from .chapters import chapter_config, get_chapter, registry
from .params import PROFILES, ParameterError, parameters_cell, parse_override, profiles_of

HIDDEN_IN_BOOK = ("parameters", "injected-parameters")  # tags of cells the book does not show


class RunFailed(RuntimeError):
    """A chapter that cannot run or failed in its kernel; the message is one line for the terminal."""


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (`--workers 0` or `-3` is an error, not "all CPUs")."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_overrides(texts: list[str]) -> dict[str, Any]:
    """`-p key=value` options as a dict; a key given twice is an error, not "the last one wins"."""
    overrides: dict[str, Any] = {}
    for text in texts:
        key, value = parse_override(text)
        if key in overrides:
            raise ParameterError(f"parameter {key!r} is given twice (-p {key}=...)")
        overrides[key] = value
    return overrides


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
    from . import data

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
    from . import data

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


def _source(stem: str) -> Path:
    path = paths.project_root() / "notebooks" / f"{stem}.py"
    if not path.is_file():
        raise ParameterError(f"chapter source {path} is missing; run lrgap from the repository")
    return path


def notebook_parameters(notebook) -> list[str]:
    """Names defined in the notebook's `parameters` cell, in order."""
    import papermill

    return list(papermill.inspect_notebook(notebook))


def _read_source(stem: str):
    import jupytext

    notebook = jupytext.read(_source(stem))
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    return notebook


def parameters_source(name: str) -> str:
    """The `parameters` cell chapter `name` must have: generated from its dataclass."""
    return parameters_cell(get_chapter(name).params_class())


def write_parameters_cell(name: str) -> Path:
    """Rewrite the `parameters` cell of notebooks/<stem>.py from the chapter's dataclass."""
    import jupytext

    source = _source(get_chapter(name).notebook)
    notebook = jupytext.read(source)
    (cell,) = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    cell.source = parameters_source(name)
    jupytext.write(notebook, source, fmt="py:percent")
    return source


def pair_chapter(name: str) -> Path:
    """Regenerate the parameters cell, then rewrite notebooks/<stem>.ipynb from the .py source.

    Only cells marked `# NBVAL_CHECK_OUTPUT` keep their (smoke) outputs, so the pair stays small.
    When no code cell changed (a prose edit), those outputs come from the existing pair instead
    of a smoke execution, which takes minutes for the image chapters.
    """
    import nbformat

    chapter = get_chapter(name)
    write_parameters_cell(name)
    notebook = _read_source(chapter.notebook)
    target = paths.project_root() / "notebooks" / f"{chapter.notebook}.ipynb"
    previous = nbformat.read(target, 4) if target.is_file() else None
    if previous is not None and _code(previous) == _code(notebook):
        ran = previous.cells
    else:
        ran = _execute_at_smoke(_read_source(chapter.notebook)).cells
        ran = [c for c in ran if "injected-parameters" not in c.metadata.get("tags", [])]
    for cell, result in zip(notebook.cells, ran, strict=True):
        if cell.cell_type == "code" and "# NBVAL_CHECK_OUTPUT" in cell.source:
            cell.outputs = result.outputs
            cell.execution_count = result.execution_count
    _stable_cell_ids(notebook)
    nbformat.write(notebook, target)
    return target


def _code(notebook) -> list[tuple[str, str]]:
    """Each cell's type, and a code cell's source: what decides a pair's outputs."""
    return [(c.cell_type, c.source if c.cell_type == "code" else "") for c in notebook.cells]


def _execute_at_smoke(notebook):
    """Run `notebook` as papermill does, its tables and figures into a throwaway folder (never
    over book/'s rendered chapters)."""
    import tempfile
    from unittest import mock

    import papermill

    with (
        tempfile.TemporaryDirectory() as tmp,
        mock.patch.dict(os.environ, LRGAP_OUTPUTS=str(Path(tmp) / "outputs")),
    ):
        return papermill.execute_notebook(
            notebook,
            str(Path(tmp) / "executed.ipynb"),
            kernel_name="python3",
            cwd=str(paths.project_root() / "notebooks"),
            progress_bar=False,
        )


def _stable_cell_ids(notebook) -> None:
    """Ids from each cell's source (jupytext draws random ones), so re-pairing changes only the
    cells that changed; a repeated source gets its position appended."""
    import hashlib

    seen: set[str] = set()
    for index, cell in enumerate(notebook.cells):
        cell_id = hashlib.sha1(cell.source.encode()).hexdigest()[:8]
        cell.id = cell_id if cell_id not in seen else f"{cell_id}-{index}"
        seen.add(cell.id)


def run_chapter(name: str, profile: str, overrides: dict[str, Any]) -> Path:
    """Execute notebooks/<stem>.py (the jupytext source) with papermill into book/<stem>.ipynb.

    The notebook is written next to its target and renamed into place only when it succeeds, so
    a failed run never replaces a good chapter. Progress bars go to this terminal.
    """
    import tempfile

    import nbformat
    import papermill

    chapter = get_chapter(name)
    check_before_running(name, chapter_config(name, profile, **overrides))  # before any kernel
    notebook = _read_source(chapter.notebook)
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
        with progress.to_terminal():
            executed = papermill.execute_notebook(
                notebook,
                tmp,
                parameters={"profile": profile, **overrides},
                kernel_name="python3",
                cwd=str(paths.book_dir()),
                progress_bar=sys.stderr.isatty(),
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
        first = (text.strip().splitlines() or [""])[0][:300]
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
    """The parameters cell and papermill's injected one are not shown in the book."""
    for cell in notebook.cells:
        tags = cell.metadata.setdefault("tags", [])
        if any(tag in HIDDEN_IN_BOOK for tag in tags) and "remove-cell" not in tags:
            tags.append("remove-cell")


def build_html(strict: bool = True) -> Path:
    from .report import write_summary

    write_summary()  # the landing page's table, from whatever chapters have run
    root = paths.project_root()
    command = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(root / "book"),
        "--config",
        str(root / "_config.yml"),
        "--toc",
        str(root / "_toc.yml"),
        "--path-output",
        str(root / "book"),
    ]
    if strict:
        command += ["--warningiserror", "--keep-going"]
    subprocess.run(command, check=True)
    return root / "book" / "_build" / "html"


def cmd_list(_: argparse.Namespace) -> None:
    for chapter in registry().values():
        print(f"{chapter.name}  (notebooks/{chapter.notebook}.py)  {chapter.title}")
        own = profiles_of(chapter.params_class())
        configs = {p: chapter_config(chapter.name, p) for p in own}
        for field in dataclasses.fields(chapter.params_class())[1:]:  # after `profile`
            values = " | ".join(f"{p}: {getattr(c, field.name)!r}" for p, c in configs.items())
            print(f"    {field.name:<22} {values}")


def cmd_run(args: argparse.Namespace) -> None:
    run_chapter(args.name, args.profile, parse_overrides(args.param))


def cmd_pair(args: argparse.Namespace) -> None:
    for name in args.names or list(registry()):
        print(f"{name}: wrote {pair_chapter(name)}")


def cmd_sweep(args: argparse.Namespace) -> int:
    from . import sweep

    overrides = parse_overrides(args.param)
    cfg = chapter_config(args.name, args.profile, **overrides)
    check_before_running(args.name, cfg)
    executor = sweep.make_executor(args.executor, args.workers, args.address)
    try:  # each pass checks the runs a finished stage (pilot, calibration) has just listed
        report = sweep.execute_stages(lambda: check_before_running(args.name, cfg), executor)
    finally:
        sweep.close_executor(executor)
    print(report.summary())
    return 1 if report.counts()["failed"] else 0


def profile_for(name: str, requested: str) -> str:
    """The largest profile at or above `requested` all of whose runs are cached (committed
    overnight or GPU results), so the book shows the largest scale computed, without training."""
    from .data import DataNotFoundError

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


def cmd_build(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    if not args.skip_run:
        for name in registry():  # every chapter is checked before any runs
            check_before_running(name, chapter_config(name, nearest_profile(name, args.profile)))
        for name in registry():
            requested = nearest_profile(name, args.profile)
            profile = requested if args.exact_profile else profile_for(name, requested)
            if profile != requested:
                print(f"{name}: every {profile}-profile run is cached; rendering it at {profile}")
            run_chapter(name, profile, {})
    ran = time.perf_counter() - start
    html = build_html(strict=not args.no_strict)
    total = time.perf_counter() - start
    print(f"chapters {ran:.1f} s, HTML {total - ran:.1f} s, total {total:.1f} s")
    print(f"book: {html / 'index.html'}")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="lrgap", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="chapters and their parameters").set_defaults(func=cmd_list)
    run = sub.add_parser("run", help="execute one chapter with papermill into book/")
    run.add_argument("name", help="chapter name (see lrgap list)")
    run.add_argument("--profile", default="smoke", choices=PROFILES)
    run.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE")
    run.set_defaults(func=cmd_run)
    pair = sub.add_parser("pair", help="rewrite notebooks/*.ipynb from their .py sources")
    pair.add_argument("names", nargs="*", help="chapters (default: all)")
    pair.set_defaults(func=cmd_pair)
    sweep = sub.add_parser("sweep", help="compute a chapter's runs into the cache, in parallel")
    sweep.add_argument("name", help="chapter name (see lrgap list)")
    sweep.add_argument("--profile", default="smoke", choices=PROFILES)
    sweep.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE")
    sweep.add_argument(
        "--executor", default="local", choices=("inprocess", "local", "dask", "slurm")
    )
    sweep.add_argument(
        "--workers", type=positive_int, default=None, help="local or dask workers (default: CPUs)"
    )
    sweep.add_argument("--address", default=None, help="dask scheduler address")
    sweep.set_defaults(func=cmd_sweep)
    build = sub.add_parser("build", help="run every chapter, then build the HTML book")
    build.add_argument("--profile", default="smoke", choices=PROFILES)
    build.add_argument("--skip-run", action="store_true", help="render the executed notebooks only")
    build.add_argument("--no-strict", action="store_true", help="do not fail on Sphinx warnings")
    build.add_argument(
        "--exact-profile",
        action="store_true",
        help="never substitute a larger, fully cached profile for the requested one",
    )
    build.set_defaults(func=cmd_build)
    return top


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except ParameterError as err:
        print(f"lrgap: {_one_line(err)}", file=sys.stderr)
        return 2
    except RunFailed as err:
        print(f"lrgap: {_one_line(err)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
