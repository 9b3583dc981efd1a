"""Fault injection for tests: Python loads this at start when tests/faults is on PYTHONPATH.

``ROUGHY_FAULT_SLOW_PROBE=<seconds>``: before measuring an asset, the worker writes a file
``probing-<pid>`` into ``ROUGHY_FAULT_DIR`` and sleeps, so that a test can kill it mid-job.
The product's code is untouched: the probe is wrapped when ``roughy.assets.tasks`` is imported.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

TARGET = "roughy.assets.tasks"


def _slow(probe: Any, seconds: float, marks: Path) -> Any:
    def slow_probe(path: Path) -> Any:
        (marks / f"probing-{os.getpid()}").write_text(str(path))
        time.sleep(seconds)
        return probe(path)

    return slow_probe


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    def __init__(self, seconds: float, marks: Path) -> None:
        self.seconds, self.marks = seconds, marks

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None
        loader = spec.loader
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            module.probe = _slow(module.probe, self.seconds, self.marks)  # type: ignore[attr-defined]

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if seconds := os.environ.get("ROUGHY_FAULT_SLOW_PROBE"):
    sys.meta_path.insert(0, _PatchAfterImport(float(seconds), Path(os.environ["ROUGHY_FAULT_DIR"])))
