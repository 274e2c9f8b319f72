"""Errors that are part of the lesson, and the one a build can never answer (``input()``).

With ``allow_errors`` (front matter, or ``nbjekyll.allow_errors`` for the site) a cell that raises shows its
error as Jupyter shows it and the run goes on; the build names those cells in a warning, so an error that
was not meant is still seen. A cell tagged ``raises-exception`` is expected to raise and is not named.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import CellFailure
    from .sources import SourceNotebook

INPUT_ERROR = "StdinNotImplementedError"


def raised_cells(nb: Any, source: "SourceNotebook") -> list[str]:
    """The warning naming the cells that raised, not tagged raises-exception (empty when none did)."""
    if not source.allow_errors or source.saved is not None:
        return []
    found = []
    for index, (cell, options) in enumerate(zip(nb.cells, source.options)):
        if cell.get("cell_type") != "code" or options.has("raises-exception"):
            continue
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        if error is not None and error.get("ename") == INPUT_ERROR:
            found.append(f"cell {index + 1} (input(): a build cannot type an answer)")
        elif error is not None:
            found.append(f"cell {index + 1} ({error.get('ename', '')})")
    if not found:
        return []
    cells = ", ".join(found)
    many = len(found) > 1
    return [f"allow_errors: {cells} raised; {'the errors are' if many else 'the error is'} shown in the post as "
            f"Jupyter shows {'them' if many else 'it'} (tag a cell raises-exception if it is meant to raise)"]


def input_headline(failure: "CellFailure") -> str | None:
    """What to say when a cell asked for input, which no build can type (None for any other error)."""
    if failure.ename != INPUT_ERROR:
        return None
    return ("called input(), but a build cannot type an answer: give the value in the code (or read it from the "
            "notebook's metadata), tag the cell skip-execution or raises-exception, or show the notebook with its "
            "saved outputs (front matter execute: false with execute_reason:)")
