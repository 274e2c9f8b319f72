"""The images of a post: stored under names made from their bytes, and given a display size.

A browser that knows an image's width and height before the file arrives keeps the text
below it still while the page loads; the size comes from what Jupyter was told to show
(``Image(width=…)``, the retina backend's half size) or else from the file's own header.
"""
from __future__ import annotations

import hashlib
import re
import struct
from pathlib import PurePosixPath

from .config import Config
from .markdown import LiquidSnippets

IMAGE_EXTENSIONS = {"image/svg+xml": "svg", "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}


def pixel_size(data: bytes, extension: str) -> tuple[int, int] | None:
    """Width and height as the file declares them; None when the header cannot tell."""
    if extension == "png" and data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    if extension == "gif" and data[:6] in (b"GIF87a", b"GIF89a"):
        return struct.unpack("<HH", data[6:10])
    if extension == "jpg":
        return _jpeg_size(data)
    if extension == "svg":
        return _svg_size(data)
    if extension == "webp" and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    offset = 2
    while offset + 9 < len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        length = struct.unpack(">H", data[offset + 2:offset + 4])[0]
        if marker in range(0xC0, 0xD0) and marker not in (0xC4, 0xC8, 0xCC):  # a start-of-frame segment
            height, width = struct.unpack(">HH", data[offset + 5:offset + 9])
            return width, height
        offset += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


_SVG_ROOT = re.compile(rb"<svg\b[^>]*>", re.DOTALL)
_LENGTH = re.compile(r"^\s*([0-9.]+)\s*(px|pt)?\s*$")


def _svg_size(data: bytes) -> tuple[int, int] | None:
    root = _SVG_ROOT.search(data)
    if not root:
        return None
    tag = root.group().decode("utf-8", "replace")
    attributes = dict(re.findall(r'\s([\w:-]+)\s*=\s*["\']([^"\']*)["\']', tag))
    size = [_css_pixels(attributes.get(name, "")) for name in ("width", "height")]
    if None not in size:
        return size[0], size[1]
    box = attributes.get("viewBox", "").replace(",", " ").split()
    try:
        width, height = float(box[2]), float(box[3])
    except (IndexError, ValueError):
        return None
    return (round(width), round(height)) if width > 0 and height > 0 else None


def _css_pixels(length: str) -> int | None:
    match = _LENGTH.match(length)  # percentages and em depend on the page: no size from them
    if not match:
        return None
    value = float(match.group(1)) * (4 / 3 if match.group(2) == "pt" else 1)
    return round(value) if value > 0 else None


def display_size(data: bytes, extension: str, shown: dict | None = None) -> tuple[int, int] | None:
    """The size to show: Jupyter's ``width``/``height`` metadata (one of them keeps the aspect), else the file's."""
    pixels = pixel_size(data, extension)
    shown = shown or {}
    width, height = (_positive(shown.get(key)) for key in ("width", "height"))
    if width and height:
        return width, height
    if pixels and (width or height):
        return (width, round(width * pixels[1] / pixels[0])) if width else (round(height * pixels[0] / pixels[1]),
                                                                             height)
    return pixels


def _positive(value) -> int | None:
    try:
        number = round(float(value))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


class ImageStore:
    """The files a post publishes in its image folder, each named by its content's digest."""

    def __init__(self, config: Config, slug: str, liquid: LiquidSnippets):
        self.folder = PurePosixPath(config.rel(config.images_dir)) / slug
        self.liquid = liquid
        self.files: dict[str, bytes] = {}

    def add(self, data: bytes, extension: str) -> str:
        """Store the image; return its site path."""
        name = f"{hashlib.sha256(data).hexdigest()[:16]}.{extension}"
        self.files[name] = data
        return f"/{self.folder}/{name}"

    def url(self, site_path: str) -> str:
        """A placeholder for the path under the site's baseurl, filled in by Liquid."""
        return self.liquid.add("{{ '" + site_path + "' | relative_url }}")
