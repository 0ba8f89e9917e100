"""The convex chapter's explorer: one anywidget that reruns gradient descent in the browser.

`ConvexExplorer` is a Python object (the settings, as synced traits) plus an ES module,
explorer.js, that draws the sliders, the two gradient-descent paths on the train- and test-loss
contours, and the losses where each path stops, recomputing all of it on every slider move. The
same module runs in Jupyter (JupyterLab, Notebook 7, VS Code, Colab) and in the published book,
where html-manager renders the widget state saved with the executed notebook and no kernel exists.

The maths in Python stays the reference: `reference` gives the same numbers from
`maths.gradient_descent`, and tests/test_explorer.py checks the JavaScript against it. The
explorer's samples come from a small explicit PRNG (mulberry32) written in both languages, so a
seed draws the same samples in the browser and here.
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import numpy as np
import traitlets

from . import maths
from .params import BETA_STAR

ESM = Path(__file__).with_name("explorer.js")

# The sliders, in order: range, step and label (read by explorer.js, so they are set only here).
# epsilon moves on a log scale: its step is in log10 units.
RANGES = {
    "lr_large": {"label": "large LR", "min": 0.1, "max": 1.6, "step": 0.001},
    "lr_small": {"label": "small LR", "min": 0.005, "max": 0.3, "step": 0.001},
    "anneal_step": {"label": "anneal step", "min": 0, "max": 40, "step": 1},
    "epsilon": {"label": "ε", "min": 1e-4, "max": 1e-1, "step": 0.01, "scale": "log"},
    "n_samples": {"label": "samples", "min": 3, "max": 30, "step": 1},
    "seed": {"label": "seed", "min": 0, "max": 99, "step": 1},
}
SCHEDULES = ("large then small", "small throughout")
MAX_STEPS = 100_000  # explorer.js's MAX_STEPS


def reference(settings: dict) -> dict:
    """What the explorer shows for `settings`, computed by the Python maths (the reference).

    Per schedule: the path (a diverged run ends in NaN), its steps, the step at which it diverged
    (None if it did not) and the train and test losses where it stopped (None if it diverged).
    With `exact_stop` the runs follow the matched-loss protocol (`maths.matched_descent`), else
    they stop at the first step with train loss at most epsilon (`maths.gradient_descent`).
    """
    X, y = maths.two_point_samples(settings["n_samples"], settings["seed"], BETA_STAR)
    lr_large, lr_small = settings["lr_large"], settings["lr_small"]
    anneal, epsilon = settings["anneal_step"], settings["epsilon"]
    runs = {}
    for name, schedule in maths.schedules_for(lr_large, lr_small, anneal).items():
        if settings.get("exact_stop", False):
            large = name == "large then small"
            path = maths.matched_descent(
                X, y, lr_large if large else lr_small, lr_small, anneal if large else 0, epsilon,
                max_steps=MAX_STEPS, keep_path=True,
            ).path  # fmt: skip
        else:
            path = maths.gradient_descent(X, y, schedule, epsilon, MAX_STEPS, freeze_diverged=True)
        final = path[-1]
        diverged = bool(np.isnan(final).any())
        runs[name] = {
            "path": path,
            "steps": len(path) - 1,
            "diverged_at": len(path) - 1 if diverged else None,
            "train": None if diverged else float(maths.train_loss(final, X, y)),
            "test": None if diverged else float(maths.population_loss(final, BETA_STAR)),
        }
    return {"counts": X.sum(axis=0).astype(int).tolist(), "runs": runs}


def _float(name: str, default: float) -> traitlets.Float:
    r = RANGES[name]
    return traitlets.Float(default, min=r["min"], max=r["max"]).tag(sync=True)


def _int(name: str, default: int) -> traitlets.Int:
    r = RANGES[name]
    return traitlets.Int(default, min=r["min"], max=r["max"]).tag(sync=True)


class ConvexExplorer(anywidget.AnyWidget):
    """Sliders over the two-point problem; the browser reruns GD on every move (explorer.js)."""

    _esm = ESM
    lr_large = _float("lr_large", 1.4)  # initial LR of "large then small"
    lr_small = _float("lr_small", 0.05)  # LR after the anneal, and of "small throughout"
    anneal_step = _int("anneal_step", 4)  # GD steps at lr_large
    epsilon = _float("epsilon", 0.01)  # stop when the train loss first reaches this
    n_samples = _int("n_samples", 3)
    seed = _int("seed", 2)  # mulberry32 seed of the samples (2: two at e1, one at e2)
    show_analytic = traitlets.Bool(False).tag(sync=True)  # the 0.75ε / 1.5ε points
    exact_stop = traitlets.Bool(False).tag(sync=True)  # matched-loss stop (maths.matched_descent)
    ranges = traitlets.Dict(RANGES).tag(sync=True)
    defaults = traitlets.Dict().tag(sync=True)  # where the Reset button returns to

    def __init__(self, **settings) -> None:
        super().__init__(**settings)
        self.defaults = self.settings()

    def settings(self) -> dict:
        return {**{name: getattr(self, name) for name in RANGES}, "exact_stop": self.exact_stop}

    def reference(self) -> dict:
        """The current setting's numbers from the Python maths (see `reference`)."""
        return reference(self.settings())


def explorer(cfg) -> ConvexExplorer:
    """The chapter's explorer, starting at cfg's setting (each value clipped to its slider)."""
    start = {}
    for name, r in RANGES.items():
        value = min(max(getattr(cfg, name), r["min"]), r["max"])
        start[name] = value if r["step"] != 1 else int(value)
    return ConvexExplorer(**start)
