"""The command line contract: arguments, exit statuses, configuration errors, what a person sees."""
import subprocess
import sys

from buildsite import ROOT


def test_usage_error_exits_2_without_traceback(site):
    run = site.build("--timeout", "0")
    assert run.code == 2
    assert "build.py: argument --timeout: expected a positive whole number, got '0'" in run.err
    assert "Traceback" not in run.err


def test_unknown_flag_exits_2(site):
    run = site.build("--frobnicate")
    assert run.code == 2
    assert "unrecognized arguments: --frobnicate" in run.err


def test_notebook_outside_the_notebook_folder_is_a_usage_error(site, tmp_path):
    stray = tmp_path / "2021-01-01-stray.ipynb"
    stray.write_text("{}")
    run = site.build(str(stray))
    assert run.code == 2
    assert f"error: {stray}: not in the site's notebook folder (notebooks/)" in run.err


def test_missing_notebook_is_a_usage_error(site):
    run = site.build("notebooks/2021-01-01-nothing.ipynb")
    assert run.code == 2
    assert "error: notebooks/2021-01-01-nothing.ipynb: no such notebook" in run.err


def test_only_the_named_notebooks_are_built(site):
    site.add("title_from_heading.ipynb", "2021-01-01-one.ipynb")
    site.add("title_from_heading.ipynb", "2021-01-02-two.ipynb")
    run = site.build("notebooks/2021-01-02-two.ipynb")
    assert run.code == 0
    assert sorted(p.name for p in (site.root / "_posts").iterdir()) == ["2021-01-02-two.md"]


def test_every_config_problem_is_reported_at_once(site):
    (site.root / "_config.yml").write_text(
        "title: x\nnbjekyll:\n  timeout: -1\n  posts_dir: ../elsewhere\n  colour: blue\n"
        "  images_dir: img\n  build_dir: img\n  front_matter: [1]\n")
    run = site.build()
    assert run.code == 2
    assert run.err == (
        "error: _config.yml: invalid configuration:\n"
        "  Config value 'nbjekyll.colour': unknown setting (known: notebooks_dir, posts_dir, images_dir, "
        "build_dir, timeout, output_max_lines, front_matter, kernel_env, kernel_requirements, jobs, kernels_dir, provenance_dir, vendor_dir, kernels, "
        "kernel_aliases, strict_kernels, saved_outputs, require_execution, allow_errors, tutorials)\n"
        "  Config value 'nbjekyll.posts_dir': must be a folder inside the site, got '../elsewhere'\n"
        "  Config value 'nbjekyll.build_dir': the same folder as 'nbjekyll.images_dir' ('img')\n"
        "  Config value 'nbjekyll.timeout': expected a positive whole number, got -1\n"
        "  Config value 'nbjekyll.front_matter': expected a mapping of default front matter, got [1]\n")


def test_invalid_config_yaml(site):
    (site.root / "_config.yml").write_text("title: x\nbad: [1,\n")
    run = site.build()
    assert run.code == 2
    assert run.err.startswith("error: _config.yml: invalid configuration:\n  line 3: invalid YAML:")


def test_folders_are_configurable(site):
    (site.root / "_config.yml").write_text((site.root / "_config.yml").read_text() +
                                           "  notebooks_dir: src\n  posts_dir: out/posts\n  images_dir: media\n")
    (site.root / "src").mkdir()
    (site.root / "notebooks").rename(site.root / "src" / "unused")
    from buildsite import NOTEBOOKS
    import shutil
    shutil.copy(NOTEBOOKS / "plot.ipynb", site.root / "src" / "2021-01-01-plot.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    text = (site.root / "out" / "posts" / "2021-01-01-plot.md").read_text()
    assert "notebook: src/2021-01-01-plot.ipynb" in text
    assert "{{ '/media/plot/" in text
    assert len(list((site.root / "media" / "plot").iterdir())) == 1


def test_progress_lines_and_summary_table(site):
    site.add("title_from_heading.ipynb", "2021-01-01-one.ipynb")
    run = site.build()
    lines = run.out.splitlines()
    assert lines[0] == "notebooks/2021-01-01-one.ipynb: executing 1 code cell (never built)"
    assert lines[1].startswith("notebooks/2021-01-01-one.ipynb: built in ")
    assert lines[3].split() == ["notebook", "result", "cells", "seconds"]
    assert lines[4].split()[:3] == ["notebooks/2021-01-01-one.ipynb", "built", "1"]
    assert lines[5] == "1 notebook: 1 ok, 0 failed"


def test_build_py_runs_as_a_script_with_help():
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for flag in ("--site", "--timeout", "--force", "--jobs"):
        assert flag in result.stdout


def test_empty_site_builds_nothing_and_succeeds(site):
    run = site.build()
    assert run.code == 0
    assert "no notebooks to build" in run.out


HEAVY = ("asyncio", "nbformat", "nbclient", "nbconvert", "jinja2", "jupyter_client", "zmq", "jsonschema")


def heavy_modules_imported(site, *args, entry: str = "main") -> list[str]:
    """Which of the execution and conversion stack's packages a command line imported (``entry``: build.py's
    ``main``, or ``run``, the ``nbjekyll`` command's)."""
    import subprocess
    import sys
    site_args = ["--site", str(site.root)]
    argv = [*site_args, *args] if entry == "main" else [*args, *site_args]
    code = (f"import sys; from nbjekyll.cli import {entry}; code = {entry}(sys.argv[1:]); "
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return eval(done.stdout.strip().splitlines()[-1])


def test_a_build_with_nothing_to_do_and_check_never_import_the_execution_stack(site):
    site.add("plot.ipynb", "2021-01-01-plot.ipynb")
    site.add("math.ipynb", "2021-01-02-math.ipynb")
    assert site.build().code == 0
    assert heavy_modules_imported(site) == []
    assert heavy_modules_imported(site, "--check") == []
    edited = site.root / "notebooks" / "2021-01-02-math.ipynb"
    edited.write_text(edited.read_text().replace("Inline", "Inline, edited,", 1))
    assert "asyncio" in heavy_modules_imported(site)  # a re-render does need the stack


def test_the_nbjekyll_commands_with_nothing_to_do_never_import_the_execution_stack(site):
    site.add("plot.ipynb", "2021-01-01-plot.ipynb")
    assert site.build().code == 0
    assert heavy_modules_imported(site, "build", entry="run") == []
    assert heavy_modules_imported(site, "check", entry="run") == []


def test_python_m_nbjekyll_names_itself_in_hints(site):
    site.add("math.ipynb", "2021-01-02-math.ipynb")
    done = subprocess.run([sys.executable, "-m", "nbjekyll", "check", "--site", str(site.root)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == (f"_posts/2021-01-02-math.md: missing; run python -m nbjekyll build "
                                           f"--site {site.root} notebooks/2021-01-02-math.ipynb")


def test_a_subcommand_usage_error_names_the_subcommand():
    done = subprocess.run([sys.executable, "-m", "nbjekyll", "shard", "1/2"], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.endswith("error: python -m nbjekyll shard: the following arguments are required: "
                                "--bundle\n")


def test_nbjekyll_without_a_command_says_which_there_are():
    done = subprocess.run([sys.executable, "-m", "nbjekyll"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.endswith("error: python -m nbjekyll: give a command: init, build, check, explain, strip, watch, "
                                "setup-kernels, shard, merge, migrate (`python -m nbjekyll COMMAND --help` lists its "
                                "options)\n")


def test_build_py_and_nbjekyll_build_write_the_same_post(site, capsys):
    from nbjekyll.cli import run
    site.add("title_from_heading.ipynb", "2021-01-01-one.ipynb")
    assert site.build().code == 0
    first = site.snapshot()
    assert run(["build", "--force", "--site", str(site.root)]) == 0
    assert site.snapshot() == first
