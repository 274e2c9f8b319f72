"""Writing files and folders whole: a reader (or a build that was killed) sees the old one or the new one.

The bottom of the module graph: it imports nothing of the package, so every stage can use it.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` in one rename: readers see the old file or the new one, never a mix."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def replace_folder(folder: Path, fill: Callable[[Path], None]) -> None:
    """Make ``folder`` anew: ``fill`` writes the new content into a sibling, which then takes its place."""
    tmp = folder.with_name(f".{folder.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        fill(tmp)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
