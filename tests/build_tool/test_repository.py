"""The repository itself is a working site: its committed posts are current against its notebooks."""
import subprocess
import sys

from buildsite import ROOT


def test_committed_posts_are_current_and_notebooks_output_free():
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.endswith("all posts current\n")
