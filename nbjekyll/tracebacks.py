"""Tracebacks as a post shows them: the notebook's own frames and the exception, nothing of the machine.

A cell that fails on purpose (``raises-exception``) is there to show the reader one thing: which
line raised what. IPython's traceback also prints every library frame with its source, under the
absolute path of the build machine's site-packages. Here each run of frames outside the notebook
becomes one line naming the modules and functions it passed through, so the post keeps the lesson,
loses the noise, and never contains a path of the machine that built it.
"""
from __future__ import annotations

import re

ANSI_ESCAPE = re.compile(r"\x1b\[(.*?)([@-~])")  # the colours of IPython's tracebacks (nbconvert's pattern)
FILE_FRAME = re.compile(r"^File (?P<path>.+?):\d+, in (?P<function>[^\s(]+)")
LIBRARY_ROOTS = (re.compile(r"^.*/(?:site-packages|dist-packages)/"), re.compile(r"^.*/lib/python\d+(?:\.\d+)?/"))


def strip_ansi(text: str) -> str:
    return ANSI_ESCAPE.sub("", text)


def module_of(path: str) -> str:
    """``~/.pyenv/…/site-packages/tensorflow/python/eager/backprop.py`` → ``tensorflow.python.eager.backprop``."""
    relative = path
    for root in LIBRARY_ROOTS:  # installed packages first: they live under lib/pythonX.Y too
        if root.match(path):
            relative = root.sub("", path)
            break
    if relative == path:  # not under a library folder: a module of the site or elsewhere
        relative = path.rsplit("/", 1)[-1]
    module = relative[:-3] if relative.endswith(".py") else relative
    module = module.replace("/", ".")
    return module[: -len(".__init__")] if module.endswith(".__init__") else module


def _folded(frames: list[re.Match]) -> str:
    modules = list(dict.fromkeys(m["module"] for m in frames))
    calls = " → ".join(m["function"] for m in frames)
    count = f"{len(frames)} frame{'s' if len(frames) != 1 else ''}"
    return f"  … {count} inside {', '.join(modules)}: {calls}\n"


def reader_traceback(entries: list[str]) -> str:
    """Join an error output's traceback entries (ANSI already removed), folding the frames outside the notebook."""
    shown: list[str] = []
    run: list[dict] = []
    for entry in entries:
        match = FILE_FRAME.match(entry)
        if match:
            run.append({"module": module_of(match["path"]), "function": match["function"]})
            continue
        if run:
            shown.append(_folded(run))
            run = []
        shown.append(entry)
    if run:
        shown.append(_folded(run))
    return "\n".join(shown)
