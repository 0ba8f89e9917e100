"""How long `lrgap --help` and `lrgap list` take, against importing torch, in one run.

    python benchmarks/import_time.py [--repeats 5]

Each command runs in a fresh interpreter; the median wall time is printed with its ratio to a
bare `import torch` measured the same way (the time the light import saves on every call).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "lrgap --help": "from lrgap_nb.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass",
    "lrgap list": "from lrgap_nb.cli import main\nmain(['list'])",
    "import torch": "import torch",
}


def median_seconds(code: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    seconds = {name: median_seconds(code, args.repeats) for name, code in COMMANDS.items()}
    for name, value in seconds.items():
        ratio = value / seconds["import torch"]
        print(f"{name:<14} {value * 1000:7.0f} ms  ({ratio:.2f}× import torch)")


if __name__ == "__main__":
    main()
