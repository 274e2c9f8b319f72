"""Front matter: from a raw YAML cell or the first heading, written back with a YAML library."""
import yaml


def front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


def test_raw_cell_keys_pass_through_exactly(site):
    site.add("front_matter.ipynb", "2021-03-04-tricky-values.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    data = front_matter(site.post("2021-03-04-tricky-values"))
    assert data["title"] == 'Colons: a "quoted" {{ title }} — café 🎉'
    assert data["description"] == "Its {% raw %} here: yes"
    assert data["tags"] == ["python", "c++"]
    assert data["categories"] == "notes"
    assert data["comments"] is True
    assert data["custom_key"] == {"nested": [1, 2]}
    assert data["layout"] == "post"  # the default from _config.yml
    assert data["notebook"] == "notebooks/2021-03-04-tricky-values.ipynb"
    # Non-ASCII stays readable in the file rather than escaped.
    assert "café 🎉" in site.post("2021-03-04-tricky-values")


def test_raw_front_matter_cell_is_not_shown_and_headings_stay(site):
    site.add("front_matter.ipynb", "2021-03-04-tricky-values.ipynb")
    site.build()
    body = site.post("2021-03-04-tricky-values").split("---\n", 2)[2]
    assert "custom_key" not in body
    assert "# A heading that is not the title" in body


def test_title_comes_from_first_heading_which_is_removed(site):
    site.add("title_from_heading.ipynb", "2021-03-04-from-heading.ipynb")
    assert site.build().code == 0
    text = site.post("2021-03-04-from-heading")
    assert front_matter(text)["title"] == "The Title: From the Heading"
    body = text.split("---\n", 2)[2]
    assert "The Title" not in body
    assert "First paragraph under the title." in body


def test_config_defaults_fill_missing_keys_only(site):
    (site.root / "_config.yml").write_text((site.root / "_config.yml").read_text() +
                                           "  front_matter:\n    layout: article\n    comments: false\n")
    site.add("front_matter.ipynb", "2021-03-04-tricky-values.ipynb")
    assert site.build().code == 0
    data = front_matter(site.post("2021-03-04-tricky-values"))
    assert data["layout"] == "article"
    assert data["comments"] is True  # the notebook's own value wins


def test_invalid_yaml_names_notebook_and_line(site):
    site.add("front_matter_invalid_yaml.ipynb", "2021-03-04-bad-yaml.ipynb")
    run = site.build()
    assert run.code == 1
    assert ("notebooks/2021-03-04-bad-yaml.ipynb: front matter (cell 1), line 4: invalid YAML: "
            "expected ',' or ']', but got ':'") in run.err
    assert not (site.root / "_posts").exists()


def test_name_without_date_is_an_error(site):
    site.add("title_from_heading.ipynb", "no-date-here.ipynb")
    run = site.build()
    assert run.code == 1
    assert ("notebooks/no-date-here.ipynb: the file name has no valid date: name it YYYY-MM-DD-slug.ipynb "
            "or give 'date:' in the front matter") in run.err


def test_impossible_date_in_name_is_an_error(site):
    site.add("title_from_heading.ipynb", "2021-02-30-not-a-day.ipynb")
    run = site.build()
    assert run.code == 1
    assert "notebooks/2021-02-30-not-a-day.ipynb: the file name has no valid date" in run.err


def test_date_in_front_matter_dates_an_undated_name(site):
    import nbformat
    path = site.add("front_matter.ipynb", "Undated Notes.ipynb")
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("comments: true", "comments: true\ndate: 2019-05-06")
    nbformat.write(nb, path)
    assert site.build().code == 0
    data = front_matter(site.post("2019-05-06-undated-notes"))
    assert str(data["date"]) == "2019-05-06"
