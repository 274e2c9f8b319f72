"""Failure memory: a notebook whose run failed is not run again while its inputs are the same."""
from __future__ import annotations

import json
from pathlib import Path

from ..config import Config
from ..sources import SourceNotebook
from ..files import atomic_write
from .keys import Inputs


class FailureMemory:
    """The last failed run of each notebook, so an unchanged failing notebook is not run again.

    A cell error or timeout is deterministic for the same inputs (an endless loop cost its full
    timeout on every build); a kernel that would not start is not remembered, it may start next time.
    """

    def __init__(self, config: Config):
        self.root = config.build_dir / "failures"

    def _path(self, source: SourceNotebook) -> Path:
        return self.root / f"{source.cache_name}.json"

    def recall(self, source: SourceNotebook, inputs: Inputs, timeout: int) -> dict | None:
        """The failure of a run with these inputs and this cell timeout (a longer one may be enough)."""
        try:
            failure = json.loads(self._path(source).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        same = (isinstance(failure, dict) and failure.get("execution_key") == inputs.execution_key()
                and failure.get("timeout") == timeout)
        return failure if same and isinstance(failure.get("message"), str) else None

    def remember(self, source: SourceNotebook, inputs: Inputs, timeout: int, message: str, when: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write(self._path(source), json.dumps({"execution_key": inputs.execution_key(), "timeout": timeout,
                                                     "message": message, "at": when}, indent=1).encode("utf-8"))

    def forget(self, source: SourceNotebook) -> None:
        try:
            self._path(source).unlink()
        except FileNotFoundError:
            pass

