"""Reading a post back: the ``built_from`` record it carries, and whether its files are all there."""
from __future__ import annotations

import re

from ..config import Config
from ..sources import SourceNotebook
from ..write import front_matter_of, page_folder


def recorded_inputs(config: Config, source: SourceNotebook) -> tuple[dict | None, bool]:
    """The ``built_from`` record of the notebook's current post, and whether its images and scripts are all there."""
    try:
        text = (page_folder(config, source.chapter.tutorial.name if source.chapter else None)
                / f"{source.post_name}.md").read_text(encoding="utf-8")
    except OSError:
        return None, True
    front_matter = front_matter_of(text)
    if not front_matter or front_matter.get("notebook") != source.rel:
        return None, True
    folder = config.images_dir / source.slug
    names = re.findall(r"'/" + re.escape(config.rel(config.images_dir)) + "/" + re.escape(source.slug) +
                       r"/([0-9a-f]{16}\.[a-z]+)'", text)
    images_ok = all((folder / name).is_file() for name in names) and \
        all((config.site / path).is_file() for path in re.findall(r"'/(" + re.escape(config.vendor_dir) + r"/[^'/]+/[^'/]+)'", text))
    recorded = front_matter.get("built_from")
    return (recorded if isinstance(recorded, dict) else None), images_ok

