"""Failures are loud and precise, and a failed notebook leaves its previous post untouched."""
import os
import re
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from buildsite import ROOT


def break_notebook(path, source="1 / 0"):
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(source))
    nbformat.write(nb, path)


def test_cell_error_names_notebook_cell_count_and_exception(site):
    site.add("cell_error.ipynb", "2021-01-01-error.ipynb")
    run = site.build()
    assert run.code == 1
    assert ("notebooks/2021-01-01-error.ipynb: cell 3 (execution count 2) raised ZeroDivisionError: "
            "division by zero\n"
            "      1 | y = 2\n"
            "      2 | z = x / 0\n"
            "      3 | print(z)\n"
            "Traceback:\n") in run.err
    assert "----> 2 z = x / 0" in run.err
    assert "\x1b[" not in run.err
    assert "The partly executed notebook is saved at _build/failed/2021-01-01-error.ipynb" in run.err
    partial = nbformat.read(site.root / "_build" / "failed" / "2021-01-01-error.ipynb", as_version=4)
    assert partial.cells[2].outputs[0]["ename"] == "ZeroDivisionError"
    assert partial.cells[3].execution_count is None
    assert "2021-01-01-error.ipynb  failed" in run.out


def test_failed_notebook_leaves_previous_post_and_images_untouched(site):
    path = site.add("plot.ipynb", "2021-01-01-plot.ipynb")
    assert site.build().code == 0
    before = site.snapshot()
    stamps = {p: os.stat(site.root / p).st_mtime_ns for p in before}
    break_notebook(path)
    run = site.build()
    assert run.code == 1
    assert "cell 2 (execution count 2) raised ZeroDivisionError" in run.err
    assert site.snapshot() == before
    assert {p: os.stat(site.root / p).st_mtime_ns for p in before} == stamps


def test_other_notebooks_are_still_built_when_one_fails(site):
    site.add("cell_error.ipynb", "2021-01-01-error.ipynb")
    site.add("title_from_heading.ipynb", "2021-01-02-fine.ipynb")
    run = site.build("--jobs", "1")
    assert run.code == 1
    assert (site.root / "_posts" / "2021-01-02-fine.md").exists()
    assert not (site.root / "_posts" / "2021-01-01-error.md").exists()
    assert "2 notebooks: 1 ok, 1 failed" in run.out


def test_timeout_names_the_cell_and_the_limit(site):
    site.add("cell_timeout.ipynb", "2021-01-01-slow.ipynb")
    run = site.build("--timeout", "2")
    assert run.code == 1
    assert ("notebooks/2021-01-01-slow.ipynb: cell 2 (execution count 2) timed out after 2 s\n"
            "      1 | time.sleep(30)\n"
            "The partly executed notebook is saved at _build/failed/2021-01-01-slow.ipynb") in run.err


def test_notebook_timeout_setting_is_used_and_cli_overrides_it(site):
    path = site.add("cell_timeout.ipynb", "2021-01-01-slow.ipynb")
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_raw_cell("---\ntitle: slow\ntimeout: 1\n---"))
    nbformat.write(nb, path)
    assert "timed out after 1 s" in site.build().err
    assert "timed out after 2 s" in site.build("--timeout", "2").err


def test_dead_kernel(site):
    site.add("kernel_dies.ipynb", "2021-01-01-dies.ipynb")
    run = site.build()
    assert run.code == 1
    assert ("notebooks/2021-01-01-dies.ipynb: cell 2 (execution count 2) killed the kernel (it died while "
            "running this cell; its log is _build/logs/2021-01-01-dies.kernel.log)\n"
            "      1 | os._exit(1)\n") in run.err


def test_a_kernel_named_after_another_machine_runs_in_one_for_its_language(site):
    site.add("unknown_kernel.ipynb", "2021-01-01-nokernel.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    assert ("notebooks/2021-01-01-nokernel.ipynb: warning: no kernel named 'no-such-kernel' is installed; running "
            "it in 'python3', which serves its language (python) (set nbjekyll.kernel_aliases or the front "
            "matter's 'kernel:' to choose, nbjekyll.strict_kernels to forbid)\n") in run.err
    assert (site.root / "_posts" / "2021-01-01-nokernel.md").exists()


def test_strict_kernels_make_an_unknown_kernel_an_error(site):
    (site.root / "_config.yml").write_text((site.root / "_config.yml").read_text() + "  strict_kernels: true\n")
    site.add("unknown_kernel.ipynb", "2021-01-01-nokernel.ipynb")
    run = site.build()
    assert run.code == 1
    assert "notebooks/2021-01-01-nokernel.ipynb: no kernel named 'no-such-kernel' is installed (installed: " in run.err
    assert not (site.root / "_posts" / "2021-01-01-nokernel.md").exists()


def test_a_kernel_for_a_language_nothing_serves_is_an_error(site):
    site.add("unknown_language_kernel.ipynb", "2021-01-01-julia.ipynb")
    run = site.build()
    assert run.code == 1
    assert "notebooks/2021-01-01-julia.ipynb: no kernel named 'julia-1.9' is installed (installed: " in run.err


def test_kernel_aliases_and_the_front_matter_choose_the_kernel_without_a_warning(site):
    (site.root / "_config.yml").write_text((site.root / "_config.yml").read_text() +
                                           "  kernel_aliases:\n    'no-such-.*': python3\n")
    site.add("unknown_kernel.ipynb", "2021-01-01-nokernel.ipynb")
    run = site.build()
    assert run.code == 0 and "warning" not in run.err, run.err
    assert "kernel: python3" in (site.root / "_data" / "provenance" / "nokernel.yml").read_text()


def test_kernel_aliases_must_be_regular_expressions(site):
    (site.root / "_config.yml").write_text((site.root / "_config.yml").read_text() +
                                           "  kernel_aliases:\n    'python[': python3\n  strict_kernels: maybe\n")
    run = site.build()
    assert run.code == 2
    assert ("Config value 'nbjekyll.kernel_aliases': 'python[' is not a regular expression "
            "(unterminated character set at position 6)") in run.err
    assert "Config value 'nbjekyll.strict_kernels': expected true or false, got 'maybe'" in run.err


def test_file_that_is_not_json(site):
    site.add("not_json.ipynb", "2021-01-01-garbage.ipynb")
    run = site.build()
    assert run.code == 1
    assert ("notebooks/2021-01-01-garbage.ipynb: not a valid notebook: the file is not JSON") in run.err


def test_json_that_is_not_a_valid_notebook(site):
    site.add("invalid_schema.ipynb", "2021-01-01-invalid.ipynb")
    run = site.build()
    assert run.code == 1
    assert "notebooks/2021-01-01-invalid.ipynb: not a valid notebook: " in run.err


def test_unreadable_file(site):
    path = site.add("title_from_heading.ipynb", "2021-01-01-locked.ipynb")
    path.chmod(0)
    command = [sys.executable, str(ROOT / "build.py"), "--site", str(site.root)]
    if os.geteuid() == 0:
        # root reads any file through its capabilities DAC_OVERRIDE and DAC_READ_SEARCH: the build runs
        # without them, so that the file's mode applies to it as to any other user
        without = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--bounding-set={without}", f"--inh-caps={without}", *command]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    finally:
        path.chmod(0o644)
    assert run.returncode == 1, run.stderr
    assert "notebooks/2021-01-01-locked.ipynb: cannot read the file: Permission denied" in run.stderr


def test_raises_exception_tag_lets_the_build_go_on(site):
    site.add("cell_tags.ipynb", "2021-01-01-tags.ipynb")
    assert site.build().code == 0


def kernel_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its parent is gone for our purposes
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


SLEEP_WITH_PID = ("import os, time\n"
                  "open('{name}.tmp', 'w').write(str(os.getpid()))\n"
                  "os.replace('{name}.tmp', '{name}.pid')  # whole, or not yet there\n"
                  "time.sleep(60)")


def wait_for_files(paths, seconds=120):
    deadline = time.monotonic() + seconds
    while not all(p.exists() for p in paths) and time.monotonic() < deadline:
        time.sleep(0.05)
    return all(p.exists() for p in paths)


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_interrupt_stops_both_sleeping_kernels_and_keeps_old_posts(site, sig, code):
    site.add("plot.ipynb", "2021-01-01-plot.ipynb")
    assert site.build().code == 0
    before = site.snapshot()
    site.add("slow_cell.ipynb", "2021-01-02-slow.ipynb")
    break_notebook(site.root / "notebooks" / "2021-01-01-plot.ipynb", SLEEP_WITH_PID.format(name="plot"))
    slow = site.root / "notebooks" / "2021-01-02-slow.ipynb"
    nb = nbformat.read(slow, as_version=4)
    nb.cells[-1].source = SLEEP_WITH_PID.format(name="slow")      # instead of its plain sleep
    nbformat.write(nb, slow)
    process = site.build_subprocess("--jobs", "2")
    # ready: each kernel has written its pid in the cell that sleeps, both kernels are running at once
    pid_files = [site.root / "notebooks" / f"{name}.pid" for name in ("plot", "slow")]
    ready = wait_for_files(pid_files)
    if not ready:
        process.kill()
    assert ready, process.communicate()
    kernel_pids = [int(p.read_text()) for p in pid_files]
    assert all(kernel_alive(pid) for pid in kernel_pids)
    process.send_signal(sig)
    out, err = process.communicate(timeout=30)
    assert process.returncode == code
    assert f"build interrupted by {signal.Signals(sig).name}" in err
    deadline = time.monotonic() + 5
    while any(kernel_alive(pid) for pid in kernel_pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in kernel_pids if kernel_alive(pid)] == []
    assert site.snapshot() == before
    assert not list((site.root / "_posts").glob(".*tmp*"))


def test_second_build_at_the_same_time_is_refused(site):
    from nbjekyll.config import load_config
    from nbjekyll.write import SiteLock
    site.add("title_from_heading.ipynb", "2021-01-01-fine.ipynb")
    with SiteLock(load_config(site.root)):
        process = site.build_subprocess()
        out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert f"another build of this site is running (pid {os.getpid()}, lock _build/build.lock); " \
           "wait for it to finish" in err
    assert not (site.root / "_posts").exists()
    assert site.build().code == 0


def test_hand_written_post_is_never_overwritten(site):
    site.add("title_from_heading.ipynb", "2021-01-01-mine.ipynb")
    (site.root / "_posts").mkdir()
    (site.root / "_posts" / "2021-01-01-mine.md").write_text("---\ntitle: written by hand\n---\nHello\n")
    run = site.build()
    assert run.code == 1
    assert ("notebooks/2021-01-01-mine.ipynb: would overwrite _posts/2021-01-01-mine.md, which was not "
            "generated from a notebook; rename one of them") in run.err
    assert (site.root / "_posts" / "2021-01-01-mine.md").read_text().endswith("Hello\n")


def test_file_that_is_not_utf8(site):
    path = site.root / "notebooks" / "2021-01-01-latin1.ipynb"
    path.write_bytes(b'{"cells": [], "metadata": {"title": "caf\xe9"}}')
    run = site.build()
    assert run.code == 1
    assert "notebooks/2021-01-01-latin1.ipynb: cannot read the file: 'utf-8' codec can't decode byte 0xe9" in run.err


FLAKY_KERNEL = """\
import os, sys
marker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "starts")
with open(marker, "a") as handle:
    handle.write("x")
if os.path.getsize(marker) <= int(os.environ.get("FAILING_STARTS", "0")):
    sys.exit(3)                                  # dies before replying to kernel_info
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", sys.argv[1]])
"""


def flaky_kernel_site(site, failing_starts: int):
    """A kernelspec in the site's own kernel folder whose first ``failing_starts`` starts die at once."""
    import json
    import sys
    folder = site.root / ".kernels" / "share" / "jupyter" / "kernels" / "flaky"
    folder.mkdir(parents=True)
    (folder / "launch.py").write_text(FLAKY_KERNEL)
    (folder / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(folder / "launch.py"), "{connection_file}"],
        "display_name": "Flaky", "language": "python", "env": {"FAILING_STARTS": str(failing_starts)}}))
    path = site.add("title_from_heading.ipynb", "2021-01-01-flaky.ipynb")
    nb = nbformat.read(path, as_version=4)
    nb.metadata.kernelspec = {"name": "flaky", "display_name": "Flaky", "language": "python"}
    nbformat.write(nb, path)
    return folder / "starts"


def test_a_kernel_that_dies_at_start_is_started_again(site):
    starts = flaky_kernel_site(site, failing_starts=1)
    process = site.build_subprocess()
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert err == ("notebooks/2021-01-01-flaky.ipynb: warning: the kernel did not start (Kernel died before "
                   "replying to kernel_info); starting it again (attempt 2 of 3)\n")
    assert starts.read_text() == "xx"
    assert "1 notebook: 1 ok, 0 failed" in out


def test_a_kernel_that_never_starts_fails_cleanly_after_three_tries(site):
    starts = flaky_kernel_site(site, failing_starts=99)
    process = site.build_subprocess()
    out, err = process.communicate(timeout=300)
    assert process.returncode == 1
    assert err.splitlines() == [
        "notebooks/2021-01-01-flaky.ipynb: warning: the kernel did not start (Kernel died before replying to "
        "kernel_info); starting it again (attempt 2 of 3)",
        "notebooks/2021-01-01-flaky.ipynb: warning: the kernel did not start (Kernel died before replying to "
        "kernel_info); starting it again (attempt 3 of 3)",
        "notebooks/2021-01-01-flaky.ipynb: the kernel could not start (Kernel died before replying to "
        "kernel_info), 3 times; see _build/logs/2021-01-01-flaky.kernel.log",
    ]
    assert starts.read_text() == "xxx"
    assert "Traceback" not in out + err and "Exception ignored" not in out + err


def test_an_unchanged_failing_notebook_is_not_run_again(site):
    site.add("cell_error.ipynb", "2021-01-01-error.ipynb")
    first = site.build()
    assert first.code == 1
    log = site.root / "_build" / "logs" / "2021-01-01-error.kernel.log"
    log.unlink()
    again = site.build()
    assert again.code == 1
    assert not log.exists()  # no kernel started
    assert re.search(r"notebooks/2021-01-01-error.ipynb: failed \(unchanged since the failure at "
                     r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d; not run again: edit it, or build with --retry-failed\)\n"
                     r"cell 3 \(execution count 2\) raised ZeroDivisionError: division by zero\n", again.err)
    retried = site.build("--retry-failed")
    assert retried.code == 1 and log.exists() and "not run again" not in retried.err
    path = site.root / "notebooks" / "2021-01-01-error.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].source = nb.cells[2].source.replace("x / 0", "x / 1")
    nbformat.write(nb, path)
    fixed = site.build()
    assert fixed.code == 0, fixed.err
    assert not (site.root / "_build" / "failures" / "2021-01-01-error.json").exists()
