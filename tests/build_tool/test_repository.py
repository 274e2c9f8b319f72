"""The repository itself is a working site: its committed posts are current against its notebooks."""
import subprocess
import sys

from buildsite import ROOT


def test_committed_posts_are_current_and_notebooks_output_free():
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.endswith("all posts current\n")


def test_no_post_contains_a_path_of_the_machine_that_built_it():
    import os
    machine = [str(ROOT), sys.prefix, os.path.expanduser("~") + "/", "~/.", "site-packages", "/tmp/"]
    found = [(post.name, path) for post in sorted((ROOT / "_posts").glob("*.md"))
             for path in machine if path in post.read_text(encoding="utf-8")]
    assert found == []


def test_no_output_line_is_wider_than_a_page():
    """Outputs are fenced text blocks; a line of 2,000 characters makes the reader scroll for ever."""
    import re
    wide = []
    for post in sorted((ROOT / "_posts").glob("*.md")):
        for block in re.findall(r"^```+text\n(.*?)^```+\n\{: \.output", post.read_text(encoding="utf-8"), re.M | re.S):
            wide += [(post.name, len(line)) for line in block.splitlines() if len(line) > 120]
    assert wide == []
