"""Kernels a site declares for itself: made by --setup-kernels, keyed into the cache, skipped where missing."""
import platform

import nbformat
import pytest

PYTHON = ".".join(platform.python_version_tuple()[:2])

MISSING = """\
  kernels:
    py-missing:
      python: "2.1"
      requirements: requirements-missing.txt
      system_packages: [libfoo1]
"""

OWN = f"""\
  kernels:
    py-own:
      python: "{PYTHON}"
      requirements: requirements-own.txt
      system_site_packages: true
"""

SKIP_LINE = ("notebooks/2021-01-01-elsewhere.ipynb: skipped: kernel 'py-missing' is not set up (it needs "
             "Python 2.1, libfoo1); create it with python build.py --site {site} --setup-kernels\n")


def declare(site, kernels: str, requirements: str, text: str = "# nothing beyond the build's packages\n"):
    config = site.root / "_config.yml"
    config.write_text(config.read_text() + kernels)
    (site.root / requirements).write_text(text)


def set_kernel(path, name):
    nb = nbformat.read(path, as_version=4)
    nb.metadata.kernelspec.name = name
    nbformat.write(nb, path)


@pytest.fixture
def not_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)


def test_missing_kernel_is_skipped_in_one_line_and_the_post_kept(site, not_ci):
    declare(site, MISSING, "requirements-missing.txt")
    path = site.add("declared_kernel_missing.ipynb", "2021-01-01-elsewhere.ipynb")
    set_kernel(path, "python3")
    assert site.build().code == 0                       # the post as another machine committed it
    before = site.snapshot()
    set_kernel(path, "py-missing")
    run = site.build()
    assert run.code == 0
    assert SKIP_LINE.format(site=site.root) in run.err
    assert run.err.count("\n") == 1
    assert "1 notebook: 0 ok, 1 skipped, 0 failed" in run.out
    assert "2021-01-01-elsewhere.ipynb  skipped" in run.out
    assert site.snapshot() == before


@pytest.mark.parametrize("how", ["--strict", "CI=true"])
def test_missing_kernel_fails_when_strict(site, monkeypatch, how):
    declare(site, MISSING, "requirements-missing.txt")
    site.add("declared_kernel_missing.ipynb", "2021-01-01-elsewhere.ipynb")
    monkeypatch.delenv("CI", raising=False)
    if how == "CI=true":
        monkeypatch.setenv("CI", "true")
    run = site.build(*([how] if how == "--strict" else []))
    assert run.code == 1
    assert SKIP_LINE.format(site=site.root) in run.err
    assert "error: 1 notebook skipped, and --strict (or CI=true) makes that a failure" in run.err
    assert not (site.root / "_posts").exists()


def test_explain_says_the_notebook_will_be_skipped(site, not_ci):
    declare(site, MISSING, "requirements-missing.txt")
    site.add("declared_kernel_missing.ipynb", "2021-01-01-elsewhere.ipynb")
    run = site.build("--explain")
    assert ("notebooks/2021-01-01-elsewhere.ipynb: needs executing (never built), but will be skipped: "
            "kernel 'py-missing' is not set up") in run.out


def test_setup_without_the_interpreter_warns_or_fails_when_strict(site, not_ci):
    declare(site, MISSING, "requirements-missing.txt")
    run = site.build("--setup-kernels")
    assert run.code == 0
    assert "warning: kernel 'py-missing': no Python 2.1 found (looked in " in run.err
    assert "python2.1 on PATH); install it, e.g. pyenv install 2.1; notebooks using it will be skipped" in run.err
    strict = site.build("--setup-kernels", "--strict")
    assert strict.code == 1
    assert "error: kernel 'py-missing': no Python 2.1 found" in strict.err


def test_kernel_settings_are_validated_together(site):
    config = site.root / "_config.yml"
    config.write_text(config.read_text() + "  kernels:\n    py-bad:\n      python: three\n      colour: red\n"
                                           "      library_links: [libx.so]\n    python3:\n      python: '3'\n"
                                           "      requirements: r.txt\n")
    run = site.build()
    assert run.code == 2
    assert run.err.splitlines()[1:] == [
        "  Config value 'nbjekyll.kernels.py-bad.colour': unknown setting (known: python, requirements, "
        "display_name, pip, library_links, env, imports, system_packages, system_site_packages)",
        "  Config value 'nbjekyll.kernels.py-bad.python': expected a Python version such as \"3.6\", got 'three'",
        "  Config value 'nbjekyll.kernels.py-bad.requirements': expected a file name, got None",
        "  Config value 'nbjekyll.kernels.py-bad.library_links': expected a mapping of strings to strings, "
        "got ['libx.so']",
        "  Config value 'nbjekyll.kernels.python3': the build's own kernel; declare another name",
    ]


def test_changed_kernel_requirements_rerun_exactly_its_notebooks(site, not_ci):
    declare(site, OWN, "requirements-own.txt")
    site.add("declared_kernel.ipynb", "2021-01-01-own.ipynb")
    site.add("title_from_heading.ipynb", "2021-01-02-default.ipynb")

    made = site.build("--setup-kernels")
    assert made.code == 0, made.err
    assert f"kernel py-own: created (Python {platform.python_version()}, requirements-own.txt)" in made.out
    assert "kernel py-own: up to date" in site.build("--setup-kernels").out
    first = site.build()
    assert first.code == 0, first.err
    own_post = site.post("2021-01-01-own")
    assert "venv" in own_post                                  # it ran in the kernel's own environment
    assert f"python: {platform.python_version()}" in own_post

    (site.root / "requirements-own.txt").write_text("# a pin changed\n")
    check = site.build("--check")
    assert check.code == 1
    assert "_posts/2021-01-01-own.md: stale against notebooks/2021-01-01-own.ipynb (requirements-own.txt changed)" \
        in check.out
    assert "2021-01-02-default" not in check.out
    stale = site.build()
    assert ("notebooks/2021-01-01-own.ipynb: skipped: kernel 'py-own' is out of date (its requirements changed "
            f"since it was set up); update it with python build.py --site {site.root} --setup-kernels") in stale.err

    assert "kernel py-own: created" in site.build("--setup-kernels").out
    again = site.build()
    assert again.code == 0, again.err
    assert "notebooks/2021-01-01-own.ipynb: executing 1 code cell (requirements-own.txt changed)" in again.out
    assert "notebooks/2021-01-02-default.ipynb: up to date" in again.out
    assert "2 notebooks: 2 ok, 0 failed" in again.out
