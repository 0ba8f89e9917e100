"""`lrgap --help` and `lrgap list` answer without importing torch (or Jupyter)."""

import subprocess
import sys

import pytest

HEAVY = ("torch", "torchvision", "matplotlib", "papermill", "jupytext", "ipywidgets")


@pytest.mark.parametrize("argv", [["--help"], ["list"]])
def test_cli_answers_without_heavy_imports(argv):
    code = (
        "import sys\n"
        "from lrgap_nb.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout, out.stdout[-500:]
