"""A chapter notebook executed with papermill on a GPU machine that has no Jupyter and no network.

The machine has torch, the scientific stack, PyYAML and tqdm, CPython 3.12 on manylinux x86_64.
Here, `stage_wheels` downloads wheels of papermill, nbclient, nbformat, ipykernel, jupytext and
their dependencies for that platform into .gpu_wheels/ (git-ignored, carried along). There,
`execute` installs them with pip from that folder only, into a temporary prefix, registers the
`python3` kernel in the prefix, and runs the chapter through papermill in a subprocess with the
prefix on PYTHONPATH, PATH and JUPYTER_PATH, within a time limit. Without a wheel folder (the CPU
dry run) the running interpreter's own Jupyter stack is used, and only the install is skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import paths

WHEELS_DIR = ".gpu_wheels"  # git-ignored, carried to the GPU machine inside the repository
JUPYTER = ("papermill", "nbclient", "nbformat", "ipykernel", "jupytext")
# On the GPU machine already (never staged): the brief of that machine's image.
PRESENT = ("torch", "torchvision", "numpy", "pandas", "scipy", "matplotlib", "seaborn", "pyyaml")
PRESENT += ("tqdm",)
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
# pip download evaluates environment markers for the Python running it, not --python-version:
# what the stack needs only on the target version is named when staging from another one.
MARKER_ONLY = {"3.12": ("aiohttp",)}  # papermill: aiohttp>=3.9; python_version == "3.12"


def _project(name: str) -> str:
    """A wheel file's normalised project name: PyYAML-6.0-... -> pyyaml."""
    return re.sub(r"[-_.]+", "-", name.split("-")[0]).lower()


def stage_wheels(target: Path, python: str = "3.12") -> list[Path]:
    """Download the Jupyter stack for CPython `python` on manylinux x86_64 into `target`."""
    version = python.replace(".", "")
    command = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--quiet"]
    command += ["--python-version", python, "--implementation", "cp", "--abi", f"cp{version}"]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    extra = () if here == python else MARKER_ONLY.get(python, ())
    subprocess.run([*command, "-d", str(target), *JUPYTER, *extra], check=True)
    for wheel in target.glob("*.whl"):
        if _project(wheel.name) in PRESENT:
            wheel.unlink()
    wheels = sorted(target.glob("*.whl"))
    size = sum(w.stat().st_size for w in wheels) / 2**20
    print(f"{len(wheels)} wheels ({size:.1f} MiB) in {target}")
    return wheels


def install(wheels: Path | None, prefix: Path) -> dict[str, str]:
    """The environment of a Python that has the Jupyter stack and a `python3` kernel in `prefix`.

    With `wheels`, pip installs the stack from that folder only (--no-index) into `prefix`; the
    kernel spec is written under prefix/share/jupyter either way, and JUPYTER_PATH points there.
    """
    env = dict(os.environ)
    if wheels is not None:
        if not any(wheels.glob("*.whl")):
            raise FileNotFoundError(f"no wheels in {wheels}: run `gpu_check --stage-wheels` here")
        pip = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--no-warn-script-location",
        ]
        pip += ["--find-links", str(wheels), "--prefix", str(prefix), *JUPYTER]
        subprocess.run(pip, check=True)
        # site-packages or dist-packages, lib or local/lib: wherever this Python's scheme put them
        sites = [str(p) for p in sorted(prefix.rglob("python3*/*-packages")) if p.is_dir()]
        bins = [str(p) for p in sorted(prefix.rglob("bin")) if p.is_dir()]
        env["PYTHONPATH"] = os.pathsep.join([*sites, *filter(None, [env.get("PYTHONPATH")])])
        env["PATH"] = os.pathsep.join([*bins, env.get("PATH", "")])
    src = str(paths.project_root() / "src")
    rest = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != src]
    env["PYTHONPATH"] = os.pathsep.join([src, *rest])
    env["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    kernel = [sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix)]
    subprocess.run([*kernel, "--name", "python3"], check=True, env=env, capture_output=True)
    return env


def execute(
    chapter: str, profile: str, out: Path, timeout_s: float, wheels: Path | None
) -> dict[str, Any]:
    """Install (see `install`) and run `chapter` at `profile` into out/<stem>.ipynb.

    Returns the status, the seconds taken and the executed notebook's path (None if none).
    """
    from .chapters import get_chapter

    stem = get_chapter(chapter).notebook
    out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    env = install(wheels, out / "prefix")
    env["LRGAP_OUTPUTS"] = str(out / "outputs")  # the chapter's exports stay out of the checkout
    output = out / f"{stem}.ipynb"
    command = [sys.executable, "-m", "lrgap_nb.gpu_notebook", chapter, profile, str(output)]
    left = timeout_s - (time.monotonic() - start)
    try:
        done = subprocess.run(
            command, env=env, timeout=max(left, 1), capture_output=True, text=True
        )
        status = "executed" if done.returncode == 0 else f"failed: {_last_line(done.stderr)}"
    except subprocess.TimeoutExpired:
        status = f"not finished within {timeout_s:.0f} s"
    return {
        "chapter": chapter,
        "profile": profile,
        "status": status,
        "seconds": round(time.monotonic() - start, 1),
        "installed_from": str(wheels) if wheels else "the running environment",
        "notebook": str(output) if status == "executed" else None,
    }


def _last_line(text: str) -> str:
    return (text.strip().splitlines() or ["no output"])[-1][:300]


def run_here(chapter: str, profile: str, output: Path) -> None:
    """papermill on the chapter's jupytext source, in the kernel registered by `install`."""
    import papermill

    from .book.notebook import read_source
    from .book.run import check_before_running
    from .chapters import chapter_config, get_chapter

    check_before_running(chapter, chapter_config(chapter, profile))
    papermill.execute_notebook(
        read_source(get_chapter(chapter).notebook),
        str(output),
        parameters={"profile": profile},
        kernel_name="python3",
        cwd=str(output.parent),
        progress_bar=False,
    )


if __name__ == "__main__":
    run_here(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
