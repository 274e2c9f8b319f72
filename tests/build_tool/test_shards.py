"""Sharded builds: N clones each execute a part and bundle it; a merge writes the site one machine would."""
import json
import os
import shutil
import subprocess

import pytest
import yaml

from buildsite import CONFIG, NOTEBOOKS
from nbjekyll.cli import main

NOTEBOOKS_OF_THE_SITE = [("title_from_heading.ipynb", "2020-01-01-title-from-heading.ipynb"),
                         ("plot.ipynb", "2021-01-01-plot.ipynb"),
                         ("outputs.ipynb", "2021-01-02-outputs.ipynb"),
                         ("math.ipynb", "2021-01-03-math.ipynb"),
                         ("figure_sizes.ipynb", "2021-01-04-figures.ipynb")]
GIT = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_GLOBAL": os.devnull}


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, env=GIT, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "origin"
    (root / "notebooks").mkdir(parents=True)
    (root / "_config.yml").write_text(CONFIG)
    (root / ".gitignore").write_text("_build/\n")
    for name, as_name in NOTEBOOKS_OF_THE_SITE:
        shutil.copy(NOTEBOOKS / name, root / "notebooks" / as_name)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "site")
    return root


def clone(repo, path):
    git(repo.parent, "clone", "-q", str(repo), str(path))
    return path


def build(capsys, root, *args):
    capsys.readouterr()
    code = main(["--site", str(root), *args])
    out, err = capsys.readouterr()
    return code, out, err


def published(root):
    """Posts and images byte for byte; the stamps without the two fields that say when and how long."""
    files = {}
    for folder in ("_posts", "img", "_data"):
        for path in sorted((root / folder).rglob("*")) if (root / folder).exists() else []:
            if path.is_file():
                data = path.read_bytes()
                if folder == "_data":
                    stamp = yaml.safe_load(data)
                    del stamp["executed"], stamp["seconds"]
                    data = yaml.safe_dump(stamp).encode()
                files[path.relative_to(root).as_posix()] = data
    return files


@pytest.fixture
def bundles(repo, tmp_path, capsys):
    """Two shards, each in its own clone, as two CI runners would run them."""
    paths = []
    for index in (1, 2):
        shard = clone(repo, tmp_path / f"shard{index}")
        bundle = tmp_path / "artifacts" / f"bundle-{index}.json"
        code, out, err = build(capsys, shard, "--shard", f"{index}/2", "--bundle", str(bundle), "--jobs", "2")
        assert code == 0, err
        assert f"shard {index}/2: " in out and f"written to {bundle}" in out
        assert not (shard / "_posts").exists() and not (shard / "img").exists()  # a shard writes no post
        paths.append(bundle)
    return paths


def test_merged_shards_are_byte_identical_to_one_machine(repo, bundles, tmp_path, capsys):
    single = clone(repo, tmp_path / "single")
    code, _, err = build(capsys, single, "--jobs", "2")
    assert code == 0, err
    merged = clone(repo, tmp_path / "merged")
    code, out, err = build(capsys, merged, "--merge", *map(str, bundles))
    assert code == 0, err
    assert "merged 2 bundles: 5 runs" in out
    assert "executing" not in out  # the merge ran no kernel
    assert not list((merged / "_build").rglob("*.kernel.log"))
    assert published(merged) == published(single)
    assert len([p for p in published(single) if p.startswith("_posts/")]) == 5
    # and the merged clone is a normal site: nothing left to do
    code, out, _ = build(capsys, merged)
    assert code == 0 and out.count(": up to date") == 5


def test_each_notebook_is_in_exactly_one_shard_and_the_split_is_the_same_everywhere(repo, bundles):
    parts = [json.loads(b.read_text()) for b in bundles]
    assert parts[0]["assignment"] == parts[1]["assignment"]
    ran = [set(p["entries"]) for p in parts]
    assert ran[0] and ran[1] and not ran[0] & ran[1]
    assert ran[0] | ran[1] == {f"notebooks/{n}" for _, n in NOTEBOOKS_OF_THE_SITE}


def test_explain_lists_the_shard_and_its_kernels(repo, capsys):
    code, out, _ = build(capsys, repo, "--explain", "--shard", "2/2")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "shard 2/2: 2 of the 5 notebooks that need executing"
    assert all(line.startswith("  notebooks/") and line.endswith("(kernel python3, never run)")
               for line in lines[1:3])
    assert lines[3] == "kernels: python3"


def test_split_follows_the_last_run_times(repo, capsys):
    """The longest notebook alone on one shard when it outweighs the others together."""
    stamps = repo / "_data" / "provenance"
    stamps.mkdir(parents=True)
    for seconds, (_, name) in zip([100, 1, 2, 3, 4], NOTEBOOKS_OF_THE_SITE):
        slug = name[len("2021-01-01-"):-len(".ipynb")]
        (stamps / f"{slug}.yml").write_text(f"seconds: {seconds}\n")
    code, out, _ = build(capsys, repo, "--explain", "--shard", "1/2")
    assert out.splitlines()[:2] == ["shard 1/2: 1 of the 5 notebooks that need executing",
                                    "  notebooks/2020-01-01-title-from-heading.ipynb (kernel python3, last run 100.0 s)"]


def test_merge_refuses_bundles_of_another_commit(repo, bundles, tmp_path, capsys):
    later = clone(repo, tmp_path / "later")
    (later / "README.md").write_text("a change\n")
    git(later, "add", "README.md")
    git(later, "commit", "-q", "-m", "later")
    head = git(later, "rev-parse", "HEAD").strip()
    made = git(repo, "rev-parse", "HEAD").strip()
    code, _, err = build(capsys, later, "--merge", *map(str, bundles))
    assert code == 1
    assert err.startswith("cannot merge these bundles:\n")
    assert f"  {bundles[0]}: made from commit {made}, but this checkout is at {head}\n" in err
    assert not (later / "_posts").exists()


def test_merge_refuses_a_missing_shard(repo, bundles, tmp_path, capsys):
    merged = clone(repo, tmp_path / "merged")
    code, _, err = build(capsys, merged, "--merge", str(bundles[0]))
    assert code == 1
    assert err == "cannot merge these bundles:\n  no bundle for shard 2/2 (got 1 of 2)\n"
    assert not (merged / "_posts").exists()


def test_merge_refuses_shards_whose_runs_disagree(repo, bundles, tmp_path, capsys):
    first, second = (json.loads(b.read_text()) for b in bundles)
    rel, entry = sorted(first["entries"].items())[0]
    entry = json.loads(json.dumps(entry))
    entry["executed"] = entry["executed"].replace('"execution_count": 1', '"execution_count": 7')
    second["entries"][rel] = entry
    bundles[1].write_text(json.dumps(second))
    merged = clone(repo, tmp_path / "merged")
    code, _, err = build(capsys, merged, "--merge", *map(str, bundles))
    assert code == 1
    assert f"  {bundles[1]} and {bundles[0]} both hold a run of {rel}, and the runs differ\n" in err


def test_merge_refuses_a_file_that_is_not_a_bundle(repo, tmp_path, capsys):
    other = tmp_path / "other.json"
    other.write_text('{"a": 1}')
    code, _, err = build(capsys, repo, "--merge", str(other))
    assert code == 2 and err == f"error: {other}: not a bundle written by python build.py --shard\n"


def test_a_notebook_that_fails_in_its_shard_fails_the_merge_and_keeps_its_old_post(repo, tmp_path, capsys):
    import nbformat
    path = repo / "notebooks" / "2021-01-01-plot.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("1 / 0"))
    nbformat.write(nb, path)
    git(repo, "commit", "-q", "-am", "break the plot")
    bundles = []
    for index in (1, 2):
        shard = clone(repo, tmp_path / f"shard{index}")
        bundles.append(tmp_path / f"bundle-{index}.json")
        build(capsys, shard, "--shard", f"{index}/2", "--bundle", str(bundles[-1]))
    merged = clone(repo, tmp_path / "merged")
    code, out, err = build(capsys, merged, "--merge", *map(str, bundles))
    assert code == 1
    assert "notebooks/2021-01-01-plot.ipynb: cell 2 (execution count 2) raised ZeroDivisionError: division by zero" \
        in err
    assert "4 ok, 0 failed" not in out and "4 ok, 1 failed" in out
    assert not (merged / "_posts" / "2021-01-01-plot.md").exists()
    assert (merged / "_posts" / "2021-01-02-outputs.md").exists()


@pytest.mark.parametrize("args, message", [
    (["--shard", "1/2"], "error: --shard K/N needs --bundle PATH, the file its runs go to (for build.py --merge)\n"),
    (["--bundle", "b.json"], "error: --bundle is where --shard K/N writes its runs: give --shard too\n"),
    (["--shard", "1/2", "--bundle", "b.json", "--check"],
     "error: --shard goes with a build, --explain or --setup-kernels, not with --check\n"),
    (["--merge", "b.json", "--force"],
     "error: --merge executes nothing, so --force means nothing there (give it to the shards)\n"),
])
def test_shard_arguments_that_make_no_sense_are_refused(repo, capsys, args, message):
    code, _, err = build(capsys, repo, *args)
    assert code == 2 and err == message


@pytest.mark.parametrize("value", ["3/2", "0/2", "1", "a/b", "1/0"])
def test_shard_must_be_k_of_n(repo, capsys, value):
    code, _, err = build(capsys, repo, "--shard", value, "--bundle", "b.json")
    assert code == 2
    assert f"argument --shard: expected K/N with 1 <= K <= N (e.g. 2/4), got '{value}'" in err


def test_shards_run_with_force_rewrite_current_posts_as_a_forced_build_does(repo, tmp_path, capsys):
    """CI executes everything (--force): the merge must publish those runs, not the committed posts."""
    assert build(capsys, repo, "--jobs", "2")[0] == 0
    post = repo / "_posts" / "2021-01-02-outputs.md"
    post.write_text(post.read_text().replace("to stdout", "A STALE OUTPUT THE RECORD DOES NOT SEE"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "posts")
    single = clone(repo, tmp_path / "single")
    assert build(capsys, single, "--force", "--jobs", "2")[0] == 0
    bundles = []
    for index in (1, 2):
        shard = clone(repo, tmp_path / f"shard{index}")
        bundles.append(tmp_path / f"bundle-{index}.json")
        assert build(capsys, shard, "--force", "--shard", f"{index}/2", "--bundle", str(bundles[-1]))[0] == 0
    merged = clone(repo, tmp_path / "merged")
    code, out, err = build(capsys, merged, "--merge", *map(str, bundles))
    assert code == 0, err
    assert out.count(": rendered in ") == 5
    assert "A STALE OUTPUT" not in (merged / "_posts" / "2021-01-02-outputs.md").read_text()
    assert published(merged) == published(single)
