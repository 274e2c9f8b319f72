"""The decision for one notebook: nothing, a re-render from the cache, or a run — and why."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from ..config import Config
from ..kernels import Environment, environment_of
from ..sources import SourceNotebook
from .keys import Inputs, current_inputs, declared_dependencies
from .store import Cache, CacheEntry


class Action(str, enum.Enum):
    """What a build does with a notebook."""

    UP_TO_DATE = "up to date"
    RENDER = "render"    # write the post again from the cached run
    EXECUTE = "execute"


@dataclass
class Plan:
    action: Action
    reasons: list[str]
    cached: CacheEntry | None = None
    inputs: Inputs | None = None  # the current inputs, with the last known dependency files
    environment: Environment | None = None  # the kernel's; its ``problem`` says why it cannot run now

    def describe(self) -> str:
        if self.action is Action.UP_TO_DATE:
            return "up to date"
        if self.action is Action.EXECUTE and self.environment and self.environment.problem:
            return f"needs executing ({'; '.join(self.reasons)}), but will be skipped: {self.environment.problem}"
        verb = "will re-render" if self.action is Action.RENDER else "will execute"
        return f"{verb} ({'; '.join(self.reasons)})"


def _cell_changes(old: list, new: list) -> list[str]:
    """Say which cells differ, as people number them (1-based position in the notebook)."""
    old_map = {c[0]: (c[1], c[2]) for c in old}
    new_map = {c[0]: (c[1], c[2]) for c in new}

    def name(position, kind):
        return "the front matter" if kind == "front matter" else f"{kind} cell {position}"

    changes = []
    for position, (value, kind) in new_map.items():
        if position not in old_map:
            changes.append(f"{name(position, kind)} added")
        elif old_map[position][0] != value:
            changes.append(f"{name(position, kind)} changed")
    changes += [f"{name(p, k)} removed" for p, (_, k) in old_map.items() if p not in new_map]
    return changes[:3] + ([f"{len(changes) - 3} more cells changed"] if len(changes) > 3 else [])


def plan(source: SourceNotebook, config: Config, recorded: dict | None, cache: Cache | None,
         force: bool = False, images_ok: bool = True, environment: bool = True) -> Plan:
    """What to do with one notebook, given the ``built_from`` record of its current post (or None).

    Without a cache (``--check``) only the committed record is compared; ``environment=False``
    leaves out the Python version, which says nothing about the notebook's content.
    """
    # The record decides; the executed notebook is read (and checked) only when outputs are needed.
    record = cache.record(source) if cache else None
    cache_inputs = (record.get("inputs") or {}) if record else {}
    known_files = set((recorded or {}).get("files") or cache_inputs.get("files") or {})
    known_files |= declared_dependencies(source, config)
    env = environment_of(source.kernel_name, config)
    inputs = current_inputs(source, config, known_files, env)
    if force:
        return Plan(Action.EXECUTE, ["--force"], None, inputs, env)

    def valid_entry() -> CacheEntry | None:
        if record is None or record.get("execution_key") != inputs.execution_key():
            return None
        entry = cache.load(source)
        return entry if entry is not None and entry.record["execution_key"] == inputs.execution_key() else None

    baseline = recorded or cache_inputs
    reasons: list[str] = []
    if not baseline:
        reasons.append("never built")
    else:
        if baseline.get("code") != inputs.code:
            detail = _cell_changes(cache_inputs.get("code_cells", []), inputs.code_cells) \
                if cache_inputs.get("code_cells") else []
            reasons += detail or ["code cells, kernel or nbjekyll.kernel_env changed"]
        if baseline.get("requirements") != inputs.requirements:
            reasons.append(f"{env.requirements_file} changed")
        if environment and inputs.python is not None and baseline.get("python") != inputs.python:
            reasons.append(f"Python {baseline.get('python')} → {inputs.python}")
        old_files = baseline.get("files") or {}
        for path, value in inputs.files.items():
            if path not in old_files:
                reasons.append(f"{path} added")
            elif value is None:
                reasons.append(f"{path} removed")
            elif old_files[path] != value:
                reasons.append(f"{path} changed")
    if reasons:
        entry = valid_entry()
        if entry:  # e.g. a change was undone: the cached run is the right one
            return Plan(Action.RENDER, reasons + ["outputs from the cache"], entry, inputs, env)
        return Plan(Action.EXECUTE, reasons, None, inputs, env)

    render_reasons = []
    if recorded is None:
        render_reasons.append("post missing")
    elif not images_ok:
        render_reasons.append("an image or script of the post is missing")
    if baseline.get("render") != inputs.render:
        if cache_inputs.get("render_cells"):
            render_reasons += _cell_changes(cache_inputs["render_cells"], inputs.render_cells) or \
                ["front matter, tags or settings changed"]
        else:
            render_reasons.append("Markdown, tags, settings or the build tool changed")
    if not render_reasons:
        return Plan(Action.UP_TO_DATE, [], None, inputs, env)
    entry = valid_entry()
    if entry:
        return Plan(Action.RENDER, render_reasons, entry, inputs, env)
    return Plan(Action.EXECUTE, render_reasons + ["no cached outputs"], None, inputs, env)

