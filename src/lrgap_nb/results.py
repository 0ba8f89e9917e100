"""Results cache: one JSON file per run, keyed by a hash of its full config, with provenance.

Files are written atomically (temporary file, then rename). Each carries a checksum over its config
and payload; an unreadable or mismatching file is moved aside (never deleted) and recomputed.
Lookups also read `results/committed/`, where paper-scale GPU results live in the repository.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import __version__, paths


class CorruptEntry(RuntimeError):
    """A cache file that cannot be trusted."""


@dataclasses.dataclass(frozen=True)
class Result:
    key: str
    kind: str
    config: dict[str, Any]
    payload: dict[str, Any]
    provenance: dict[str, Any]
    path: Path


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def config_dict(config: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(config):
        return json.loads(_canonical(dataclasses.asdict(config)))
    return json.loads(_canonical(dict(config)))


def config_key(kind: str, config: Any) -> str:
    """Hash of the run's kind, full config and the package version (a new version recomputes)."""
    text = _canonical({"kind": kind, "config": config_dict(config), "code": __version__})
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _checksum(config: dict[str, Any], payload: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical({"config": config, "payload": payload}).encode()).hexdigest()


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=paths.project_root(),
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def provenance(wall_time_s: float, device: str | None = None) -> dict[str, Any]:
    import torch

    from .device import device_name

    return {
        "package_version": __version__,
        "git_commit": git_commit(),
        "torch_version": torch.__version__,
        "device": device or device_name(),
        "wall_time_s": round(wall_time_s, 3),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def entry_path(folder: Path, kind: str, key: str) -> Path:
    return folder / kind / f"{key}.json"


def read_entry(path: Path, kind: str, key: str) -> Result:
    """Load and verify one entry; raise CorruptEntry if anything is off."""
    try:
        data = json.loads(path.read_text())
        config, payload = data["config"], data["payload"]
        ok = data["key"] == key and data["kind"] == kind
        ok = ok and data["checksum"] == _checksum(config, payload)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise CorruptEntry(f"{path}: {err}") from err
    if not ok:
        raise CorruptEntry(f"{path}: key or checksum mismatch")
    return Result(key, kind, config, payload, data["provenance"], path)


def write_entry(
    folder: Path, kind: str, key: str, config: dict, payload: dict, prov: dict
) -> Result:
    path = entry_path(folder, kind, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "key": key,
        "kind": kind,
        "config": config,
        "payload": json.loads(_canonical(payload)),
        "provenance": prov,
    }
    record["checksum"] = _checksum(record["config"], record["payload"])
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key}.", suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(record, handle, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return Result(key, kind, record["config"], record["payload"], prov, path)


def quarantine(path: Path, reason: str) -> None:
    """Move a bad entry aside so it is recomputed but never silently lost."""
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    warnings.warn(f"results cache: {reason}; moved to {target.name} and recomputing", stacklevel=3)
    os.replace(path, target)


def lookup(kind: str, config: Any) -> Result | None:
    """A verified entry for this config from the local or committed cache, or None."""
    key = config_key(kind, config)
    for folder in (paths.cache_dir(), paths.committed_cache_dir()):
        path = entry_path(folder, kind, key)
        if not path.exists():
            continue
        try:
            return read_entry(path, kind, key)
        except CorruptEntry as err:
            if folder == paths.cache_dir():
                quarantine(path, str(err))
            else:
                warnings.warn(f"ignoring corrupt committed entry: {err}", stacklevel=2)
    return None


def cached(kind: str, config: Any, compute: Callable[[], dict[str, Any]]) -> Result:
    """Return the cached result for `config`, computing and storing it on a miss."""
    if (hit := lookup(kind, config)) is not None:
        return hit
    start = time.perf_counter()
    payload = compute()
    prov = provenance(time.perf_counter() - start)
    key = config_key(kind, config)
    return write_entry(paths.cache_dir(), kind, key, config_dict(config), payload, prov)
