""".pre-commit-hooks.yaml, as a blog's author meets it: ``pre-commit try-repo``, then ``git commit``.

pre-commit clones this repository at a commit (a snapshot of the working tree, uncommitted changes
included, made in a temporary clone), makes its own virtual environment and pip-installs the tool
there, from the wheelhouse ``make setup`` fills, with no network. try-repo does that on every call
(its store is temporary), so it is tried once; the other tests commit through hooks that
``pre-commit install`` put in the blog's repository, listed in its .pre-commit-config.yaml, whose
environment is made once. The blog's posts are built with this checkout's tool, the one the snapshot
holds, so the hook's nbjekyll and the posts' agree.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from buildsite import NOTEBOOKS, ROOT
from offline import offline_pip, tool

NOTEBOOK = "notebooks/2021-01-01-first.ipynb"
POST = "_posts/2021-01-01-first.md"
GIT = ["git", "-c", "user.name=nbjekyll-test", "-c", "user.email=test@nbjekyll.invalid", "-c", "init.defaultBranch=main",
       "-c", "commit.gpgsign=false"]


def hooks() -> dict[str, dict]:
    return {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}


def status(output: str, name: str) -> str:
    """What pre-commit reported for the hook named ``name``: Passed, Failed or Skipped."""
    found = re.findall(rf"^{re.escape(name)}(?: \(.*\))?\.+(?:\(no files to check\))?(Passed|Failed|Skipped)$",
                       output, re.MULTILINE)
    assert len(found) == 1, output
    return found[0]


def git(cwd: Path, *args: str, env: dict | None = None) -> str:
    done = subprocess.run([*GIT, *args], cwd=cwd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


@pytest.fixture(scope="module")
def hook_repository(tmp_path_factory) -> tuple[Path, str]:
    """A clone of this repository with one more commit: the working tree as it is now."""
    clone = tmp_path_factory.mktemp("hook-repo") / "nbjekyll"
    git(ROOT.parent, "clone", "-q", "--no-checkout", str(ROOT), str(clone))
    tree = {"GIT_DIR": str(clone / ".git"), "GIT_WORK_TREE": str(ROOT)}
    env = {**os.environ, **tree}
    git(ROOT, "add", "-A", env=env)  # the index is the clone's: this checkout's own is left alone
    git(ROOT, "commit", "-q", "--allow-empty", "-m", "the working tree, for pre-commit try-repo", env=env)
    return clone, git(clone, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def pre_commit_env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("pre-commit-home")
    return {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never", **offline_pip()}


class Blog:
    """A blog in its own git repository, its author committing through pre-commit's hooks."""

    def __init__(self, root: Path, repository: tuple[Path, str], env: dict[str, str]):
        self.root, (self.hook_repo, self.rev), self.env = root, repository, env
        (root / "notebooks").mkdir(parents=True)
        (root / "_config.yml").write_text("title: My notebook blog\ntheme: minima\nexclude: [notebooks/]\n",
                                          encoding="utf-8")
        (root / ".gitignore").write_text("_build/\n_site/\n.jekyll-cache/\n", encoding="utf-8")
        git(root, "init", "-q")
        git(root, "add", "_config.yml", ".gitignore")
        git(root, "commit", "-q", "-m", "a blog")

    def notebook(self, code: str, outputs: bool) -> None:
        nb = json.loads((NOTEBOOKS / "title_from_heading.ipynb").read_text(encoding="utf-8"))
        cell = nb["cells"][1]
        cell["source"] = [code]
        if outputs:  # as saved from Jupyter after running it
            cell["execution_count"] = 1
            cell["outputs"] = [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                                "data": {"text/plain": [str(eval(code))]}}]
        (self.root / NOTEBOOK).write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")

    def build(self) -> None:
        """The author builds the posts with the tool, as this checkout has it."""
        done = subprocess.run([sys.executable, "-m", "nbjekyll", "build", "--site", str(self.root)],
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert done.returncode == 0, done.stdout + done.stderr

    def try_hook(self, hook_id: str) -> subprocess.CompletedProcess:
        """``git add -A``, then ``pre-commit try-repo`` runs the hook on what is staged."""
        git(self.root, "add", "-A")
        return subprocess.run([tool("pre-commit"), "try-repo", str(self.hook_repo), hook_id, "--ref", self.rev],
                              cwd=self.root, capture_output=True, text=True, env=self.env)

    def install(self) -> None:
        """The hooks in .pre-commit-config.yaml, and ``pre-commit install``: from now on, git commit runs them."""
        config = {"repos": [{"repo": str(self.hook_repo), "rev": self.rev,
                             "hooks": [{"id": "nbjekyll-strip"}, {"id": "nbjekyll-check"}]}]}
        (self.root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        done = subprocess.run([tool("pre-commit"), "install"], cwd=self.root, capture_output=True, text=True,
                              env=self.env)
        assert done.returncode == 0, done.stdout + done.stderr

    def commit(self, message: str) -> subprocess.CompletedProcess:
        """``git add -A && git commit``, the hooks running as the commit's pre-commit hook (whose report
        git passes on, on stdout and stderr: joined here in stdout)."""
        git(self.root, "add", "-A")
        return subprocess.run([*GIT, "commit", "-q", "-m", message], cwd=self.root, text=True, env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.fixture
def blog(tmp_path, hook_repository, pre_commit_env) -> Blog:
    return Blog(tmp_path / "blog", hook_repository, pre_commit_env)


def test_the_hooks_are_declared_for_pre_commit():
    declared = hooks()
    assert set(declared) == {"nbjekyll-strip", "nbjekyll-check"}
    assert {hook["language"] for hook in declared.values()} == {"python"}
    assert declared["nbjekyll-strip"]["entry"] == "nbjekyll strip"
    assert declared["nbjekyll-check"]["entry"] == "nbjekyll check"
    assert declared["nbjekyll-check"]["pass_filenames"] is False


def test_strip_fails_on_a_notebook_with_outputs_strips_it_then_passes(blog):
    """With try-repo, as one tries hooks before adding them to .pre-commit-config.yaml."""
    blog.notebook("1 + 1", outputs=True)
    first = blog.try_hook("nbjekyll-strip")
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout
    assert f"{NOTEBOOK}: outputs removed" in first.stdout
    cell = json.loads((blog.root / NOTEBOOK).read_text(encoding="utf-8"))["cells"][1]
    assert (cell["outputs"], cell["execution_count"], cell["source"]) == ([], None, ["1 + 1"])
    assert status(first.stdout, "nbjekyll strip") == "Failed"
    again = blog.try_hook("nbjekyll-strip")
    assert again.returncode == 0, again.stdout + again.stderr
    assert status(again.stdout, "nbjekyll strip") == "Passed"


def test_a_commit_of_a_notebook_with_outputs_is_stopped_and_the_next_goes_through(blog):
    blog.install()
    blog.notebook("1 + 1", outputs=True)
    blog.build()
    stopped = blog.commit("a first post")
    assert stopped.returncode == 1, stopped.stdout + stopped.stderr
    assert status(stopped.stdout, "nbjekyll strip") == "Failed"
    assert "files were modified by this hook" in stopped.stdout
    assert json.loads((blog.root / NOTEBOOK).read_text(encoding="utf-8"))["cells"][1]["outputs"] == []
    done = blog.commit("a first post")
    assert done.returncode == 0, done.stdout + done.stderr
    committed = git(blog.root, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert {NOTEBOOK, POST} <= set(committed), committed
    assert '"outputs": []' in git(blog.root, "show", f"HEAD:{NOTEBOOK}")


def test_strip_leaves_notebooks_outside_the_notebooks_folder_alone(blog):
    """files: ^_?notebooks/ — a notebook elsewhere in the repository is no post's source."""
    blog.install()
    blog.notebook("1 + 1", outputs=True)
    (blog.root / NOTEBOOK).rename(blog.root / "scratch.ipynb")
    done = blog.commit("a scratch notebook")
    assert done.returncode == 0, done.stdout + done.stderr
    assert status(done.stdout, "nbjekyll strip") == "Skipped"
    assert json.loads((blog.root / "scratch.ipynb").read_text(encoding="utf-8"))["cells"][1]["outputs"]


def test_check_fails_naming_a_stale_post_and_passes_when_it_is_current(blog):
    blog.install()
    blog.notebook("1 + 1", outputs=False)
    blog.build()
    assert blog.commit("a first post").returncode == 0
    blog.notebook("2 + 2", outputs=False)  # the author edits the notebook and forgets to build
    stale = blog.commit("a better example")
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert status(stale.stdout, "nbjekyll check") == "Failed"
    assert status(stale.stdout, "nbjekyll strip") == "Passed"
    assert f"{POST}: stale against {NOTEBOOK} (" in stale.stdout
    assert "1 notebook checked: 1 problem" in stale.stdout
    blog.build()
    again = blog.commit("a better example")
    assert again.returncode == 0, again.stdout + again.stderr
    assert status(again.stdout, "nbjekyll check") == "Passed"
    assert "2 + 2" in git(blog.root, "show", f"HEAD:{NOTEBOOK}")
