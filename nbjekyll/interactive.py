"""Interactive outputs (Plotly, Vega-Lite/Altair, Bokeh, ipywidgets) as a static page can run them.

Each library's notebook output carries its figure as data and loads the library from a CDN
when it runs. Here the data is kept as JSON beside an empty element, the library comes from the
site (``vendor.py``), loaded once per page however many outputs use it, and one small script of
this tool (``static/interactive.js``) draws every output once the page has loaded. No output's
own JavaScript runs, so a post never reaches outside the site.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import NotebookError
from .vendor import PINNED, Script, is_exact, pinned_version

PLOTLY = "application/vnd.plotly.v1+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
BOKEH_EXEC = "application/vnd.bokehjs_exec.v0+json"
BOKEH_LOAD = "application/vnd.bokehjs_load.v0+json"
VEGALITE = re.compile(r"^application/vnd\.vegalite\.v(\d+)\+json$")
VEGA = re.compile(r"^application/vnd\.vega\.v(\d+)\+json$")

# The widget models the HTML manager draws itself; any other module's JavaScript would come from a CDN.
BUILT_IN_WIDGET_MODULES = {"@jupyter-widgets/base", "@jupyter-widgets/controls", "@jupyter-widgets/output"}
WIDGET_MANAGER = Script("@jupyter-widgets/html-manager", "1.0.15", "dist/embed.js")
# In a browser without JavaScript (and in feed readers) the output's box says what it holds.
NO_SCRIPT = ('<noscript><p class="output placeholder">An interactive output: it is drawn by JavaScript, '
             "which this browser does not run.</p></noscript>")
# The Vega and vega-embed majors each Vega-Lite major was released with.
VEGA_FOR_LITE = {"5": ("5", "6"), "6": ("6", "7")}

STATIC = Path(__file__).with_name("static")
RENDERER_SOURCE = (STATIC / "interactive.js").read_bytes()
RENDERER = Script("nbjekyll", hashlib.sha256(RENDERER_SOURCE).hexdigest()[:12], "interactive.js", RENDERER_SOURCE)

_ALTAIR_PATH = re.compile(r'"(vega|vega-lite|vega-embed)":\s*"[^"]*/npm/(?:vega|vega-lite|vega-embed)@([^?"/]+)')
_PLOTLY_VERSION = re.compile(r"plotly(?:\.js v|-)(\d+\.\d+\.\d+)(?:\.min\.js)?\b")
_BOKEH_JSON = re.compile(r"\b(?:const|var|let)\s+(docs_json|render_items)\s*=\s*")


def script_json(value: Any) -> str:
    """JSON that cannot end the ``<script>`` element holding it."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def is_library_loader(data: dict) -> bool:
    """An output that only loads a library into the notebook, which the page loads from the site instead:
    Bokeh's ``output_notebook()`` (its script and its "Loading BokehJS …" banner), and the first output
    of Plotly's "notebook" renderers (``window.PlotlyConfig`` and plotly.js, inline or from its CDN)."""
    html = data.get("text/html")
    html = "".join(html) if isinstance(html, list) else html or ""
    return BOKEH_LOAD in data or ("bk-notebook-logo" in html and "Loading BokehJS" in html) or \
        ("window.PlotlyConfig" in html and "Plotly.newPlot(" not in html)


def _parse_from(text: str, start: int) -> tuple[Any, int]:
    """The JSON value that starts at ``start`` (after any spaces), and where it ends."""
    return json.JSONDecoder().raw_decode(text, len(text) - len(text[start:].lstrip()))


@dataclass
class InteractiveOutputs:
    """The interactive outputs of one post, and the scripts and widget state its page needs."""

    notebook: str
    widget_state: dict | None
    scripts: list[Script] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    widgets_used: bool = False
    count: int = 0
    # The random ids a run gives Bokeh documents and widget models, and the stable ones the post uses
    # instead, so that running the same notebook again writes the same post.
    renames: dict[str, str] = field(default_factory=dict)

    def need(self, *scripts: Script) -> None:
        for script in scripts:
            if script not in self.scripts:
                self.scripts.append(script)

    def block(self, data: dict, position: int) -> dict | None:
        """The output's block if it is an interactive one this page can draw, else None."""
        if PLOTLY in data:
            return self._plotly(data[PLOTLY])
        for mime in data:
            lite, vega = VEGALITE.match(mime), VEGA.match(mime)
            if lite or vega:
                return self._vega(data[mime], "vega-lite" if lite else "vega", (lite or vega).group(1), None, position)
        if BOKEH_EXEC in data:
            return self._bokeh(data, position)
        html = data.get("text/html")
        html = "".join(html) if isinstance(html, list) else html
        if html and "vegaEmbed(outputDiv, spec, embedOpt)" in html:
            return self._altair(html, position)
        if html and "Plotly.newPlot(" in html:
            return self._plotly_html(html, position)
        if WIDGET_VIEW in data:
            return self._widget(data[WIDGET_VIEW], position)
        return None

    def _element(self, library: str, payload: Any, style: str = "", script_type: str = "application/json") -> dict:
        self.count += 1
        style = f' style="{style}"' if style else ""
        return {"kind": "interactive", "html":
                f'<div class="interactive-output" data-library="{library}"{style}>'
                f'<script type="{script_type}">{script_json(payload)}</script>{NO_SCRIPT}</div>'}

    # -- Plotly ------------------------------------------------------------------------------------
    def _plotly(self, figure: dict, version: str | None = None) -> dict:
        version = version or pinned_version("plotly.js-dist-min", "4")
        self.need(Script("plotly.js-dist-min", version, "plotly.min.js"), RENDERER)
        height = (figure.get("layout") or {}).get("height") or 450  # plotly.js's default height
        return self._element("plotly", figure, f"min-height: {int(height)}px")

    def _plotly_html(self, html: str, position: int) -> dict | None:
        """Plotly's HTML (``fig.show()`` with the "notebook" renderers, ``to_html``): its
        ``Plotly.newPlot(id, data, layout, config)`` call read as the figure, plotly.js's version from the page."""
        try:
            _, end = _parse_from(html, html.index("Plotly.newPlot(") + len("Plotly.newPlot("))
            figure = {}
            for key in ("data", "layout", "config"):
                figure[key], end = _parse_from(html, html.index(",", end) + 1)
        except ValueError:
            self.warnings.append(f"cell {position}: dropped a Plotly output whose figure could not be read")
            return None
        version = _PLOTLY_VERSION.search(html)
        return self._plotly(figure, version.group(1) if version else None)

    # -- Vega and Vega-Lite (Altair) ---------------------------------------------------------------
    def _vega(self, spec: dict, mode: str, major: str, asked: dict | None, position: int) -> dict:
        asked = asked or {}
        label = "Vega-Lite" if mode == "vega-lite" else "Vega"
        if major not in VEGA_FOR_LITE and not asked:
            raise NotebookError(self.notebook, f"cell {position}: a {label} {major} chart cannot be shown: this tool "
                                               f"serves {label} 5 and 6 (re-run it with a current Altair)")
        vega_major, embed_major = VEGA_FOR_LITE.get(major, (None, None))  # Vega 5 and 6 came with Vega-Lite 5 and 6
        wanted = {"vega": asked.get("vega", vega_major), "vega-lite": asked.get("vega-lite", major),
                  "vega-embed": asked.get("vega-embed", embed_major)}
        scripts = []
        for package in ("vega", "vega-lite", "vega-embed"):
            version = wanted[package] and (pinned_version(package, wanted[package]) or
                                           (wanted[package] if is_exact(wanted[package]) else None))
            if version is None:
                raise NotebookError(self.notebook, f"cell {position}: this {mode} chart needs {package}"
                                                   f"{'@' + wanted[package] if wanted[package] else ''}, and this "
                                                   f"tool serves only {package} {', '.join(sorted(PINNED[package]))}")
            scripts.append(Script(package, version, f"build/{package}.min.js"))
        self.need(*scripts, RENDERER)
        return self._element("vega", {"spec": spec, "options": {"mode": mode}})

    def _altair(self, html: str, position: int) -> dict | None:
        call = html.rfind("})(")  # Altair's template ends with the call (function(spec, embedOpt){…})(SPEC, OPTIONS);
        try:
            spec, end = _parse_from(html, call + 3)
            options, _ = _parse_from(html, html.index(",", end) + 1)
        except ValueError:
            spec = options = None
        if call < 0 or not isinstance(spec, dict):
            self.warnings.append(f"cell {position}: dropped an Altair chart whose specification could not be read")
            return None
        asked = dict(_ALTAIR_PATH.findall(html))
        mode = options.get("mode", "vega-lite") if isinstance(options, dict) else "vega-lite"
        return self._vega(spec, mode, (asked.get("vega-lite") or "6").split(".")[0], asked, position)

    # -- Bokeh -------------------------------------------------------------------------------------
    def _bokeh(self, data: dict, position: int) -> dict | None:
        code = data.get("application/javascript", "")
        code = "".join(code) if isinstance(code, list) else code
        found = {match.group(1): match.end() for match in _BOKEH_JSON.finditer(code)}
        try:
            docs, items = _parse_from(code, found["docs_json"])[0], _parse_from(code, found["render_items"])[0]
            version = next(iter(docs.values()))["version"]
        except (KeyError, StopIteration, TypeError, ValueError):
            self.warnings.append(f"cell {position}: dropped a Bokeh output whose document could not be read")
            return None
        for docid in docs:
            self.renames.setdefault(docid, f"bokeh-document-{len(self.renames) + 1}")
        for item in items if isinstance(items, list) else []:
            for element_id in (item.get("roots") or {}).values():
                self.renames.setdefault(element_id, f"bokeh-root-{len(self.renames) + 1}")
        text = json.dumps(docs)
        names = ["bokeh", "bokeh-widgets", "bokeh-tables"] + (["bokeh-gl"] if '"webgl"' in text else []) + \
            (["bokeh-mathjax"] if re.search(r'"name":\s*"(TeX|MathML|MathText)"', text) else [])
        self.need(*(Script("@bokeh/bokehjs", version, f"build/js/{name}.min.js") for name in names), RENDERER)
        return self._element("bokeh", {"docs_json": docs, "render_items": items})

    # -- ipywidgets --------------------------------------------------------------------------------
    def _widget(self, view: dict, position: int) -> dict | None:
        models = (self.widget_state or {}).get("state") or {}
        model = models.get(view.get("model_id"))
        if model is None:
            return None  # no saved state: the caller's placeholder says it needs a live kernel
        modules = sorted({m.get("model_module") for m in models.values()} - BUILT_IN_WIDGET_MODULES - {None})
        if model.get("model_module") not in BUILT_IN_WIDGET_MODULES:
            self.warnings.append(f"cell {position}: a widget from {model.get('model_module')} needs that package's "
                                 "JavaScript, which this site does not serve; the post says so in its place")
            return None
        if modules:
            self.warnings.append(f"cell {position}: widgets of {', '.join(modules)} in the saved state are not shown")
        self.need(WIDGET_MANAGER, RENDERER)  # the renderer names the sliders for screen readers
        if not self.widgets_used:
            for model_id in models:
                self.renames.setdefault(model_id, f"widget-model-{len(self.renames) + 1}")
        self.widgets_used = True
        return self._element("widget", view, script_type=WIDGET_VIEW)

    def stable(self, body: str) -> str:
        """The post's text with each run's random ids replaced by the stable ones."""
        if not self.renames:
            return body
        pattern = re.compile("|".join(re.escape(old) for old in sorted(self.renames, key=len, reverse=True)))
        return pattern.sub(lambda match: self.renames[match.group(0)], body)

    def page_html(self, url, vendor_dir: str) -> str:
        """What the page loads once: the widget state, then the scripts (deferred, in order)."""
        lines = []
        if self.widgets_used:
            lines.append(f'<script type="{WIDGET_STATE}">{script_json(self.widget_state)}</script>')
        # Deferred scripts run in document order: the libraries first, the renderer that uses them last.
        ordered = [s for s in self.scripts if s != RENDERER] + [s for s in self.scripts if s == RENDERER]
        lines += [f'<script defer src="{url(script.site_path(vendor_dir))}"></script>' for script in ordered]
        return "\n".join(lines)
