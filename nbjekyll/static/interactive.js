// Draws a post's interactive outputs from the JSON the build wrote beside each of them, with the
// libraries the page loaded (deferred, before this script) from the site itself. An output that
// cannot be drawn says so in its place instead of leaving a blank box.
(function () {
  "use strict";

  var draw = {
    plotly: function (element, figure) {
      var config = Object.assign({ responsive: true, displaylogo: false }, figure.config || {});
      return window.Plotly.newPlot(element, figure.data || [], figure.layout || {}, config).then(function () {
        if (config.responsive) followWidth(element);
      });
    },
    vega: function (element, chart) {
      return window.vegaEmbed(element, chart.spec, chart.options).then(function () {
        var menu = element.querySelector("details > summary"); // vega-embed's actions menu is an icon alone
        if (menu && !menu.hasAttribute("aria-label")) menu.setAttribute("aria-label", "Chart actions");
      });
    },
    bokeh: function (element, document_) {
      return window.Bokeh.embed.embed_items(document_.docs_json, document_.render_items);
    },
  };

  // plotly.js follows the window's size, not its box's: a figure drawn inside a closed <details> or
  // a hidden tab would keep the width it guessed while hidden. Refit it whenever its box's width changes.
  function followWidth(element) {
    if (!window.ResizeObserver) return;
    var width = element.clientWidth;
    new ResizeObserver(function () {
      if (element.clientWidth === width || element.clientWidth === 0) return; // unchanged, or hidden again
      width = element.clientWidth;
      window.Plotly.Plots.resize(element).catch(function () {}); // hidden again before the frame: next change refits
    }).observe(element);
  }

  function failed(element, error) {
    element.dataset.state = "failed";
    var note = document.createElement("p");
    note.className = "output placeholder";
    note.textContent = "This interactive output could not be drawn (" + error + ").";
    element.replaceChildren(note);
    console.error(error);
  }

  function drawAll() {
    document.querySelectorAll(".interactive-output[data-library]").forEach(function (element) {
      var library = element.dataset.library;
      if (!draw[library]) return; // widgets: the widget manager draws them
      try {
        var data = JSON.parse(element.querySelector('script[type="application/json"]').textContent);
        element.replaceChildren();
        Promise.resolve(draw[library](element, data)).then(function () {
          element.style.minHeight = "";
          element.dataset.state = "drawn";
        }, function (error) { failed(element, error); });
      } catch (error) {
        failed(element, error);
      }
    });
  }

  // The widget manager's sliders have no accessible name of their own: give each its widget's label.
  function nameSliders() {
    document.querySelectorAll(".interactive-output [role=slider]:not([aria-label])").forEach(function (handle) {
      var widget = handle.closest(".widget-slider, .jupyter-widgets");
      var label = widget && widget.querySelector(".widget-label");
      if (label && label.textContent.trim()) handle.setAttribute("aria-label", label.textContent.trim());
    });
  }

  function start() {
    drawAll();
    if (document.querySelector('.interactive-output[data-library="widget"]')) {
      nameSliders();
      new MutationObserver(nameSliders).observe(document.querySelector(".post-content") || document.body,
                                                { childList: true, subtree: true });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
