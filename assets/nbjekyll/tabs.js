/* Framework tabs for notebook posts (see docs/authoring.md, "A tab group").
 *
 * Markup from the build tool: div.tab-group > div.tab-panel[data-tab] > p.tab-title + content.
 * Without this script every panel shows under its title. With it each group gets a tab bar
 * (role=tablist), only the chosen panel shows, choosing a tab switches every group on the page
 * that has a panel of that name, and the choice is remembered (localStorage) for other posts.
 */
(function () {
  'use strict';
  var KEY = 'nbjekyll.tab';
  var groups = Array.prototype.slice.call(document.querySelectorAll('.tab-group'));
  if (!groups.length) return;

  function stored() {
    try { return window.localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function store(name) {
    try { window.localStorage.setItem(KEY, name); } catch (e) { /* private mode: no memory */ }
  }
  function panelsOf(group) {
    return Array.prototype.filter.call(group.children, function (el) {
      return el.classList.contains('tab-panel');
    });
  }
  function show(group, name) {
    var found = false;
    group._tabs.forEach(function (t) { if (t.name === name) found = true; });
    if (!found) return false;
    group._tabs.forEach(function (t) {
      var on = t.name === name;
      t.button.setAttribute('aria-selected', on ? 'true' : 'false');
      t.button.tabIndex = on ? 0 : -1;
      t.panel.hidden = !on;
    });
    return true;
  }
  function choose(name) {
    groups.forEach(function (g) { show(g, name); });
    store(name);
  }

  var initial = stored();
  groups.forEach(function (group, gi) {
    var bar = document.createElement('div');
    bar.className = 'tab-bar';
    bar.setAttribute('role', 'tablist');
    group._tabs = panelsOf(group).map(function (panel, i) {
      var name = panel.getAttribute('data-tab') || ('Tab ' + (i + 1));
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'tab-button';
      button.id = 'tab-' + gi + '-' + i;
      button.setAttribute('role', 'tab');
      button.textContent = name;
      panel.id = panel.id || 'tab-panel-' + gi + '-' + i;
      panel.setAttribute('role', 'tabpanel');
      panel.setAttribute('aria-labelledby', button.id);
      button.setAttribute('aria-controls', panel.id);
      button.addEventListener('click', function () { choose(name); });
      bar.appendChild(button);
      return {name: name, button: button, panel: panel};
    });
    bar.addEventListener('keydown', function (ev) {
      var tabs = group._tabs, i = tabs.map(function (t) { return t.button; }).indexOf(ev.target);
      if (i < 0) return;
      var j = {ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1}[ev.key];
      if (j === undefined) return;
      ev.preventDefault();
      j = (j + tabs.length) % tabs.length;
      choose(tabs[j].name);
      tabs[j].button.focus();
    });
    group.insertBefore(bar, group.firstChild);
    group.classList.add('tabs-ready');
    if (!(initial && show(group, initial)) && group._tabs.length) show(group, group._tabs[0].name);
  });
})();
