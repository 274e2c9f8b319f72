"""Saved outputs (nbjekyll/saved.py): a post made from the outputs stored in its notebook, without a kernel,
telling the reader so near the top and in its stamp; counted apart; accepted by check; keyed on every byte."""
import json

import yaml

from buildsite import CONFIG

NOTICE_DATED = ('<p class="saved-outputs" markdown="0"><strong>Outputs as saved by the author</strong> on '
                '<time datetime="2019-05-04">May 4, 2019</time>; not executed by this build. Reason: needs the '
                'package rdkit</p>')
NOTICE_UNDATED = ('<p class="saved-outputs" markdown="0"><strong>Outputs as saved by the author</strong> (when is '
                  'unknown: the notebook does not record it); not executed by this build. Reason: needs a licensed '
                  'dataset &amp; a GPU</p>')


def front_matter(text):
    return yaml.safe_load(text.split("---\n")[1])


def with_setting(site, text):
    (site.root / "_config.yml").write_text(CONFIG + text)


def test_front_matter_execute_false_shows_the_saved_outputs_without_a_kernel(site):
    site.add("saved_outputs_front_matter.ipynb", "2021-02-01-saved.ipynb")
    explain = site.build("--explain")
    assert ("notebooks/2021-02-01-saved.ipynb: will render its saved outputs, not execute it (front matter: needs the "
            "package rdkit)\n") in explain.out
    run = site.build()
    assert run.code == 0, run.err
    post = site.post("2021-02-01-saved")
    body = post.split("---\n", 2)[2]
    assert body.startswith("\n{% raw %}" + NOTICE_DATED + "\n\nThe outputs below were saved by the author.")
    assert "SAVED OUTPUT 42" in post  # the module it imports is not installed: no kernel ran it
    assert "execute" not in front_matter(post) and "execute_reason" not in front_matter(post)
    assert yaml.safe_load((site.root / "_data/provenance/saved.yml").read_text()) == {
        "saved": True, "saved_on": "2019-05-04", "reason": "needs the package rdkit", "kernel": "python3",
        "python": "3.8.5"}
    assert "notebooks/2021-02-01-saved.ipynb: written from its saved outputs, not executed, in" in run.out
    assert run.out.endswith("1 notebook: 0 ok, 1 shown with saved outputs (not executed), 0 failed\n")


def test_the_site_setting_lists_notebooks_by_pattern_and_an_unknown_date_is_said(site):
    with_setting(site, "  saved_outputs:\n    2021-02-*-undated.ipynb: needs a licensed dataset & a GPU\n")
    site.add("saved_outputs_no_date.ipynb", "2021-02-02-undated.ipynb")
    site.add("outputs.ipynb", "2021-02-03-executed.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    assert NOTICE_UNDATED in site.post("2021-02-02-undated")
    assert "<strong>Outputs as saved" not in site.post("2021-02-03-executed")
    stamp = yaml.safe_load((site.root / "_data/provenance/undated.yml").read_text())
    assert stamp["saved_on"] is None and stamp["reason"] == "needs a licensed dataset & a GPU"
    assert run.out.endswith("2 notebooks: 1 ok, 1 shown with saved outputs (not executed), 0 failed\n")
    again = site.build()  # the no-op build counts it apart too
    assert again.out.endswith("2 notebooks: 1 ok, 1 shown with saved outputs (not executed), 0 failed\n")


def test_front_matter_execute_true_runs_a_notebook_the_site_lists(site):
    with_setting(site, "  saved_outputs:\n    '*': everything is saved\n")
    site.add("front_matter.ipynb", "2021-02-04-runs.ipynb")
    nb = json.loads((site.root / "notebooks/2021-02-04-runs.ipynb").read_text())
    nb["cells"][0]["source"] = nb["cells"][0]["source"].replace("---\n", "---\nexecute: true\n", 1) \
        if isinstance(nb["cells"][0]["source"], str) else ["---\n", "execute: true\n"] + nb["cells"][0]["source"][1:]
    (site.root / "notebooks/2021-02-04-runs.ipynb").write_text(json.dumps(nb))
    run = site.build()
    assert run.code == 0, run.err
    assert "built in" in run.out and "<strong>Outputs as saved" not in site.post("2021-02-04-runs")


def test_execute_false_without_a_reason_fails_naming_the_key(site):
    site.add("saved_outputs_without_reason.ipynb", "2021-02-05-noreason.ipynb")
    run = site.build()
    assert run.code == 1
    assert ("notebooks/2021-02-05-noreason.ipynb: front matter 'execute: false' needs 'execute_reason:', the reason "
            "readers are shown (e.g. execute_reason: needs the package rdkit)\n") in run.err


def test_an_invalid_setting_is_a_config_error(site):
    with_setting(site, "  saved_outputs: [a.ipynb]\n  require_execution: yes please\n")
    run = site.build()
    assert run.code == 2
    assert run.err == ("error: _config.yml: invalid configuration:\n"
                       "  Config value 'nbjekyll.saved_outputs': expected a mapping of notebook paths or globs to "
                       "the reason readers are shown, got ['a.ipynb']\n"
                       "  Config value 'nbjekyll.require_execution': expected true or false, got 'yes please'\n")


def test_check_accepts_the_outputs_and_strip_keeps_them(site):
    site.add("saved_outputs_front_matter.ipynb", "2021-02-01-saved.ipynb")
    assert site.build().code == 0
    check = site.build("--check")
    assert check.code == 0 and check.out == "1 notebook checked: all posts current\n"
    before = (site.root / "notebooks/2021-02-01-saved.ipynb").read_bytes()
    assert site.build("--strip").code == 0
    assert (site.root / "notebooks/2021-02-01-saved.ipynb").read_bytes() == before


def test_its_key_is_the_whole_notebook_a_changed_output_re_renders_it(site):
    path = site.add("saved_outputs_front_matter.ipynb", "2021-02-01-saved.ipynb")
    assert site.build().code == 0
    nb = json.loads(path.read_text())
    nb["cells"][2]["outputs"][0]["text"] = ["SAVED OUTPUT 43\n"]
    path.write_text(json.dumps(nb, indent=1))
    check = site.build("--check")
    assert check.code == 1 and "_posts/2021-02-01-saved.md: stale against notebooks/2021-02-01-saved.ipynb" in check.out
    run = site.build()
    assert run.code == 0 and "SAVED OUTPUT 43" in site.post("2021-02-01-saved")


def test_same_notebook_same_bytes(site):
    site.add("saved_outputs_front_matter.ipynb", "2021-02-01-saved.ipynb")
    assert site.build().code == 0
    first = site.snapshot()
    assert site.build("--force").code == 0
    assert site.snapshot() == first


def test_a_site_requiring_execution_forbids_it_under_strict_or_ci(site, monkeypatch):
    with_setting(site, "  require_execution: true\n")
    site.add("saved_outputs_front_matter.ipynb", "2021-02-01-saved.ipynb")
    monkeypatch.delenv("CI", raising=False)
    local = site.build()
    assert local.code == 0
    assert ("notebooks/2021-02-01-saved.ipynb: warning: shown with its saved outputs although "
            "nbjekyll.require_execution is true; --strict or CI=true makes this a failure\n") in local.err
    strict = site.build("--strict")  # up to date now: the no-op build's exit status says it
    assert strict.code == 1
    assert strict.err.endswith("error: 1 notebook shown with saved outputs (notebooks/2021-02-01-saved.ipynb), and "
                               "nbjekyll.require_execution with --strict (or CI=true) makes that a failure\n")
    monkeypatch.setenv("CI", "true")
    forced = site.build("--force")
    assert forced.code == 1
    assert ("notebooks/2021-02-01-saved.ipynb: would be shown with its saved outputs (front matter: needs the "
            "package rdkit), but nbjekyll.require_execution with --strict (or CI=true) forbids it: make it run "
            "here\n") in forced.err
    check = site.build("--check")
    assert check.code == 1 and ("notebooks/2021-02-01-saved.ipynb: shown with its saved outputs (front matter: needs "
                                "the package rdkit), but nbjekyll.require_execution is true: make it run here\n") \
        in check.out


def test_this_repository_requires_execution():
    from pathlib import Path
    from nbjekyll.config import load_config
    assert load_config(Path(__file__).resolve().parents[2]).require_execution is True


def test_the_notice_comes_before_the_table_of_contents_and_no_outputs_is_warned(site):
    path = site.add("saved_outputs_front_matter.ipynb", "2021-02-06-toc.ipynb")
    nb = json.loads(path.read_text())
    nb["cells"][0]["source"] = "---\ntitle: T\ntoc: true\nexecute: false\nexecute_reason: needs the package rdkit\n---"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
    path.write_text(json.dumps(nb))
    run = site.build()
    assert run.code == 0, run.err
    body = site.post("2021-02-06-toc").split("---\n", 2)[2]
    assert body.startswith('\n{% raw %}<p class="saved-outputs" markdown="0"><strong>Outputs as saved by the '
                           'author</strong> on <time datetime="2019-05-04">May 4, 2019</time>; not executed by this '
                           'build. Reason: needs the package rdkit</p>\n\n* Contents\n{:toc}\n')
    assert ("notebooks/2021-02-06-toc.ipynb: warning: shown with its saved outputs (front matter), but it has none: "
            "the post shows its code only\n") in run.err
