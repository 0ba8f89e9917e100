"""Results cache: one JSON file per run, keyed by its kind, full config and protocol version.

The protocol version belongs to the kind of run (declared beside its runner) and is bumped when
its computation changes, so refactors keep committed results valid and changed code never reuses
stale ones; `tests/test_golden.py` recomputes a small result per kind to catch a missed bump.

Files are written atomically (temporary file, then rename; a failed write leaves nothing behind)
with the mode `open` would give (umask honoured). Each carries a checksum over its config, payload
and provenance (entries without `checksum_scope`, written before it was recorded, are still read
when their checksum matches with or without provenance); an unreadable or mismatching file is moved aside under a unique name (never
deleted) and recomputed. Moving it aside never fails a lookup: a file another process already
moved is a miss, any other error a warning and a miss. Lookups also read `results/committed/`,
where paper-scale GPU results live in the repository.

Several workers may race on one config (a sweep on a process pool, dask or SLURM): a worker
claims the key by creating `<key>.claim` exclusively and refreshes it while it computes; others
wait for the entry instead of computing it again, saying once whom they wait for. A claim left by
a dead process on this host is taken over at once; any other claim whose owner died goes stale
after `CLAIM_TTL_S` without a refresh. The first finished entry is never overwritten.

A run killed and resumed later (training resumes from its checkpoint) costs the time of every
attempt: the claim's heartbeat records the time spent so far in `<key>.spent`, and the entry's
`wall_time_s` adds the earlier attempts' time (each known to within `HEARTBEAT_S`), with
`attempts` and `last_attempt_s` beside it when there was more than one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import __version__, paths

CLAIM_TTL_S = 120.0  # a claim not refreshed for this long belongs to a dead worker
HEARTBEAT_S = CLAIM_TTL_S / 4  # how often a claim is refreshed and its time spent recorded
WAIT_POLL_S = 0.2


class CorruptEntry(RuntimeError):
    """A cache file that cannot be trusted; `inode` identifies the file that was read."""

    def __init__(self, message: str, inode: int | None = None):
        super().__init__(message)
        self.inode = inode


class CacheNotWritable(OSError):
    """The results cache folder refuses writes (read-only, permissions, full)."""


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


# Field metadata of an option added to a config after entries were cached: at its default the
# field is left out of the config (and so of the key), so those entries keep their keys.
OMIT_DEFAULT = {"omit_default": True}


def _plain(obj: Any) -> Any:
    """dataclasses.asdict, leaving out OMIT_DEFAULT fields that hold their default."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {
            f.name: _plain(getattr(obj, f.name))
            for f in dataclasses.fields(obj)
            if not (f.metadata.get("omit_default") and getattr(obj, f.name) == f.default)
        }
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    return obj


def config_dict(config: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(config):
        return json.loads(_canonical(_plain(config)))
    return json.loads(_canonical(dict(config)))


def config_key(kind: str, config: Any, protocol: int) -> str:
    """Hash of the run's kind, its full config and the kind's protocol version."""
    text = _canonical({"kind": kind, "config": config_dict(config), "protocol": protocol})
    return hashlib.sha256(text.encode()).hexdigest()[:20]


CHECKSUM_SCOPE = "config+payload+provenance"  # entries without this field predate it


def _checksum(config: dict[str, Any], payload: dict[str, Any], prov: dict[str, Any] | None) -> str:
    """sha256 over config, payload and provenance (None: the legacy scope, config and payload)."""
    record = {"config": config, "payload": payload}
    if prov is not None:
        record["provenance"] = prov
    return hashlib.sha256(_canonical(record).encode()).hexdigest()


def git_commit() -> str | None:
    """`git describe --always --dirty` of the checkout; LRGAP_GIT_COMMIT where there is no
    .git (the GPU machine gets a copy of the working tree)."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=7"],
            cwd=paths.project_root(),
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return os.environ.get("LRGAP_GIT_COMMIT")
    return out.stdout.strip() or os.environ.get("LRGAP_GIT_COMMIT")


def provenance(wall_time_s: float, device: str | None = None) -> dict[str, Any]:
    import torch

    from .device import compute_dtype, device_name, pick_device

    return {
        "package_version": __version__,
        "git_commit": git_commit(),
        "torch_version": torch.__version__,
        "device": device or device_name(),
        "dtype": str(compute_dtype(pick_device())).removeprefix("torch."),
        "wall_time_s": round(wall_time_s, 3),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def entry_path(folder: Path, kind: str, key: str) -> Path:
    return folder / kind / f"{key}.json"


def read_entry(path: Path, kind: str, key: str) -> Result:
    """Load and verify one entry; raise CorruptEntry if anything is off, FileNotFoundError if
    there is no file (another process may just have moved it aside)."""
    with open(path, "rb") as handle:
        inode = os.fstat(handle.fileno()).st_ino
        try:
            data = json.loads(handle.read())
            config, payload, prov = data["config"], data["payload"], data["provenance"]
            ok = data["key"] == key and data["kind"] == kind
            scopes = [prov] if data.get("checksum_scope") == CHECKSUM_SCOPE else [prov, None]
            ok = ok and data["checksum"] in [_checksum(config, payload, p) for p in scopes]
        except (OSError, ValueError, KeyError, TypeError) as err:
            message = f"missing key {err}" if isinstance(err, KeyError) else str(err)
            raise CorruptEntry(f"{path}: {message}", inode) from err
    if not ok:
        raise CorruptEntry(f"{path}: key or checksum mismatch", inode)
    return Result(key, kind, config, payload, prov, path)


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
        "provenance": json.loads(_canonical(prov)),
    }
    prov = record["provenance"]
    record["checksum"] = _checksum(record["config"], record["payload"], prov)
    record["checksum_scope"] = CHECKSUM_SCOPE
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key}.", suffix=".tmp")
    try:
        paths.share_like_open(fd)
        with os.fdopen(fd, "w") as handle:
            json.dump(record, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)  # fails if present: a finished entry is never overwritten
    except FileExistsError:
        try:
            return read_entry(path, kind, key)
        except CorruptEntry as err:  # a bad entry that could not be moved aside: keep ours unstored
            warnings.warn(f"results cache: {err}; the new result is not stored", stacklevel=2)
    finally:
        Path(tmp).unlink(missing_ok=True)  # also after a failed write (disk full): no partial file
    return Result(key, kind, record["config"], record["payload"], prov, path, computed=True)


def quarantine(path: Path, reason: str, inode: int | None = None) -> None:
    """Move a bad entry aside (unique name) so it is recomputed but never silently lost.

    Never raises: an entry already moved (by a racing process) or replaced by a good one since it
    was read is left alone; a cache that refuses the move gets a warning, and the entry is a miss.
    """
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S.%f")
    target = path.with_name(f"{path.name}.corrupt-{stamp}-{os.getpid()}")
    try:
        if inode is not None and os.stat(path).st_ino != inode:
            return  # replaced since we read it: the next lookup reads the new file
        os.replace(path, target)
    except FileNotFoundError:
        return  # another process moved it aside first
    except OSError as err:
        warnings.warn(
            f"results cache: {reason}; could not move it aside ({err.strerror or err}): "
            "recomputing without storing over it",
            stacklevel=3,
        )
        return
    warnings.warn(f"results cache: {reason}; moved to {target.name} and recomputing", stacklevel=3)


def lookup(kind: str, config: Any, protocol: int) -> Result | None:
    """A verified entry for this config from the local or committed cache, or None."""
    key = config_key(kind, config, protocol)
    for folder in (paths.cache_dir(), paths.committed_cache_dir()):
        path = entry_path(folder, kind, key)
        try:
            return read_entry(path, kind, key)
        except FileNotFoundError:
            continue
        except CorruptEntry as err:
            if folder == paths.cache_dir():
                quarantine(path, str(err), err.inode)
            else:
                warnings.warn(f"ignoring corrupt committed entry: {err}", stacklevel=2)
        except OSError as err:  # unreadable (permissions, I/O error): a miss, said once
            warnings.warn(f"results cache: cannot read {path}: {err}", stacklevel=2)
    return None


def _alive(pid: int) -> bool:
    """Whether process `pid` on this host still runs (a zombie, killed but not reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def claim_owner(path: Path) -> dict[str, Any] | None:
    """The claim's {"host", "pid", "time"}, or None while it is being written or if it is gone."""
    try:
        owner = json.loads(path.read_text())
        return owner if isinstance(owner, dict) and {"host", "pid"} <= owner.keys() else None
    except (OSError, ValueError):
        return None


def describe_owner(owner: dict[str, Any] | None) -> str:
    if owner is None:
        return "another worker"
    return f"pid {owner['pid']} on {owner['host']}"


class Claim:
    """Exclusive right to compute one cache key, kept alive by a heartbeat thread."""

    def __init__(self, path: Path):
        self.path = path
        self.on_beat: Callable[[], None] | None = None  # also called at every heartbeat
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, daemon=True)

    @staticmethod
    def is_stale(path: Path, owner: dict[str, Any] | None) -> bool:
        """Its owner died: a dead process on this host (known at once), or no refresh for TTL."""
        try:
            if time.time() - path.stat().st_mtime > CLAIM_TTL_S:
                return True
        except FileNotFoundError:
            return False
        if owner is None or owner.get("host") != socket.gethostname():
            return False
        return isinstance(owner.get("pid"), int) and not _alive(owner["pid"])

    @classmethod
    def try_acquire(cls, path: Path) -> Claim | None:
        path.parent.mkdir(parents=True, exist_ok=True)
        owner = claim_owner(path)
        if cls.is_stale(path, owner):
            stale = path.with_name(f"{path.name}.stale-{os.getpid()}-{time.time_ns()}")
            try:
                os.replace(path, stale)  # only one taker succeeds in moving this file
                os.unlink(stale)
            except FileNotFoundError:
                pass
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
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
        while not self._stop.wait(HEARTBEAT_S):
            try:
                os.utime(self.path)
            except FileNotFoundError:
                return
            if self.on_beat is not None:
                self.on_beat()

    def release(self) -> None:
        self._stop.set()
        self.path.unlink(missing_ok=True)


def cached(kind: str, config: Any, compute: Callable[[], dict[str, Any]], protocol: int) -> Result:
    """Return the cached result for `config`, computing and storing it on a miss.

    Safe to call from racing workers: exactly one computes, the others wait for its entry.
    """
    key = config_key(kind, config, protocol)
    claim_path = entry_path(paths.cache_dir(), kind, key).with_suffix(".claim")
    said = False
    while True:
        if (hit := lookup(kind, config, protocol)) is not None:
            return hit
        try:
            claim = Claim.try_acquire(claim_path)
        except OSError as err:  # read-only, permissions, full: say where, one line
            raise CacheNotWritable(
                f"results cache {paths.cache_dir()} is not writable ({err.strerror or err}); "
                "set LRGAP_CACHE to a writable folder"
            ) from err
        if claim is not None:
            break
        if not said:
            owner = describe_owner(claim_owner(claim_path))
            print(f"results cache: waiting for {owner} computing {kind}/{key}", file=sys.stderr)
            said = True
        time.sleep(WAIT_POLL_S)
    try:
        if (hit := lookup(kind, config, protocol)) is not None:  # finished while we were claiming
            return hit
        spent = TimeSpent(claim_path.with_suffix(".spent"))
        claim.on_beat = spent.record
        payload = compute()
        this_attempt = spent.this_attempt()  # read once: the totals below must add up exactly
        prov = {
            **provenance(spent.earlier_s + this_attempt),
            "protocol": protocol,
            **spent.attempts(this_attempt),
        }
        result = write_entry(paths.cache_dir(), kind, key, config_dict(config), payload, prov)
        spent.path.unlink(missing_ok=True)
        return result
    finally:
        claim.release()


def _replace_text(path: Path, text: str) -> None:
    """Write `text` to a temporary sibling, then rename it over `path`: never half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class TimeSpent:
    """The compute time of one key over all its attempts, kept in a small file so that a killed
    attempt's time (up to its last heartbeat) still counts when a later one finishes the run."""

    def __init__(self, path: Path):
        self.path = path
        self.start = time.perf_counter()
        try:
            earlier = json.loads(path.read_text())
            self.earlier_s, self.earlier_attempts = (
                float(earlier["seconds"]),
                int(earlier["attempts"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            self.earlier_s, self.earlier_attempts = 0.0, 0
        self.record()

    def this_attempt(self) -> float:
        return time.perf_counter() - self.start

    def total(self) -> float:
        return self.earlier_s + self.this_attempt()

    def record(self) -> None:
        """Write the time so far (atomically; a full disk only loses this accounting)."""
        state = {"seconds": round(self.total(), 3), "attempts": self.earlier_attempts + 1}
        try:
            _replace_text(self.path, json.dumps(state))
        except OSError:
            pass

    def attempts(self, this_attempt: float) -> dict[str, Any]:
        """Provenance fields saying that the run took several attempts, if it did."""
        if not self.earlier_attempts:
            return {}
        return {"attempts": self.earlier_attempts + 1, "last_attempt_s": round(this_attempt, 3)}


class Steps:
    """The finished steps of one long computation (a sharpness probe, an eigenvalue), kept in a
    JSON file so that a killed run redoes only the step it was in. Values go through JSON on the
    first pass too, so a resumed run returns exactly what an uninterrupted one does."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.done: dict[str, Any] = json.loads(path.read_text())
        except FileNotFoundError:
            self.done = {}
        except (OSError, ValueError) as err:  # a torn or foreign file: redo every step
            warnings.warn(f"{path} is unreadable ({err}); its steps are redone", stacklevel=2)
            self.done = {}

    def get(self, name: str, compute: Callable[[], Any]) -> Any:
        """The step's value: from the file when an earlier attempt finished it, else computed
        and written (atomically) before it is returned."""
        if name not in self.done:
            self.done[name] = json.loads(_canonical(compute()))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _replace_text(self.path, _canonical(self.done))
        return self.done[name]

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
