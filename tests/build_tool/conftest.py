"""The `site` fixture: a throwaway Jekyll site in tmp_path (see buildsite.py)."""
import pytest

from buildsite import Site


@pytest.fixture
def site(tmp_path, capsys) -> Site:
    return Site(tmp_path / "site", capsys)
