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


def test_the_workflow_runs_the_local_build_steps():
    steps = [step.get("run", "") for step in yaml.safe_load(WORKFLOWS[0].read_text())["jobs"]["build"]["steps"]]
    for command in ("pip install -r requirements.txt", "python build.py --setup-kernels",
                    "python build.py --force", "python -m pytest"):
        assert any(command in run for run in steps), command
