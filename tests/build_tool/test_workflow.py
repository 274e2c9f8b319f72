"""The GitHub workflow passes the security linter zizmor (offline), and does what the local build does."""
import json
import shutil
import subprocess

import pytest
import yaml

from buildsite import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_zizmor_finds_nothing_of_medium_severity_or_higher():
    if shutil.which("zizmor") is None:
        pytest.fail("zizmor is not installed (pip install -r requirements.txt)")
    done = subprocess.run(["zizmor", "--offline", "--format", "json", *map(str, WORKFLOWS)],
                          cwd=ROOT, capture_output=True, text=True)
    findings = json.loads(done.stdout or "[]")
    serious = [(f["ident"], f["determinations"]["severity"]) for f in findings
               if f["determinations"]["severity"] not in ("Informational", "Low", "Unknown")]
    assert serious == [], done.stdout


def _runs(job: str) -> list[str]:
    return [step.get("run", "") for step in yaml.safe_load(WORKFLOWS[0].read_text())["jobs"][job]["steps"]]


def test_the_workflow_runs_the_local_build_steps():
    """The shards execute everything (as make rebuild does), the build job merges, sets up the kernels
    and tests."""
    execute, build = _runs("execute"), _runs("build")
    for command in ("pip install -r requirements.txt", 'python build.py --force --setup-kernels --shard "$SHARD/$SHARDS"',
                    'python build.py --force --shard "$SHARD/$SHARDS" --bundle "bundles/shard-$SHARD.json"'):
        assert any(command in run for run in execute), command
    for command in ("pip install -r requirements.txt", "python build.py --setup-kernels",
                    "python build.py --merge artifacts/bundles/*.json", "python -m pytest"):
        assert any(command in run for run in build), command


def test_the_number_of_shards_is_one_setting():
    workflow = yaml.safe_load(WORKFLOWS[0].read_text())
    assert workflow["env"]["SHARDS"].isdigit()
    assert workflow["jobs"]["execute"]["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.split.outputs.shards) }}"
    listing = next(s["run"] for s in workflow["jobs"]["split"]["steps"] if s.get("id") == "list")
    for shards in ("1", "3"):
        done = subprocess.run(["bash", "-c", listing.replace(">> \"$GITHUB_OUTPUT\"", "")],
                              env={"SHARDS": shards, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
        assert json.loads(done.stdout.strip().removeprefix("shards=")) == list(range(1, int(shards) + 1))
