"""Fixtures for the tests that keep the articles' claims true.

A notebook states its checkable claims in a last cell tagged ``remove-cell`` that prints
one line ``CLAIMS {json}``. ``notebook_claims(name)`` executes the notebook (reusing the
build tool's cached execution when it is up to date) and returns that JSON as a dict.
"""
import json
import subprocess
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


def _tracked_files() -> dict:
    """The bytes of every file git tracks under notebooks/ (empty outside a git checkout)."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "notebooks"], cwd=SITE, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return {}
    paths = [SITE / name for name in listed.stdout.decode().split("\0") if name]
    return {path: path.read_bytes() for path in paths if path.is_file()}


def _execute(path: Path):
    """The notebook as the build executes it: from the build's cache when that is current.

    A notebook may write files beside it (the CNTK post writes results/cntk-one-step.json, which
    the repository tracks). A test run changes no tracked file: what an execution here wrote over
    one is put back, and the tests compare the run with the committed file through the run's own
    record of what it wrote (its claims)."""
    from nbjekyll.api import executed_notebook
    before = _tracked_files()
    try:
        return executed_notebook(SITE, path)
    finally:
        for tracked, data in before.items():
            if not tracked.exists() or tracked.read_bytes() != data:
                tracked.write_bytes(data)


_cache: dict = {}


@pytest.fixture(scope="session")
def notebook_claims():
    def load(name: str) -> dict:
        if name not in _cache:
            _cache[name] = _claims_from(_execute(NOTEBOOKS / name))
        return _cache[name]
    return load


@pytest.fixture(scope="session")
def executed_notebook():
    """executed_notebook(name): the executed notebook, as notebook_claims gets it."""
    found: dict = {}

    def load(name: str):
        if name not in found:
            found[name] = _execute(NOTEBOOKS / name)
        return found[name]
    return load
