"""Fetch every JavaScript library version the tool pins into its per-user cache, once.

``make setup`` runs it (``python -m nbjekyll.prefetch``), so that a build of a post with
interactive outputs, and the test suite, need no network afterwards: ``vendor.tarball`` finds
each library in the cache and checks it against its pinned integrity as always. A library
already in the cache and intact is not fetched again.
"""
from __future__ import annotations

import sys

from . import vendor
from .errors import BuildError


def prefetch() -> list[str]:
    """Every pinned package version, fetched or found in the cache; their names."""
    done = []
    for package, versions in sorted(vendor.PINNED.items()):
        for version in sorted(versions):
            vendor.tarball(package, version)
            done.append(f"{package}@{version}")
    return done


def main() -> int:
    try:
        done = prefetch()
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"npm libraries in {vendor.cache_dir()}: {', '.join(done)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
