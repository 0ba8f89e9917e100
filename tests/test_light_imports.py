"""The training core imports on a machine without the notebook stack (the GPU machine has none).

A fresh interpreter gets a meta-path finder that refuses the notebook packages, then imports the
core and builds the GPU check's chapter runs, as the check does there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BLOCKED = ("ipywidgets", "papermill", "jupytext", "IPython", "nbformat", "matplotlib.pyplot")

SCRIPT = f"""
import importlib.abc, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in {BLOCKED!r}):
            raise ModuleNotFoundError(f"{{name}} is not installed on the GPU machine", name=name)

sys.meta_path.insert(0, Refuse())
import lrgap_nb.data, lrgap_nb.gpu_check, lrgap_nb.gpu_pool, lrgap_nb.models, lrgap_nb.train
from lrgap_nb import gpu_plan

items = gpu_plan.plan(("paper", "widths"), {{}})  # large_batch checks its data first
assert {{i.chapter for i in items}} == {{"patch", "large_lr"}}, items
for item in (i for i in items if i.part == "paper"):
    config = getattr(item.run.config, "config", item.run.config)
    assert config.model == "wrn16_10" and config.model_width is None, item  # paper width
    assert "cifar10_subset" in config.dataset, item
"""


def test_training_core_needs_no_notebook_stack() -> None:
    src = Path(__file__).resolve().parents[1] / "src"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
