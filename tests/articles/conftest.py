"""Fixtures for the tests that keep the articles' claims true.

A notebook states its checkable claims in a last cell tagged ``remove-cell`` that prints
one line ``CLAIMS {json}``. ``notebook_claims(name)`` executes the notebook (reusing the
build tool's cached execution when it is up to date) and returns that JSON as a dict.
"""
import json
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parents[2]
NOTEBOOKS = SITE / "notebooks"


def _claims_from(nb) -> dict:
    for cell in reversed(nb.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                for line in output["text"].splitlines():
                    if line.startswith("CLAIMS "):
                        return json.loads(line[len("CLAIMS "):])
    raise AssertionError("the notebook printed no 'CLAIMS {json}' line")


def _execute(path: Path):
    """Execute a notebook the way the build does (same kernel set-up), or reuse the cache."""
    try:
        from nbjekyll.api import executed_notebook  # the build tool, when it offers this
    except ImportError:
        import nbformat
        from nbclient import NotebookClient

        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        return nb
    return executed_notebook(SITE, path)


_cache: dict = {}


@pytest.fixture(scope="session")
def notebook_claims():
    def load(name: str) -> dict:
        if name not in _cache:
            _cache[name] = _claims_from(_execute(NOTEBOOKS / name))
        return _cache[name]
    return load
