"""Each post's stamp (when, how long, in what its notebook ran) is Jekyll data beside the post, not in it."""
import os
import platform
import re

import nbformat
import numpy
import yaml


def stamp(site, slug):
    return yaml.safe_load((site.root / "_data" / "provenance" / f"{slug}.yml").read_text())


def test_stamp_records_the_run(site):
    site.add("states_claims.ipynb", "2021-01-01-claims.ipynb")
    assert site.build().code == 0
    record = stamp(site, "claims")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["executed"])
    assert isinstance(record["seconds"], float) and 0 < record["seconds"] < 60
    assert record["kernel"] == "python3"
    assert record["python"] == platform.python_version()
    assert record["packages"] == {"numpy": numpy.__version__}        # json is the standard library
    assert record["claims"] == ["length", "norm"]
    post = site.post("2021-01-01-claims")        # the post renders the stamp from the data; no time in it
    assert record["executed"] not in post and "executed:" not in post


def test_unchanged_rerun_keeps_the_stamp_and_a_changed_one_renews_it(site):
    path = site.add("states_claims.ipynb", "2021-01-01-claims.ipynb")
    assert site.build().code == 0
    data = site.root / "_data" / "provenance" / "claims.yml"
    first = data.read_bytes()
    stamp_time = os.stat(data).st_mtime_ns
    assert site.build("--force").code == 0                           # same outputs, same bytes
    assert data.read_bytes() == first and os.stat(data).st_mtime_ns == stamp_time
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("np.arange(3.0)", "np.arange(4.0)")
    nbformat.write(nb, path)
    assert site.build().code == 0
    assert os.stat(data).st_mtime_ns != stamp_time
