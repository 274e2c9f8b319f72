"""Spread one build's executions over several machines, then put the results back together.

``--shard K/N`` executes the K-th of N parts of the notebooks that need executing and writes
what it ran into one bundle file; ``--merge`` installs the bundles of all N shards into the
cache and writes every post from them, as one machine building the same commit would.

The parts are decided from the commit alone (the committed posts' records and the last run
times in ``_data/provenance``), never from a machine's cache or installed kernels, so every
shard of a CI matrix computes the same split without talking to the others.
"""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .cache import CACHE_FORMAT, Action, Cache, plan, recorded_inputs, tool_digest
from .config import Config, load_yaml
from .errors import BuildError, NotebookError, UsageError
from .hints import Command
from .progress import Result
from .sources import read_notebook
from .tutorials import cache_name
from .write import atomic_write, provenance_path

BUNDLE_FORMAT = 1


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    index, slash, count = text.partition("/")
    try:
        shard = Shard(int(index), int(count))
    except ValueError:
        shard = None
    if not slash or shard is None or not 1 <= shard.index <= shard.count:
        raise ValueError(f"expected K/N with 1 <= K <= N (e.g. 2/4), got {text!r}")
    return shard


@dataclass
class Assignment:
    """Which shard executes which notebook, and what the split was based on."""

    count: int
    shards: dict[str, int] = field(default_factory=dict)  # notebook (site-relative) -> shard index
    seconds: dict[str, float | None] = field(default_factory=dict)  # its last recorded run, if any
    kernels: dict[str, str] = field(default_factory=dict)  # notebook -> kernel name

    def notebooks(self, index: int) -> list[str]:
        return sorted(rel for rel, k in self.shards.items() if k == index)

    def as_json(self) -> dict:
        return {"count": self.count, "shards": dict(sorted(self.shards.items()))}


def last_run_seconds(config: Config, slug: str) -> float | None:
    try:
        stamp = load_yaml(provenance_path(config, slug).read_text(encoding="utf-8"))
        seconds = float(stamp["seconds"])
    except (OSError, yaml.YAMLError, TypeError, KeyError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def assign(config: Config, paths: list[Path], count: int, force: bool = False) -> Assignment:
    """Split the notebooks that need executing into ``count`` parts of about equal run time.

    Longest first, each to the part with the least time so far (ties to the lowest number); a
    notebook never run counts as the mean of those that were. All notebooks of a kernel the site
    declares (its own interpreter, like CNTK's) go to one part, so only that shard sets it up.
    """
    assignment = Assignment(count)
    groups: dict[str, list[str]] = {}
    for path in paths:
        rel = config.rel(path)
        try:
            source = read_notebook(path, config)
        except NotebookError:
            groups.setdefault(f"notebook {rel}", []).append(rel)  # its shard reports the problem
            assignment.seconds[rel] = None
            continue
        recorded, images_ok = recorded_inputs(config, source)
        decision = plan(source, config, recorded, None, force=force, images_ok=images_ok, environment=False)
        if decision.action is not Action.EXECUTE:
            continue
        assignment.seconds[rel] = last_run_seconds(config, source.slug)
        assignment.kernels[rel] = source.kernel_name
        own = source.kernel_name in config.kernels
        groups.setdefault(f"kernel {source.kernel_name}" if own else f"notebook {rel}", []).append(rel)
    known = [s for s in assignment.seconds.values() if s is not None]
    typical = sum(known) / len(known) if known else 1.0

    def weight(members: list[str]) -> float:
        return sum(typical if assignment.seconds[m] is None else assignment.seconds[m] for m in members)

    load = [0.0] * count
    for key in sorted(groups, key=lambda k: (-weight(groups[k]), k)):
        index = min(range(count), key=lambda i: (load[i], i))
        load[index] += weight(groups[key])
        for rel in groups[key]:
            assignment.shards[rel] = index + 1
    return assignment


def describe(assignment: Assignment, shard: Shard) -> list[str]:
    """What ``--explain --shard`` prints: this shard's notebooks, their expected time, its kernels."""
    mine = assignment.notebooks(shard.index)
    lines = [f"shard {shard}: {len(mine)} of the {len(assignment.shards)} notebooks that need executing"]
    for rel in mine:
        seconds = assignment.seconds.get(rel)
        last = f"last run {seconds:.1f} s" if seconds is not None else "never run"
        lines.append(f"  {rel} (kernel {assignment.kernels.get(rel, '?')}, {last})")
    lines.append("kernels: " + (" ".join(sorted({assignment.kernels[r] for r in mine if r in assignment.kernels}))
                                or "none"))
    return lines


def site_commit(config: Config) -> str | None:
    """The site's git commit, which every bundle of one build must share; None outside git."""
    try:
        done = subprocess.run(["git", "-C", str(config.site), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


# -- bundles ------------------------------------------------------------------------------------

def write_bundle(path: Path, config: Config, shard: Shard, assignment: Assignment, results: list[Result]) -> int:
    """Write the shard's runs (cache entries with their records) and failures; return how many runs."""
    cache = Cache(config)
    entries, failures = {}, {}
    by_rel = {r.notebook: r for r in results}
    for rel in assignment.notebooks(shard.index):
        result = by_rel.get(rel)
        entry = None
        if result is not None and result.ok:
            try:
                entry = cache.export(read_notebook(config.site / rel, config))
            except NotebookError:
                entry = None
        if entry is not None:
            entries[rel] = entry
        else:
            failures[rel] = (result.error if result is not None and result.error else
                             f"{rel}: shard {shard} has no run of it ({result.status if result else 'not built'})")
    bundle = {"nbjekyll_bundle": BUNDLE_FORMAT, "cache_format": CACHE_FORMAT, "tool": tool_digest(),
              "commit": site_commit(config), "shard": [shard.index, shard.count],
              "assignment": assignment.as_json(), "entries": entries, "failures": failures}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(bundle, indent=1, sort_keys=True).encode("utf-8"))
    return len(entries)


def _read(path: Path, config: Config) -> dict:
    shard = config.invocation.name(Command.SHARD)
    try:
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the bundle ({exc.strerror or exc})") from None
    except ValueError:
        raise UsageError(f"{path}: not a bundle written by {shard} (not JSON)") from None
    if not isinstance(bundle, dict) or "nbjekyll_bundle" not in bundle:
        raise UsageError(f"{path}: not a bundle written by {shard}")
    if bundle["nbjekyll_bundle"] != BUNDLE_FORMAT or bundle.get("cache_format") != CACHE_FORMAT:
        raise UsageError(f"{path}: a bundle of another format (bundle {bundle['nbjekyll_bundle']!r}, cache "
                         f"{bundle.get('cache_format')!r}; this version writes {BUNDLE_FORMAT} and {CACHE_FORMAT})")
    return bundle


@dataclass
class Merged:
    entries: dict[str, dict]  # notebook -> cache entry
    failures: dict[str, str]  # notebook -> the message its shard printed
    warnings: list[str]


def combine(config: Config, paths: list[Path]) -> Merged:
    """Check that the bundles are one build's N shards, of this commit, agreeing where they overlap."""
    bundles = [(path, _read(path, config)) for path in paths]
    problems, warnings = [], []
    commit = site_commit(config)
    tool = tool_digest()
    first_path, first = bundles[0]
    count = first["shard"][1]
    seen: dict[int, Path] = {}
    entries: dict[str, dict] = {}
    failures: dict[str, str] = {}
    origin: dict[str, Path] = {}
    for path, bundle in bundles:
        index, of = bundle["shard"]
        if bundle.get("commit") != commit:
            problems.append(f"{path}: made from commit {bundle.get('commit') or '(not a git repository)'}, "
                            f"but this checkout is at {commit or '(not a git repository)'}")
        if bundle.get("tool") != tool:
            problems.append(f"{path}: made by another version of the build tool")
        if of != count or bundle.get("assignment") != first.get("assignment"):
            problems.append(f"{path}: shard {index}/{of} of a different split than {first_path} "
                            f"(shard {first['shard'][0]}/{count})")
            continue
        if index in seen and json.dumps(bundle, sort_keys=True) != json.dumps(_read(seen[index], config), sort_keys=True):
            problems.append(f"{path} and {seen[index]} are both shard {index}/{count}, with different runs")
        seen.setdefault(index, path)
        for rel, entry in bundle["entries"].items():
            if rel in entries and entries[rel] != entry:
                problems.append(f"{path} and {origin[rel]} both hold a run of {rel}, and the runs differ")
            entries.setdefault(rel, entry)
            origin.setdefault(rel, path)
        for rel, message in bundle["failures"].items():
            failures.setdefault(rel, message)
    missing = sorted(set(range(1, count + 1)) - set(seen))
    if missing and not problems:
        problems.append(f"no bundle for shard{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(f'{m}/{count}' for m in missing)} (got {len(seen)} of {count})")
    if problems:
        raise BuildError("cannot merge these bundles:\n" + "\n".join(f"  {p}" for p in problems))
    if commit is None:
        warnings.append("the site is not a git repository: the bundles could not be checked against a commit "
                        "(each run is still checked against the notebook's current inputs)")
    for rel, entry in entries.items():
        if entry.get("record", {}).get("notebook") != rel or entry.get("folder") != cache_name(config, config.site / rel):
            raise BuildError(f"cannot merge: the run of {rel} in {origin[rel]} records another notebook")
    return Merged(entries, {r: m for r, m in failures.items() if r not in entries}, warnings)


def install(config: Config, merged: Merged) -> None:
    cache = Cache(config)
    cache.root.mkdir(parents=True, exist_ok=True)
    for rel in sorted(merged.entries):
        cache.install(merged.entries[rel])


def shard_paths(config: Config, paths: list[Path], assignment: Assignment, shard: Shard) -> list[Path]:
    mine = set(assignment.notebooks(shard.index))
    return [p for p in paths if config.rel(p) in mine]

