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
    """The notebook as the build executes it: from the build's cache when that is current."""
    from nbjekyll.api import executed_notebook
    return executed_notebook(SITE, path)


_cache: dict = {}


@pytest.fixture(scope="session")
def notebook_claims():
    def load(name: str) -> dict:
        if name not in _cache:
            _cache[name] = _claims_from(_execute(NOTEBOOKS / name))
        return _cache[name]
    return load
