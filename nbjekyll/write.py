"""Write posts and images so that nothing is ever half-written, lost or put outside the site.

Images and the scripts of interactive outputs go first (images under names made from their
content, scripts in folders named by version), so an old post keeps every file it links to
until the new post replaces it in one rename; then the images no post uses any more are
removed. A lock stops two builds of one site from writing at the same time.
"""
from __future__ import annotations

import fcntl
import functools
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from .config import FAST_LOADER, Config
from .errors import BuildError, NotebookError, SiteLockedError
from .files import atomic_write
from .vendor import files_of

if TYPE_CHECKING:
    from .convert import Post


def _inside(path: Path, folder: Path) -> Path:
    path = path.resolve()
    if not path.is_relative_to(folder.resolve()):
        raise NotebookError(str(path), f"refusing to write outside {folder}")  # unreachable by design
    return path


def read_front_matter(post: Path) -> dict | None:
    """The front matter of an existing post file, or None when it has none we can read."""
    try:
        return front_matter_of(post.read_text(encoding="utf-8"))
    except OSError:
        return None


def front_matter_of(text: str) -> dict | None:
    """The post's front matter (shared between callers: read it, never change it)."""
    match = re.match(r"^---\s*\n(.*?\n)---\s*\n", text, re.DOTALL)
    return _parsed_front_matter(match.group(1)) if match else None


@functools.lru_cache(maxsize=4096)
def _parsed_front_matter(block: str) -> dict | None:
    # --check reads each post's front matter twice; one parse serves both
    try:
        data = yaml.load(block, Loader=FAST_LOADER)
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def page_folder(config: Config, collection: str | None = None) -> Path:
    """Where a notebook's page goes: the posts folder, or a tutorial's collection folder ``_<name>``."""
    return config.posts_dir if collection is None else config.site / f"_{collection}"


def page_folders(config: Config) -> list[Path]:
    return [config.posts_dir] + [page_folder(config, name) for name in sorted(config.tutorials)]


def post_path(config: Config, name: str, collection: str | None = None) -> Path:
    folder = page_folder(config, collection)
    return _inside(folder / f"{name}.md", folder)


def image_folder(config: Config, slug: str) -> Path:
    return _inside(config.images_dir / slug, config.images_dir)


CONTENTS_TEMPLATE = Path(__file__).with_name("templates") / "contents.liquid"
GENERATED_CONTENTS = "nbjekyll_contents"  # front matter of a contents page the build wrote for a tutorial with no index


def contents_pages(config: Config) -> dict[Path, str]:
    """The contents pages the build writes itself: one per tutorial that has no landing notebook."""
    from .tutorials import chapter_files
    pages = {}
    for name, tutorial in sorted(config.tutorials.items()):
        if chapter_files(tutorial)[0] is not None:
            continue
        front_matter = {"title": tutorial.title}
        if tutorial.layout is not None:
            front_matter["layout"] = tutorial.layout
        front_matter.update({"tutorial": name, "tutorial_title": tutorial.title, "chapter": 0,
                             "slug": f"{name}-index", "permalink": f"/{name}/", GENERATED_CONTENTS: True})
        header = yaml.safe_dump(front_matter, allow_unicode=True, sort_keys=False, default_flow_style=False)
        pages[post_path(config, "index", name)] = \
            f"---\n{header}---\n\n{CONTENTS_TEMPLATE.read_text(encoding='utf-8').strip()}\n"
    return pages


def stale_contents_pages(config: Config) -> list[Path]:
    found = []
    for path, text in contents_pages(config).items():
        try:
            current = path.read_text(encoding="utf-8") == text
        except OSError:
            current = False
        if not current:
            found.append(path)
    return found


def write_contents_pages(config: Config) -> None:
    """After a build: a tutorial without an index notebook gets its contents page (never over a person's file)."""
    for path, text in contents_pages(config).items():
        found = (read_front_matter(path) or {}) if path.exists() else None
        owner = (found or {}).get("notebook")
        if found is not None and not found.get(GENERATED_CONTENTS) and not (owner and not (config.site / owner).exists()):
            continue  # a page a person wrote (or a notebook still makes): never overwritten
        if not (path.exists() and path.read_text(encoding="utf-8") == text):
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, text.encode("utf-8"))


def check_ownership(config: Config, post: "Post", notebook_rel: str) -> None:
    """Refuse to overwrite a post that another notebook, or a person, wrote."""
    target = post_path(config, post.name, post.collection)
    if not target.exists():
        return
    found = read_front_matter(target) or {}
    if found.get(GENERATED_CONTENTS):
        return  # the contents page the build wrote before the tutorial had an index notebook
    owner = found.get("notebook")
    if owner is None:
        raise NotebookError(notebook_rel, f"would overwrite {config.rel(target)}, which was not generated from "
                                          "a notebook; rename one of them")
    if owner != notebook_rel and (config.site / owner).exists():
        raise NotebookError(notebook_rel, f"would overwrite {config.rel(target)}, which is generated from "
                                          f"{owner}; rename one of them")


def existing_text(config: Config, post: "Post") -> str | None:
    try:
        return post_path(config, post.name, post.collection).read_text(encoding="utf-8")
    except OSError:
        return None


def write_post(config: Config, post: "Post", notebook_rel: str) -> Path:
    check_ownership(config, post, notebook_rel)
    page_folder(config, post.collection).mkdir(parents=True, exist_ok=True)
    folder = image_folder(config, post.slug)
    if post.images:
        folder.mkdir(parents=True, exist_ok=True)
    for name, data in post.images.items():
        target = _inside(folder / name, folder)
        if not (target.exists() and target.read_bytes() == data):
            atomic_write(target, data)
    write_scripts(config, post, notebook_rel)
    target = post_path(config, post.name, post.collection)
    atomic_write(target, post.text().encode("utf-8"))
    remove_unused_images(folder, set(post.images))
    return target


def write_scripts(config: Config, post: "Post", notebook_rel: str) -> None:
    vendor = config.site / config.vendor_dir
    for script in post.scripts:
        try:
            files = files_of(script, config.vendor_dir)
        except BuildError as error:
            raise NotebookError(notebook_rel, str(error)) from None
        for site_path, data in files.items():
            target = _inside(config.site / site_path.lstrip("/"), vendor)
            if not (target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data):
                target.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(target, data)


def unused_script_folders(config: Config) -> list[Path]:
    """The library folders under nbjekyll.vendor_dir that this tool wrote and no post loads any more."""
    vendor = config.site / config.vendor_dir
    if not vendor.is_dir():
        return []
    used: set[str] = set()
    for folder in page_folders(config):
        for post in sorted(folder.glob("*.md")) if folder.is_dir() else []:
            used.update(re.findall(r"'/" + re.escape(config.vendor_dir) + r"/([^'/]+)/", post.read_text(encoding="utf-8")))
    return [folder for folder in sorted(vendor.iterdir())
            if folder.is_dir() and folder.name not in used
            and (folder.name.startswith("nbjekyll-") or (folder / "package.json").is_file())]


def remove_unused_scripts(config: Config) -> None:
    """After a build: an old library version (or an old copy of the tool's own script) leaves the site."""
    for folder in unused_script_folders(config):
        shutil.rmtree(folder)


def provenance_path(config: Config, slug: str) -> Path:
    return _inside(config.provenance_dir / f"{slug}.yml", config.provenance_dir)


def write_provenance(config: Config, slug: str, provenance: dict) -> None:
    """The post's stamp (when and in what its notebook ran), as Jekyll data, so the post's own bytes
    carry no time: site.data.provenance[slug] in the layout."""
    config.provenance_dir.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(provenance, allow_unicode=True, sort_keys=True, default_flow_style=False)
    atomic_write(provenance_path(config, slug), text.encode("utf-8"))


def remove_unused_images(folder: Path, keep: set[str]) -> None:
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.is_file() and path.name not in keep:
            path.unlink()
    if not any(folder.iterdir()):
        folder.rmdir()


class SiteLock:
    """An exclusive lock on the site's build folder, held for the whole build."""

    def __init__(self, config: Config):
        self.path = config.build_dir / "build.lock"
        self.config = config
        self.handle = None

    def __enter__(self) -> "SiteLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "unknown"
            self.handle.close()
            raise SiteLockedError(f"another build of this site is running (pid {holder}, lock "
                                  f"{self.config.rel(self.path)}); wait for it to finish") from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(str(os.getpid()))
        self.handle.flush()
        return self

    def __exit__(self, *exc) -> None:
        self.handle.seek(0)
        self.handle.truncate()
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()
