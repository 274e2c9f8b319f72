"""A throwaway Jekyll site for a test, and a way to run the build tool on it as a user would.

(A module of its own, not conftest.py, so that test files can import it by a name no other
test folder uses.)
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from nbjekyll.cli import main

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"

CONFIG = """\
title: Test site
baseurl: "/blog"
url: "http://127.0.0.1"
theme: minima
markdown: kramdown
kramdown:
  input: GFM
  math_engine: mathjax
  syntax_highlighter: rouge
  hard_wrap: false
exclude: [notebooks/, _build/]
nbjekyll:
  timeout: 60
"""


@dataclass
class Run:
    code: int
    out: str
    err: str


class Site:
    def __init__(self, root: Path, capsys):
        self.root = root
        self.capsys = capsys
        (root / "notebooks").mkdir(parents=True)
        (root / "_config.yml").write_text(CONFIG)

    def add(self, test_notebook: str, as_name: str) -> Path:
        """Copy a behaviour notebook from tests/build_tool/notebooks into the site under a post name."""
        target = self.root / "notebooks" / as_name
        shutil.copy(NOTEBOOKS / test_notebook, target)
        if test_notebook == "images_and_links.ipynb" and not (self.root / "notebooks" / "figures").exists():
            shutil.copytree(NOTEBOOKS / "figures", self.root / "notebooks" / "figures")
        return target

    def build(self, *args: str) -> Run:
        """Run the command line in this process (a real kernel still runs each notebook)."""
        self.capsys.readouterr()
        code = main(["--site", str(self.root), *args])
        captured = self.capsys.readouterr()
        return Run(code, captured.out, captured.err)

    def build_subprocess(self, *args: str, **kwargs) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, str(ROOT / "build.py"), "--site", str(self.root), *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)

    def post(self, name: str) -> str:
        return (self.root / "_posts" / f"{name}.md").read_text(encoding="utf-8")

    def snapshot(self) -> dict[str, bytes]:
        """Every file the build wrote for readers: posts and images."""
        files = {}
        for folder in ("_posts", "img"):
            for path in sorted((self.root / folder).rglob("*")):
                if path.is_file():
                    files[path.relative_to(self.root).as_posix()] = path.read_bytes()
        return files


def jekyll_available() -> bool:
    return shutil.which("jekyll") is not None


def require_jekyll():
    if not jekyll_available():
        if os.environ.get("CI") == "true":
            pytest.fail("jekyll is not installed, and CI=true requires it (apt-get install jekyll …)")
        pytest.skip("jekyll is not installed: apt-get install --no-install-recommends jekyll "
                    "jekyll-theme-minima ruby-kramdown-parser-gfm ruby-rouge")
