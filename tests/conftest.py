"""Shared by every test: the project root on sys.path so `nbjekyll` imports without installing."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:  # tests/wheelenv.py, for the build tool's and the site's tests
    sys.path.insert(0, str(TESTS))

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def nbjekyll_wheel(tmp_path_factory) -> Path:
    """The tool's wheel, made once per run as a user makes it (see tests/wheelenv.py)."""
    from wheelenv import build_wheel
    return build_wheel(tmp_path_factory.mktemp("dist"))
