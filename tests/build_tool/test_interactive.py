"""Interactive outputs: Plotly, Altair/Vega-Lite, Bokeh and saved ipywidgets, drawn from the site's own copies
of their libraries (tests/site draws them in Chromium)."""
import http.server
import json
import re
import shutil
import threading

import bokeh
import pytest

from nbjekyll import vendor

PLOTLY_JS = "/assets/vendor/plotly.js-dist-min-4.1.1/plotly.min.js"


def payloads(text: str, library: str) -> list:
    return [json.loads(match) for match in re.findall(
        r'<div class="interactive-output" data-library="' + library + r'"[^>]*><script type="application/json">'
        r"(.*?)</script><noscript>.*?</noscript></div>", text)]


def scripts(text: str) -> list[str]:
    return re.findall(r"<script defer src=\"\{% endraw %\}\{\{ '([^']+)' \| relative_url \}\}\{% raw %\}\"></script>",
                      text)


def test_plotly_figures_are_drawn_from_their_json_with_plotly_js_loaded_once(site):
    site.add("plotly_figure.ipynb", "2021-01-01-plotly.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    text = site.post("2021-01-01-plotly")
    figures = payloads(text, "plotly")
    # the cell's result and fig.show() (Plotly 6+ writes only application/vnd.plotly.v1+json), and the HTML of
    # the "notebook_connected" renderer, whose Plotly.newPlot(…) call is read as the same figure
    assert len(figures) == 3
    assert figures[0]["data"][0]["name"] == "PLOTLY_TRACE" and figures[0]["layout"]["height"] == 320
    assert figures[2]["data"] == figures[0]["data"] and figures[2]["layout"] == figures[0]["layout"]
    assert figures[2]["config"] == {"responsive": True}
    assert 'data-library="plotly" style="min-height: 320px"' in text  # the box keeps its size while plotly.js loads
    assert scripts(text) == [PLOTLY_JS, f"/assets/vendor/nbjekyll-{vendor_digest()}/interactive.js"]
    folder = site.root / "assets/vendor/plotly.js-dist-min-4.1.1"
    assert sorted(p.name for p in folder.iterdir()) == ["LICENSE", "package.json", "plotly.min.js"]
    assert json.loads((folder / "package.json").read_text())["version"] == "4.1.1"
    assert "cdn.plot.ly" not in text and "warning" not in run.err


def test_an_html_output_that_loads_a_remote_script_is_kept_with_a_warning(site):
    site.add("html_remote_script.ipynb", "2021-01-01-remote.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    assert ("notebooks/2021-01-01-remote.ipynb: warning: cell 2: an HTML output loads a script from "
            "https://cdn.example.org/lib.js, outside the site; readers' browsers will fetch it from there") in run.err
    assert '<script src="https://cdn.example.org/lib.js"></script>' in site.post("2021-01-01-remote")


def test_an_exact_version_this_tool_does_not_pin_is_checked_against_the_registry_integrity(monkeypatch, tmp_path):
    monkeypatch.setenv("NBJEKYLL_CACHE", str(tmp_path))
    assert "7.2.0" not in vendor.PINNED["vega-embed"]
    files = vendor.files_of(vendor.Script("vega-embed", "7.2.0", "build/vega-embed.min.js"))
    assert json.loads(files["/assets/vendor/vega-embed-7.2.0/package.json"])["version"] == "7.2.0"
    assert (tmp_path / "npm/vega-embed-7.2.0.tgz").is_file()


def vendor_digest() -> str:
    from nbjekyll.interactive import RENDERER
    return RENDERER.version


def test_altair_charts_and_vega_lite_outputs_use_the_vega_they_ask_for_from_the_site(site):
    site.add("altair_chart.ipynb", "2021-01-01-altair.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    text = site.post("2021-01-01-altair")
    altair, mime = payloads(text, "vega")
    assert altair["spec"]["title"] == "ALTAIR_CHART" and altair["options"] == {"mode": "vega-lite"}
    assert mime["spec"]["data"]["values"][0]["a"] == "VEGALITE_MIME"
    # Altair 6 asks for vega@6, vega-lite@6.4.1 and vega-embed@7: the pinned versions that satisfy them
    assert scripts(text)[:3] == ["/assets/vendor/vega-6.4.0/vega.min.js", "/assets/vendor/vega-lite-6.4.1/vega-lite.min.js",
                                 "/assets/vendor/vega-embed-7.3.0/vega-embed.min.js"]
    assert "jsdelivr" not in text and "altair-viz-" not in text  # neither Altair's loader nor its random id


def test_bokeh_plots_load_the_bokehjs_of_their_own_version_and_lose_the_notebook_loader(site):
    site.add("bokeh_plot.ipynb", "2021-01-01-bokeh.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    text = site.post("2021-01-01-bokeh")
    assert "Loading BokehJS" not in text and "cdn.bokeh.org" not in text  # output_notebook()'s outputs are gone
    (document,) = payloads(text, "bokeh")
    assert list(document["docs_json"]) == ["bokeh-document-1"]
    assert document["render_items"] == [{"docid": "bokeh-document-1", "roots": {"p1008": "bokeh-root-2"},
                                         "root_ids": ["p1008"]}]
    assert '<div id="bokeh-root-2" data-root-id=' in text  # the element Bokeh draws into, renamed alike
    assert "BOKEH_PLOT" in json.dumps(document)
    assert scripts(text)[0] == f"/assets/vendor/bokehjs-{bokeh.__version__}/bokeh.min.js"


def test_widgets_with_saved_state_render_through_the_widget_manager(site):
    site.add("widget_with_state.ipynb", "2021-01-01-widgets.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    text = site.post("2021-01-01-widgets")
    views = re.findall(r'<script type="application/vnd.jupyter.widget-view\+json">(.*?)</script>', text)
    assert [json.loads(v)["model_id"] for v in views] == ["widget-model-3", "widget-model-11"]
    (state,) = re.findall(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', text)
    models = json.loads(state)["state"]
    assert all(json.loads(v)["model_id"] in models for v in views)
    assert any(m["state"].get("description") == "WIDGET_SLIDER" for m in models.values())
    assert not re.search(r"[0-9a-f]{32}", state)  # the run's random model ids are replaced by stable ones
    assert scripts(text) == ["/assets/vendor/html-manager-1.0.15/embed.js",
                             f"/assets/vendor/nbjekyll-{vendor_digest()}/interactive.js"]
    assert "needs a live kernel" not in text and "warning" not in run.err


def test_rebuilding_an_interactive_post_writes_the_same_bytes(site):
    for name in ("bokeh_plot", "widget_with_state"):
        site.add(f"{name}.ipynb", f"2021-01-01-{name}.ipynb")
    assert site.build().code == 0
    first = site.snapshot()
    assert site.build("--force").code == 0
    assert site.snapshot() == first  # Bokeh's and ipywidgets' random ids do not reach the post


def test_a_chart_of_a_vega_lite_this_tool_does_not_serve_is_an_error_naming_the_cell(site):
    site.add("vega_lite_unserved.ipynb", "2021-01-01-old-chart.ipynb")
    run = site.build()
    assert run.code == 1
    assert ("notebooks/2021-01-01-old-chart.ipynb: cell 2: a Vega-Lite 3 chart cannot be shown: this tool serves "
            "Vega-Lite 5 and 6 (re-run it with a current Altair)") in run.err
    assert not (site.root / "_posts").exists() or not list((site.root / "_posts").iterdir())


def test_a_missing_script_is_restored_and_an_unused_library_folder_is_reported_then_removed(site):
    site.add("plotly_figure.ipynb", "2021-01-01-plotly.ipynb")
    assert site.build().code == 0
    library = site.root / PLOTLY_JS.lstrip("/")
    library.unlink()
    run = site.build()
    assert run.code == 0 and "an image or script of the post is missing" in run.err + run.out
    assert library.is_file()
    old = site.root / "assets/vendor/plotly.js-dist-min-2.0.0"
    shutil.copytree(library.parent, old)
    check = site.build("--check")
    assert check.code == 1
    assert "assets/vendor/plotly.js-dist-min-2.0.0/: scripts no post loads (the next build removes them)" in check.out + check.err
    (site.root / "notebooks/2021-01-01-plotly.ipynb").write_text(
        (site.root / "notebooks/2021-01-01-plotly.ipynb").read_text().replace("A Plotly figure", "One Plotly figure"))
    assert site.build().code == 0
    assert not old.exists() and library.is_file()
    (site.root / "assets/vendor/my-own-library").mkdir()  # not one this tool wrote: left alone
    assert site.build("--force").code == 0 and (site.root / "assets/vendor/my-own-library").is_dir()


def test_an_unreachable_registry_fails_the_post_with_the_package_and_keeps_the_old_one(site, monkeypatch, tmp_path):
    monkeypatch.setenv("NBJEKYLL_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(vendor, "REGISTRY", "http://127.0.0.1:9")  # nothing listens on the discard port
    site.add("plotly_figure.ipynb", "2021-01-01-plotly.ipynb")
    run = site.build()
    assert run.code == 1
    assert re.search(r"notebooks/2021-01-01-plotly.ipynb: cannot fetch plotly.js-dist-min@4.1.1 from the npm registry "
                     r"\(.*\); the page's interactive outputs need it \(it is fetched once into .*empty-cache/npm\)",
                     run.err), run.err
    assert not (site.root / "_posts/2021-01-01-plotly.md").exists()


class _Tampering(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the standard library's name)
        body = b"not the package"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_tarball_that_does_not_match_its_integrity_is_refused_and_a_damaged_cache_is_fetched_again(
        monkeypatch, tmp_path):
    good = vendor.tarball("vega-embed", "7.3.0")  # from the user's cache, or the registry once
    monkeypatch.setenv("NBJEKYLL_CACHE", str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Tampering)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cached = tmp_path / "npm" / "vega-embed-7.3.0.tgz"
        cached.parent.mkdir(parents=True)
        cached.write_bytes(good[:-10] + b"0123456789")  # damaged on disk
        monkeypatch.setattr(vendor, "REGISTRY", f"http://127.0.0.1:{server.server_address[1]}")
        with pytest.raises(vendor.BuildError) as error:
            vendor.tarball("vega-embed", "7.3.0")
        assert str(error.value).startswith("vega-embed@7.3.0 from the npm registry does not match its integrity "
                                           "sha512-wQ8s5GaS")
        monkeypatch.setattr(vendor, "REGISTRY", "https://registry.npmjs.org")
        assert vendor.tarball("vega-embed", "7.3.0") == good and cached.read_bytes() == good
    finally:
        server.shutdown()


@pytest.mark.parametrize("wanted, version", [("6", "6.4.0"), ("5", "5.33.0"), ("^6.4.0", "6.4.0"), ("6.4.0", "6.4.0"),
                                             ("4", None), ("6.5", None)])
def test_a_version_range_resolves_to_the_newest_pinned_version_it_allows(wanted, version):
    assert vendor.pinned_version("vega", wanted) == version


def test_the_libraries_go_where_nbjekyll_vendor_dir_says(site):
    """A blog whose assets/vendor is its own keeps it: the libraries go to the folder the site names."""
    config = site.root / "_config.yml"
    config.write_text(config.read_text() + "  vendor_dir: assets/nbjekyll/libraries\n")
    site.add("plotly_figure.ipynb", "2021-01-01-plotly.ipynb")
    run = site.build()
    assert run.code == 0, run.err
    text = site.post("2021-01-01-plotly")
    assert scripts(text) == ["/assets/nbjekyll/libraries/plotly.js-dist-min-4.1.1/plotly.min.js",
                             f"/assets/nbjekyll/libraries/nbjekyll-{vendor_digest()}/interactive.js"]
    assert (site.root / "assets/nbjekyll/libraries/plotly.js-dist-min-4.1.1/plotly.min.js").is_file()
    assert not (site.root / "assets/vendor").exists()
    assert site.build().out.splitlines()[0] == "notebooks/2021-01-01-plotly.ipynb: up to date"
