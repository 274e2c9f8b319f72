"""Fast rebuilds: only what changed is executed, every decision is explained, --check and --strip."""
import json
import os
import shutil
import time

import nbformat
import pytest

from buildsite import NOTEBOOKS

NAME = "2021-02-01-deps"
NOTEBOOK = f"notebooks/{NAME}.ipynb"


@pytest.fixture
def deps_site(site):
    site.add("tracks_dependencies.ipynb", f"{NAME}.ipynb")
    for name in ("helper_module.py", "data.txt"):
        shutil.copy(NOTEBOOKS / name, site.root / "notebooks" / name)
    (site.root / "notebooks" / "extra").mkdir()
    (site.root / "notebooks" / "extra" / "a.txt").write_text("declared 1\n")
    (site.root / "requirements.txt").write_text("numpy\n")
    run = site.build()
    assert run.code == 0, run.err
    return site


def runs(site) -> int:
    """How many times the notebook's first code cell has executed (it appends to runs.log)."""
    return (site.root / "notebooks" / "runs.log").read_text().count("run")


def edit(site, position, new_source):
    path = site.root / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    nb.cells[position - 1].source = new_source
    nbformat.write(nb, path)


def explain(site) -> str:
    run = site.build("--explain")
    assert run.code == 0, run.err
    return run.out.strip()


def test_dependencies_are_recorded_in_the_post(deps_site):
    text = deps_site.post(NAME)
    for path in ("notebooks/helper_module.py", "notebooks/data.txt", "notebooks/extra/a.txt"):
        assert f"    {path}: " in text
    assert "notebooks/runs.log:" not in text  # written by the notebook itself: an output, not an input
    assert "module value 1" in text and "data value 1" in text


LINKED = """\
import os, sys
outside = os.environ["NBJEKYLL_TEST_OUTSIDE"]
with open(os.path.join("sub", "..", "dotdot.txt")) as handle:  # a path with '..' in it
    print(handle.read().strip())
with open(os.path.join(outside, "linked-folder", "..", "up.txt")) as handle:  # '..' out of a linked folder
    print(handle.read().strip())
with open(os.path.join(outside, "linked-folder", "in-folder.txt")) as handle:  # a folder linked into the site
    print(handle.read().strip())
with open(os.path.join(outside, "linked-file.txt")) as handle:  # a file linked into the site
    print(handle.read().strip())
sys.path.insert(0, os.path.join(outside, "linked-folder"))
import linked_module  # a module imported through the linked folder
print(linked_module.VALUE)
"""


def test_files_reached_through_links_and_dotdot_are_recorded_by_their_real_path(site, tmp_path):
    notebooks = site.root / "notebooks"
    (notebooks / "sub").mkdir()
    (notebooks / "dotdot.txt").write_text("dotdot 1\n")
    (notebooks / "up.txt").write_text("up 1\n")
    (notebooks / "lib").mkdir()
    (notebooks / "lib" / "in-folder.txt").write_text("in folder 1\n")
    (notebooks / "lib" / "linked_module.py").write_text("VALUE = 'linked module 1'\n")
    (notebooks / "target.txt").write_text("linked file 1\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "linked-folder").symlink_to(notebooks / "lib")
    (outside / "linked-file.txt").symlink_to(notebooks / "target.txt")
    config = site.root / "_config.yml"
    config.write_text(config.read_text() + f"  kernel_env:\n    NBJEKYLL_TEST_OUTSIDE: {outside}\n")
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Links"), nbformat.v4.new_code_cell(LINKED)]
    nbformat.write(nb, notebooks / "2021-02-02-links.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    text = site.post("2021-02-02-links")
    for path in ("notebooks/dotdot.txt", "notebooks/up.txt", "notebooks/lib/in-folder.txt", "notebooks/target.txt",
                 "notebooks/lib/linked_module.py"):
        assert f"    {path}: " in text
    assert "outside" not in text.split("---")[1] and "sub/.." not in text


def test_nothing_changed_means_no_kernel(deps_site):
    assert explain(deps_site) == f"{NOTEBOOK}: up to date"
    run = deps_site.build()
    assert f"{NOTEBOOK}: up to date" in run.out
    assert runs(deps_site) == 1


def test_prose_edit_re_renders_without_executing(deps_site):
    edit(deps_site, 2, "Some *edited* prose.")
    assert explain(deps_site) == f"{NOTEBOOK}: will re-render (Markdown cell 2 changed)"
    run = deps_site.build()
    assert f"{NOTEBOOK}: re-rendering (Markdown cell 2 changed)" in run.out
    assert runs(deps_site) == 1
    assert "Some *edited* prose." in deps_site.post(NAME)
    assert "module value 1" in deps_site.post(NAME)  # outputs come from the cache


def test_presentation_tag_re_renders_without_executing(deps_site):
    path = deps_site.root / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    nb.cells[3].metadata["tags"] = ["remove-input"]
    nbformat.write(nb, path)
    assert explain(deps_site) == f"{NOTEBOOK}: will re-render (code cell 4 changed)"
    deps_site.build()
    assert runs(deps_site) == 1
    assert "import helper_module" not in deps_site.post(NAME)


def test_front_matter_edit_re_renders(deps_site):
    edit(deps_site, 1, '---\ntitle: Dependencies, renamed\ndepends: ["extra/*.txt"]\n---')
    assert explain(deps_site) == f"{NOTEBOOK}: will re-render (the front matter changed)"
    deps_site.build()
    assert runs(deps_site) == 1


def test_code_edit_executes(deps_site):
    edit(deps_site, 4, "import helper_module\nprint(helper_module.VALUE, 'again')")
    assert explain(deps_site) == f"{NOTEBOOK}: will execute (code cell 4 changed)"
    deps_site.build()
    assert runs(deps_site) == 2
    assert "module value 1 again" in deps_site.post(NAME)


def test_imported_module_edit_executes(deps_site):
    (deps_site.root / "notebooks" / "helper_module.py").write_text('VALUE = "module value 2"\n')
    assert explain(deps_site) == f"{NOTEBOOK}: will execute (notebooks/helper_module.py changed)"
    deps_site.build()
    assert runs(deps_site) == 2
    assert "module value 2" in deps_site.post(NAME)


def test_data_file_edit_executes(deps_site):
    (deps_site.root / "notebooks" / "data.txt").write_text("data value 2\n")
    assert explain(deps_site) == f"{NOTEBOOK}: will execute (notebooks/data.txt changed)"
    deps_site.build()
    assert runs(deps_site) == 2
    assert "data value 2" in deps_site.post(NAME)


def test_declared_glob_executes_on_edit_and_on_new_file(deps_site):
    (deps_site.root / "notebooks" / "extra" / "a.txt").write_text("declared 2\n")
    assert explain(deps_site) == f"{NOTEBOOK}: will execute (notebooks/extra/a.txt changed)"
    deps_site.build()
    assert runs(deps_site) == 2
    (deps_site.root / "notebooks" / "extra" / "b.txt").write_text("new\n")
    assert explain(deps_site) == f"{NOTEBOOK}: will execute (notebooks/extra/b.txt added)"
    deps_site.build()
    assert runs(deps_site) == 3


def test_requirements_edit_executes(deps_site):
    (deps_site.root / "requirements.txt").write_text("numpy==2.0\n")
    assert explain(deps_site) == f"{NOTEBOOK}: will execute (requirements.txt changed)"


def test_force_re_executes_only_the_named_notebook(deps_site):
    deps_site.add("title_from_heading.ipynb", "2021-02-02-other.ipynb")
    deps_site.build()
    run = deps_site.build("--force", NOTEBOOK)
    assert f"{NOTEBOOK}: executing 3 code cells (--force)" in run.out
    assert "2021-02-02-other" not in run.out
    assert runs(deps_site) == 2
    run = deps_site.build("--force")
    assert "2021-02-02-other.ipynb: executing 1 code cell (--force)" in run.out
    assert runs(deps_site) == 3


def test_deleted_post_is_re_rendered_from_the_cache(deps_site):
    (deps_site.root / "_posts" / f"{NAME}.md").unlink()
    assert explain(deps_site) == f"{NOTEBOOK}: will re-render (post missing)"
    deps_site.build()
    assert runs(deps_site) == 1


def test_corrupt_cache_is_rebuilt_with_a_warning(deps_site):
    edit(deps_site, 2, "New prose.")
    (deps_site.root / "_build" / "cache" / NAME / "executed.ipynb").write_text("{ not json")
    run = deps_site.build()
    assert (f"{NOTEBOOK}: warning: the cache of {NOTEBOOK} is corrupt (NotJSONError); it will be rebuilt"
            in run.err)
    assert runs(deps_site) == 2
    assert deps_site.build("--explain").out.strip() == f"{NOTEBOOK}: up to date"


def test_cache_from_an_older_format_is_not_trusted(deps_site):
    edit(deps_site, 2, "New prose.")
    record = deps_site.root / "_build" / "cache" / NAME / "record.json"
    data = json.loads(record.read_text())
    data["format"] = 1
    record.write_text(json.dumps(data))
    run = deps_site.build()
    assert f"the cache of {NOTEBOOK} is from an older format (1, now 2); it will be rebuilt" in run.err
    assert runs(deps_site) == 2


def test_jobs_do_not_change_the_output(site):
    for name, as_name in [("plot.ipynb", "2021-01-01-plot.ipynb"), ("math.ipynb", "2021-01-02-math.ipynb"),
                          ("outputs.ipynb", "2021-01-03-outputs.ipynb")]:
        site.add(name, as_name)
    assert site.build("--jobs", "1").code == 0
    one = site.snapshot()
    assert site.build("--jobs", "2", "--force").code == 0
    assert site.snapshot() == one


# -- --check ------------------------------------------------------------------------------------

def check(site):
    """--check run from inside the site, as its author would: hints need no --site."""
    started = time.monotonic()
    here = os.getcwd()
    os.chdir(site.root)
    try:
        run = site.build("--check")
    finally:
        os.chdir(here)
    return run, time.monotonic() - started


def test_hints_name_the_site_when_it_is_not_the_current_folder(deps_site):
    edit(deps_site, 2, "New prose.")
    run = deps_site.build("--check")
    assert f"run python build.py --site {deps_site.root} {NOTEBOOK}\n" in run.out


def test_check_passes_on_a_fresh_build(deps_site):
    run, _ = check(deps_site)
    assert run.code == 0
    assert run.out == "1 notebook checked: all posts current\n"


def test_check_passes_without_the_cache(deps_site):
    shutil.rmtree(deps_site.root / "_build")
    assert check(deps_site)[0].code == 0


@pytest.mark.parametrize("change, reason", [
    (lambda s: edit(s, 2, "Changed prose."), "Markdown, tags, settings or the build tool changed"),
    (lambda s: edit(s, 4, "print(1)"), "code cells, kernel or nbjekyll.kernel_env changed"),
    (lambda s: (s.root / "notebooks" / "helper_module.py").write_text("VALUE = 3\n"),
     "notebooks/helper_module.py changed"),
    (lambda s: (s.root / "notebooks" / "data.txt").write_text("x\n"), "notebooks/data.txt changed"),
    (lambda s: (s.root / "notebooks" / "extra" / "c.txt").write_text("x\n"), "notebooks/extra/c.txt added"),
])
def test_check_reports_each_kind_of_staleness(deps_site, change, reason):
    change(deps_site)
    run, _ = check(deps_site)
    assert run.code == 1
    assert (f"_posts/{NAME}.md: stale against {NOTEBOOK} ({reason}); run python build.py {NOTEBOOK}\n"
            in run.out)


def test_check_reports_missing_posts_orphans_unused_images_and_outputs(deps_site):
    deps_site.add("plot.ipynb", "2021-02-03-plot.ipynb")
    deps_site.build()
    (deps_site.root / "notebooks" / "2021-02-03-plot.ipynb").unlink()
    (deps_site.root / "img" / NAME.split("-", 3)[3]).mkdir(exist_ok=True)
    (deps_site.root / "img" / "deps" / "0123456789abcdef.png").write_bytes(b"x")
    deps_site.add("title_from_heading.ipynb", "2021-02-04-never-built.ipynb")
    path = deps_site.root / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="saved\n")]
    nbformat.write(nb, path)
    run, _ = check(deps_site)
    assert run.code == 1
    assert run.out.splitlines() == [
        f"{NOTEBOOK}: committed with outputs; run python build.py --strip {NOTEBOOK}",
        "img/deps/0123456789abcdef.png: not used by _posts/2021-02-01-deps.md",
        "_posts/2021-02-04-never-built.md: missing; run python build.py notebooks/2021-02-04-never-built.ipynb",
        "_posts/2021-02-03-plot.md: orphan (its notebook notebooks/2021-02-03-plot.ipynb no longer exists)",
        "img/plot/: orphan images (no notebook makes a post with slug 'plot')",
        "_data/provenance/plot.yml: orphan stamp (no notebook makes a post with slug 'plot')",
        "2 notebooks checked: 6 problems",
    ]


def test_strip_removes_outputs_in_place(deps_site):
    path = deps_site.root / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="saved\n")]
    nb.cells[2].execution_count = 3
    nbformat.write(nb, path)
    run = deps_site.build("--strip")
    assert run.code == 0
    assert run.out == f"{NOTEBOOK}: outputs removed\n"
    stripped = nbformat.read(path, as_version=4)
    assert stripped.cells[2].outputs == [] and stripped.cells[2].execution_count is None
    assert deps_site.build("--strip").out == ""
    assert check(deps_site)[0].code == 0


# -- --watch ------------------------------------------------------------------------------------

class Lines:
    """The watcher's standard output, line by line, read in a thread so that waiting has a deadline."""

    def __init__(self, stream):
        import queue
        import threading
        self.lines, self.seen = queue.Queue(), []
        threading.Thread(target=lambda: [self.lines.put(line) for line in stream], daemon=True).start()

    def wait_for(self, text, seconds=120):
        """Block until a line containing `text` arrives (True), or the deadline passes (False)."""
        import queue
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if text in line:
                return True
        return False


def test_watch_rebuilds_on_save_and_when_a_module_changes(deps_site):
    import signal
    process = deps_site.build_subprocess("--watch")
    out = Lines(process.stdout)
    try:
        post = deps_site.root / "_posts" / f"{NAME}.md"
        # said after the first build, once the file times are taken: an edit from now on is seen
        assert out.wait_for("watching notebooks/"), out.seen
        edit(deps_site, 2, "Prose saved while watching.")
        assert out.wait_for("watching again"), out.seen
        assert "Prose saved while watching." in post.read_text()
        assert runs(deps_site) == 1
        (deps_site.root / "notebooks" / "helper_module.py").write_text('VALUE = "watched module"\n')
        assert out.wait_for("watching again"), out.seen
        assert "watched module" in post.read_text()
        assert runs(deps_site) == 2
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        err = process.stderr.read()
    assert process.returncode == 0, err
    assert out.wait_for("stopped watching", seconds=5), out.seen
    assert any("changed: notebooks/2021-02-01-deps.ipynb" in line for line in out.seen), out.seen


def test_exclusive_notebook_runs_alone_with_every_core(site):
    from nbjekyll.config import default_jobs
    site.add("exclusive.ipynb", "2021-03-01-alone.ipynb")
    site.add("shared.ipynb", "2021-03-02-shared-a.ipynb")
    site.add("shared.ipynb", "2021-03-03-shared-b.ipynb")
    assert site.build("--jobs", "2").code == 0
    windows = [line.split() for line in (site.root / "notebooks" / "windows.log").read_text().splitlines()]
    alone = next(w for w in windows if w[0] == "exclusive")
    assert alone[3] == str(default_jobs())
    for other in (w for w in windows if w[0] == "shared"):
        assert float(other[2]) <= float(alone[1]) or float(other[1]) >= float(alone[2])
        assert other[3] == str(max(1, default_jobs() // 2))
    assert "exclusive" not in site.post("2021-03-01-alone").split("---")[1]


def test_kernels_see_only_a_fixed_environment(site, monkeypatch):
    import nbformat as nbf
    (site.root / "_config.yml").write_text((site.root / "_config.yml").read_text() +
                                           "  kernel_env:\n    FROM_CONFIG: configured\n")
    nb = nbf.v4.new_notebook()
    nb.cells = [nbf.v4.new_code_cell("import os\nprint(os.environ.get('LEAKY_SWITCH'), os.environ.get('FROM_CONFIG'),"
                                     " os.environ['PYTHONHASHSEED'])")]
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbf.write(nb, site.root / "notebooks" / "2021-04-01-env.ipynb")
    monkeypatch.setenv("LEAKY_SWITCH", "quick")
    assert site.build().code == 0
    assert "None configured 0" in site.post("2021-04-01-env")
    (site.root / "_config.yml").write_text((site.root / "_config.yml").read_text().replace("configured", "changed"))
    assert site.build("--explain").out.strip() == "notebooks/2021-04-01-env.ipynb: will execute (code cells, kernel or nbjekyll.kernel_env changed)"


def test_every_module_that_writes_a_post_is_part_of_the_tool_digest():
    """A module conversion imports but the digest leaves out would leave posts stale after an
    upgrade: --check would call them current."""
    import ast
    from pathlib import Path

    from nbjekyll.cache import NOT_WRITING_POSTS, TOOL_FILES
    package = Path(__file__).resolve().parents[2] / "nbjekyll"
    seen, todo = set(), ["convert.py"]
    while todo:
        name = todo.pop()
        seen.add(name)
        for node in ast.walk(ast.parse((package / name).read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                module = node.module + ".py"
                if module not in seen and module not in NOT_WRITING_POSTS:
                    todo.append(module)
    assert seen <= set(TOOL_FILES)
    assert {"templates/post.md.j2", "static/interactive.js"} <= set(TOOL_FILES)
    assert all((package / name).is_file() for name in TOOL_FILES)
