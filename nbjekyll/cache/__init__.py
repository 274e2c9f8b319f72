"""The cache: decide what a notebook needs: nothing, a re-render, or a run — and say why.

Two keys per notebook. The **execution key** covers what can change the outputs: the code
cells, their execution switches, the kernel, its Python version and requirements file, the
cache format, and the content of every local file the notebook depends on (modules it
imported, files it read, ``depends:`` globs). The **render key** covers everything else
that shapes the post: Markdown, tags, front matter, the tool's converter and template.

Each post records its inputs in its front matter (``built_from``), so a fresh clone knows
whether its committed posts are current without any cache; the execution cache in the
build folder holds the executed notebook, so a prose edit re-renders without a kernel.

``keys`` (the two keys), ``store`` (the execution cache), ``failures`` (failure memory), ``plan`` (the
decision), ``records`` (a post read back), ``noop`` (the build with nothing to do).
"""
from .failures import FailureMemory
from .keys import (CACHE_FORMAT, EXECUTION_TAGS, NOT_WRITING_POSTS, TOOL_FILES, Inputs, code_cells, current_inputs,
                   declared_dependencies, render_cells, tool_digest)
from .noop import all_up_to_date
from .plan import Action, Plan, plan
from .records import recorded_inputs
from .store import Cache, CacheEntry, with_cached_outputs

__all__ = ["Action", "CACHE_FORMAT", "Cache", "CacheEntry", "EXECUTION_TAGS", "FailureMemory", "Inputs",
           "NOT_WRITING_POSTS", "Plan", "TOOL_FILES", "all_up_to_date", "code_cells", "current_inputs",
           "declared_dependencies", "plan", "recorded_inputs", "render_cells", "tool_digest",
           "with_cached_outputs"]
