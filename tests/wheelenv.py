"""The tool as a user installs it: its wheel, made with `python -m build` in the checkout, in a fresh virtual
environment, from the wheelhouse `make setup` fills (`~/.cache/nbjekyll/wheelhouse` or $NBJEKYLL_WHEELHOUSE),
with `pip --no-index`: the tests never use the network."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WHEELHOUSE = Path(os.environ.get("NBJEKYLL_WHEELHOUSE") or Path.home() / ".cache" / "nbjekyll" / "wheelhouse")


def clean_env(**extra: str) -> dict[str, str]:
    """The shell of a person who has only the virtual environment: no PYTHONPATH, no checkout on the path."""
    keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "JEKYLL_NO_BUNDLER_REQUIRE")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    env.update(extra)
    return env


def build_wheel(out: Path) -> Path:
    """`python -m build --wheel` run in the checkout, as the README says (build.py hands over to PyPA's build)."""
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    wheels = list(out.glob("nbjekyll-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def make_venv(folder: Path, *packages: str) -> Path:
    """A fresh virtual environment (no system site packages) with ``packages`` installed offline."""
    if not WHEELHOUSE.is_dir():
        pytest.fail(f"no wheelhouse at {WHEELHOUSE}: make setup fills it (the tests never use the network)")
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    done = subprocess.run([str(folder / "bin" / "pip"), "install", "--no-index", "--find-links", str(WHEELHOUSE),
                           "--disable-pip-version-check", "--quiet", *packages],
                          capture_output=True, text=True, env=clean_env())
    assert done.returncode == 0, done.stdout + done.stderr
    return folder
