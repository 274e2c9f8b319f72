"""The JavaScript libraries interactive outputs need, served from the site itself.

A post that loads Plotly or Vega from a CDN stops working when the CDN moves, tells a third
party who reads it and cannot be read offline; so each library is fetched once from the npm
registry, checked against its sha512, kept in a per-user cache, and copied into the site's
``assets/vendor/NAME-VERSION/``, committed with the posts as their images are.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import BuildError
from .files import atomic_write

REGISTRY = "https://registry.npmjs.org"
VENDOR_DIR = "assets/vendor"  # the default of nbjekyll.vendor_dir

# Versions this tool has checked, with the registry's own integrity for each. A range an output
# asks for ("vega@6") is resolved to the newest of them, so the same notebook always gets the same
# bytes; an exact version named by an output (BokehJS must match its Python package) is fetched
# as named, and verified against the integrity the registry publishes for it.
PINNED: dict[str, dict[str, str]] = {
    "plotly.js-dist-min": {
        "4.1.1": "sha512-4Jg6n9FKcn5WBuqHESZmueEBYOLjGlsz8ivzMCl03WCX+GAAOgIALvdONwIi54JDMq0tkxbu+vs5Yj7QSPQtgg==",
    },
    "vega": {
        "5.33.0": "sha512-jNAGa7TxLojOpMMMrKMXXBos4K6AaLJbCgGDOw1YEkLRjUkh12pcf65J2lMSdEHjcEK47XXjKiOUVZ8L+MniBA==",
        "6.4.0": "sha512-rHXCq2LpEWCLMjXBEj7hocY9G0/i5TGYRayGGSj06VTF4+l2IG2Z7oeZKCjWbUh/7hTE/mVhbaOPB72wCElh6g==",
    },
    "vega-lite": {
        "6.4.1": "sha512-KO3ybHNouRK4A0al/+2fN9UqgTEfxrd/ntGLY933Hg5UOYotDVQdshR3zn7OfXwQ7uj0W96Vfa5R+QxO8am3IQ==",
    },
    "vega-embed": {
        "6.29.0": "sha512-PmlshTLtLFLgWtF/b23T1OwX53AugJ9RZ3qPE2c01VFAbgt3/GSNI/etzA/GzdrkceXFma+FDHNXUppKuM0U6Q==",
        "7.3.0": "sha512-wQ8s5GaSzqoKgmRfbRolgBrjE2CP7ZKHXqH7NijxMqPjpdWxSs4Dn8tvp9g0giQvh2cK+3p56sxjWWM0wNngGw==",
    },
    "@jupyter-widgets/html-manager": {
        "1.0.15": "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
    },
    "@bokeh/bokehjs": {
        "3.9.2": "sha512-Ine6G9Fdot3ZbhCzjOxAQ8hqzxqnRdhRol4cnEtV2qrmAHl2WPTpBQX+hdxazN28M0jkJSpkwpVP9J68AQcqhQ==",
    },
}

# The files a page loads from each package (paths inside its tarball), and what else they fetch
# relative to themselves (the widget manager's icon fonts). Every copy carries the package's
# package.json (name, version, licence) and whatever licence files it ships.
SCRIPTS = {
    "plotly.js-dist-min": ["plotly.min.js"],
    "vega": ["build/vega.min.js"],
    "vega-lite": ["build/vega-lite.min.js"],
    "vega-embed": ["build/vega-embed.min.js"],
    "@jupyter-widgets/html-manager": ["dist/embed.js"],
    "@bokeh/bokehjs": ["build/js/bokeh.min.js"],
}
COMPANIONS = {"@jupyter-widgets/html-manager": re.compile(r"^dist/[0-9a-f]{20}\.(woff2|woff)$")}


@dataclass(frozen=True)
class Script:
    """One script file of one npm package version, as a page loads it from the site."""

    package: str
    version: str
    path: str  # inside the package
    data: bytes | None = field(default=None, compare=False, repr=False)  # the tool's own script, not from npm

    def folder(self, vendor_dir: str = VENDOR_DIR) -> str:
        """Its package's folder in the site (``vendor_dir``: site-relative, nbjekyll.vendor_dir)."""
        return f"{vendor_dir}/{self.package.rsplit('/', 1)[-1]}-{self.version}"

    def site_path(self, vendor_dir: str = VENDOR_DIR) -> str:
        return f"/{self.folder(vendor_dir)}/{PurePosixPath(self.path).name}"


def pinned_version(package: str, wanted: str) -> str | None:
    """The newest pinned version that ``wanted`` ("6", "6.4", "6.4.1", "^6.4.1") allows, if any."""
    wanted = wanted.lstrip("^~=v")
    parts = [p for p in wanted.split(".") if p not in ("", "x", "*")]
    candidates = [v for v in PINNED.get(package, {}) if v.split(".")[:len(parts)] == parts]
    return max(candidates, key=lambda v: tuple(int(n) for n in re.findall(r"\d+", v)), default=None)


def is_exact(version: str) -> bool:
    return re.fullmatch(r"\d+\.\d+\.\d+", version) is not None


def cache_dir() -> Path:
    base = os.environ.get("NBJEKYLL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "nbjekyll")
    return Path(base) / "npm"


def _get(url: str) -> bytes:
    import urllib.request  # here, not at the top: the no-op build imports this module for VENDOR_DIR
    request = urllib.request.Request(url, headers={"User-Agent": "nbjekyll", "Accept": "*/*"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def _matches(data: bytes, integrity: str) -> bool:
    import base64
    import hashlib
    algorithm, _, expected = integrity.partition("-")
    return algorithm == "sha512" and base64.b64encode(hashlib.sha512(data).digest()).decode() == expected


def tarball(package: str, version: str) -> bytes:
    """The package's tarball, from the cache or the registry, always checked against its integrity."""
    import json
    import urllib.error
    path = cache_dir() / f"{package.replace('/', '__')}-{version}.tgz"
    integrity = PINNED.get(package, {}).get(version)
    try:
        if integrity is None:  # an exact version an output named: the registry says what it must hash to
            integrity = json.loads(_get(f"{REGISTRY}/{package}/{version}"))["dist"]["integrity"]
        if path.is_file() and _matches(data := path.read_bytes(), integrity):
            return data
        data = _get(f"{REGISTRY}/{package}/-/{package.rsplit('/', 1)[-1]}-{version}.tgz")
    except (OSError, urllib.error.URLError, KeyError, ValueError) as error:
        raise BuildError(f"cannot fetch {package}@{version} from the npm registry ({error}); the page's interactive "
                         f"outputs need it (it is fetched once into {cache_dir()})") from None
    if not _matches(data, integrity):
        raise BuildError(f"{package}@{version} from the npm registry does not match its integrity {integrity}; "
                         "refusing to publish it")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, data)
    return data


def files_of(script: Script, vendor_dir: str = VENDOR_DIR) -> dict[str, bytes]:
    """The script, its companions and the package's licence, by site path."""
    if script.data is not None:
        return {script.site_path(vendor_dir): script.data}
    import io
    import tarfile
    with tarfile.open(fileobj=io.BytesIO(tarball(script.package, script.version)), mode="r:gz") as archive:
        members = {m.name.split("/", 1)[1]: m for m in archive.getmembers() if m.isfile() and "/" in m.name}
        companions = COMPANIONS.get(script.package)
        licences = ("LICENSE", "LICENSE.txt", "LICENSE.md", f"{script.path}.LICENSE.txt")
        wanted = [script.path, "package.json"] + [name for name in members
                                                  if name in licences or companions and companions.match(name)]
        missing = [name for name in (script.path, "package.json") if name not in members]
        if missing:
            raise BuildError(f"{script.package}@{script.version} has no {missing[0]}")
        return {f"/{script.folder(vendor_dir)}/{PurePosixPath(name).name}": archive.extractfile(members[name]).read()
                for name in sorted(set(wanted))}
