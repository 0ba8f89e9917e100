"""A chapter's notebook: its jupytext source, and the kernel papermill runs it in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import paths
from ..params import ParameterError


def source(stem: str) -> Path:
    path = paths.project_root() / "notebooks" / f"{stem}.py"
    if not path.is_file():
        raise ParameterError(f"chapter source {path} is missing; run lrgap from the repository")
    return path


def read_source(stem: str):
    import jupytext

    notebook = jupytext.read(source(stem))
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    return notebook


def notebook_parameters(notebook) -> list[str]:
    """Names defined in the notebook's `parameters` cell, in order."""
    import papermill

    return list(papermill.inspect_notebook(notebook))


def kernel_options() -> dict[str, Any]:
    """papermill's kernel over IPC sockets: local, never open to the network, so ipykernel has
    no reason to warn, for every chapter, that TCP runs without encryption."""
    from traitlets.config import Config

    return {"kernel_name": "python3", "config": Config({"KernelManager": {"transport": "ipc"}})}


@contextmanager
def outputs_to(folder: Path) -> Iterator[None]:
    """Chapters' tables and figures go to `folder` (LRGAP_OUTPUTS, read by kernels started meanwhile)."""
    from unittest import mock

    with mock.patch.dict(os.environ, LRGAP_OUTPUTS=str(folder)):
        yield
