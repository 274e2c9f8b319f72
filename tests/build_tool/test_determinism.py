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


def test_posts_carry_no_machine_paths_or_times(site):
    site.add("outputs.ipynb", "2021-01-01-outputs.ipynb")
    site.build()
    text = site.post("2021-01-01-outputs")
    assert str(site.root) not in text
    assert "/tmp" not in text and "execution_count" not in text


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
