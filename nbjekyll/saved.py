"""Saved outputs: a post made from the outputs stored in its notebook, without a kernel, and saying so.

A notebook is built this way when its front matter says ``execute: false`` (with ``execute_reason:``) or
when the site's ``nbjekyll.saved_outputs`` lists it (a path or glob, each with its reason). The post
shows the author's outputs as they are in the file; the page says near its top, and in its provenance
stamp, that they were not produced by this build, when the author saved them (from the notebook's own
records, or that this is unknown) and why. Its cache key is the whole notebook, outputs included.
"""
from __future__ import annotations

import copy
import datetime as dt
import fnmatch
import html
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .config import Config
from .digests import digest
from .errors import NotebookError

if TYPE_CHECKING:
    from .sources import SourceNotebook

FRONT_MATTER_KEY = "execute"
REASON_KEY = "execute_reason"
# Where a notebook records when it ran: nbclient/JupyterLab's per-cell timing and papermill's run.
CELL_TIMES = ("iopub.status.idle", "shell.execute_reply", "iopub.execute_input", "shell.execute_reply.started")
UNKNOWN_DATE = "when is unknown: the notebook does not record it"


@dataclass(frozen=True)
class SavedOutputs:
    """Why a notebook is shown with its saved outputs, and who asked (its front matter or the site)."""

    reason: str
    asked_by: str  # "front matter" or "nbjekyll.saved_outputs: PATTERN"


def saved_outputs_of(front_matter: dict, rel: str, config: Config) -> SavedOutputs | None:
    """The notebook's choice: front matter ``execute:`` first (true runs it whatever the site says), then
    the first pattern of ``nbjekyll.saved_outputs`` matching its path (relative to notebooks_dir or the site)."""
    if FRONT_MATTER_KEY in front_matter:
        value = front_matter[FRONT_MATTER_KEY]
        if not isinstance(value, bool):
            raise NotebookError(rel, f"front matter '{FRONT_MATTER_KEY}': expected true or false, got {value!r}")
        if value:
            return None
        reason = front_matter.get(REASON_KEY)
        if not isinstance(reason, str) or not reason.strip():
            raise NotebookError(rel, f"front matter '{FRONT_MATTER_KEY}: false' needs '{REASON_KEY}:', the reason "
                                     "readers are shown (e.g. execute_reason: needs the package rdkit)")
        return SavedOutputs(reason.strip(), "front matter")
    notebooks = config.rel(config.notebooks_dir)
    short = rel[len(notebooks) + 1:] if rel.startswith(notebooks + "/") else rel
    for pattern, reason in config.saved_outputs:
        if fnmatch.fnmatchcase(short, pattern) or fnmatch.fnmatchcase(rel, pattern):
            return SavedOutputs(reason, f"nbjekyll.saved_outputs: {pattern}")
    return None


def notebook_key(nb: Any) -> str:
    """The cache key of a notebook shown as saved: all of it, so a change to any output re-renders it."""
    return digest(json.dumps(["saved outputs", nb], sort_keys=True, default=str))


def has_outputs(nb: Any) -> bool:
    return any(c.get("cell_type") == "code" and c.get("outputs") for c in nb.get("cells", []))


def saved_on(nb: Any) -> dt.date | None:
    """The day the author last ran the notebook, from its own records (cell timing, papermill), or None."""
    stamps = []
    papermill = (nb.get("metadata") or {}).get("papermill") or {}
    stamps += [papermill.get("end_time"), papermill.get("start_time")]
    for cell in nb.get("cells", []):
        timing = (cell.get("metadata") or {}).get("execution") or {}
        if isinstance(timing, dict):
            stamps += [timing.get(key) for key in CELL_TIMES]
    days = []
    for stamp in stamps:
        if isinstance(stamp, str) and len(stamp) >= 10:
            try:
                days.append(dt.date.fromisoformat(stamp[:10]))
            except ValueError:
                continue
    return max(days) if days else None


def shown_date(day: dt.date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def provenance(source: "SourceNotebook") -> dict:
    """The post's stamp (``_data/provenance/SLUG.yml``): no time of this build, so the same notebook gives the same bytes."""
    nb = source.nb
    day = saved_on(nb)
    metadata = nb.get("metadata") or {}
    return {"saved": True, "saved_on": day.isoformat() if day else None, "reason": source.saved.reason,
            "kernel": (metadata.get("kernelspec") or {}).get("name"),
            "python": (metadata.get("language_info") or {}).get("version")}


def notebook(source: "SourceNotebook") -> Any:
    """The notebook as the author saved it (validated), to convert as it is."""
    return copy.deepcopy(source.validate().nb)


def warnings(source: "SourceNotebook") -> list[str]:
    if not has_outputs(source.nb):
        return [f"shown with its saved outputs ({source.saved.asked_by}), but it has none: the post shows its code "
                "only"]
    return []


def notice(source: "SourceNotebook") -> str:
    """The line near the top of the page that says where the outputs came from."""
    day = saved_on(source.nb)
    when = (f' on <time datetime="{day.isoformat()}">{shown_date(day)}</time>' if day
            else f" ({UNKNOWN_DATE})")
    return (f'<p class="saved-outputs" markdown="0"><strong>Outputs as saved by the author</strong>{when}; '
            f"not executed by this build. Reason: {html.escape(source.saved.reason)}</p>")
