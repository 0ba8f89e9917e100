"""What earlier GPU checks recorded, so a later one skips what it would only repeat.

A check's correctness and speed steps test the training path (device, train, models, data,
schedules) with a given torch on a given device. Their outcome is recorded with a fingerprint
of those sources: `unpack` writes the record and the tables under results/gpu/<date>-<hhmm>-<device>/,
and a later check on the same device with the same torch and the same fingerprint skips the
steps (a commit alone would not do: every unrelated edit makes a new one).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from . import paths

# The sources the correctness and speed steps exercise (src/lrgap_nb/...).
PATH_SOURCES = ("data.py", "device.py", "models.py", "schedules.py", "train.py")
RECORD = "record.json"
CONCURRENCY = "concurrency.csv"
RATES = ("concurrent", "images_per_s", "per_run")  # what a concurrency table measured
SKIPPABLE = ("correctness", "speed")


def _read_here(name: str) -> bytes:
    return (Path(__file__).parent / name).read_bytes()


def fingerprint(read: Callable[[str], bytes] = _read_here) -> str:
    """sha256 over the training path's sources (`read` a file of src/lrgap_nb by name)."""
    digest = hashlib.sha256()
    for name in PATH_SOURCES:
        digest.update(name.encode() + b"\0" + read(name) + b"\0")
    return digest.hexdigest()[:16]


def records_dir() -> Path:
    return paths.project_root() / "results" / "gpu"


def record(manifest: dict[str, Any], passed: dict[str, bool]) -> dict[str, Any]:
    """What a check says about itself: where, with what, and which steps passed."""
    keys = ("created", "device", "torch", "cuda", "dtype", "git_commit", "fingerprint")
    return {**{k: manifest.get(k) for k in keys}, "passed": passed}


def _recorded_here(
    device: str, torch: str, print_: str, root: Path | None
) -> list[tuple[Path, dict[str, Any]]]:
    """(folder, record) of every earlier check on `device` with `torch` and fingerprint
    `print_`, in folder order (oldest first: folders start with the date)."""
    found = []
    for path in sorted((root or records_dir()).glob(f"*/{RECORD}")):
        rec = json.loads(path.read_text())
        if (rec.get("device"), rec.get("torch"), rec.get("fingerprint")) == (device, torch, print_):
            found.append((path.parent, rec))
    return found


def find(device: str, torch: str, print_: str, root: Path | None = None) -> dict[str, dict]:
    """step -> the record (with its folder) of an earlier check that passed it here, for each
    skippable step recorded on `device` with `torch` and fingerprint `print_`."""
    found: dict[str, dict] = {}
    for folder, rec in _recorded_here(device, torch, print_, root):
        for step in SKIPPABLE:
            if rec.get("passed", {}).get(step):
                found[step] = {**rec, "folder": _shown(folder)}
    return found


def concurrency(
    device: str, torch: str, print_: str, root: Path | None = None
) -> tuple[pd.DataFrame, str] | None:
    """The newest concurrency table (images/s at 1, 2, 4, 8 runs at once) recorded on `device`
    with `torch` and fingerprint `print_`, and its folder: the rates depend on nothing else, so a
    later check chooses its number of workers from them instead of measuring again."""
    for folder, _ in reversed(_recorded_here(device, torch, print_, root)):
        if (folder / CONCURRENCY).is_file():
            return pd.read_csv(folder / CONCURRENCY)[list(RATES)], _shown(folder)
    return None


def _shown(folder: Path) -> str:
    """`folder` relative to the project (results/gpu/...) when inside it."""
    try:
        return str(folder.resolve().relative_to(paths.project_root().resolve()))
    except ValueError:
        return str(folder)


def folder_name(rec: dict[str, Any]) -> str:
    """<date>-<hhmm>-<device>, e.g. 2026-12-04-1025-h200 (NVIDIA's prefix dropped): the start
    time keeps two checks of one day, one after the other, from overwriting each other."""
    device = re.sub(r"^nvidia\s+", "", str(rec.get("device", "device")).lower())
    created = re.sub(r"\D", "", str(rec.get("created", "")))[:12]  # yyyymmddhhmm
    day, time = f"{created[:4]}-{created[4:6]}-{created[6:8]}", created[8:12]
    return "-".join(x for x in (day, time, re.sub(r"[^a-z0-9]+", "-", device).strip("-")) if x)
