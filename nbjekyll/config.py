"""One validated configuration object, read from the site's ``_config.yml``.

The build tool's settings live under the ``nbjekyll:`` key of the Jekyll config, so the
site has a single configuration file. Every problem is collected and reported at once,
each as ``Config value 'nbjekyll.x': …``, in the style of mkdocs.
"""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from .errors import ConfigError
from .hints import Command, Invocation

# libyaml's loader where PyYAML has it: front matter and cell options are read on the no-op path.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load``, fast; a document libyaml rejects is parsed again in pure Python, so the
    error a person reads (its problem and line) is PyYAML's own wording whichever loader ran."""
    try:
        return yaml.load(text, Loader=FAST_LOADER)
    except yaml.YAMLError:
        return yaml.safe_load(text)  # raises the error to report (or, if it disagrees, the value)

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
    # The file that says what the python3 kernel (the build's own Python) has installed; its content is
    # part of every python3 notebook's cache key. null: nothing but the Python version keys them.
    "kernel_requirements": "requirements.txt",
    "jobs": None,
    "kernels_dir": ".kernels",
    "provenance_dir": "_data/provenance",
    "vendor_dir": "assets/vendor",  # the libraries interactive outputs load, served by the site
    "kernels": {},
    "kernel_aliases": {},  # regular expression (whole kernel name) -> the kernel to run it in
    "strict_kernels": False,  # True: a kernel that is not installed fails, instead of borrowing one
    # Notebooks built from the outputs saved in them, without a kernel: a mapping of a notebook's path or a
    # glob (relative to notebooks_dir, or to the site) to the reason readers are shown (see nbjekyll.saved).
    "saved_outputs": {},
    # True: with --strict or CI=true, a notebook that would be built from its saved outputs fails instead.
    "require_execution": False,
    # True: a cell that raises shows its error as Jupyter does and the run goes on (the build warns).
    "allow_errors": False,
    # Jekyll collection label -> {source: folder of chapter notebooks, title:, order: [file names], layout:}
    "tutorials": {},
}


@dataclass(frozen=True)
class KernelDeclaration:
    """A kernel the site makes itself: its own interpreter and pinned requirements (``nbjekyll.kernels``).

    ``build.py --setup-kernels`` turns it into a virtual environment and a kernelspec; the build
    keys the notebooks that use it on ``requirements`` and the interpreter's version.
    """

    name: str
    python: str                      # the interpreter's version, e.g. "3.6"
    requirements: str                # site-relative requirements file
    display_name: str = ""
    pip: str | None = None           # a pip to install first, e.g. "pip<22" (old interpreters)
    library_links: tuple = ()        # (old soname, installed library name) pairs, put on LD_LIBRARY_PATH
    env: tuple = ()                  # (name, value) pairs of the kernel's environment
    imports: tuple = ()              # modules set-up checks can be imported
    system_packages: tuple = ()      # Debian packages it needs, named in messages
    system_site_packages: bool = False  # the environment also sees its interpreter's own packages


@dataclass(frozen=True)
class TutorialDeclaration:
    """A folder of undated chapter notebooks that becomes the Jekyll collection ``name`` (``nbjekyll.tutorials``).

    Chapters are the notebooks directly in ``source``, read in the order of their file names, except that
    the files ``order`` names come first, in that order; an ``Index``/``index``/``README`` notebook is the
    landing page (contents). ``layout`` is the chapters' layout: ``chapter`` (the site kit's) when the site
    has ``_layouts/chapter.html``, else ``page``; ``null`` gives them none.
    """

    name: str                 # the collection label: chapters go to _<name>/, the contents page is /<name>/
    source: Path              # the folder of chapter notebooks
    title: str
    order: tuple = ()         # file names, read first and in this order
    layout: str | None = "page"

    @property
    def folder(self) -> str:
        """Where Jekyll reads the collection's documents from (site-relative)."""
        return f"_{self.name}"


TUTORIAL_KEYS = ("source", "title", "order", "layout")
COLLECTION_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


def _excluded_by_jekyll(folder: str, raw: dict) -> bool:
    """Whether Jekyll leaves ``folder`` unpublished: a name starting with '_' or '.', or in ``exclude:``."""
    import fnmatch
    if folder.split("/")[0].startswith(("_", ".")):
        return True
    entries = raw.get("exclude") or []
    if not isinstance(entries, list):
        return False
    for entry in entries:
        entry = str(entry).strip().rstrip("/")
        if entry and (folder == entry or folder.startswith(entry + "/") or fnmatch.fnmatch(folder, entry)):
            return True
    return False


def _check_tutorials(value: Any, raw: dict, site: Path, problems: list[str]) -> dict:
    where = f"Config value '{SECTION}.tutorials"
    if not isinstance(value, dict):
        problems.append(f"{where}': expected a mapping of collection names to settings, got {value!r}")
        return {}
    collections = raw.get("collections") or {}
    tutorials = {}
    sources: dict[str, str] = {}
    for name, spec in value.items():
        at = f"{where}.{name}"
        if not isinstance(name, str) or not COLLECTION_NAME.match(name) or name in ("posts", "drafts", "data"):
            problems.append(f"{where}': {name!r} cannot name a Jekyll collection (lower-case letters, digits, "
                            "'_', '-'; not posts, drafts or data)")
            continue
        if not isinstance(spec, dict):
            problems.append(f"{at}': expected a mapping with 'source' (the folder of chapter notebooks), "
                            f"got {spec!r}")
            continue
        found = len(problems)
        for key in spec:
            if key not in TUTORIAL_KEYS:
                problems.append(f"{at}.{key}': unknown setting (known: {', '.join(TUTORIAL_KEYS)})")
        source = _check_dir(f"tutorials.{name}.source", spec.get("source"), problems)
        if source is not None:
            source = PurePosixPath(source).as_posix().rstrip("/")
            if source == f"_{name}":
                problems.append(f"{at}.source': {source!r} is where the chapters are written; keep the notebooks "
                                "in another folder")
            elif source in sources:
                problems.append(f"{at}.source': the same folder as '{SECTION}.tutorials.{sources[source]}.source'")
            elif not _excluded_by_jekyll(source, raw):
                problems.append(f"{at}.source': Jekyll would publish the notebooks in {source}/ as they are; "
                                f"add {source + '/'!r} to 'exclude:' in {CONFIG_FILE}")
            sources[source] = name
        title = spec.get("title", name.replace("-", " ").replace("_", " ").capitalize())
        if not isinstance(title, str) or not title.strip():
            problems.append(f"{at}.title': expected the tutorial's title, got {title!r}")
        order = spec.get("order") or []
        if not isinstance(order, list) or not all(isinstance(o, str) and "/" not in o for o in order):
            problems.append(f"{at}.order': expected a list of chapter file names, got {order!r}")
            order = []
        layout = spec["layout"] if "layout" in spec else (
            "chapter" if (site / "_layouts" / "chapter.html").is_file() else "page")
        if layout is not None and (not isinstance(layout, str) or not layout.strip()):
            problems.append(f"{at}.layout': expected a layout name or null, got {layout!r}")
        declared = collections.get(name) if isinstance(collections, dict) else (
            {"output": False} if isinstance(collections, list) and name in collections else None)
        if not (isinstance(declared, dict) and declared.get("output") is True):
            problems.append(f"{at}': Jekyll publishes a collection only when {CONFIG_FILE} declares it; add "
                            f"'collections: {{{name}: {{output: true}}}}'")
        if len(problems) == found:
            tutorials[name] = TutorialDeclaration(name=name, source=site / source, title=title.strip(),
                                                  order=tuple(order), layout=layout)
    return tutorials


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
    kernel_requirements: str | None = "requirements.txt"  # site-relative; keys the python3 kernel's runs
    jobs: int | None = None
    kernels_dir: Path | None = None
    provenance_dir: Path | None = None  # one YAML file per post: when and in what it was executed
    vendor_dir: str = "assets/vendor"  # site-relative, '/'-separated: the libraries interactive outputs load
    kernels: dict = field(default_factory=dict)  # name -> KernelDeclaration
    kernel_aliases: list = field(default_factory=list)  # [(compiled pattern, kernel name)], in order
    strict_kernels: bool = False
    saved_outputs: tuple = ()  # ((pattern, reason), ...) in the order _config.yml lists them
    require_execution: bool = False
    allow_errors: bool = False
    tutorials: dict = field(default_factory=dict)  # collection name -> TutorialDeclaration
    # The site's url prefix, used only in messages and tests; links go through Liquid's relative_url.
    baseurl: str = ""
    # How the person started the tool, for hints; set by the command line, never read from _config.yml.
    invocation: Invocation = Invocation()

    def rel(self, path: Path) -> str:
        """A path as people see it in messages and front matter: relative to the site, with '/'."""
        return _relative(str(path), str(self.site))

    def command(self, command: Command, *args: str) -> str:
        """The command line a hint suggests, as the person runs the tool (see :mod:`nbjekyll.hints`)."""
        return self.invocation.command(command, *args, site=self.site)

    def tutorial_of(self, path: Path) -> "TutorialDeclaration | None":
        """The tutorial a notebook is a chapter of (a file directly in its source folder), or None."""
        for tutorial in self.tutorials.values():
            if path.parent == tutorial.source:
                return tutorial
        return None

    def with_overrides(self, **changes: Any) -> "Config":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


@functools.lru_cache(maxsize=65536)
def _relative(path: str, site: str) -> str:
    # resolve() walks the file system, and every notebook asks for the same few folders
    try:
        return Path(path).resolve().relative_to(site).as_posix()
    except ValueError:
        return path


def _check_dir(name: str, value: Any, problems: list[str], what: str = "folder") -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"Config value '{SECTION}.{name}': expected a {what} name, got {value!r}")
        return None
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or str(path) in ("", "."):
        problems.append(f"Config value '{SECTION}.{name}': must be a {what} inside the site, "
                        f"got {value!r}")
        return None
    return value


def _check_positive_int(name: str, value: Any, problems: list[str]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        problems.append(f"Config value '{SECTION}.{name}': expected a positive whole number, got {value!r}")
        return None
    return value


KERNEL_KEYS = ("python", "requirements", "display_name", "pip", "library_links", "env", "imports",
               "system_packages", "system_site_packages")
KERNEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _check_kernels(value: Any, problems: list[str]) -> dict:
    where = f"Config value '{SECTION}.kernels"
    if not isinstance(value, dict):
        problems.append(f"{where}': expected a mapping of kernel names to settings, got {value!r}")
        return {}
    kernels = {}
    for name, spec in value.items():
        at = f"{where}.{name}"
        if not isinstance(name, str) or not KERNEL_NAME.match(name):
            problems.append(f"{where}': {name!r} is not a kernel name (letters, digits, '.', '_', '-')")
            continue
        if not isinstance(spec, dict):
            problems.append(f"{at}': expected a mapping of settings, got {spec!r}")
            continue
        found = len(problems)
        for key in spec:
            if key not in KERNEL_KEYS:
                problems.append(f"{at}.{key}': unknown setting (known: {', '.join(KERNEL_KEYS)})")
        python = spec.get("python")
        if isinstance(python, (int, float)) and not isinstance(python, bool):
            python = str(python)
        if not isinstance(python, str) or not re.fullmatch(r"\d+(\.\d+){0,2}", python):
            problems.append(f"{at}.python': expected a Python version such as \"3.6\", got {spec.get('python')!r}")
        requirements = _check_dir(f"kernels.{name}.requirements", spec.get("requirements"), problems, "file")
        strings = {}
        for key in ("display_name", "pip"):
            if spec.get(key) is not None and not isinstance(spec[key], str):
                problems.append(f"{at}.{key}': expected a string, got {spec[key]!r}")
            strings[key] = spec.get(key)
        pairs = {}
        for key in ("library_links", "env"):
            mapping = spec.get(key) or {}
            if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                        for k, v in mapping.items()):
                problems.append(f"{at}.{key}': expected a mapping of strings to strings, got {mapping!r}")
                mapping = {}
            pairs[key] = tuple(sorted(mapping.items()))
        for old, new in pairs["library_links"]:
            if "/" in old or "/" in new:
                problems.append(f"{at}.library_links': expected library file names, not paths "
                                f"({old!r}: {new!r})")
        lists = {}
        for key in ("imports", "system_packages"):
            items = spec.get(key) or []
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                problems.append(f"{at}.{key}': expected a list of names, got {items!r}")
                items = []
            lists[key] = tuple(items)
        inherit = spec.get("system_site_packages", False)
        if not isinstance(inherit, bool):
            problems.append(f"{at}.system_site_packages': expected true or false, got {inherit!r}")
        if len(problems) == found:
            kernels[name] = KernelDeclaration(
                name=name, python=python, requirements=requirements,
                display_name=strings["display_name"] or f"Python {python} ({name})", pip=strings["pip"],
                library_links=pairs["library_links"], env=pairs["env"], imports=lists["imports"],
                system_packages=lists["system_packages"], system_site_packages=inherit)
    return kernels


def load_config(site: Path) -> Config:
    """Read and validate ``site/_config.yml``; a site without one gets the defaults."""
    site = Path(site).resolve()
    if not site.is_dir():
        raise ConfigError([f"the site folder {site} does not exist"], str(site / CONFIG_FILE))
    config_path = site / CONFIG_FILE
    raw: Any = {}
    if config_path.exists():
        try:
            raw = load_yaml(config_path.read_text(encoding="utf-8")) or {}
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
            for name in ("notebooks_dir", "posts_dir", "images_dir", "build_dir", "kernels_dir",
                                 "provenance_dir", "vendor_dir")}
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

    kernel_requirements = values["kernel_requirements"]
    if kernel_requirements is not None:
        kernel_requirements = _check_dir("kernel_requirements", kernel_requirements, problems, "file")

    kernels = _check_kernels(values["kernels"], problems)
    if "python3" in kernels:
        problems.append(f"Config value '{SECTION}.kernels.python3': the build's own kernel; declare another name")

    aliases = []
    if not isinstance(values["kernel_aliases"], dict):
        problems.append(f"Config value '{SECTION}.kernel_aliases': expected a mapping of kernel-name patterns "
                        f"to kernel names, got {values['kernel_aliases']!r}")
    else:
        for pattern, name in values["kernel_aliases"].items():
            try:
                compiled = re.compile(str(pattern))
            except re.error as exc:
                problems.append(f"Config value '{SECTION}.kernel_aliases': {pattern!r} is not a regular "
                                f"expression ({exc})")
                continue
            if not isinstance(name, str) or not name.strip():
                problems.append(f"Config value '{SECTION}.kernel_aliases.{pattern}': expected a kernel name, "
                                f"got {name!r}")
                continue
            aliases.append((compiled, name.strip()))
    strict_kernels = values["strict_kernels"]
    if not isinstance(strict_kernels, bool):
        problems.append(f"Config value '{SECTION}.strict_kernels': expected true or false, got {strict_kernels!r}")

    saved_outputs = values["saved_outputs"] or {}
    if not isinstance(saved_outputs, dict) or not all(
            isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip() for k, v in saved_outputs.items()):
        problems.append(f"Config value '{SECTION}.saved_outputs': expected a mapping of notebook paths or globs to "
                        f"the reason readers are shown, got {saved_outputs!r}")
        saved_outputs = {}
    for name in ("require_execution", "allow_errors"):
        if not isinstance(values[name], bool):
            problems.append(f"Config value '{SECTION}.{name}': expected true or false, got {values[name]!r}")
    tutorials = _check_tutorials(values["tutorials"], raw, site, problems)
    for tutorial in tutorials.values():
        inside = [name for name, value in dirs.items() if value is not None and name != "vendor_dir"
                  and (tutorial.source == site / value or tutorial.source.is_relative_to(site / value)
                       or (site / value).is_relative_to(tutorial.source))]
        if inside:
            problems.append(f"Config value '{SECTION}.tutorials.{tutorial.name}.source': overlaps "
                            f"'{SECTION}.{inside[0]}' ({dirs[inside[0]]!r})")

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
        kernel_requirements=kernel_requirements,
        jobs=jobs,
        kernels_dir=site / dirs["kernels_dir"],
        provenance_dir=site / dirs["provenance_dir"],
        vendor_dir=PurePosixPath(dirs["vendor_dir"]).as_posix().rstrip("/"),
        kernels=kernels,
        kernel_aliases=aliases,
        strict_kernels=strict_kernels is True,
        saved_outputs=tuple((k.strip(), v.strip()) for k, v in saved_outputs.items()),
        require_execution=values["require_execution"] is True,
        allow_errors=values["allow_errors"] is True,
        tutorials=tutorials,
        baseurl=baseurl,
    )


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
