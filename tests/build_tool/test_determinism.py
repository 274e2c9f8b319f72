"""Two builds of the same notebooks give byte-identical posts and images."""
import shutil


def test_two_builds_are_byte_identical(site, tmp_path):
    for name, as_name in [("outputs.ipynb", "2021-01-01-outputs.ipynb"), ("math.ipynb", "2021-01-02-math.ipynb"),
                          ("plot.ipynb", "2021-01-03-plot.ipynb"), ("cell_tags.ipynb", "2021-01-04-tags.ipynb")]:
        site.add(name, as_name)
    assert site.build().code == 0
    first = site.snapshot()
    shutil.rmtree(site.root / "_posts")
    shutil.rmtree(site.root / "img")
    shutil.rmtree(site.root / "_build")
    assert site.build("--jobs", "1").code == 0
    assert site.snapshot() == first


def test_posts_and_images_carry_no_machine_paths_or_times(site):
    """The execution time goes to _data/provenance (a data file, see test_provenance.py), never into
    what readers get: no date, clock time or epoch second of the build in the post or its images."""
    import datetime as dt
    import re
    site.add("outputs.ipynb", "2021-01-01-outputs.ipynb")
    site.add("plot.ipynb", "2021-01-02-plot.ipynb")
    start = dt.datetime.now(dt.timezone.utc)
    assert site.build().code == 0
    end = dt.datetime.now(dt.timezone.utc)
    moments = [start, end, start.astimezone(), end.astimezone()]
    dates = {f(m) for m in moments for f in (lambda m: m.strftime("%Y-%m-%d"), lambda m: m.strftime("%Y%m%d"),
                                              lambda m: m.strftime("%Y:%m:%d"), lambda m: m.strftime("%d %b %Y"))}
    minute = dt.timedelta(minutes=1)
    clock = {(m + k * minute).strftime("%H:%M") for m in moments for k in range(int((end - start) / minute) + 2)}
    epoch = {str(int(m.timestamp()))[:6] for m in (start, end)}       # the first 6 of 10 digits: a 1e4-s window
    snapshot = site.snapshot()
    assert any(name.startswith("_posts/") for name in snapshot) and any(name.startswith("img/") for name in snapshot)
    for name, data in snapshot.items():
        text = data.decode("latin-1")                     # PNG and JPEG metadata is ASCII inside the binary
        assert str(site.root) not in text and "/tmp" not in text, name
        assert not [d for d in dates if d in text], name
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text), name
        if name.endswith((".md", ".svg")):              # binary images hold any five bytes by chance
            assert not [c for c in clock if c in text], name
            assert not [e for e in epoch if re.search(rf"\b{e}\d{{4}}\b", text)], name
    assert "execution_count" not in site.post("2021-01-01-outputs")


def test_svg_figures_are_deterministic(site):
    import nbformat
    path = site.add("plot.ipynb", "2021-01-01-plot.ipynb")
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell("%config InlineBackend.figure_formats = ['svg']"))
    nbformat.write(nb, path)
    site.build()
    first = site.snapshot()
    shutil.rmtree(site.root / "img")
    shutil.rmtree(site.root / "_posts")
    site.build()
    assert site.snapshot() == first
    svg = next(p for p in first if p.endswith(".svg"))
    assert b"<dc:date>" not in first[svg] or b"1970-01-01" in first[svg]
