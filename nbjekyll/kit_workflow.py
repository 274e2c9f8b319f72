"""The CI workflow ``nbjekyll init`` writes into a blog, and where the action it uses lives.

The workflow (``nbjekyll/kit/workflow.yml``, written as ``.github/workflows/nbjekyll.yml``) runs this
repository's ``action.yml`` by a full commit hash, as security linters require of a third-party action:
a tag can be moved, a commit cannot. The file in the package is complete YAML that passes actionlint
and ``zizmor --offline`` as it stands (tests/build_tool/test_action.py), so ``init`` can copy it as is;
:func:`workflow_text` gives the same text with the reference made from the constants below, and the
tests keep the file and the constants equal.

Releasing: once the commit that a release ships is on GitHub, set ``ACTION_COMMIT`` to it (and
``ACTION_VERSION`` to the release) and run ``python -m nbjekyll.kit_workflow --write``, which rewrites
the ``uses:`` line of the kit's workflow from them.
"""
from __future__ import annotations

import re
import sys
from importlib import resources
from pathlib import Path

# The GitHub repository that holds action.yml (this repository), as ``owner/name``. It is the one
# place that names it: the workflow init writes, the docs' examples and the tests take it from here.
# If the repository is published under another name, change it here and run --write (see above).
ACTION_REPOSITORY = "nbjekyll/nbjekyll"

# The commit of ACTION_REPOSITORY whose action.yml the written workflow runs: a commit of this
# repository's history that holds action.yml with every input the workflow passes (the tests check
# both in the local git history), and the release it is part of.
ACTION_COMMIT = "11b6af7d6e85a073e40fb63f9e66ddb35af31160"
ACTION_VERSION = "0.1.0"

WORKFLOW = "workflow.yml"  # in the package's kit/ folder
TARGET = ".github/workflows/nbjekyll.yml"  # where init writes it, relative to the blog's root

# The one line of the workflow that names the action: "uses: owner/name@commit  # nbjekyll VERSION"
_USES = re.compile(r"^(?P<indent>\s*)uses: [\w.-]+/[\w.-]+@[0-9a-f]{40}  # nbjekyll \S+$", re.MULTILINE)


def action_reference() -> str:
    """``owner/name@commit``: what the written workflow's step ``uses:``."""
    return f"{ACTION_REPOSITORY}@{ACTION_COMMIT}"


def _with_reference(text: str) -> str:
    lines = _USES.findall(text)
    if len(lines) != 1:
        raise ValueError(f"{WORKFLOW}: expected one 'uses: owner/name@<commit>  # nbjekyll VERSION' line, "
                         f"found {len(lines)}")
    return _USES.sub(lambda m: f"{m['indent']}uses: {action_reference()}  # nbjekyll {ACTION_VERSION}", text)


def packaged_text() -> str:
    """The workflow file as the package holds it."""
    return resources.files(__package__).joinpath("kit", WORKFLOW).read_text(encoding="utf-8")


def workflow_text() -> str:
    """The workflow init writes: the packaged file, its ``uses:`` line made from the constants above."""
    return _with_reference(packaged_text())


def main(argv: list[str]) -> int:
    """``python -m nbjekyll.kit_workflow --write``: rewrite the packaged file's ``uses:`` line."""
    if argv != ["--write"]:
        print("usage: python -m nbjekyll.kit_workflow --write", file=sys.stderr)
        return 2
    target = resources.files(__package__).joinpath("kit", WORKFLOW)
    text = workflow_text()
    if text == packaged_text():
        print(f"{target}: already uses {action_reference()}")
        return 0
    from .files import atomic_write
    atomic_write(Path(str(target)), text.encode("utf-8"))
    print(f"{target}: now uses {action_reference()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
