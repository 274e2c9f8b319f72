"""Reading the framework posts as a reader sees them: the generated posts' Markdown tables.

The side-by-side post repeats numbers that the framework posts print; the tests compare the two
generated posts (``_posts/*.md``), so what they check is what a reader reads.
"""
import re
from pathlib import Path

SITE = Path(__file__).resolve().parents[2]
POSTS = SITE / "_posts"
TENSORS = ("conv_w", "conv_b", "dense_w", "dense_b")
# What a framework post writes under a parity table inside its precision's bar (digits_cnn.PARITY_BAR).
INSIDE_THE_BAR = {"float64": "inside the series' float64 bar of 1e-12.",
                  "float32": "inside the series' float32 bar of 1e-05."}


def post_text(notebook: str) -> str:
    """The generated post of a notebook named like 2018-04-24-cnn-in-pytorch.ipynb."""
    return (POSTS / notebook.replace(".ipynb", ".md")).read_text()


def markdown_tables(text: str) -> list:
    """Every Markdown table of a post: a list of (header cells, [row cells, ...])."""
    tables, lines = [], text.splitlines()
    for i, line in enumerate(lines):
        if (line.startswith("|") and i + 1 < len(lines)
                and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", lines[i + 1].strip())
                and (i == 0 or not lines[i - 1].startswith("|"))):
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append([cell.strip() for cell in row.strip().strip("|").split("|")])
            tables.append(([cell.strip() for cell in line.strip().strip("|").split("|")], rows))
    return tables


def parity_tables(text: str, dtype: str) -> list:
    """The post's parity tables for one precision (their first header cell is the dtype)."""
    return [(header, rows) for header, rows in markdown_tables(text) if header[0] == dtype]


def assert_every_table_inside_its_bar(text: str, float64: int, float32: int) -> None:
    """The post has `float64` and `float32` parity tables, each with the sentence under it that puts it
    inside its precision's bar; none is outside, and the series' old single bar (1e-6) is not named."""
    for dtype, count in (("float64", float64), ("float32", float32)):
        assert len(parity_tables(text, dtype)) == count
        assert text.count(INSIDE_THE_BAR[dtype]) == count
    assert "OUTSIDE" not in text and "10^{-6}" not in text and "1e-6" not in text


def float64_summary(text: str) -> dict:
    """What the side-by-side table repeats, as the framework post printed it: the loss's absolute
    error, and the largest relative error of the gradients and of the parameters after the step.
    A row printed twice (the Keras post's float64 step, before and after its fix) counts as printed
    last."""
    rows = {}
    for _, table_rows in parity_tables(text, "float64"):
        for name, abs_err, rel_err in table_rows:
            rows[name] = (abs_err, rel_err)
    grads = [rel for name, (_, rel) in rows.items()
             if "after step" not in name and any(t in name for t in TENSORS)]
    steps = [rel for name, (_, rel) in rows.items() if name.endswith("after step")]
    assert len(grads) == 4 and len(steps) == 4, sorted(rows)
    return {"loss": rows["loss"][0], "grads": max(grads, key=float),
            "after_step": max(steps, key=float)}
