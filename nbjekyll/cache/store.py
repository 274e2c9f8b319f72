"""The execution cache in the build folder: each notebook's last executed form and its record.

A record (``record.json``) holds ``format`` (:data:`CACHE_FORMAT`), ``notebook`` (site-relative),
``execution_key``, ``inputs`` (the post's ``built_from`` plus per-cell digests) and ``provenance``;
beside it, ``executed.ipynb``. An entry is written whole or not at all, and a damaged or outdated
one is removed, never trusted.
"""
from __future__ import annotations

import copy
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Config
from ..sources import SourceNotebook
from ..files import replace_folder
from .keys import CACHE_FORMAT, Inputs

@dataclass
class CacheEntry:
    executed: Any
    record: dict


class Cache:
    def __init__(self, config: Config):
        self.config = config
        self.root = config.build_dir / "cache"
        self.warnings: list[str] = []

    def folder(self, source: SourceNotebook) -> Path:
        return self.root / source.cache_name

    def record(self, source: SourceNotebook) -> dict | None:
        """The entry's record alone (cheap: no notebook is parsed), or None; never trusted for outputs."""
        try:
            record = json.loads((self.folder(source) / "record.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if isinstance(record, dict) and "format" in record and record["format"] != CACHE_FORMAT:
            self.discard(source, f"the cache of {source.rel} is from an older format "
                                 f"({record.get('format')!r}, now {CACHE_FORMAT}); it will be rebuilt")
            return None
        if not isinstance(record, dict) or record.get("notebook") != source.rel:
            return None
        return record

    def load(self, source: SourceNotebook) -> CacheEntry | None:
        """The cached execution, or None; a damaged or outdated entry is removed, never trusted."""
        import nbformat
        folder = self.folder(source)
        if not folder.exists():
            return None
        try:
            record = json.loads((folder / "record.json").read_text(encoding="utf-8"))
            if record.get("format") != CACHE_FORMAT:
                self.discard(source, f"the cache of {source.rel} is from an older format "
                                     f"({record.get('format')!r}, now {CACHE_FORMAT}); it will be rebuilt")
                return None
            with open(folder / "executed.ipynb", encoding="utf-8") as handle:
                executed = nbformat.read(handle, as_version=4)
            if record.get("notebook") != source.rel or not isinstance(record.get("execution_key"), str):
                raise ValueError("record does not match")
        except (OSError, ValueError, KeyError, TypeError, nbformat.reader.NotJSONError, json.JSONDecodeError) as exc:
            self.discard(source, f"the cache of {source.rel} is corrupt ({type(exc).__name__}); it will be rebuilt")
            return None
        return CacheEntry(executed, record)

    def export(self, source: SourceNotebook) -> dict | None:
        """The entry as text, for a shard's bundle; None when there is no valid entry."""
        if self.load(source) is None:
            return None
        folder = self.folder(source)
        return {"folder": folder.name, "record": json.loads((folder / "record.json").read_text(encoding="utf-8")),
                "executed": (folder / "executed.ipynb").read_text(encoding="utf-8")}

    def install(self, entry: dict) -> None:
        """Put an exported entry (from a bundle) in place, replacing what was there."""
        def fill(tmp: Path) -> None:
            (tmp / "executed.ipynb").write_text(entry["executed"], encoding="utf-8")
            (tmp / "record.json").write_text(json.dumps(entry["record"], indent=1, sort_keys=True), encoding="utf-8")

        replace_folder(self.root / Path(entry["folder"]).name, fill)

    def discard(self, source: SourceNotebook, warning: str | None = None) -> None:
        if warning:
            self.warnings.append(warning)
        shutil.rmtree(self.folder(source), ignore_errors=True)

    def store(self, source: SourceNotebook, executed: Any, inputs: Inputs, provenance: dict | None = None) -> None:
        import nbformat
        record = {"format": CACHE_FORMAT, "notebook": source.rel, "execution_key": inputs.execution_key(),
                  "inputs": {**inputs.for_front_matter(), "code_cells": inputs.code_cells,
                             "render_cells": inputs.render_cells},
                  "provenance": provenance or {}}

        def fill(tmp: Path) -> None:
            with open(tmp / "executed.ipynb", "w", encoding="utf-8") as handle:
                nbformat.write(executed, handle)
            (tmp / "record.json").write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")

        replace_folder(self.folder(source), fill)



def with_cached_outputs(source: SourceNotebook, executed: Any) -> Any:
    """The current source notebook carrying the outputs of a cached run of the same code cells."""
    merged = copy.deepcopy(source.nb)
    ran = [c for c in executed.cells if c.cell_type == "code"]
    for cell, old in zip((c for c in merged.cells if c.cell_type == "code"), ran):
        cell.outputs = old.get("outputs", [])
        cell.execution_count = old.get("execution_count")
    merged.metadata["language_info"] = executed.metadata.get("language_info", {})
    if "widgets" in executed.metadata:  # the saved widget state the run left (nbclient's store_widget_state)
        merged.metadata["widgets"] = executed.metadata["widgets"]
    return merged

