"""One validated configuration object, read from the site's ``_config.yml``.

The build tool's settings live under the ``nbjekyll:`` key of the Jekyll config, so the
site has a single configuration file. Every problem is collected and reported at once,
each as ``Config value 'nbjekyll.x': …``, in the style of mkdocs.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from .errors import ConfigError

CONFIG_FILE = "_config.yml"
SECTION = "nbjekyll"

DEFAULTS: dict[str, Any] = {
    "notebooks_dir": "notebooks",
    "posts_dir": "_posts",
    "images_dir": "img",
    "build_dir": "_build",
    "timeout": 600,
    "output_max_lines": 200,
    "front_matter": {"layout": "post"},
    "kernel_env": {},
    "jobs": None,
}


@dataclass(frozen=True)
class Config:
    site: Path
    notebooks_dir: Path
    posts_dir: Path
    images_dir: Path
    build_dir: Path
    timeout: int
    output_max_lines: int
    front_matter: dict = field(default_factory=dict)
    kernel_env: dict = field(default_factory=dict)
    jobs: int | None = None
    # The site's url prefix, used only in messages and tests; links go through Liquid's relative_url.
    baseurl: str = ""

    def rel(self, path: Path) -> str:
        """A path as people see it in messages and front matter: relative to the site, with '/'."""
        try:
            return Path(path).resolve().relative_to(self.site).as_posix()
        except ValueError:
            return str(path)

    def with_overrides(self, **changes: Any) -> "Config":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _check_dir(name: str, value: Any, problems: list[str]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"Config value '{SECTION}.{name}': expected a folder name, got {value!r}")
        return None
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or str(path) in ("", "."):
        problems.append(f"Config value '{SECTION}.{name}': must be a folder inside the site, "
                        f"got {value!r}")
        return None
    return value


def _check_positive_int(name: str, value: Any, problems: list[str]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        problems.append(f"Config value '{SECTION}.{name}': expected a positive whole number, got {value!r}")
        return None
    return value


def load_config(site: Path) -> Config:
    """Read and validate ``site/_config.yml``; a site without one gets the defaults."""
    site = Path(site).resolve()
    if not site.is_dir():
        raise ConfigError([f"the site folder {site} does not exist"], str(site / CONFIG_FILE))
    config_path = site / CONFIG_FILE
    raw: Any = {}
    if config_path.exists():
        try:
            raw = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark else ""
            raise ConfigError([f"{where}invalid YAML: {getattr(exc, 'problem', None) or exc}"],
                              CONFIG_FILE) from None
        if not isinstance(raw, dict):
            raise ConfigError(["the file must hold a mapping of settings"], CONFIG_FILE)

    section = raw.get(SECTION) or {}
    problems: list[str] = []
    if not isinstance(section, dict):
        raise ConfigError([f"Config value '{SECTION}': expected a mapping of settings, got {section!r}"],
                          CONFIG_FILE)
    for key in section:
        if key not in DEFAULTS:
            problems.append(f"Config value '{SECTION}.{key}': unknown setting "
                            f"(known: {', '.join(DEFAULTS)})")
    values = {**DEFAULTS, **{k: v for k, v in section.items() if k in DEFAULTS}}

    dirs = {name: _check_dir(name, values[name], problems)
            for name in ("notebooks_dir", "posts_dir", "images_dir", "build_dir")}
    seen: dict[str, str] = {}
    for name, value in dirs.items():
        if value is None:
            continue
        norm = PurePosixPath(value).as_posix().rstrip("/")
        if norm in seen:
            problems.append(f"Config value '{SECTION}.{name}': the same folder as "
                            f"'{SECTION}.{seen[norm]}' ({value!r})")
        seen[norm] = name

    timeout = _check_positive_int("timeout", values["timeout"], problems)
    max_lines = _check_positive_int("output_max_lines", values["output_max_lines"], problems)
    jobs = values["jobs"]
    if jobs is not None:
        jobs = _check_positive_int("jobs", jobs, problems)

    front_matter = values["front_matter"]
    if not isinstance(front_matter, dict):
        problems.append(f"Config value '{SECTION}.front_matter': expected a mapping of default "
                        f"front matter, got {front_matter!r}")
    kernel_env = values["kernel_env"]
    if not isinstance(kernel_env, dict) or not all(
            isinstance(k, str) and isinstance(v, (str, int, float)) and not isinstance(v, bool)
            for k, v in kernel_env.items()):
        problems.append(f"Config value '{SECTION}.kernel_env': expected a mapping of environment "
                        f"variable names to strings, got {kernel_env!r}")
        kernel_env = {}

    baseurl = raw.get("baseurl") or ""
    if not isinstance(baseurl, str):
        problems.append(f"Config value 'baseurl': expected a string, got {baseurl!r}")

    if problems:
        raise ConfigError(problems, CONFIG_FILE)
    return Config(
        site=site,
        notebooks_dir=site / dirs["notebooks_dir"],
        posts_dir=site / dirs["posts_dir"],
        images_dir=site / dirs["images_dir"],
        build_dir=site / dirs["build_dir"],
        timeout=timeout,
        output_max_lines=max_lines,
        front_matter=dict(front_matter),
        kernel_env={k: str(v) for k, v in kernel_env.items()},
        jobs=jobs,
        baseurl=baseurl,
    )


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
