"""`lrgap`: parses the command line and calls the book machinery (`lrgap_nb.book`) or the sweeps."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

from . import paths
from .book.build import build_html
from .book.pair import pair_chapter
from .book.run import RunFailed, check_before_running, nearest_profile, profile_for, run_chapter
from .chapters import chapter_config, get_chapter, registry
from .params import PROFILES, ParameterError, parse_override, profiles_of


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


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Only the chapter's calibration stages (pilot, gate, patch strength), walked in turn."""
    from . import sweep

    cfg = chapter_config(args.name, args.profile, **parse_overrides(args.param))
    check_before_running(args.name, cfg)
    report = sweep.execute_stages(lambda: get_chapter(args.name).calibration(cfg))
    print(report.summary())
    runs = get_chapter(args.name).module("runs")
    if hasattr(runs, "write_calibration_log"):  # a chapter that keeps a log of its stages
        print(f"log: {runs.write_calibration_log()}")
    return 1 if report.counts()["failed"] else 0


def cmd_commit(args: argparse.Namespace) -> None:
    """Copy the chapter's finished runs at a profile into results/committed/ (JSON only)."""
    from .runs import DirtyResults, commit_finished

    cfg = chapter_config(args.name, args.profile, **parse_overrides(args.param))
    try:
        chapter = get_chapter(args.name)
        finished = [*chapter.calibration(cfg), *chapter.runs(cfg)]
        copied = commit_finished(finished, allow_dirty=args.allow_dirty)
    except DirtyResults as err:
        raise RunFailed(f"{args.name}: {err}") from err
    print("\n".join(copied) if copied else f"{args.name}: nothing new to commit")


def cmd_build(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    if not args.skip_run:
        profiles = {}
        for name in registry():  # every chapter is checked before any runs; data only for
            requested = nearest_profile(name, args.profile)  # the runs not cached
            profiles[name] = requested if args.exact_profile else profile_for(name, requested)
            check_before_running(name, chapter_config(name, profiles[name]))
        for name, profile in profiles.items():
            if profile != nearest_profile(name, args.profile):
                print(f"{name}: every {profile}-profile run is cached; rendering it at {profile}")
            run_chapter(name, profile, {})
    ran = time.perf_counter() - start
    html = build_html(strict=not args.no_strict)
    total = time.perf_counter() - start
    print(f"chapters {ran:.1f} s, HTML {total - ran:.1f} s, total {total:.1f} s")
    print(f"book: {html / 'index.html'}")


def cmd_data(args: argparse.Namespace) -> None:
    from . import fetch

    root = Path(args.root).resolve() if args.root else paths.data_root()
    for line in fetch.download(root, cifar100=args.cifar100):
        print(line)


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
    calibrate = sub.add_parser("calibrate", help="compute only a chapter's calibration stages")
    commit = sub.add_parser("commit", help="copy a chapter's finished runs into results/committed")
    for command, func in ((calibrate, cmd_calibrate), (commit, cmd_commit)):
        command.add_argument("name", help="chapter name (see lrgap list)")
        command.add_argument("--profile", default="overnight", choices=PROFILES)
        command.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE")
        command.set_defaults(func=func)
    commit.add_argument(
        "--allow-dirty", action="store_true",
        help="commit results computed with uncommitted changes (refused by default)",
    )  # fmt: skip
    gpu = sub.add_parser("gpu-check", help="the prepared GPU check (python -m lrgap_nb.gpu_check)")
    gpu.add_argument("options", nargs="*", help="its options: lrgap gpu-check --help")
    fetch = sub.add_parser(
        "data",
        help="download MNIST and CIFAR-10 into LRGAP_DATA and build the 5,085-image CIFAR-10 subset",
    )
    fetch.add_argument("--root", help="data folder (default: LRGAP_DATA, else ~/.cache/lrgap/data)")
    fetch.add_argument("--cifar100", action="store_true", help="download CIFAR-100 as well")
    fetch.set_defaults(func=cmd_data)
    return top


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["gpu-check"]:  # its own options, which argparse would take for lrgap's
        from . import gpu_check

        return gpu_check.main(argv[1:])
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
