"""The real site as readers meet it: any screen width, light and dark, keyboard and screen
reader (axe-core), copy buttons, search, the provenance stamp, the home page and the feed."""
import xml.etree.ElementTree as ET

import pytest
import yaml
from axe_playwright_python.sync_playwright import Axe

from sitecheck import REPO, SCREENSHOTS, SHOT_FOLDERS, series_posts

WIDTHS = [320, 390, 768, 1280]
ATOM = "{http://www.w3.org/2005/Atom}"


def pages_of(site) -> list[str]:
    return [site.baseurl + "/", site.baseurl + "/about/", site.baseurl + "/search/"] + [p.path for p in site.posts]


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_is_wider_than_the_screen(real_site, new_tab, width):
    tab = new_tab(real_site, width=width)
    too_wide = {}
    for path in pages_of(real_site):
        page = tab.open(path)
        document_width = page.evaluate("() => document.documentElement.scrollWidth")
        if document_width > width:
            too_wide[path] = document_width
    assert too_wide == {}, f"document wider than the {width} px viewport: {too_wide}"
    tab.assert_clean()


FIGURE_BOXES = """() => [...document.querySelectorAll('.post-content .output.image img')].map(img => {
    const box = img.getBoundingClientRect();
    return {src: img.getAttribute('src'), width: box.width, height: box.height,
            natural: img.naturalWidth / img.naturalHeight || null};
})"""


def test_figures_keep_their_size_while_they_load(real_site, new_tab):
    """Every figure has its final box before its file arrives (its width and height attributes),
    so the text under it does not jump; checked by holding back every image request."""
    tab = new_tab(real_site, width=390)
    held = []
    tab.page.route("**/img/**", lambda route: held.append(route))
    expected = sum(post.md.read_text(encoding="utf-8").count('class="output image"') for post in real_site.posts)
    moved, seen = {}, 0
    for post in real_site.posts:
        tab.page.goto(real_site.url(post.path), wait_until="domcontentloaded")
        loading = tab.page.evaluate(FIGURE_BOXES)
        for route in held:
            route.continue_()
        held.clear()
        tab.ready()
        loaded = tab.page.evaluate(FIGURE_BOXES)
        seen += len(loaded)
        for before, after in zip(loading, loaded):
            assert before["src"] == after["src"] and after["natural"], after
            assert abs(after["width"] / after["height"] - after["natural"]) < 0.01, after  # not stretched
            if abs(before["width"] - after["width"]) > 1 or abs(before["height"] - after["height"]) > 1:
                moved[after["src"]] = (before["width"], before["height"], after["width"], after["height"])
    assert seen == expected and seen > 0
    assert moved == {}, f"figures that changed size when their file arrived: {moved}"
    tab.assert_clean()


def test_series_box_is_closed_on_a_phone_and_open_on_a_wide_screen(real_site, new_tab):
    post = real_site.posts[0]
    for width, is_open in [(390, False), (1280, True)]:
        tab = new_tab(real_site, width=width)
        page = tab.open(post.path)
        details = page.locator(".series-toc details")
        assert (details.get_attribute("open") is not None) == is_open
        assert page.locator(".series-toc li").first.is_visible() == is_open
        page.locator(".series-toc summary").click()
        assert page.locator(".series-toc li").first.is_visible() != is_open
        tab.assert_clean()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_on_any_page(real_site, new_tab, scheme):
    """axe-core's serious and critical violations (contrast, names, scrollable regions…) at a
    phone's and a desktop's width, after MathJax and the page scripts ran; a screenshot of each."""
    axe = Axe()
    found = {}
    for width in (390, 1280):
        tab = new_tab(real_site, width=width, scheme=scheme)
        folder = SCREENSHOTS / "real-site" / f"{scheme}-{width}"
        folder.mkdir(parents=True, exist_ok=True)
        SHOT_FOLDERS.add(folder)
        for path in pages_of(real_site):
            page = tab.open(path)
            if path.endswith("/search/"):
                page.wait_for_selector("#search input[aria-label]")
            name = path[len(real_site.baseurl):].strip("/").replace("/", "_") or "home"
            # the first screen (full pages at 1000 px are taken by test_real_site.py)
            page.screenshot(path=str(folder / f"{name.removesuffix('.html')}.png"))
            results = axe.run(page)
            bad = [f"{v['id']} ({v['impact']}): {len(v['nodes'])}× e.g. {v['nodes'][0]['html'][:120]}"
                   for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
            if bad:
                found[f"{width}px {path}"] = bad
        tab.assert_clean()
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())


def test_copy_button_copies_exactly_the_code(real_site, new_tab):
    post = real_site.post("cnn-in-pytorch")
    tab = new_tab(real_site, permissions=("clipboard-read", "clipboard-write"))
    page = tab.open(post.path)
    cells = page.locator(".post-content div.highlighter-rouge:not(.output)")
    outputs = page.locator(".post-content div.highlighter-rouge.output")
    assert cells.count() > 0 and outputs.locator(".copy-button").count() == 0
    assert page.locator(".copy-button").count() == cells.count()
    cell = cells.nth(1)
    expected = cell.locator("pre code").text_content().rstrip("\n")
    assert expected in post.md.read_text(encoding="utf-8")     # the cell's source, as written
    # keyboard: focus the button, press Enter
    button = cell.locator(".copy-button")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("b => b.textContent === 'Copied'", arg=button.element_handle())
    assert page.evaluate("() => navigator.clipboard.readText()") == expected
    assert page.locator("[aria-live=polite]").inner_text() == "Code copied"
    tab.assert_clean()


def test_search_from_the_header_finds_the_main_post(real_site, new_tab):
    tab = new_tab(real_site)
    page = tab.open(real_site.post("back-propagation-in-deep-learning-frameworks").path)
    page.fill(".site-search input[name=q]", "softmax Jacobian")
    page.press(".site-search input[name=q]", "Enter")
    # results load one by one: wait for the top-ranked one itself
    page.wait_for_selector(".pagefind-ui__results > li:first-child .pagefind-ui__result-link")
    assert page.url.startswith(real_site.url(real_site.baseurl + "/search/?q=softmax"))
    first = page.locator(".pagefind-ui__results > li:first-child .pagefind-ui__result-link").first.get_attribute("href")
    assert first == real_site.post("back-propagation-in-deep-learning-frameworks").path
    tab.settle()
    tab.assert_clean()    # the index and the UI came from the site, under its baseurl


def test_every_post_carries_its_provenance_stamp(real_site, new_tab):
    tab = new_tab(real_site)
    repo = "https://github.com/{repository}/blob/{branch}/".format(**real_site.config["notebook_links"])
    for post in real_site.posts:
        record = yaml.safe_load((REPO / "_data/provenance" / f"{post.slug}.yml").read_text(encoding="utf-8"))
        page = tab.open(post.path)
        stamp = page.locator("aside.provenance")
        assert stamp.count() == 1, post.slug
        text = " ".join(stamp.inner_text().split())
        assert stamp.locator("time").get_attribute("datetime") == record["executed"]
        assert f"which took {record['seconds']} s, in the kernel {record['kernel']} (Python {record['python']}" in text
        for package, version in record["packages"].items():
            assert f"{package} {version}" in text
        hrefs = stamp.locator("a").evaluate_all("as => as.map(a => a.href)")
        assert repo + post.fm["notebook"] in hrefs
        assert all(repo + helper in hrefs for helper in post.fm.get("built_from", {}).get("files", {}))
        assert [c.strip() for c in stamp.locator("code").all_inner_texts() if c.strip() in record["claims"]] == \
            record["claims"]
    tab.assert_clean()


def test_home_page_starts_the_series(real_site, new_tab):
    tab = new_tab(real_site)
    page = tab.open(real_site.baseurl + "/")
    assert page.locator("h1").count() == 1
    series = series_posts(real_site, "Back-Propagation in Deep Learning Frameworks")
    section = page.locator(".series-home").first
    assert section.locator("h2").inner_text() == "Back-Propagation in Deep Learning Frameworks"
    assert [t.strip() for t in section.locator("a.post-link").all_inner_texts()] == \
        [f"Part {i + 1} · {p.title}" for i, p in enumerate(series)]
    descriptions = section.locator(".post-description").all_inner_texts()
    assert descriptions == [p.fm["description"] for p in series]
    assert "tech piece" not in descriptions[0]
    tab.assert_clean()


def test_feed_is_xml_with_absolute_urls_and_posts_share_their_first_figure(real_site, new_tab):
    root = ET.parse(real_site.dest / "feed.xml").getroot()
    site_url = real_site.config["url"] + real_site.baseurl
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == len(real_site.posts)
    links = [link.get("href") for link in root.iter(f"{ATOM}link")]
    assert links and all(href.startswith(site_url + "/") for href in links), links
    tab = new_tab(real_site)
    for post in real_site.posts:
        html = post.html.read_text(encoding="utf-8")
        figures = 'class="output image"' in html
        assert ("image" in post.fm) == figures, f"{post.slug}: front matter image iff the post has a figure"
        if not figures:
            continue
        page = tab.open(post.path)
        og = page.get_attribute('meta[property="og:image"]', "content")
        assert og == site_url + post.fm["image"], post.slug
        assert page.request.get(real_site.url(real_site.baseurl + post.fm["image"])).status == 200
    tab.assert_clean()
