"""Wall time of one chapter's sweep with 1 versus N local workers, each from an empty cache.

python benchmarks/sweep_workers.py --chapter learning_order --profile cpu --workers 2
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from lrgap_nb import sweep
from lrgap_nb.chapters import chapter_config, get_chapter


def timed_sweep(chapter: str, profile: str, workers: int) -> float:
    with tempfile.TemporaryDirectory() as cache:
        os.environ["LRGAP_CACHE"] = cache
        runs = get_chapter(chapter).runs(chapter_config(chapter, profile))
        executor = sweep.make_executor("local", workers=workers)
        start = time.perf_counter()
        try:
            report = sweep.execute(runs, executor)
        finally:
            sweep.close_executor(executor)
        elapsed = time.perf_counter() - start
        print(f"{workers} worker(s): {report.summary()}")
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chapter", default="learning_order")
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    one = timed_sweep(args.chapter, args.profile, 1)
    many = timed_sweep(args.chapter, args.profile, args.workers)
    print(
        f"{args.chapter} at {args.profile}: 1 worker {one:.1f} s, {args.workers} workers "
        f"{many:.1f} s, speed-up {one / many:.2f}x ({os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
