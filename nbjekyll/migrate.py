"""Bring a whole blog: run every notebook once, and show the ones that cannot run here with their saved outputs.

:func:`migrate` runs each notebook (the site's ``nbjekyll.saved_outputs`` set aside, so a notebook listed
there is tried again), sorts every failure into a reason a person can act on (a missing package and its
name, the network, a missing file, Python 2, a library that changed, an error made on purpose, a
request for input) and proposes to show that notebook with the outputs saved in it. With ``write``, the
proposals go into ``_config.yml`` (``nbjekyll.saved_outputs``), edited as text so every other key and
comment stays; a notebook that runs now leaves the setting. Notebooks are never modified. The runs go
into the execution cache, so the build that follows writes their posts without running them again.
"""
from __future__ import annotations

import enum
import re
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from .config import CONFIG_FILE, SECTION, Config
from .errors import BuildError
from .files import atomic_write
from .hints import Command
from .kit import _ensure_newline, _parse_config, _with_section
from .progress import Progress, Result, Status
from .raised import INPUT_ERROR
from .saved import has_outputs
from .sources import read_notebook

SETTING = "saved_outputs"
# Import names whose package on PyPI is called something else.
PIP_NAMES = {"sklearn": "scikit-learn", "cv2": "opencv-python", "PIL": "pillow", "yaml": "pyyaml",
             "bs4": "beautifulsoup4", "skimage": "scikit-image", "Bio": "biopython", "dateutil": "python-dateutil",
             "Crypto": "pycryptodome", "tensorflow_datasets": "tensorflow-datasets", "google.colab": "(Colab only)"}
NETWORK_ERRORS = {"URLError", "HTTPError", "ConnectionError", "ConnectionRefusedError", "ConnectionResetError",
                  "ConnectionAbortedError", "gaierror", "NewConnectionError", "MaxRetryError", "ConnectTimeout",
                  "ReadTimeout", "SSLError", "RemoteDisconnected", "ProxyError", "ClientConnectorError"}
NETWORK_WORDS = ("Name or service not known", "Temporary failure in name resolution", "Connection refused",
                 "Network is unreachable", "nodename nor servname", "urlopen error", "Max retries exceeded")
LIBRARY_ERRORS = {"AttributeError", "TypeError", "ValueError", "ImportError", "KeyError", "NotImplementedError",
                  "DeprecationWarning", "FutureWarning"}
PYTHON2_WORDS = ("Missing parentheses in call to", "Did you mean print(", "invalid syntax. Perhaps you forgot a comma")
_RAISED = re.compile(r"^\S.*?: cell (?P<cell>\d+) \([^)]*\) (?P<what>.*)$")
_ERROR = re.compile(r"^raised (?P<ename>[\w.]+): ?(?P<evalue>.*)$")


class Outcome(str, enum.Enum):
    """What the migration found a notebook to be; ``label`` is the word the report prints."""

    RUNS = "runs"
    SAVED = "saved"        # cannot run here: proposed to be shown with the outputs saved in it
    CHOSEN = "chosen"      # its front matter already says execute: false
    FAILS = "fails"        # cannot run here and has no saved outputs to show

    @property
    def label(self) -> str:
        return "saved outputs" if self in (Outcome.SAVED, Outcome.CHOSEN) else self.value


class Reason(str, enum.Enum):
    MISSING_PACKAGE = "missing package"
    NETWORK = "network"
    MISSING_FILE = "missing file"
    PYTHON2 = "Python 2"
    LIBRARY_CHANGE = "library change"
    INTENTIONAL = "intentional error"
    INPUT = "needs input"
    TIMEOUT = "too slow"
    KERNEL = "kernel"
    AUTHOR = "author's choice"
    OTHER = "error"


@dataclass(frozen=True)
class Finding:
    notebook: str      # site-relative path
    key: str           # its name in nbjekyll.saved_outputs (relative to notebooks_dir)
    outcome: Outcome
    reason: Reason | None = None
    shown: str = ""    # the reason readers see on the page
    fix: str = ""      # what would make it run here
    holds_outputs: bool = False  # runs here, yet is committed with outputs (check asks for them to be stripped)


@dataclass
class MigrationReport:
    findings: list[Finding]
    seconds: float
    config_changed: tuple[list[str], list[str]] | None = None  # (added or updated, removed); None: not written

    def count(self, *outcomes: Outcome) -> int:
        return sum(f.outcome in outcomes for f in self.findings)


class MigrationProgress(Progress):
    """The build's progress lines, with each failure cut to its first line: the report says the rest."""

    def finished(self, result: Result) -> None:
        if result.error:
            result = Result(result.notebook, result.status, result.cells, result.seconds, result.warnings,
                            error=str(result.error).splitlines()[0], saved=result.saved)
        super().finished(result)


class MigrateError(BuildError):
    """_config.yml cannot be edited safely; the message says what to add by hand."""


def _key(config: Config, rel: str) -> str:
    notebooks = config.rel(config.notebooks_dir)
    return rel[len(notebooks) + 1:] if rel.startswith(notebooks + "/") else rel


def _pip_name(module: str) -> str:
    return PIP_NAMES.get(module, PIP_NAMES.get(module.split(".")[0], module.split(".")[0].replace("_", "-")))


def _saved_error(nb, cell: int) -> str | None:
    """The ename of the error the author's saved notebook shows in that cell (1-based), if any."""
    if not 1 <= cell <= len(nb.cells):
        return None
    outputs = nb.cells[cell - 1].get("outputs", []) if nb.cells[cell - 1].get("cell_type") == "code" else []
    return next((o.get("ename") for o in outputs if o.get("output_type") == "error"), None)


def classify(error: str, nb) -> tuple[Reason, str, str]:
    """The reason a run failed, what readers are told, and what would make it run, from the build's message."""
    first = error.splitlines()[0] if error else ""
    if "no kernel named" in first:
        kernel = re.search(r"no kernel named '([^']+)'", first)
        name = kernel.group(1) if kernel else "?"
        return Reason.KERNEL, f"needs the kernel {name}", f"install the kernel {name} (or declare it in nbjekyll.kernels)"
    match = _RAISED.match(first)
    if not match:
        return Reason.OTHER, first.split(": ", 1)[-1], "see the error above"
    cell, what = int(match.group("cell")), match.group("what")
    if what.startswith("timed out"):
        return Reason.TIMEOUT, f"takes longer than the build allows (cell {cell} {what})", \
            "give it more time: timeout: SECONDS in its front matter"
    if what.startswith("called input()"):
        return Reason.INPUT, f"asks the reader for input (cell {cell})", \
            f"give the value in cell {cell}'s code, or tag it skip-execution"
    raised = _ERROR.match(what)
    if not raised:
        return Reason.OTHER, f"cell {cell} {what}", f"fix cell {cell}"
    ename, evalue = raised.group("ename").split(".")[-1], raised.group("evalue")
    if ename == INPUT_ERROR:
        return Reason.INPUT, f"asks the reader for input (cell {cell})", \
            f"give the value in cell {cell}'s code, or tag it skip-execution"
    if _saved_error(nb, cell) == ename:
        return Reason.INTENTIONAL, f"cell {cell} raises {ename} on purpose, as the author showed it", \
            f"allow_errors: true in its front matter (or tag cell {cell} raises-exception)"
    if ename == "ModuleNotFoundError":
        module = re.search(r"No module named '([^']+)'", evalue)
        name = module.group(1) if module else evalue
        pip = _pip_name(name)
        return Reason.MISSING_PACKAGE, f"needs the package {pip}, which this build does not have", \
            f"pip install {pip}"
    if ename in NETWORK_ERRORS or any(word in evalue for word in NETWORK_WORDS):
        return Reason.NETWORK, f"reads from the network, which this build does not reach ({ename})", \
            f"save the data in the repository and read it from there (cell {cell})"
    if ename == "FileNotFoundError":
        missing = re.search(r"No such file or directory: '([^']+)'", evalue)
        name = missing.group(1) if missing else evalue
        return Reason.MISSING_FILE, f"reads {name}, which is not in the repository", f"add {name} beside the notebook"
    if ename in ("SyntaxError", "IndentationError", "TabError") and (
            any(word in evalue or word in error for word in PYTHON2_WORDS) or _python2_source(nb, cell)):
        return Reason.PYTHON2, "written for Python 2", f"port it to Python 3 (cell {cell}: print(...), …)"
    if ename in LIBRARY_ERRORS and ("site-packages" in error or "cannot import name" in evalue
                                     or "unexpected keyword argument" in evalue or "has no attribute" in evalue):
        return Reason.LIBRARY_CHANGE, f"written for older versions of its libraries ({ename} in cell {cell})", \
            f"update cell {cell} for today's libraries, or pin the old ones in a kernel (nbjekyll.kernels)"
    return Reason.OTHER, f"cell {cell} raised {ename}", f"fix cell {cell} ({ename}: {evalue})"


def _python2_source(nb, cell: int) -> bool:
    if not 1 <= cell <= len(nb.cells):
        return False
    source = nb.cells[cell - 1].get("source", "")
    return bool(re.search(r"^\s*(print\s+[^\s(=]|exec\s+[\"']|raise\s+\w+\s*,)|except\s+\w+\s*,\s*\w+\s*:", source,
                          re.MULTILINE))


def _finding(config: Config, result: Result) -> Finding:
    rel = result.notebook
    key = _key(config, rel)
    try:
        source = read_notebook(config.site / rel, config)
    except BuildError:
        source = None
    if result.status is Status.SAVED and source is not None and source.saved is not None:
        return Finding(rel, key, Outcome.CHOSEN, Reason.AUTHOR, source.saved.reason,
                       "its front matter says execute: false")
    if result.ok:
        return Finding(rel, key, Outcome.RUNS, holds_outputs=source is not None and has_outputs(source.nb))
    if source is None:
        return Finding(rel, key, Outcome.FAILS, Reason.OTHER, "", str(result.error))
    reason, shown, fix = classify(str(result.error or ""), source.nb)
    if not has_outputs(source.nb):
        return Finding(rel, key, Outcome.FAILS, reason, shown, fix + " (it has no saved outputs to show)")
    return Finding(rel, key, Outcome.SAVED, reason, shown, fix)


def migrate(config: Config, paths: list[Path], *, write: bool = False, jobs: int = 1, timeout: int | None = None,
            progress: Progress | None = None) -> MigrationReport:
    """Run every notebook once, classify what cannot run, and with ``write`` record it in ``_config.yml``."""
    from .pipeline import BuildOptions, run_build
    start = time.monotonic()
    trial = config.with_overrides(saved_outputs=())  # a notebook listed there is tried again
    results = run_build(trial, paths, BuildOptions(write=False, retry_failed=True, jobs=jobs, timeout=timeout),
                        progress or MigrationProgress())
    findings = sorted((_finding(config, r) for r in results), key=lambda f: f.notebook)
    report = MigrationReport(findings, time.monotonic() - start)
    if write:
        report.config_changed = record(config, findings)
    return report


# ---------------------------------------------------------------------------- _config.yml

def record(config: Config, findings: list[Finding]) -> tuple[list[str], list[str]]:
    """Put the notebooks shown with saved outputs into nbjekyll.saved_outputs, and take out those that run."""
    path = config.site / CONFIG_FILE
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    wanted = {f.key: f.shown for f in findings if f.outcome is Outcome.SAVED}
    runs = {f.key for f in findings if f.outcome is Outcome.RUNS} | {f.notebook for f in findings
                                                                       if f.outcome is Outcome.RUNS}
    current = dict(config.saved_outputs)
    added = sorted(k for k, v in wanted.items() if current.get(k) != v)
    removed = sorted(k for k in current if k in runs)
    if not added and not removed:
        return [], []
    edited = with_saved_outputs(text, config.rel(config.notebooks_dir), wanted, set(removed))
    atomic_write(path, edited.encode("utf-8"))
    return added, removed


def _entry(key: str, value: str, indent: str) -> str:
    return indent + yaml.safe_dump({key: value}, allow_unicode=True, width=2 ** 20, default_flow_style=False).strip() + "\n"


def with_saved_outputs(text: str, notebooks_dir: str, wanted: dict[str, str], removed: set[str]) -> str:
    """``_config.yml``'s text with these entries set and those removed under ``nbjekyll.saved_outputs``; every
    other line as it was. Checked by reading it back: if YAML reads anything else differently, nothing is written."""
    settings = _parse_config(text)
    if SECTION in settings and not isinstance(settings[SECTION], (dict, type(None))):
        raise MigrateError(f"{CONFIG_FILE}: '{SECTION}' is not a mapping of settings; fix it and run migrate again")
    text = _with_section(_ensure_newline(text), notebooks_dir, settings)
    lines = text.splitlines(keepends=True)
    top = next(i for i, line in enumerate(lines) if re.match(rf"^{SECTION}\s*:\s*(#.*)?$", line))

    def block_end(start: int, indent: int) -> int:
        """The line after the block that starts below ``start`` (lines indented more than ``indent``)."""
        end = start + 1
        for i in range(start + 1, len(lines)):
            stripped = lines[i].strip()
            if not stripped or stripped.startswith("#"):
                continue
            if len(lines[i]) - len(lines[i].lstrip()) <= indent:
                break
            end = i + 1
        return end

    section_end = block_end(top, 0)
    inner = [line for line in lines[top + 1:section_end] if line.strip() and not line.strip().startswith("#")]
    indent = re.match(r"^(\s*)", inner[0]).group(1) if inner else "  "
    at = next((i for i in range(top + 1, section_end) if re.match(rf"^{indent}{SETTING}\s*:", lines[i])), None)
    todo = dict(wanted)
    if at is None:
        new = [f"{indent}# Written by nbjekyll migrate: notebooks shown with the outputs saved in them (not executed\n",
               f"{indent}# here), and the reason readers are shown. Remove a line to have the notebook executed.\n",
               f"{indent}{SETTING}:\n"] + [_entry(k, v, indent * 2) for k, v in sorted(todo.items())]
        lines[section_end:section_end] = new
    else:
        value = re.sub(r"\s+#.*$", "", lines[at].split(":", 1)[1]).strip()
        if value not in ("", "{}"):
            raise MigrateError(f"{CONFIG_FILE}: '{SECTION}.{SETTING}' is written on one line; write it one entry a "
                               "line (saved_outputs:\\n    NOTEBOOK: REASON) and run migrate again")
        lines[at] = f"{indent}{SETTING}:\n"
        end = block_end(at, len(indent))
        entry_lines = [i for i in range(at + 1, end) if lines[i].strip() and not lines[i].strip().startswith("#")]
        entry_indent = re.match(r"^(\s*)", lines[entry_lines[0]]).group(1) if entry_lines else indent * 2
        for i in reversed(entry_lines):
            try:
                parsed = yaml.safe_load(lines[i])
            except yaml.YAMLError:
                continue
            key = next(iter(parsed)) if isinstance(parsed, dict) and len(parsed) == 1 else None
            if key in removed:
                del lines[i]
            elif key in todo:
                lines[i] = _entry(key, todo.pop(key), entry_indent)
        end = block_end(at, len(indent))
        lines[end:end] = [_entry(k, v, entry_indent) for k, v in sorted(todo.items())]
    edited = "".join(lines)
    _check_edit(text, edited, wanted, removed)
    return edited


def _check_edit(before: str, after: str, wanted: dict[str, str], removed: set[str]) -> None:
    old, new = yaml.safe_load(before) or {}, yaml.safe_load(after) or {}
    old_section, new_section = dict(old.get(SECTION) or {}), dict(new.get(SECTION) or {})
    expected = {k: v for k, v in (old_section.pop(SETTING, None) or {}).items() if k not in removed}
    expected.update(wanted)
    got = new_section.pop(SETTING, None) or {}
    if {k: v for k, v in old.items() if k != SECTION} != {k: v for k, v in new.items() if k != SECTION} \
            or old_section != new_section or got != expected:
        lines = "".join(_entry(k, v, "    ") for k, v in sorted(wanted.items()))
        raise MigrateError(f"{CONFIG_FILE}: could not add the setting without changing something else; add it "
                           f"yourself under '{SECTION}:':\n  {SETTING}:\n{lines}")


# ---------------------------------------------------------------------------- the report

def format_report(report: MigrationReport, config: Config, program: str = "nbjekyll") -> str:
    rows = [("notebook", "result", "reason", "readers are told", "to make it run here")]
    for f in report.findings:
        rows.append((f.key, f.outcome.label, f.reason.value if f.reason else "", f.shown, f.fix))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)) + "  " + r[-1] for r in rows]
    lines = [line.rstrip() for line in lines]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * len(rows[0][-1]))
    saved = report.count(Outcome.SAVED, Outcome.CHOSEN)
    lines.append("")
    lines.append(f"{len(report.findings)} notebook{'s' if len(report.findings) != 1 else ''}: "
                 f"{report.count(Outcome.RUNS)} run here, {saved} shown with saved outputs, "
                 f"{report.count(Outcome.FAILS)} cannot be shown (no saved outputs) — in {report.seconds:.1f} s")
    proposals = [f for f in report.findings if f.outcome is Outcome.SAVED]
    if report.config_changed is None:
        if proposals:
            lines.append(f"Proposed: show {len(proposals)} with their saved outputs. Run {program} migrate --write "
                         f"to record that in {CONFIG_FILE} ({SECTION}.{SETTING}); notebooks are never changed.")
    else:
        added, removed = report.config_changed
        if added or removed:
            lines.append(f"{CONFIG_FILE}: {SECTION}.{SETTING}: " + ", ".join(
                part for part in (f"{len(added)} recorded" if added else "",
                                  f"{len(removed)} removed ({'it runs' if len(removed) == 1 else 'they run'} now)" if removed else "") if part))
        else:
            lines.append(f"{CONFIG_FILE}: {SECTION}.{SETTING} already says this; nothing changed")
    holding = [f.notebook for f in report.findings if f.holds_outputs]
    if holding:
        lines.append(f"{len(holding)} notebook{'s' if len(holding) != 1 else ''} that run here still hold the outputs "
                     f"saved in {'them' if len(holding) != 1 else 'it'}, which {config.command(Command.CHECK)} "
                     f"reports: {config.command(Command.STRIP, *holding)} removes them (the posts show this build's "
                     "outputs).")
    if proposals or report.findings:
        lines.append(f"Next: {program} build, then jekyll build. After a fix from the last column, run "
                     f"{program} migrate --write again: a notebook that runs goes back to being executed.")
    return "\n".join(lines)
