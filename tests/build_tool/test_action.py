"""action.yml, the workflow init writes and this repository's workflow: linted, and the action run for real.

actionlint (with Debian's shellcheck for the run: scripts) and ``zizmor --offline`` read the workflows;
the action's own run: scripts go to shellcheck directly, since actionlint reads only workflows. Then the
action's run: steps are run in order with bash against a small blog in tmp_path, as GitHub's runner
runs a composite action: the inputs reach each step through its env:, ``GITHUB_ACTION_PATH`` is this
repository, and each step has its own ``GITHUB_OUTPUT`` file (and ``GITHUB_PATH``/``GITHUB_ENV``
files, which must stay empty). Only the ``uses:`` steps (setup-python)
are left out; the tool goes into a fresh virtual environment from the wheelhouse ``make setup`` fills,
with no network.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from buildsite import NOTEBOOKS, ROOT
from nbjekyll import kit_workflow
from offline import offline_pip, tool

ACTION = ROOT / "action.yml"
SITE_WORKFLOW = ROOT / ".github" / "workflows" / "site.yml"
KIT_WORKFLOW = ROOT / "nbjekyll" / "kit" / kit_workflow.WORKFLOW
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
SERIOUS = ("Medium", "High")


def action() -> dict:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))


def run_steps() -> list[dict]:
    return [step for step in action()["runs"]["steps"] if "run" in step]


# --- lint -------------------------------------------------------------------------------------------

def test_no_expression_is_expanded_inside_a_run_script():
    """Inputs reach the scripts as environment variables: ${{ }} in a script is template injection."""
    for step in run_steps():
        assert "${{" not in step["run"], step["name"]
        assert step.get("shell") == "bash", step["name"]


def test_shellcheck_finds_nothing_in_the_action_scripts(tmp_path):
    shellcheck = tool("shellcheck")
    for number, step in enumerate(run_steps()):
        script = tmp_path / f"step{number}.sh"
        # how the runner runs a composite step's script: bash -e -o pipefail
        script.write_text("#!/bin/bash\nset -eo pipefail\n" + step["run"], encoding="utf-8")
        done = subprocess.run([shellcheck, "--shell=bash", str(script)], capture_output=True, text=True)
        assert done.returncode == 0, f"{step['name']}:\n{done.stdout}{done.stderr}"


def test_actionlint_finds_nothing_in_the_workflows(tmp_path):
    """site.yml runs the action as ./ (actionlint checks its inputs against action.yml), and the workflow
    init writes; shellcheck on PATH lets actionlint check their run: scripts too."""
    actionlint, shellcheck = tool("actionlint"), tool("shellcheck")
    blog = tmp_path / "blog" / ".github" / "workflows"
    blog.mkdir(parents=True)
    shutil.copy(KIT_WORKFLOW, blog / "nbjekyll.yml")
    for cwd, workflow in ((ROOT, SITE_WORKFLOW), (tmp_path / "blog", blog / "nbjekyll.yml")):
        done = subprocess.run([actionlint, "-shellcheck", shellcheck, "-no-color", str(workflow)], cwd=cwd,
                              capture_output=True, text=True)
        assert (done.returncode, done.stdout + done.stderr) == (0, ""), workflow


def test_actionlint_catches_an_input_the_action_does_not_have(tmp_path):
    """The lint above can fail: a workflow passing the action an unknown input is an error."""
    (tmp_path / ".git").mkdir()  # a repository with the action at its root, as this one
    shutil.copy(ACTION, tmp_path / "action.yml")
    bad = tmp_path / ".github" / "workflows" / "site.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(SITE_WORKFLOW.read_text(encoding="utf-8").replace("merge: ${{", "merj: ${{"),
                   encoding="utf-8")
    done = subprocess.run([tool("actionlint"), "-no-color", str(bad)], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1 and 'input "merj" is not defined in action "nbjekyll"' in done.stdout, done.stdout


def test_zizmor_finds_nothing_of_medium_severity_or_higher():
    zizmor = tool("zizmor")
    done = subprocess.run([zizmor, "--offline", "--format", "json", str(ACTION), str(SITE_WORKFLOW),
                           str(KIT_WORKFLOW)], cwd=ROOT, capture_output=True, text=True)
    findings = json.loads(done.stdout or "[]")
    serious = [(f["ident"], f["determinations"]["severity"]) for f in findings
               if f["determinations"]["severity"] in SERIOUS]
    assert serious == [], done.stdout


# --- the workflow init writes ----------------------------------------------------------------------

def _action_step(workflow: dict) -> dict:
    steps = [s for job in workflow["jobs"].values() for s in job.get("steps", [])
             if s.get("uses", "").startswith(f"{kit_workflow.ACTION_REPOSITORY}@")]
    assert len(steps) == 1, "the kit workflow runs the action once"
    return steps[0]


def test_the_kit_workflow_is_the_one_init_writes_and_names_the_action_by_commit():
    assert kit_workflow.packaged_text() == KIT_WORKFLOW.read_text(encoding="utf-8")
    assert kit_workflow.workflow_text() == kit_workflow.packaged_text(), \
        "the kit workflow's uses: line differs from kit_workflow's constants: python -m nbjekyll.kit_workflow --write"
    step = _action_step(yaml.safe_load(KIT_WORKFLOW.read_text(encoding="utf-8")))
    assert step["uses"] == kit_workflow.action_reference()
    assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"])


def test_the_kit_workflow_passes_only_inputs_the_action_has():
    step = _action_step(yaml.safe_load(KIT_WORKFLOW.read_text(encoding="utf-8")))
    assert set(step["with"]) <= set(action()["inputs"]), set(step["with"]) - set(action()["inputs"])


def test_the_commit_the_kit_workflow_names_holds_an_action_taking_its_inputs():
    """ACTION_COMMIT must be a commit of this repository whose action.yml has every input the workflow
    passes: a commit from elsewhere, or one lost to a squash, would break every blog's CI."""
    commit = kit_workflow.ACTION_COMMIT
    if subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=ROOT, capture_output=True,
                      text=True).stdout.strip() == "true":
        pytest.skip("a shallow clone has not the history to look the commit up in")
    shown = subprocess.run(["git", "show", f"{commit}:action.yml"], cwd=ROOT, capture_output=True, text=True)
    assert shown.returncode == 0, (f"nbjekyll/kit_workflow.py: ACTION_COMMIT {commit} holds no action.yml in this "
                                   f"repository's history ({shown.stderr.strip()}): set it to a commit that does")
    ancestor = subprocess.run(["git", "merge-base", "--is-ancestor", commit, "HEAD"], cwd=ROOT)
    assert ancestor.returncode == 0, f"ACTION_COMMIT {commit} is not in the history of HEAD"
    then = yaml.safe_load(shown.stdout)
    step = _action_step(yaml.safe_load(KIT_WORKFLOW.read_text(encoding="utf-8")))
    assert set(step["with"]) <= set(then["inputs"]), set(step["with"]) - set(then["inputs"])
    assert set(action()["outputs"]) >= {"site-path"} and "site-path" in then["outputs"]


def test_kit_workflow_write_rewrites_only_the_uses_line(monkeypatch):
    other = "0123456789abcdef0123456789abcdef01234567"
    monkeypatch.setattr(kit_workflow, "ACTION_COMMIT", other)
    old, new = kit_workflow.packaged_text().splitlines(), kit_workflow.workflow_text().splitlines()
    changed = [(a, b) for a, b in zip(old, new) if a != b]
    assert len(old) == len(new) and len(changed) == 1
    assert changed[0][1].strip() == f"uses: {kit_workflow.ACTION_REPOSITORY}@{other}  # nbjekyll " \
                                    f"{kit_workflow.ACTION_VERSION}"


# --- the action, run ---------------------------------------------------------------------------------

class Runner:
    """Runs the action's run: steps in order as GitHub's runner does (composite action, bash)."""

    def __init__(self, tmp: Path, workspace: Path, inputs: dict[str, str], runner_temp: Path | None = None):
        self.tmp, self.workspace = tmp, workspace
        runner_temp = runner_temp or tmp / "runner-temp"
        declared = action()["inputs"]
        unknown = set(inputs) - set(declared)
        assert not unknown, f"no such inputs: {unknown}"
        self.inputs = {name: str(spec.get("default", "")) for name, spec in declared.items()} | inputs
        self.outputs: dict[str, dict[str, str]] = {}
        for folder in (tmp / "home", runner_temp):
            folder.mkdir(parents=True, exist_ok=True)
        python_bin = str(Path(sys.executable).parent)  # what setup-python would have put on PATH
        self.env = {
            "PATH": os.pathsep.join([python_bin, "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": str(tmp / "home"), "LANG": "C.UTF-8", "CI": "true", "GITHUB_ACTIONS": "true",
            "RUNNER_TEMP": str(runner_temp), "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_ACTION_PATH": str(ROOT),
            **offline_pip(),  # no network: pip installs from the wheelhouse only
        }
        self.log: list[str] = []

    def expand(self, value) -> str:
        def one(match: re.Match) -> str:
            expression = match[1]
            if m := re.fullmatch(r"inputs\.([\w-]+)", expression):
                return self.inputs[m[1]]
            if m := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression):
                return self.outputs.get(m[1], {}).get(m[2], "")
            if expression == "github.action_path":
                return str(ROOT)
            raise AssertionError(f"the test runner does not know the expression {expression!r}: teach it")
        return EXPRESSION.sub(one, str(value))

    def run(self, stop_after: str | None = None) -> subprocess.CompletedProcess | None:
        """Every step in order; the first that fails is returned (None when all passed)."""
        for number, step in enumerate(action()["runs"]["steps"]):
            if "uses" in step:
                self.log.append(f"skipped {step['uses']}")
                continue
            assert "if" not in step, f"{step['name']}: a run: step decides in its script, so this test runs it"
            output = self.tmp / f"output-{number}"
            output.touch()
            files = {name: self.tmp / name.lower() for name in ("GITHUB_PATH", "GITHUB_ENV")}
            for file in files.values():
                file.write_text("")
            env = {**self.env, "GITHUB_OUTPUT": str(output), **{k: str(v) for k, v in files.items()},
                   **{name: self.expand(value) for name, value in step.get("env", {}).items()}}
            script = self.tmp / f"step-{number}.sh"
            script.write_text(step["run"], encoding="utf-8")
            done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                                  cwd=self.workspace, env=env, capture_output=True, text=True)
            self.log.append(f"--- {step['name']}: exit {done.returncode}\n{done.stdout}{done.stderr}")
            if done.returncode != 0:
                return done
            if "id" in step:
                self.outputs[step["id"]] = dict(line.split("=", 1) for line in output.read_text().splitlines()
                                                if "=" in line)
            for name, file in files.items():
                assert not file.read_text(), f"{step['name']}: the action writes nothing to {name}"
            if stop_after is not None and step.get("id") == stop_after:
                return None
        return None

    def action_outputs(self) -> dict[str, str]:
        return {name: self.expand(spec["value"]) for name, spec in action()["outputs"].items()}


def blog(root: Path) -> Path:
    """A user's blog at the root of their repository: _config.yml (minima) and one notebook."""
    (root / "notebooks").mkdir(parents=True)
    (root / "_config.yml").write_text("title: My notebook blog\ntheme: minima\nexclude: [notebooks/]\n",
                                      encoding="utf-8")
    shutil.copy(NOTEBOOKS / "title_from_heading.ipynb", root / "notebooks" / "2021-01-01-first.ipynb")
    return root


def test_the_action_builds_a_blog_into_a_searchable_site(tmp_path):
    """What the kit workflow asks of the action, run step after step: install into a fresh virtual
    environment, execute the notebook, check, jekyll build, Pagefind."""
    workspace = blog(tmp_path / "repo")
    runner = Runner(tmp_path, workspace, {"pagefind": "true", "baseurl": "/my-blog"})
    failed = runner.run()
    assert failed is None, "\n".join(runner.log)
    log = "\n".join(runner.log)
    assert "skipped actions/setup-python@" in log
    assert "apt: already installed: jekyll jekyll-theme-minima" in log  # the apt step ran, offline
    assert "1 notebook checked: all posts current" in log
    post = (workspace / "_posts" / "2021-01-01-first.md").read_text(encoding="utf-8")
    assert "From the Heading" in post
    outputs = runner.action_outputs()
    site = workspace / outputs["site-path"]
    assert outputs["site-path"] == "./_site" and site.is_dir()
    page = site / "2021" / "01" / "01" / "first.html"
    assert "The Title: From the Heading" in page.read_text(encoding="utf-8")
    assert 'href="/my-blog/' in page.read_text(encoding="utf-8")  # the baseurl input reached jekyll
    assert (site / "pagefind" / "pagefind.js").is_file()
    venv_python = Path(outputs["python"])
    assert venv_python.parent.parent == tmp_path / "runner-temp" / "nbjekyll-venv"
    assert venv_python.is_file()


def test_a_shard_writes_its_bundle_and_a_merge_makes_the_posts(tmp_path):
    """shard K/N in N jobs, then merge in one: the inputs this repository's workflow uses. (The three
    runs share one RUNNER_TEMP, so the virtual environment is made once and updated twice.)"""
    workspace = blog(tmp_path / "repo")
    shutil.copy(NOTEBOOKS / "title_from_heading.ipynb", workspace / "notebooks" / "2021-01-02-second.ipynb")
    shards = []
    for k in (1, 2):
        runner = Runner(tmp_path / f"shard{k}", workspace, {"shard": f"{k}/2", "force": "true", "jekyll": "true"},
                        runner_temp=tmp_path / "runner-temp")
        assert runner.run() is None, "\n".join(runner.log)
        log = "\n".join(runner.log)
        assert "a shard writes no posts" in log and "apt: already installed" not in log  # no Jekyll for a shard
        shards.append(runner.action_outputs()["bundle"])
        assert not (workspace / "_posts").exists()
    assert shards == ["nbjekyll-bundles/shard-1.json", "nbjekyll-bundles/shard-2.json"]
    runner = Runner(tmp_path / "merge", workspace, {"merge": "nbjekyll-bundles/*.json"},
                    runner_temp=tmp_path / "runner-temp")
    assert runner.run() is None, "\n".join(runner.log)
    assert "merged 2 bundles: 2 runs" in "\n".join(runner.log)
    assert sorted(p.name for p in (workspace / "_posts").iterdir()) == ["2021-01-01-first.md", "2021-01-02-second.md"]
    assert (workspace / "_site" / "2021" / "01" / "02" / "second.html").is_file()


@pytest.mark.parametrize("inputs, message", [
    ({"strict": "yes"}, "input strict is 'yes': give true or false"),
    ({"site": "elsewhere"}, "input site is 'elsewhere': no _config.yml there"),
    ({"shard": "1/2", "merge": "b/*.json"}, "give shard (in each of N jobs) or merge (in the job after them), not both"),
    ({"shard": "2"}, "input shard is '2': give K/N, e.g. 1/2"),
])
def test_bad_inputs_fail_the_first_step_saying_what_to_give(tmp_path, inputs, message):
    runner = Runner(tmp_path, blog(tmp_path / "repo"), inputs)
    failed = runner.run()
    assert failed is not None and failed.returncode == 1
    assert f"::error title=nbjekyll action::{message}" in failed.stdout
    assert len(runner.log) == 1  # nothing after it ran


def test_a_missing_requirements_file_is_named(tmp_path):
    runner = Runner(tmp_path, blog(tmp_path / "repo"), {"requirements": "requirements.txt", "jekyll": "false"})
    failed = runner.run()
    assert failed is not None, "\n".join(runner.log)
    assert "input requirements names requirements.txt, which does not exist" in failed.stdout
