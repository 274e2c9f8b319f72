"""The GitHub workflow passes the security linter zizmor (offline), and does what the local build does
(through the action, action.yml: tests/build_tool/test_action.py runs its steps)."""
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


def _steps(job: str) -> list[dict]:
    return yaml.safe_load(WORKFLOWS[0].read_text())["jobs"][job]["steps"]


def _action(job: str) -> dict:
    """The inputs the job gives this repository's action (action.yml, run as ./)."""
    (step,) = [s for s in _steps(job) if s.get("uses") == "./"]
    return step["with"]


def _action_commands(inputs: dict) -> list[str]:
    """The commands action.yml runs for those inputs (tests/build_tool/test_action.py runs them for real)."""
    site = ["--site", inputs.get("site", ".")]
    strict = [] if inputs.get("strict", "true") == "false" else ["--strict"]
    force = ["--force"] if inputs.get("force") == "true" else []
    install = ["pip install <action> " + " ".join(f"-r {f}" for f in inputs.get("requirements", "").split())]
    if inputs.get("shard"):
        return install + [" ".join(["nbjekyll setup-kernels", *site, "--shard", inputs["shard"], *force, *strict]),
                          " ".join(["nbjekyll shard", inputs["shard"], "--bundle", inputs["bundle"], *site, *strict,
                                    *force])]
    main = (["nbjekyll merge", inputs["merge"], *site, *strict] if inputs.get("merge")
            else ["nbjekyll build", *site, *strict, *force])
    return install + [" ".join(["nbjekyll setup-kernels", *site, *force, *strict]), " ".join(main),
                      " ".join(["nbjekyll check", *site])] + \
        (["jekyll build"] if inputs.get("jekyll", "true") == "true" else []) + \
        (["python -m pagefind --site _site"] if inputs.get("pagefind") == "true" else [])


def test_the_workflow_runs_the_local_build_steps():
    """The shards execute everything (as make rebuild does) with the kernels each needs; the build job
    merges their runs (setting up the kernels), checks, builds the site and its search index, and tests."""
    execute, build = _action("execute"), _action("build")
    assert _action_commands(execute) == [
        "pip install <action> -r requirements.txt",
        "nbjekyll setup-kernels --site . --shard ${{ matrix.shard }}/${{ env.SHARDS }} --force --strict",
        "nbjekyll shard ${{ matrix.shard }}/${{ env.SHARDS }} --bundle bundles/shard-${{ matrix.shard }}.json "
        "--site . --strict --force"]
    assert _action_commands(build) == [
        "pip install <action> -r requirements.txt",
        "nbjekyll setup-kernels --site . --strict",
        "nbjekyll merge ${{ runner.temp }}/artifacts/bundles/*.json --site . --strict",
        "nbjekyll check --site .",
        "jekyll build",
        "python -m pagefind --site _site"]
    assert execute["python-version"] == build["python-version"] == ""  # Debian's python3, as make setup uses
    upload = next(s for s in _steps("execute") if s.get("name") == "Upload the shard's bundle")
    assert "bundles/" in upload["with"]["path"] and execute["bundle"].startswith("bundles/")
    download = next(s for s in _steps("build") if s.get("name") == "Bundles of every shard")
    assert build["merge"] == f"{download['with']['path']}/bundles/*.json"
    tests = next(s for s in _steps("build") if s.get("name") == "Test suite")
    assert '"$PYTHON" -m pytest' in tests["run"] and tests["env"]["PYTHON"] == "${{ steps.site.outputs.python }}"
    pages = next(s for s in _steps("build") if s.get("name") == "Upload the site for GitHub Pages")
    assert pages["with"]["path"] == "${{ steps.site.outputs.site-path }}"


def test_the_action_runs_what_the_workflow_test_expects():
    """_action_commands above mirrors action.yml's scripts: each command it names is in them."""
    scripts = "\n".join(step.get("run", "") for step in yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"])
    for fragment in ('-m nbjekyll setup-kernels "${args[@]}"', '-m nbjekyll shard "$SHARD" --bundle "$bundle"',
                     '-m nbjekyll merge "${bundles[@]}"', '-m nbjekyll build "${args[@]}"',
                     '-m nbjekyll check "${args[@]}"', 'jekyll "${args[@]}"', '-m pagefind --site "$SITE_PATH"',
                     'args+=(--strict)', 'args+=(--force)', 'args+=(--shard "$SHARD")', 'packages+=(-r "$file")'):
        assert fragment in scripts, fragment


def test_the_number_of_shards_is_one_setting():
    workflow = yaml.safe_load(WORKFLOWS[0].read_text())
    assert workflow["env"]["SHARDS"].isdigit()
    assert workflow["jobs"]["execute"]["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.split.outputs.shards) }}"
    listing = next(s["run"] for s in workflow["jobs"]["split"]["steps"] if s.get("id") == "list")
    for shards in ("1", "3"):
        done = subprocess.run(["bash", "-c", listing.replace(">> \"$GITHUB_OUTPUT\"", "")],
                              env={"SHARDS": shards, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
        assert json.loads(done.stdout.strip().removeprefix("shards=")) == list(range(1, int(shards) + 1))
