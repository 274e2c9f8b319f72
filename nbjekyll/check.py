"""``--check`` and ``--strip``: keep the committed site honest without executing anything.

Posts and images are committed beside their notebooks, so CI and pre-commit can ask, in well
under a second, whether every post is current against its notebook and the files it depends
on, whether any post or image has lost its notebook, and whether a notebook was committed
with outputs (sources stay output-free; ``--strip`` removes them).
"""
from __future__ import annotations

import re
from pathlib import Path

from .cache import Action, plan, recorded_inputs
from .config import Config
from .errors import NotebookError
from .files import atomic_write
from .hints import Command
from .sources import read_notebook
from .write import page_folders, post_path, read_front_matter, stale_contents_pages, unused_script_folders

GENERATED_IMAGE = re.compile(r"^[0-9a-f]{16}\.[a-z]+$")


def has_outputs(nb) -> bool:
    return any(c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)
               for c in nb.cells)


def check_site(config: Config, notebooks: list[Path]) -> list[str]:
    problems: list[str] = []
    slugs: dict[str, str] = {}
    posts: set[Path] = set()
    for path in notebooks:
        try:
            source = read_notebook(path, config)
        except NotebookError as exc:
            problems.append(str(exc))
            continue
        post = post_path(config, source.post_name, source.chapter.tutorial.name if source.chapter else None)
        posts.add(post)
        slugs[source.slug] = source.post_name
        if has_outputs(source.nb) and source.saved is None:  # a saved-output notebook is committed with them
            problems.append(f"{source.rel}: committed with outputs; run {config.command(Command.STRIP, source.rel)}")
        if source.saved is not None and config.require_execution:
            problems.append(f"{source.rel}: shown with its saved outputs ({source.saved.asked_by}: "
                            f"{source.saved.reason}), but nbjekyll.require_execution is true: make it run here")
        recorded, images_ok = recorded_inputs(config, source)
        if not post.exists():
            problems.append(f"{config.rel(post)}: missing; run {config.command(Command.BUILD, source.rel)}")
            continue
        decision = plan(source, config, recorded, cache=None, images_ok=images_ok, environment=False)
        if decision.action is not Action.UP_TO_DATE:
            try:
                source.validate()
            except NotebookError as exc:
                problems.append(str(exc))
                continue
            reasons = [r for r in decision.reasons if r != "no cached outputs"]
            problems.append(f"{config.rel(post)}: stale against {source.rel} ({'; '.join(reasons)}); "
                            f"run {config.command(Command.BUILD, source.rel)}")
        else:
            problems += unused_images(config, post, source.slug)
    problems += [f"{config.rel(page)}: the tutorial's contents page is missing or out of date; run "
                 f"{config.command(Command.BUILD)}" for page in stale_contents_pages(config)]
    problems += orphans(config, posts, slugs)
    return problems


def unused_images(config: Config, post: Path, slug: str) -> list[str]:
    folder = config.images_dir / slug
    if not folder.is_dir():
        return []
    text = post.read_text(encoding="utf-8")
    return [f"{config.rel(image)}: not used by {config.rel(post)}" for image in sorted(folder.iterdir())
            if image.is_file() and f"/{slug}/{image.name}'" not in text]


def orphans(config: Config, posts: set[Path], slugs: dict[str, str]) -> list[str]:
    found = []
    for folder in page_folders(config):
        for post in sorted(folder.glob("*.md")) if folder.is_dir() else []:
            owner = (read_front_matter(post) or {}).get("notebook")
            if owner and post not in posts and not (config.site / owner).exists():
                found.append(f"{config.rel(post)}: orphan (its notebook {owner} no longer exists)")
    if config.images_dir.is_dir():
        for folder in sorted(p for p in config.images_dir.iterdir() if p.is_dir()):
            generated = [f for f in folder.iterdir() if f.is_file() and GENERATED_IMAGE.match(f.name)]
            if generated and folder.name not in slugs:
                found.append(f"{config.rel(folder)}/: orphan images (no notebook makes a post with slug "
                             f"{folder.name!r})")
    for folder in unused_script_folders(config):
        found.append(f"{config.rel(folder)}/: scripts no post loads (the next build removes them)")
    if config.provenance_dir.is_dir():
        for stamp in sorted(config.provenance_dir.glob("*.yml")):
            if stamp.stem not in slugs:
                found.append(f"{config.rel(stamp)}: orphan stamp (no notebook makes a post with slug {stamp.stem!r})")
    return found


def strip_outputs(config: Config, notebooks: list[Path]) -> list[str]:
    """Remove outputs and execution counts in place; return the notebooks that changed.

    A notebook shown with its saved outputs (nbjekyll.saved) keeps them: they are its post."""
    import nbformat
    changed = []
    for path in notebooks:
        if path.suffix != ".ipynb":
            continue  # a text notebook holds no outputs
        try:
            if read_notebook(path, config).saved is not None:
                continue
        except NotebookError:
            pass  # nbformat says below what is wrong with it
        try:
            with open(path, encoding="utf-8") as handle:
                nb = nbformat.read(handle, as_version=nbformat.NO_CONVERT)
        except Exception as exc:
            raise NotebookError(config.rel(path), f"cannot strip: not a valid notebook ({exc})") from None
        if not has_outputs(nb) and not nb.metadata.get("widgets"):
            continue
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = []
                cell.execution_count = None
                cell.metadata.pop("execution", None)
        nb.metadata.pop("widgets", None)
        atomic_write(path, (nbformat.writes(nb) + "\n").encode("utf-8"))
        changed.append(config.rel(path))
    return changed
