/* Reading aids for every page (no dependencies, nothing fetched).
 *
 * 1. A "Copy" button on each code cell of a post (not on outputs) that copies exactly the code,
 *    says "Copied" for two seconds and announces it to screen readers. It sits in a bar above
 *    the code (div.code-bar), so it never covers a line of code, however narrow the screen.
 * 2. A region that scrolls sideways (a code block, a wide table or equation) gets tabindex=0, so a
 *    keyboard user can focus it and scroll it with the arrow keys; an inline formula wider than
 *    its line is made such a region (class nbjekyll-wide-inline).
 * 3. Words in table cells stay whole: a table too wide for the screen scrolls in its own box
 *    (the stylesheet), and its cells wrap between words only. A browser also breaks a line after
 *    a hyphen or a dash ("cross-/entropy", "0.164–/0.175"), so each such word in a cell goes in a
 *    span that does not wrap. And in a table too wide for its box, which scrolls anyway, a
 *    short data cell (SHORT_CELL characters or fewer: a number with its range or unit, a name,
 *    a vector like [1 0 0]) does not wrap at all, so its rows read on one line each rather
 *    than a word to a line.
 */
(function () {
  'use strict';
  var live = document.createElement('span');
  live.className = 'nbjekyll-visually-hidden';
  live.setAttribute('aria-live', 'polite');
  document.body.appendChild(live);

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed'; area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand('copy');
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error('copy refused')); }
    });
  }

  document.querySelectorAll('.post-content div.highlighter-rouge:not(.output)').forEach(function (block) {
    var code = block.querySelector('pre code');
    if (!code) return;
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'copy-button';
    button.textContent = 'Copy';
    button.setAttribute('aria-label', 'Copy the code');
    var timer = null;
    button.addEventListener('click', function () {
      copy(code.textContent.replace(/\n$/, '')).then(function () {
        button.textContent = 'Copied'; button.classList.add('copied'); live.textContent = 'Code copied';
      }, function () {
        button.textContent = 'Press Ctrl+C'; live.textContent = 'Copying failed';
      });
      clearTimeout(timer);
      timer = setTimeout(function () {
        button.textContent = 'Copy'; button.classList.remove('copied'); live.textContent = '';
      }, 2000);
    });
    var bar = document.createElement('div');
    bar.className = 'code-bar';
    bar.appendChild(button);
    block.classList.add('has-copy');
    block.insertBefore(bar, block.firstChild);
  });

  var BREAKS_INSIDE = /[-\u2010\u2012-\u2015\/]/;
  var SHORT_CELL = 24;
  document.querySelectorAll('.post-content td, .post-content th').forEach(function (cell) {
    var walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT, {
      acceptNode: function (n) {
        return n.parentElement.closest('mjx-container, .nbjekyll-word') || !BREAKS_INSIDE.test(n.nodeValue)
          ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
      }
    });
    var nodes = [];
    for (var n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n);
    nodes.forEach(function (node) {
      var parts = node.nodeValue.split(/(\s+)/), fragment = document.createDocumentFragment();
      parts.forEach(function (part) {
        if (BREAKS_INSIDE.test(part)) {
          var word = document.createElement('span');
          word.className = 'nbjekyll-word';
          word.textContent = part;
          fragment.appendChild(word);
        } else if (part) {
          fragment.appendChild(document.createTextNode(part));
        }
      });
      node.parentNode.replaceChild(fragment, node);
    });
  });

  function unwrapShortCells() {
    document.querySelectorAll('.post-content table').forEach(function (table) {
      var short = Array.prototype.filter.call(table.querySelectorAll('td'), function (cell) {
        return cell.textContent.trim().length <= SHORT_CELL;
      });
      short.forEach(function (cell) { cell.classList.remove('nbjekyll-short'); });
      if (table.scrollWidth > table.clientWidth + 1) {
        short.forEach(function (cell) { cell.classList.add('nbjekyll-short'); });
      }
    });
  }
  unwrapShortCells();
  window.addEventListener('resize', unwrapShortCells);

  function markScrollable() {
    document.querySelectorAll('.post-content mjx-container:not([display="true"])').forEach(function (eq) {
      eq.classList.remove('nbjekyll-wide-inline');
      var line = eq.parentElement.closest('p, li, td, th, div, blockquote') || eq.parentElement;
      if (eq.getBoundingClientRect().width > line.clientWidth) eq.classList.add('nbjekyll-wide-inline');
    });
    document.querySelectorAll('.post-content pre, .post-content table, .post-content .output.html, ' +
                              'mjx-container[display="true"], mjx-container.nbjekyll-wide-inline')
      .forEach(function (el) {
        if (el.scrollWidth > el.clientWidth + 1 && !el.hasAttribute('tabindex')) {
          el.setAttribute('tabindex', '0');
          el.setAttribute('data-scroll-region', '');
        }
      });
  }
  markScrollable();
  window.addEventListener('resize', markScrollable);
  // typeset equations are only measurable once MathJax has finished
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(function () { unwrapShortCells(); markScrollable(); });
  }
})();
