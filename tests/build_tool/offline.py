"""What the tests that install the tool into fresh virtual environments need: tools on PATH, and the
wheelhouse ``make setup`` fills so that pip needs no network (test_action.py, test_hooks.py)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

WHEELHOUSE = Path(os.environ.get("WHEELHOUSE", Path.home() / ".cache" / "nbjekyll" / "wheelhouse"))


def tool(name: str) -> str:
    """The path of a command the test needs; a clear failure (not a skip) when it is missing."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run make setup (pip install -r requirements.txt; "
                    "apt-get install shellcheck)")
    return found


def wheelhouse() -> Path:
    """The wheels of the tool's dependencies and build backend, for pip --no-index --find-links."""
    if not any(WHEELHOUSE.glob("hatchling-*.whl")) or not any(WHEELHOUSE.glob("nbformat-*.whl")):
        pytest.fail(f"no wheelhouse at {WHEELHOUSE} (the tool's dependencies as wheels, for installs "
                    "without the network): run make setup")
    return WHEELHOUSE


def offline_pip() -> dict[str, str]:
    """The environment that keeps pip (and virtualenv) off the network."""
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse()), "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "VIRTUALENV_NO_PERIODIC_UPDATE": "1"}
