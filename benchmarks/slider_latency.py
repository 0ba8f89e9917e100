"""Slider-update latency of the live explorer: GD recompute + redraw + PNG, per slider change.

This is the kernel-side cost of one move in Jupyter (the browser's transfer and decode come on
top). Usage: python benchmarks/slider_latency.py [--changes 60] [--profile smoke]
"""

import argparse
import time

import numpy as np

import lrgap_nb as lg
from lrgap_nb.widgets import LiveExplorer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=60, help="slider changes to time")
    parser.add_argument("--profile", default="smoke")
    args = parser.parse_args()

    cfg = lg.chapter_config("convex", profile=args.profile)
    start = time.perf_counter()
    live = LiveExplorer(cfg)
    print(f"first draw (figure creation included): {1e3 * (time.perf_counter() - start):.0f} ms")
    rng = np.random.default_rng(0)
    names = list(live.controls)
    timings = {name: [] for name in names}
    for i in range(args.changes):
        name = names[i % len(names)]
        control = live.controls[name]
        steps = round((control.max - control.min) / control.step)
        value = control.min + control.step * int(rng.integers(0, steps + 1))
        if name == "epsilon":  # FloatLogSlider: min, max and step are exponents
            value = control.base**value
        if np.isclose(value, control.value):
            continue
        start = time.perf_counter()
        control.value = value  # the observer reruns GD and redraws synchronously
        timings[name].append(1e3 * (time.perf_counter() - start))
    every = np.concatenate([np.asarray(t) for t in timings.values()])
    print(f"{len(every)} slider changes, ms per change (recompute + redraw + PNG):")
    print(f"  all         median {np.median(every):6.1f}  p90 {np.percentile(every, 90):6.1f}")
    for name, t in timings.items():
        if t:
            print(f"  {name:<11} median {np.median(t):6.1f}  p90 {np.percentile(t, 90):6.1f}")


if __name__ == "__main__":
    main()
