"""Results cache: one JSON file per run, keyed by its kind, full config and protocol version.

The protocol version belongs to the kind of run (declared beside its runner) and is bumped when
its computation changes, so refactors keep committed results valid and changed code never reuses
stale ones; `tests/test_golden.py` recomputes a small result per kind to catch a missed bump.

Files are written atomically (temporary file, then rename). Each carries a checksum over its config
and payload; an unreadable or mismatching file is moved aside (never deleted) and recomputed.
Lookups also read `results/committed/`, where paper-scale GPU results live in the repository.

Several workers may race on one config (a sweep on a process pool, dask or SLURM): a worker
claims the key by creating `<key>.claim` exclusively and refreshes it while it computes; others
wait for the entry instead of computing it again. A claim whose owner died goes stale after
`CLAIM_TTL_S` without a refresh and is taken over. The first finished entry is never overwritten.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import __version__, paths

CLAIM_TTL_S = 120.0  # a claim not refreshed for this long belongs to a dead worker
WAIT_POLL_S = 0.2


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
    computed: bool = False  # True when this call computed it, False when it came from the cache


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def config_dict(config: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(config):
        return json.loads(_canonical(dataclasses.asdict(config)))
    return json.loads(_canonical(dict(config)))


def config_key(kind: str, config: Any, protocol: int) -> str:
    """Hash of the run's kind, its full config and the kind's protocol version."""
    text = _canonical({"kind": kind, "config": config_dict(config), "protocol": protocol})
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _checksum(config: dict[str, Any], payload: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical({"config": config, "payload": payload}).encode()).hexdigest()


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=7"],
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
    """Write atomically; if an entry already exists (a concurrent duplicate), keep and return it."""
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
    try:
        os.link(tmp, path)  # fails if present: a finished entry is never overwritten
    except FileExistsError:
        return read_entry(path, kind, key)
    finally:
        os.unlink(tmp)
    return Result(key, kind, record["config"], record["payload"], prov, path, computed=True)


def quarantine(path: Path, reason: str) -> None:
    """Move a bad entry aside so it is recomputed but never silently lost."""
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    warnings.warn(f"results cache: {reason}; moved to {target.name} and recomputing", stacklevel=3)
    os.replace(path, target)


def lookup(kind: str, config: Any, protocol: int) -> Result | None:
    """A verified entry for this config from the local or committed cache, or None."""
    key = config_key(kind, config, protocol)
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


class Claim:
    """Exclusive right to compute one cache key, kept alive by a heartbeat thread."""

    def __init__(self, path: Path):
        self.path = path
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, daemon=True)

    @classmethod
    def try_acquire(cls, path: Path) -> Claim | None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and time.time() - path.stat().st_mtime > CLAIM_TTL_S:
            stale = path.with_name(f"{path.name}.stale-{os.getpid()}-{time.time_ns()}")
            try:
                os.replace(path, stale)  # only one taker succeeds in moving this file
                os.unlink(stale)
            except FileNotFoundError:
                pass
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return None
        with os.fdopen(fd, "w") as handle:
            json.dump(
                {"host": socket.gethostname(), "pid": os.getpid(), "time": time.time()}, handle
            )
        claim = cls(path)
        claim._beat.start()
        return claim

    def _heartbeat(self) -> None:
        while not self._stop.wait(CLAIM_TTL_S / 4):
            try:
                os.utime(self.path)
            except FileNotFoundError:
                return

    def release(self) -> None:
        self._stop.set()
        self.path.unlink(missing_ok=True)


def cached(kind: str, config: Any, compute: Callable[[], dict[str, Any]], protocol: int) -> Result:
    """Return the cached result for `config`, computing and storing it on a miss.

    Safe to call from racing workers: exactly one computes, the others wait for its entry.
    """
    key = config_key(kind, config, protocol)
    claim_path = entry_path(paths.cache_dir(), kind, key).with_suffix(".claim")
    while True:
        if (hit := lookup(kind, config, protocol)) is not None:
            return hit
        claim = Claim.try_acquire(claim_path)
        if claim is not None:
            break
        time.sleep(WAIT_POLL_S)
    try:
        if (hit := lookup(kind, config, protocol)) is not None:  # finished while we were claiming
            return hit
        start = time.perf_counter()
        payload = compute()
        prov = {**provenance(time.perf_counter() - start), "protocol": protocol}
        return write_entry(paths.cache_dir(), kind, key, config_dict(config), payload, prov)
    finally:
        claim.release()
