"""Wall time of `lrgap build --profile P` (every chapter through papermill, then the HTML).

    python benchmarks/build_time.py --profile smoke [--cold]

--cold uses an empty results cache, so every run trains; without it cached runs are reused.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--cold", action="store_true", help="start from an empty results cache")
    args = parser.parse_args()
    lrgap = Path(sys.executable).with_name("lrgap")
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache:
        if args.cold:
            env["LRGAP_CACHE"] = cache
        start = time.perf_counter()
        subprocess.run([str(lrgap), "build", "--profile", args.profile], check=True, env=env)
        elapsed = time.perf_counter() - start
    cache_state = "empty" if args.cold else "existing"
    print(
        f"lrgap build --profile {args.profile} ({cache_state} cache): {elapsed:.1f} s "
        f"on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
