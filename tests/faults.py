"""Shared by the fault-injection tests: a toy run whose computation a test can watch."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

from lrgap_nb.runs import Run


@dataclasses.dataclass(frozen=True)
class Toy:
    value: int
    log: str = ""  # every computation appends a line here
    seconds: float = 0.0


def toy_payload(config: Toy) -> dict:
    if config.log:
        with open(config.log, "a") as handle:
            handle.write(f"{config.value} {os.getpid()}\n")
    time.sleep(config.seconds)
    return {"square": config.value**2}


def toy_run(value: int, log: str = "", seconds: float = 0.0) -> Run:
    return Run("toy", "faults:toy_payload", Toy(value, log, seconds), 1)


def cache_folder() -> Path:
    return Path(os.environ["LRGAP_CACHE"]) / "toy"


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
