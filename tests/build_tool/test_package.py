"""The tool as a user gets it: a wheel made with `python -m build`, installed into a fresh virtual
environment that has nothing else, works there (the console script, `python -m nbjekyll`, a real build).
Nothing is fetched (see tests/wheelenv.py); tests/site/test_any_theme.py takes the same wheel through
`nbjekyll init`, a build, `jekyll build` and Chromium."""
from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from buildsite import NOTEBOOKS
from nbjekyll import __version__
from wheelenv import clean_env, make_venv

# What the tool itself needs, and nothing of what this series' notebooks import.
DEPENDENCIES = {"nbformat", "nbclient", "jupyter-client", "jupyter-core", "ipykernel", "jinja2", "pyyaml"}


@pytest.fixture(scope="module")
def wheel(nbjekyll_wheel) -> Path:
    return nbjekyll_wheel


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    return make_venv(tmp_path_factory.mktemp("venv") / "v", str(wheel))


def test_the_wheel_carries_the_templates_scripts_and_console_script(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(f"nbjekyll-{__version__}.dist-info/entry_points.txt").decode()
    assert {"nbjekyll/templates/post.md.j2", "nbjekyll/templates/provenance.liquid", "nbjekyll/static/interactive.js",
            "nbjekyll/__main__.py", "nbjekyll/cli.py", "nbjekyll/kit/workflow.yml",
            "nbjekyll/kit/site/_includes/nbjekyll/head.html", "nbjekyll/kit/site/assets/nbjekyll/nbjekyll.css",
            "nbjekyll/kit/site/assets/nbjekyll/mathjax/tex-chtml.js"} <= names
    assert "[console_scripts]\nnbjekyll = nbjekyll.cli:console" in entry_points
    assert not any(name.startswith(("tests/", "notebooks/", "_posts/")) for name in names)


def test_the_wheel_declares_only_the_tools_own_dependencies(wheel):
    with zipfile.ZipFile(wheel) as archive:
        metadata = Parser().parsestr(archive.read(f"nbjekyll-{__version__}.dist-info/METADATA").decode())
    requirements = metadata.get_all("Requires-Dist")
    names = {re.split(r"[<>=!~;\[ ]", requirement)[0].lower().replace("_", "-")  # PEP 503 names
             for requirement in requirements if "extra ==" not in requirement}
    assert names == DEPENDENCIES
    # text notebooks (.py, .md) need jupytext, an extra: pip install 'nbjekyll[text]'
    assert metadata.get_all("Provides-Extra") == ["text"]
    assert [r for r in requirements if "extra ==" in r] == ["jupytext>=1.16; extra == 'text'"]


def test_the_fresh_environment_has_nothing_but_the_tool_and_its_dependencies(venv):
    done = subprocess.run([str(venv / "bin" / "python"), "-c", "import numpy"], capture_output=True, text=True,
                          env=clean_env())
    assert done.returncode == 1 and "No module named 'numpy'" in done.stderr


def test_version_from_the_console_script_and_python_m(venv, tmp_path):
    for command in ([str(venv / "bin" / "nbjekyll")], [str(venv / "bin" / "python"), "-m", "nbjekyll"]):
        done = subprocess.run([*command, "--version"], capture_output=True, text=True, cwd=tmp_path,
                              env=clean_env())
        assert (done.returncode, done.stdout) == (0, f"nbjekyll {__version__}\n"), done.stderr


def test_a_usage_error_names_the_command_that_was_run(venv, tmp_path):
    done = subprocess.run([str(venv / "bin" / "nbjekyll"), "build", "--jobs", "0"], capture_output=True,
                          text=True, cwd=tmp_path, env=clean_env())
    assert done.returncode == 2
    assert done.stderr.endswith("error: nbjekyll build: argument --jobs: expected a positive whole number, got '0'\n")


def test_the_installed_tool_builds_a_site_outside_the_checkout(venv, tmp_path):
    site = tmp_path / "blog"
    (site / "notebooks").mkdir(parents=True)
    (site / "_config.yml").write_text("title: A blog\n")
    shutil.copy(NOTEBOOKS / "math.ipynb", site / "notebooks" / "2024-01-02-math.ipynb")
    nbjekyll = str(venv / "bin" / "nbjekyll")
    done = subprocess.run([nbjekyll, "build", "--site", "blog"], capture_output=True, text=True, cwd=tmp_path,
                          env=clean_env())
    assert done.returncode == 0, done.stdout + done.stderr
    post = (site / "_posts" / "2024-01-02-math.md").read_text()
    assert "\\frac{\\partial L}{\\partial z} = o - t" in post  # the LaTeX output the kernel produced
    checked = subprocess.run([nbjekyll, "check", "--site", "blog"], capture_output=True, text=True, cwd=tmp_path,
                             env=clean_env())
    assert (checked.returncode, checked.stdout) == (0, "1 notebook checked: all posts current\n"), checked.stderr


def test_hints_of_the_installed_tool_name_nbjekyll(venv, tmp_path):
    site = tmp_path / "blog"
    (site / "notebooks").mkdir(parents=True)
    (site / "_config.yml").write_text("title: A blog\n")
    shutil.copy(NOTEBOOKS / "math.ipynb", site / "notebooks" / "2024-01-02-math.ipynb")
    done = subprocess.run([str(venv / "bin" / "nbjekyll"), "check", "--site", "blog"], capture_output=True,
                          text=True, cwd=tmp_path, env=clean_env())
    assert done.returncode == 1
    assert done.stdout == ("_posts/2024-01-02-math.md: missing; run nbjekyll build --site blog "
                           "notebooks/2024-01-02-math.ipynb\n1 notebook checked: 1 problem\n")
