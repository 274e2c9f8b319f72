"""Bring the tool into a Jekyll blog: the site kit, the theme hook, ``_config.yml``, the CI workflow.

The *site kit* is what posts made from notebooks need from the page (styles, MathJax served by the
site itself, tabs and copy buttons); it ships as package data under ``kit/site/`` and is copied
into the blog under names of its own (``_includes/nbjekyll/``, ``assets/nbjekyll/``). Posts read
well without it (see ``templates/post.md.j2``); with it they get the full look.

:func:`init_site` is the one entry point. It plans every file first, then writes (unless
``dry_run``), so a refusal leaves the blog as it was. It never replaces a file the user changed
unless ``force``: what it installed is recorded with a digest per file in :data:`MANIFEST`, so
"changed by the user" is a comparison, not a guess. It edits the user's own files
(``_config.yml``, an existing ``custom-head.html``) only by adding text, keeping every key,
comment and line that was there.
"""
from __future__ import annotations

import enum
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from .digests import digest
from .errors import BuildError
from .write import atomic_write

KIT = Path(__file__).with_name("kit")
KIT_SITE = KIT / "site"                  # mirrored into the blog, path for path
NEW_BLOG = KIT / "new"                   # the few files of a new blog
WORKFLOW_TEMPLATE = KIT / "workflow.yml"
WORKFLOW = ".github/workflows/nbjekyll.yml"
MANIFEST = ".nbjekyll-kit.json"          # a dot file: Jekyll never publishes it
MANIFEST_FORMAT = 1
CONFIG = "_config.yml"
HEAD = "_includes/head.html"
CUSTOM_HEAD = "_includes/custom-head.html"
HOOK_LINE = "{%- include nbjekyll/head.html -%}"
FASTPAGES_NOTEBOOKS = "_notebooks"
DEFAULT_NOTEBOOKS = "notebooks"
BUILD_DIR = "_build"
# A folder counts as empty (a new blog goes there) when it holds nothing but these.
IGNORED_IN_EMPTY = {".git", ".gitignore", "README.md", "LICENSE", ".DS_Store"}
_INCLUDES_KIT = re.compile(r"{%-?\s*include\s+nbjekyll/head\.html\s*-?%}")
_INCLUDES_CUSTOM_HEAD = re.compile(r"{%-?\s*include\s+custom-head\.html\s*-?%}")
_TOP_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)\s*:(?P<rest>.*)$")


class InitError(BuildError):
    """The blog cannot be set up as it is; the message names the file and what to do."""

    exit_code = 2


class Action(enum.Enum):
    """What init does (or, with ``dry_run``, would do) to one file."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    KEPT = "kept"          # the user changed it; ``force`` replaces it
    OUTDATED = "outdated"  # an older kit version the user has not changed; ``upgrade`` refreshes it
    ADD_LINE = "add line"  # no hook init can use: the user adds one line (``FileReport.line``)


@dataclass(frozen=True)
class FileReport:
    path: str               # relative to the blog, with '/'
    action: Action
    note: str = ""          # why, in a few words (e.g. "added the kit's line")
    line: str = ""          # for ADD_LINE: the line to add


@dataclass
class InitReport:
    site: Path
    new_blog: bool
    notebooks_dir: str
    dry_run: bool
    files: list[FileReport] = field(default_factory=list)

    @property
    def changes(self) -> list[FileReport]:
        """The files init wrote (or would write)."""
        return [f for f in self.files if f.action in (Action.CREATED, Action.UPDATED)]

    @property
    def to_do(self) -> list[FileReport]:
        """What is left for the user: lines to add, kept and outdated files."""
        return [f for f in self.files if f.action in (Action.ADD_LINE, Action.KEPT, Action.OUTDATED)]


@dataclass
class Manifest:
    """``.nbjekyll-kit.json``: the files init installed, each with the digest of what it wrote."""

    files: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InitError(f"{MANIFEST}: unreadable ({exc}); delete it and run nbjekyll init --force "
                            "to reinstall the kit") from None
        if not (isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT
                and isinstance(data.get("files"), dict)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in data["files"].items())):
            raise InitError(f"{MANIFEST}: not a kit record this version of nbjekyll knows (format "
                            f"{MANIFEST_FORMAT}); delete it and run nbjekyll init --force to reinstall the kit")
        return cls(dict(data["files"]))

    def text(self) -> str:
        return json.dumps({"format": MANIFEST_FORMAT, "files": dict(sorted(self.files.items()))},
                          indent=1) + "\n"


@dataclass
class _Write:
    path: str
    data: bytes


class _Plan:
    def __init__(self, site: Path, manifest: Manifest, force: bool, upgrade: bool):
        self.site = site
        self.old = manifest
        self.new = Manifest(dict(manifest.files))
        self.force = force
        self.upgrade = upgrade
        self.reports: list[FileReport] = []
        self.writes: list[_Write] = []

    def report(self, path: str, action: Action, note: str = "", line: str = "") -> None:
        self.reports.append(FileReport(path, action, note, line))

    def write(self, path: str, data: bytes, action: Action, note: str = "") -> None:
        self.writes.append(_Write(path, data))
        self.report(path, action, note)

    def kit_file(self, path: str, data: bytes, note: str = "") -> None:
        """A file the kit owns: created, refreshed while the user has not changed it, else kept."""
        target = self.site / path
        recorded = self.old.files.get(path)
        if not target.exists():
            self.write(path, data, Action.CREATED, note)
            self.new.files[path] = digest(data)
            return
        current = target.read_bytes()
        if current == data:
            self.report(path, Action.UNCHANGED, note)
            self.new.files[path] = digest(data)
            return
        ours = recorded is not None and digest(current) == recorded
        if self.force or (ours and self.upgrade):
            self.write(path, data, Action.UPDATED, note)
            self.new.files[path] = digest(data)
        elif ours:
            self.report(path, Action.OUTDATED, "from an older nbjekyll; --upgrade refreshes it")
        else:
            self.report(path, Action.KEPT, "changed by you; --force replaces it")

    def user_file(self, path: str, before: str | None, after: str, note: str) -> None:
        """A file of the user's that init only adds to (``before`` None: it does not exist yet)."""
        if before == after:
            self.report(path, Action.UNCHANGED)
        else:
            self.write(path, after.encode("utf-8"), Action.CREATED if before is None else Action.UPDATED, note)


def init_site(target: Path, *, dry_run: bool = False, force: bool = False, upgrade: bool = False,
              workflow: bool = True) -> InitReport:
    """Set up the blog in ``target`` (an existing Jekyll site, or an empty or missing folder for a
    new one) to publish notebooks: install or refresh the site kit, hook it into the theme, add an
    ``nbjekyll:`` section and ``exclude:`` entries to ``_config.yml``, create the notebooks folder
    and (``workflow``) the CI workflow. ``dry_run`` writes nothing; ``force`` replaces kit files the
    user changed; ``upgrade`` refreshes kit files an older nbjekyll installed. Raises
    :class:`InitError` when the folder is not a blog it can set up."""
    site = Path(target).resolve()
    if site.exists() and not site.is_dir():
        raise InitError(f"{target}: not a folder; give the folder of your Jekyll blog (where _config.yml is) "
                        "or a new folder for a new blog")
    config_path = site / CONFIG
    new_blog = not config_path.exists()
    if new_blog and site.is_dir():
        others = sorted(p.name for p in site.iterdir() if p.name not in IGNORED_IN_EMPTY)
        if others:
            shown = ", ".join(others[:5]) + (", …" if len(others) > 5 else "")
            raise InitError(f"{target}: has files ({shown}) but no {CONFIG}, so it is not a Jekyll blog; run "
                            "nbjekyll init in your blog's folder (where _config.yml is), or in an empty folder "
                            "for a new blog")
    plan = _Plan(site, Manifest.read(site / MANIFEST), force, upgrade)

    config_text = (NEW_BLOG / CONFIG).read_text(encoding="utf-8") if new_blog else config_path.read_text(encoding="utf-8")
    settings = _parse_config(config_text)
    notebooks_dir = _notebooks_dir(site, settings)
    edited = _with_exclude(_with_section(config_text, notebooks_dir, settings), [notebooks_dir, BUILD_DIR], settings)
    if new_blog:
        plan.write(CONFIG, edited.encode("utf-8"), Action.CREATED, "a new blog, theme minima")
        if not (site / "index.md").exists() and not (site / "index.html").exists():
            plan.write("index.md", (NEW_BLOG / "index.md").read_bytes(), Action.CREATED)
        if not (site / ".gitignore").exists():
            plan.write(".gitignore", (NEW_BLOG / "gitignore").read_bytes(), Action.CREATED)
        if not (site / "favicon.ico").exists():  # browsers ask for it: a new blog answers without a 404
            plan.write("favicon.ico", (NEW_BLOG / "favicon.ico").read_bytes(), Action.CREATED)
    else:
        plan.user_file(CONFIG, config_text, edited, "added " + " and ".join(_added_to_config(settings, notebooks_dir)))

    for source in sorted(p for p in KIT_SITE.rglob("*") if p.is_file()):
        plan.kit_file(source.relative_to(KIT_SITE).as_posix(), source.read_bytes())
    _hook(plan, settings)
    if workflow:
        plan.kit_file(WORKFLOW, WORKFLOW_TEMPLATE.read_bytes())

    folder = site / notebooks_dir
    if not folder.is_dir():
        plan.report(notebooks_dir + "/", Action.CREATED, "put your notebooks here")
    else:
        plan.report(notebooks_dir + "/", Action.UNCHANGED)

    manifest_text = plan.new.text()
    old_manifest = (site / MANIFEST).read_text(encoding="utf-8") if (site / MANIFEST).exists() else None
    if plan.writes or old_manifest != manifest_text:
        plan.user_file(MANIFEST, old_manifest, manifest_text, "what init installed, for --upgrade")
    else:
        plan.report(MANIFEST, Action.UNCHANGED)

    if not dry_run:
        site.mkdir(parents=True, exist_ok=True)
        for item in plan.writes:
            path = site / item.path
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, item.data)
        folder.mkdir(parents=True, exist_ok=True)
    return InitReport(site, new_blog, notebooks_dir, dry_run, plan.reports)


# ---------------------------------------------------------------------------- _config.yml

def _parse_config(text: str) -> dict:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}:" if mark else ""
        raise InitError(f"{CONFIG}:{where} invalid YAML ({getattr(exc, 'problem', None) or exc}); "
                        "fix it and run nbjekyll init again") from None
    if not isinstance(data, dict):
        raise InitError(f"{CONFIG}: must hold a mapping of settings; fix it and run nbjekyll init again")
    return data


def _notebooks_dir(site: Path, settings: dict) -> str:
    section = settings.get("nbjekyll")
    if isinstance(section, dict) and isinstance(section.get("notebooks_dir"), str):
        value = section["notebooks_dir"]
        path = PurePosixPath(value)
        if path.is_absolute() or ".." in path.parts or not value.strip("/. "):
            raise InitError(f"{CONFIG}: nbjekyll.notebooks_dir must be a folder inside the blog, got {value!r}; "
                            "fix it and run nbjekyll init again")
        return value.strip("/")
    if (site / FASTPAGES_NOTEBOOKS).is_dir():
        return FASTPAGES_NOTEBOOKS
    return DEFAULT_NOTEBOOKS


def _ensure_newline(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def _with_section(text: str, notebooks_dir: str, settings: dict) -> str:
    if "nbjekyll" in settings:
        return text
    return _ensure_newline(text) + (
        "\n# Settings of nbjekyll, which executes the notebooks in notebooks_dir and writes them as posts\n"
        "# (`nbjekyll build`); every setting is described in its docs.\n"
        "nbjekyll:\n"
        f"  notebooks_dir: {notebooks_dir}\n")


def _excluded(settings: dict) -> set[str]:
    exclude = settings.get("exclude")
    if not isinstance(exclude, list):
        return set()
    return {str(item).strip("/") for item in exclude}


def _needs_exclude(name: str) -> bool:
    # Jekyll already leaves out folders whose names start with '_' or '.'.
    return not PurePosixPath(name).parts[0].startswith(("_", "."))


def _with_exclude(text: str, folders: list[str], settings: dict) -> str:
    missing = [f for f in folders if f.strip("/") not in _excluded(settings) and _needs_exclude(f)]
    if not missing:
        return text
    if "exclude" in settings and not isinstance(settings["exclude"], list):
        raise InitError(f"{CONFIG}: 'exclude' is not a list; make it one (exclude: [a, b]) and run nbjekyll init "
                        "again")
    items = [f"{f.strip('/')}/" for f in missing]
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"^exclude\s*:", line)), None)
    if start is None:
        return _ensure_newline(text) + "\n# Not published: the notebooks (nbjekyll makes posts of them)\nexclude:\n" + \
            "".join(f"  - {item}\n" for item in items)
    rest = re.sub(r"\s+#.*$", "", lines[start].split(":", 1)[1]).strip()
    if rest.startswith("["):
        # a flow list on one line: add before its closing bracket
        close = lines[start].index("]") if "]" in lines[start] else -1
        if close < 0:
            raise InitError(f"{CONFIG}: the 'exclude' list spans several lines in brackets; write it one item a "
                            f"line (exclude:\\n  - {items[0]}) or add {', '.join(items)} yourself")
        head = lines[start][:close].rstrip()
        sep = "" if head.endswith("[") else ", "
        lines[start] = head + sep + ", ".join(items) + lines[start][close:]
        return "".join(lines)
    # a block list: add after its last item, indented like it
    last, indent = start, "  "
    for i in range(start + 1, len(lines)):
        m = re.match(r"^(\s*)- ", lines[i])
        if m:
            last, indent = i, m.group(1)
        elif lines[i].strip() and not lines[i].lstrip().startswith("#") and not lines[i].startswith((" ", "\t")):
            break
    new = [f"{indent}- {item}\n" for item in items]
    lines[last] = _ensure_newline(lines[last])
    lines[last + 1:last + 1] = new
    return "".join(lines)


def _added_to_config(settings: dict, notebooks_dir: str) -> list[str]:
    added = []
    if "nbjekyll" not in settings:
        added.append("the nbjekyll: section")
    missing = [f for f in (notebooks_dir, BUILD_DIR) if f not in _excluded(settings) and _needs_exclude(f)]
    if missing:
        added.append("exclude: " + ", ".join(f"{m}/" for m in missing))
    return added


# ---------------------------------------------------------------------------- the theme hook

def theme_head(theme: str) -> str | None:
    """The ``_includes/head.html`` of an installed gem theme (what ``jekyll build`` uses), or None."""
    ruby = shutil.which("ruby")
    if not ruby or not re.fullmatch(r"[\w.-]+", theme):
        return None
    try:
        proc = subprocess.run([ruby, "-e", "print Gem::Specification.find_by_name(ARGV[0]).gem_dir", theme],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    head = Path(proc.stdout.strip()) / HEAD if proc.returncode == 0 and proc.stdout.strip() else None
    try:
        return head.read_text(encoding="utf-8") if head else None
    except OSError:
        return None


def _with_line_before_head_end(text: str) -> str:
    at = text.rfind("</head>")
    return text[:at] + "  " + HOOK_LINE + "\n" + text[at:]


def _hook(plan: _Plan, settings: dict) -> None:
    """Make every page's <head> include the kit's head, by the hook the theme offers."""
    site = plan.site
    own_head = site / HEAD
    if own_head.exists() and HEAD not in plan.old.files:
        text = own_head.read_text(encoding="utf-8")
        if _INCLUDES_KIT.search(text):
            plan.report(HEAD, Action.UNCHANGED, "includes the kit")
        elif _INCLUDES_CUSTOM_HEAD.search(text):
            _custom_head(plan)
        else:
            plan.report(HEAD, Action.ADD_LINE, "add this line before </head>", HOOK_LINE)
        return
    theme = settings.get("theme")
    head = theme_head(theme) if isinstance(theme, str) else None
    if head is not None and _INCLUDES_CUSTOM_HEAD.search(head):
        _custom_head(plan)
    elif head is not None and "</head>" in head:
        plan.kit_file(HEAD, _with_line_before_head_end(head).encode("utf-8"),
                      f"{theme}'s head.html and the kit's line: {theme} has no custom-head.html hook")
    else:
        layouts = sorted(p for p in (site / "_layouts").glob("*.html") if "</head>" in p.read_text(encoding="utf-8")) \
            if (site / "_layouts").is_dir() else []
        if layouts:
            plan.report(layouts[0].relative_to(site).as_posix(), Action.ADD_LINE, "add this line before </head>",
                        HOOK_LINE)
        else:
            if isinstance(theme, str):
                note = (f"the theme {theme}'s head.html was not found (is the theme installed?): copy it here "
                        "and add this line before </head>")
            else:
                note = ("no theme and no layout with a <head>: add this line inside the <head> of the layout "
                        "your pages use")
            plan.report(HEAD, Action.ADD_LINE, note, HOOK_LINE)


def _custom_head(plan: _Plan) -> None:
    path = plan.site / CUSTOM_HEAD
    if path.exists() and CUSTOM_HEAD not in plan.old.files:
        text = path.read_text(encoding="utf-8")
        if _INCLUDES_KIT.search(text):
            plan.report(CUSTOM_HEAD, Action.UNCHANGED, "includes the kit")
        else:
            plan.user_file(CUSTOM_HEAD, text, _ensure_newline(text) + HOOK_LINE + "\n", "added the kit's line")
    else:
        plan.kit_file(CUSTOM_HEAD, (HOOK_LINE + "\n").encode("utf-8"), "the theme's hook, including the kit")
