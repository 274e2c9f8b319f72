"""The site built from tests/site/notebooks by the real build tool and `jekyll build`, in Chromium."""
import re

import pytest
from playwright.sync_api import expect

from sitecheck import TEST_BASEURL, check_post, jekyll_build, notebook_link_hrefs, tab_state

SLUGS = ["maths", "tabs", "figure", "interactive"]


@pytest.mark.parametrize("slug", SLUGS)
def test_post_in_the_browser(test_site, new_tab, slug):
    """Images, maths, highlighting, <details>, tabs, notebook links, series; no console error."""
    tab = new_tab(test_site)
    post = test_site.post(slug)
    shot = check_post(tab, post)
    assert shot.stat().st_size > 10_000


def test_maths_is_typeset_from_the_site(test_site, new_tab):
    tab = new_tab(test_site)
    page = tab.open(test_site.post("maths").path)
    # 4 inline ($a_1…$, $x_i^2$, $\alpha * \beta * \gamma$, $\boldsymbol{W}_1$), 2 display
    assert page.locator("mjx-container").count() == 6
    assert page.locator('mjx-container[display="true"]').count() == 2
    # underscores and asterisks stayed maths: no <em> made of them
    assert page.locator(".post-content p em").count() == 0
    # the autoloaded \boldsymbol extension and the fonts came from the site's assets
    local = [u for u in tab.requests if "/assets/nbjekyll/mathjax/" in u]
    assert any(u.endswith("/assets/nbjekyll/mathjax/input/tex/extensions/boldsymbol.js") for u in local)
    assert any(u.endswith(".woff") for u in local)
    # $$ \( \[ inside code and outputs are left alone
    assert "$$ \\( \\[ stay as typed" in page.locator(".output pre").nth(1).inner_text()
    tab.assert_clean()


def test_liquid_looking_text_is_shown_literally(test_site, new_tab):
    tab = new_tab(test_site)
    page = tab.open(test_site.post("maths").path)
    prose = page.locator(".post-content p", has_text="PROSE-LIQUID").inner_text()
    assert prose == "PROSE-LIQUID {{ site.title }} {% raw %} {% endraw %} END"
    code = page.locator(".post-content div.language-python pre").first.inner_text()
    assert code == ('template = "{{ x }}"\n'
                    'print("OUT-LIQUID", template, "{% raw %}", "{% endraw %}")\n')
    output = page.locator(".post-content div.output pre").first.inner_text()
    assert output == "OUT-LIQUID {{ x }} {% raw %} {% endraw %}\n"
    tab.assert_clean()


def test_tab_groups_sync_and_remember_the_choice(test_site, new_tab):
    tab = new_tab(test_site)
    page = tab.open(test_site.post("tabs").path)

    def state():
        return [(g["tabs"], g["selected"], g["shown"]) for g in tab_state(page)]

    three, two = ["PyTorch", "TensorFlow", "JAX"], ["PyTorch", "TensorFlow"]
    assert state() == [(three, ["PyTorch"], ["PyTorch"]), (two, ["PyTorch"], ["PyTorch"])]
    assert page.get_by_text("group 1: PyTorch", exact=True).is_visible()
    assert not page.get_by_text("group 1: TensorFlow", exact=True).is_visible()

    # choosing in the second group switches the first
    page.locator(".tab-group").nth(1).get_by_role("tab", name="TensorFlow").click()
    assert state() == [(three, ["TensorFlow"], ["TensorFlow"]), (two, ["TensorFlow"], ["TensorFlow"])]
    assert page.get_by_text("group 1: TensorFlow", exact=True).is_visible()
    assert not page.get_by_text("group 1: PyTorch", exact=True).is_visible()

    # a name only the first group has leaves the second one as it was
    page.locator(".tab-group").nth(0).get_by_role("tab", name="JAX").click()
    assert state() == [(three, ["JAX"], ["JAX"]), (two, ["TensorFlow"], ["TensorFlow"])]

    # keyboard: arrows move along the tab bar, wrapping, and focus follows
    page.locator(".tab-group").nth(0).get_by_role("tab", name="JAX").focus()
    page.keyboard.press("ArrowRight")
    assert state() == [(three, ["PyTorch"], ["PyTorch"]), (two, ["PyTorch"], ["PyTorch"])]
    assert page.evaluate("document.activeElement.textContent") == "PyTorch"
    page.keyboard.press("ArrowLeft")
    assert state()[0][1] == ["JAX"]
    page.keyboard.press("Home")
    assert state()[0][1] == ["PyTorch"]
    page.keyboard.press("End")
    assert state()[0][1] == ["JAX"]

    # remembered on another post: TensorFlow chosen here, the figure post opens on it
    page.locator(".tab-group").nth(1).get_by_role("tab", name="TensorFlow").click()
    tab.open(test_site.post("figure").path)
    assert [(g["selected"], g["shown"]) for g in tab_state(page)] == [(["TensorFlow"], ["TensorFlow"])]
    # …and when a post has no tab of the remembered name, its groups open on the first tab
    page.locator(".tab-group").get_by_role("tab", name="PyTorch").click()
    tab.open(test_site.post("tabs").path)
    assert state() == [(three, ["PyTorch"], ["PyTorch"]), (two, ["PyTorch"], ["PyTorch"])]
    page.locator(".tab-group").nth(0).get_by_role("tab", name="JAX").click()
    tab.open(test_site.post("figure").path)
    assert [(g["selected"], g["shown"]) for g in tab_state(page)] == [(["PyTorch"], ["PyTorch"])]
    tab.assert_clean()


def test_without_javascript_every_tab_shows_under_its_title(test_site, new_tab):
    tab = new_tab(test_site, javascript=False)
    page = tab.open(test_site.post("tabs").path)
    assert page.locator(".tab-bar").count() == 0
    titles = page.locator(".tab-panel > p.tab-title")
    assert titles.all_inner_texts() == ["PyTorch", "TensorFlow", "JAX", "PyTorch", "TensorFlow"]
    assert all(titles.nth(i).is_visible() for i in range(5))
    for g, name in [(1, "PyTorch"), (1, "TensorFlow"), (1, "JAX"), (2, "PyTorch"), (2, "TensorFlow")]:
        assert page.get_by_text(f"group {g}: {name}", exact=True).is_visible()
    tab.assert_clean()


def test_figure_post(test_site, new_tab):
    tab = new_tab(test_site)
    post = test_site.post("figure")
    page = tab.open(post.path)
    img = page.locator(".output.image img")
    assert img.count() == 1
    assert img.get_attribute("alt") == "A sine wave"
    assert img.get_attribute("src") == TEST_BASEURL + post.fm["image"]
    assert img.evaluate("i => i.naturalWidth") > 0
    # responsive: never wider than the text column
    page.set_viewport_size({"width": 360, "height": 700})
    assert img.evaluate("i => i.getBoundingClientRect().width <= i.closest('.post-content').clientWidth")
    page.set_viewport_size({"width": 1000, "height": 800})
    # the cover image is the page's social image, absolute
    og = page.get_attribute('meta[property="og:image"]', "content")
    assert og == test_site.config["url"] + TEST_BASEURL + post.fm["image"]
    # hide-input: the code is folded, its output is not
    det = page.locator("details.hide-input")
    assert det.count() == 1
    assert det.locator("summary").inner_text() == "Show code"
    assert not det.locator("pre").is_visible()
    assert page.get_by_text("HIDDEN-RESULT 42").is_visible()
    det.locator("summary").click()
    assert det.locator("pre").inner_text() == "hidden = 6 * 7\nprint('HIDDEN-RESULT', hidden)\n"
    assert det.locator("pre").is_visible()
    tab.assert_clean()


def test_outputs_look_different_from_code(test_site, new_tab):
    tab = new_tab(test_site)
    page = tab.open(test_site.post("figure").path)
    style = "el => { const s = getComputedStyle(el); return [s.backgroundColor, s.borderLeftColor, s.borderLeftWidth]; }"
    code = page.locator("div.language-python:not(.output) pre.highlight").first.evaluate(style)
    stdout = page.locator("div.output.stdout pre.highlight, div.output.stream pre.highlight").first.evaluate(style)
    stderr = page.locator("div.output.stderr pre.highlight").evaluate(style)
    error = page.locator("div.output.error pre.highlight").evaluate(style)
    assert code[0] != stdout[0] and stdout[2] == "4px"
    assert len({tuple(stdout), tuple(stderr), tuple(error)}) == 3
    assert "ZeroDivisionError" in page.locator("div.output.error pre").inner_text()
    tab.assert_clean()


def test_home_about_favicon_and_feed(test_site, new_tab):
    tab = new_tab(test_site)
    page = tab.open(TEST_BASEURL + "/")
    # one h1; the series first, in reading order, then the other posts, newest first
    assert page.locator("h1").all_inner_texts() == [test_site.config["title"]]
    in_series = [p for p in test_site.posts if p.fm.get("series")]
    others = list(reversed([p for p in test_site.posts if not p.fm.get("series")]))
    assert page.locator(".series-home h2").all_inner_texts() == ["Test Series"]
    links = page.locator(".post-list a.post-link")
    assert [t.strip() for t in links.all_inner_texts()] == \
        [f"Part {i + 1} · {p.title}" for i, p in enumerate(in_series)] + [p.title for p in others]
    assert links.evaluate_all("as => as.map(a => a.getAttribute('href'))") == [p.path for p in in_series + others]
    assert page.locator(".post-list .post-description").all_inner_texts() == \
        [p.fm["description"] for p in in_series + others if p.fm.get("description")]
    about = page.locator(".site-nav a.page-link")
    assert about.all_inner_texts() == ["About"]
    assert page.get_attribute('link[rel="icon"]', "href") == TEST_BASEURL + "/favicon.ico"
    about.click()
    page.wait_for_load_state("load")
    assert page.url == test_site.url(TEST_BASEURL + "/about/")
    assert page.inner_text("h1.post-title") == "About"
    assert page.locator("#MathJax-script").count() == 0
    icon = page.request.get(test_site.url(TEST_BASEURL + "/favicon.ico"))
    assert icon.status == 200 and icon.body()[:4] == b"\x00\x00\x01\x00"
    feed = page.request.get(test_site.url(TEST_BASEURL + "/feed.xml"))
    assert feed.status == 200 and feed.text().count("<entry>") == len(test_site.posts)
    sitemap = page.request.get(test_site.url(TEST_BASEURL + "/sitemap.xml"))
    assert sitemap.status == 200
    assert all(test_site.config["url"] + p.path in sitemap.text() for p in test_site.posts)
    tab.assert_clean()


def test_nothing_but_the_site_is_published(test_site):
    published = {p.name for p in test_site.dest.iterdir()}
    assert published == {"2021", "about", "assets", "favicon.ico", "feed.xml", "img", "index.html",
                         "pagefind", "robots.txt", "search", "sitemap.xml"}
    assert not list(test_site.dest.rglob("*.ipynb"))
    assert (test_site.dest / "assets/nbjekyll/mathjax/tex-chtml.js").stat().st_size > 1_000_000
    assert len(list((test_site.dest / "assets/nbjekyll/mathjax/output/chtml/fonts/woff-v2").glob("*.woff"))) == 23


def test_notebook_links_can_be_switched_off(test_site, tmp_path):
    override = tmp_path / "links-off.yml"
    override.write_text("notebook_links:\n  branch: dev\n  colab: false\n  source: false\n")
    dest = tmp_path / "_site"
    jekyll_build(test_site.source, dest, override)
    html = (dest / test_site.post("maths").html.relative_to(test_site.dest)).read_text("utf-8")
    hrefs = re.findall(r'<a class="notebook-link (\w+)" href="([^"]+)"', html)
    links = dict(test_site.config["notebook_links"], branch="dev", colab=False, source=False)
    assert hrefs == list(notebook_link_hrefs("notebooks/2021-03-01-maths.ipynb", links).items())
    assert hrefs == [("binder", "https://mybinder.org/v2/gh/"
                      f"{test_site.config['notebook_links']['repository']}/dev"
                      "?labpath=notebooks%2F2021-03-01-maths.ipynb")]

    override.write_text("notebook_links:\n  colab: false\n  binder: false\n  source: false\n")
    jekyll_build(test_site.source, dest, override)
    html = (dest / test_site.post("maths").html.relative_to(test_site.dest)).read_text("utf-8")
    assert "notebook-link" not in html


def test_interactive_outputs_are_drawn_from_the_site_and_respond(test_site, new_tab):
    """Plotly (twice), Altair, Bokeh and a saved widget: each drawn, every library loaded once from
    the site (assert_clean: no request leaves it, no console error), and the widget still works."""
    tab = new_tab(test_site)
    page = tab.open(test_site.post("interactive").path)
    page.wait_for_function("() => [...document.querySelectorAll('.interactive-output[data-library]')]"
                           ".every(e => e.dataset.library === 'widget' || e.dataset.state)")
    states = page.eval_on_selector_all(".interactive-output[data-library]", "els => els.map(e => [e.dataset.library, "
                                       "e.dataset.state || null])")
    assert states == [["plotly", "drawn"], ["vega", "drawn"], ["bokeh", "drawn"], ["widget", None], ["plotly", "drawn"]]
    assert page.locator(".js-plotly-plot .gtitle").all_text_contents() == ["PLOTLY_TITLE", "PLOTLY_TABBED"]
    assert page.locator(".js-plotly-plot .scatterlayer .trace").count() == 1
    assert page.locator(".vega-embed svg .role-title-text").text_content() == "ALTAIR_TITLE"
    assert page.locator("#bokeh-root-2 canvas").count() >= 1  # BokehJS drew into the element of show()'s output
    scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.getAttribute('src'))")
    vendored = [s for s in scripts if "/assets/vendor/" in s]
    assert len(vendored) == len(set(vendored)) == 9  # plotly (once for two figures), vega ×3, BokehJS ×3, widget manager, the renderer
    slider = page.locator(".widget-slider")
    slider.wait_for()
    assert page.locator(".widget-readout").inner_text() == "7"
    page.locator(".widget-slider .noUi-handle, .widget-slider [role=slider]").first.focus()
    page.keyboard.press("ArrowRight")
    # the widget runs in the page, no kernel needed; its view updates asynchronously: wait for the new value
    expect(page.locator(".widget-readout")).to_have_text("8")
    tab.assert_clean()


def test_interactive_outputs_say_what_they_hold_without_javascript(test_site, new_tab):
    tab = new_tab(test_site, javascript=False)
    page = tab.open(test_site.post("interactive").path)
    notes = page.eval_on_selector_all(".interactive-output", "els => els.map(e => e.innerText.trim())")
    assert notes == ["An interactive output: it is drawn by JavaScript, which this browser does not run."] * 5
    tab.assert_clean()


def test_a_plotly_figure_in_a_hidden_tab_fits_its_column_when_the_tab_is_chosen(test_site, new_tab):
    """Drawn while its tab was hidden, plotly.js guessed a width (700 px); on a phone the figure
    must fit the column once its tab is chosen, not overflow it."""
    tab = new_tab(test_site, width=390)
    page = tab.open(test_site.post("interactive").path)
    page.wait_for_function("() => [...document.querySelectorAll('.interactive-output[data-library=plotly]')]"
                           ".every(e => e.dataset.state === 'drawn')")
    figure = page.locator(".tab-panel .interactive-output[data-library=plotly]")
    assert figure.evaluate("e => e.clientWidth") == 0  # its tab is not the one shown
    page.get_by_role("tab", name="Figure").click()
    page.wait_for_function("e => e.clientWidth > 0 && Math.abs(e.querySelector('.main-svg')"
                           ".getBoundingClientRect().width - e.clientWidth) < 2", arg=figure.element_handle())
    assert 300 < figure.evaluate("e => e.querySelector('.main-svg').getBoundingClientRect().width") < 390
    page.get_by_role("tab", name="Text").click()  # hidden again: nothing to refit, no error
    page.get_by_role("tab", name="Figure").click()
    tab.assert_clean()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_interactive_outputs_pass_axe_at_phone_and_desktop_width(test_site, new_tab, scheme):
    from axe_playwright_python.sync_playwright import Axe
    found = {}
    for width in (390, 1280):
        tab = new_tab(test_site, width=width, scheme=scheme)
        page = tab.open(test_site.post("interactive").path)
        page.wait_for_selector(".widget-slider")
        page.wait_for_function("() => [...document.querySelectorAll('.interactive-output[data-state]')].length === 4")
        bad = [f"{v['id']} ({v['impact']}): {len(v['nodes'])}× e.g. {v['nodes'][0]['html'][:160]}"
               for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
        if bad:
            found[width] = bad
        tab.assert_clean()
    assert found == {}, "\n".join(f"{k}px: {v}" for k, v in found.items())


def test_each_post_shows_its_stamp_once(test_site):
    """The stamp is in each post (Liquid, for any theme); this site's layout adds none of its own then."""
    for post in test_site.posts:
        html = post.html.read_text(encoding="utf-8")
        assert html.count('<aside class="provenance"') == 1, post.slug
        assert "Every output above came from executing" in html
