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
