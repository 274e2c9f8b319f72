"""A notebook file read as ``nbformat.read(as_version=4)`` reads it, without importing nbformat.

Deciding that a post is up to date must stay cheap: nbformat (with jsonschema) costs more to
import than the whole no-op build. Version-4 notebooks are read here; anything else, and the
schema check before a notebook is executed or converted, is nbformat's own.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from .errors import NotebookError


class Node(dict):
    """A notebook as nbformat reads it (a dict with attribute access), without importing nbformat:
    deciding that a post is up to date must stay cheap (see :meth:`SourceNotebook.validate`)."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __deepcopy__(self, memo: dict) -> "Node":
        return _nodes(copy.deepcopy(dict(self), memo))


def _nodes(value: Any) -> Any:
    if isinstance(value, dict):
        return Node((k, _nodes(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_nodes(v) for v in value]
    return value


def _is_json_mime(mime: str) -> bool:
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


def _rejoin_bundle(bundle: Any) -> None:
    if isinstance(bundle, dict):
        for key, value in list(bundle.items()):
            if not _is_json_mime(key) and isinstance(value, list) and all(isinstance(v, str) for v in value):
                bundle[key] = "".join(value)


def as_read_by_nbformat(data: Any) -> Node | None:
    """What ``nbformat.read(as_version=4)`` returns for a version-4 notebook (multi-line strings
    joined, transient keys dropped); None for anything else, which nbformat itself then reads."""
    if not (isinstance(data, dict) and data.get("nbformat") == 4 and isinstance(data.get("cells"), list)
            and isinstance(data.get("metadata"), dict)
            and all(isinstance(c, dict) and isinstance(c.get("metadata"), dict) for c in data["cells"])):
        return None
    nb = _nodes(data)
    for key in ("orig_nbformat", "orig_nbformat_minor", "signature"):
        nb.metadata.pop(key, None)
    for cell in nb.cells:
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
        for attachment in (cell.get("attachments") or {}).values():
            _rejoin_bundle(attachment)
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if not isinstance(output, dict):
                continue
            if output.get("output_type") in ("execute_result", "display_data"):
                _rejoin_bundle(output.get("data", {}))
            elif output.get("output_type") and isinstance(output.get("text", ""), list):
                output["text"] = "".join(output["text"])
        cell.metadata.pop("trusted", None)
    return nb


def read_with_nbformat(path: Path, rel: str) -> Any:
    import nbformat
    try:
        with open(path, encoding="utf-8") as handle:
            nb = nbformat.read(handle, as_version=4)
    except (OSError, UnicodeDecodeError) as exc:
        raise NotebookError(rel, f"cannot read the file: {exc.strerror if isinstance(exc, OSError) else exc}") from None
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
        raise NotebookError(rel, f"not a valid notebook: the file is not JSON ({exc})") from None
    except Exception as exc:  # nbformat raises a variety of errors for malformed files
        raise NotebookError(rel, f"not a valid notebook: {exc}") from None
    validate(nb, rel)
    return nb


def validate(nb: Any, rel: str) -> Any:
    import nbformat
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotebookError(rel, f"not a valid notebook: {_where(exc)}{exc.message}") from None
    return nb


def _where(exc: Any) -> str:
    """Where in the notebook the schema failed, as a person finds it: "cell 4: ", "cell 2, execution_count: "."""
    path = list(getattr(exc, "absolute_path", None) or [])
    if len(path) >= 2 and path[0] == "cells" and isinstance(path[1], int):
        inside = "/".join(str(p) for p in path[2:])
        return f"cell {path[1] + 1}{', ' + inside if inside else ''}: "
    return f"{'/'.join(str(p) for p in path)}: " if path else ""


def structure_problem(nb: Node) -> str | None:
    """What the stages after reading rely on; the full schema is checked before any work is done."""
    for position, cell in enumerate(nb.cells, 1):
        if cell.get("cell_type") not in ("markdown", "code", "raw") or not isinstance(cell.get("source"), str):
            return f"cell {position} is not a Markdown, code or raw cell with a source"
    kernelspec = nb.metadata.get("kernelspec", {})
    if not isinstance(kernelspec, dict) or not isinstance(nb.metadata.get("execution", {}), dict):
        return "its metadata is malformed"
    return None
