"""Unit tests of the Markdown rewriting rules (no kernel)."""
import pytest

from nbjekyll.markdown import LiquidSnippets, rewrite_markdown


def rewrite(text):
    return rewrite_markdown(text, lambda target, is_image: None)[0]


@pytest.mark.parametrize("source, expected", [
    ("a $x$ b", "a $$x$$ b"),
    ("$5 and $10", "$5 and $10"),
    ("cost $5$", "cost $$5$$"),  # a digit may open math; only a digit right after the closing $ stops it
    ("$1$2", "$1$2"),
    ("a $x +\ny$ b", "a $$x + y$$ b"),  # inline math may wrap onto the next line…
    ("a $x\n\ny$ b", "a $x\n\ny$ b"),  # …but never across a blank line
    ("\\$x\\$", "\\$x\\$"),
    ("`$x$`", "`$x$`"),
    ("``a ` $x$ ``", "``a ` $x$ ``"),
    ("$a_1 * b_2$ and *em*", "$$a_1 * b_2$$ and *em*"),
    ("- item $$x$$ tail", "- item\n\n  $$\n  x\n  $$\n\n  tail"),
    ("~~~\n$x$\n~~~\n$y$", "~~~\n$x$\n~~~\n$$y$$"),
])
def test_math_rules(source, expected):
    assert rewrite(source) == expected


def test_math_counted():
    assert rewrite_markdown("$a$ and $$b$$ and \\(c\\)", lambda t, i: None)[1] == 3


def test_links_inside_math_are_not_links():
    seen = []
    rewrite_markdown("$[a](b)$ and [c](d.ipynb)", lambda t, i: seen.append(t))
    assert seen == ["d.ipynb"]


def test_protect_keeps_own_snippets_live_and_escapes_everything_else():
    liquid = LiquidSnippets()
    url = liquid.add("{{ '/img/a.png' | relative_url }}")
    out = liquid.protect(f"{{% endraw %}} ![x]({url}) {{{{ y }}}}")
    assert out == ("{% raw %}{% endraw %}{{ '{%' }}{% raw %} endraw %} ![x]({% endraw %}"
                   "{{ '/img/a.png' | relative_url }}{% raw %}) {{ y }}{% endraw %}")


@pytest.mark.parametrize("text, kramdown_text", [
    ("1. Someone, June\n   2017. <https://example.org>", "1. Someone, June\n   2017\\. <https://example.org>"),
    ("A paragraph\n2017. goes on.", "A paragraph\n2017\\. goes on."),
    ("1. a\n2. b", "1. a\n2. b"),
    ("Text\n1. a list may interrupt a paragraph if it starts at 1", "Text\n1. a list may interrupt a paragraph if it starts at 1"),
    ("3. starts at three\n4. four", '{: start="3"}\n3. starts at three\n4. four'),
    ("* a\n* b\n+ c", "* a\n* b\n\n^\n\n+ c"),
    ("| a | b |\n|---|---|\n| x | `p \\| q` |", "| a | b |\n|---|---|\n| x | <code>p &#124; q</code> |"),
    ("`p \\| q` outside a table stays", "`p \\| q` outside a table stays"),
    ('<div class="n">\n\n*md*\n\n</div>', '<div class="n" markdown="1">\n\n*md*\n\n</div>'),
    ("<div>\nraw html continues\n</div>", "<div>\nraw html continues\n</div>"),
    ("```\n2017. in a fence\n* a\n+ b\n```", "```\n2017. in a fence\n* a\n+ b\n```"),
    ("* * *\n- item", "* * *\n- item"),
])
def test_markdown_is_written_so_kramdown_reads_it_as_commonmark_does(text, kramdown_text):
    from nbjekyll.commonmark import as_commonmark_reads_it
    assert as_commonmark_reads_it(text) == kramdown_text
