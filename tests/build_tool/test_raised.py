"""Errors that are part of the lesson (allow_errors) and input() (nbjekyll/raised.py)."""
from buildsite import CONFIG

ERROR_BLOCK = ("```text\n"
               "---------------------------------------------------------------------------\n"
               "NameError                                 Traceback (most recent call last)\n"
               "Cell In[1], line 1\n"
               "----> 1 print(misspelled_name)\n"
               "\n"
               "NameError: name 'misspelled_name' is not defined\n"
               "```\n"
               "{: .output .error}")


def test_allow_errors_in_front_matter_shows_the_errors_and_goes_on(site):
    site.add("allow_errors.ipynb", "2021-03-01-lesson.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    post = site.post("2021-03-01-lesson")
    assert ERROR_BLOCK in post
    assert "```text\nAFTER THE ERROR\n```" in post and "ZeroDivisionError: division by zero" in post
    assert ("notebooks/2021-03-01-lesson.ipynb: warning: allow_errors: cell 2 (NameError), cell 4 (ZeroDivisionError) "
            "raised; the errors are shown in the post as Jupyter shows them (tag a cell raises-exception if it is "
            "meant to raise)\n") in run.err
    again = site.build("--force")  # the warning comes with every run that writes the post
    assert "allow_errors: cell 2 (NameError)" in again.err


def test_without_allow_errors_the_same_error_fails_the_notebook(site):
    site.add("raises_name_error.ipynb", "2021-03-02-raises.ipynb")
    run = site.build()
    assert run.code == 1
    assert "notebooks/2021-03-02-raises.ipynb: cell 2 (execution count 1) raised NameError: name 'misspelled_name' " \
           "is not defined\n" in run.err


def test_allow_errors_for_the_site(site):
    (site.root / "_config.yml").write_text(CONFIG + "  allow_errors: true\n")
    site.add("raises_name_error.ipynb", "2021-03-02-raises.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    assert ERROR_BLOCK in site.post("2021-03-02-raises")
    assert ("notebooks/2021-03-02-raises.ipynb: warning: allow_errors: cell 2 (NameError) raised; the error is shown "
            "in the post as Jupyter shows it (tag a cell raises-exception if it is meant to raise)\n") in run.err


def test_input_says_which_cell_and_what_to_do(site):
    site.add("asks_for_input.ipynb", "2021-03-03-asks.ipynb")
    run = site.build()
    assert run.code == 1
    assert ("notebooks/2021-03-03-asks.ipynb: cell 3 (execution count 2) called input(), but a build cannot type an "
            "answer: give the value in the code (or read it from the notebook's metadata), tag the cell "
            "skip-execution or raises-exception, or show the notebook with its saved outputs (front matter "
            "execute: false with execute_reason:)\n"
            "      1 | name = input('Your name? ')\n") in run.err
    assert "raised StdinNotImplementedError" not in run.err
