"""A run as a plain, picklable unit of work: what to compute (a "module:function" runner), its
frozen config and the protocol version of its kind. Executing it goes through the results cache,
so any process can run it."""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from . import results


@dataclasses.dataclass(frozen=True)
class Run:
    kind: str  # cache namespace, e.g. "convex_gaussian"
    runner: str  # "package.module:function", called as function(config) -> JSON payload
    config: Any  # a frozen dataclass defined at module level (so it pickles)
    protocol: int  # the kind's protocol version: bump it when the runner's numbers change

    @property
    def key(self) -> str:
        return results.config_key(self.kind, self.config, self.protocol)

    def lookup(self) -> results.Result | None:
        return results.lookup(self.kind, self.config, self.protocol)

    def execute(self) -> results.Result:
        module_name, function_name = self.runner.split(":")
        function = getattr(importlib.import_module(module_name), function_name)
        return results.cached(self.kind, self.config, lambda: function(self.config), self.protocol)


def execute_run(run: Run) -> results.Result:
    """Module-level entry point for executors (pickled by reference)."""
    return run.execute()
