"""Image sizes read from the files' own headers, as Pillow (an independent reader) sees them."""
import io

import pytest
from PIL import Image

from nbjekyll.images import display_size, pixel_size


@pytest.mark.parametrize("extension, pillow_format", [("png", "PNG"), ("jpg", "JPEG"), ("gif", "GIF"),
                                                      ("webp", "WEBP")])
@pytest.mark.parametrize("size", [(1, 1), (37, 211), (1459, 759)])
def test_raster_sizes_match_pillow(extension, pillow_format, size):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=pillow_format)
    data = buffer.getvalue()
    assert pixel_size(data, extension) == Image.open(io.BytesIO(data)).size == size


def test_lossless_webp_size():
    buffer = io.BytesIO()
    Image.new("RGBA", (301, 17)).save(buffer, format="WEBP", lossless=True)
    assert pixel_size(buffer.getvalue(), "webp") == (301, 17)


@pytest.mark.parametrize("root, size", [
    ('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="20">', (10, 20)),
    ('<svg width="432pt" height="288pt" viewBox="0 0 432 288" xmlns="http://www.w3.org/2000/svg">', (576, 384)),
    ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0,0,300,150">', (300, 150)),
    ('<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 40 30">', (40, 30)),
    ('<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="100%">', None),
])
def test_svg_sizes_come_from_width_height_or_viewbox(root, size):
    data = f'<?xml version="1.0"?>\n{root}<rect width="1" height="1"/></svg>'.encode()
    assert pixel_size(data, "svg") == size


def test_truncated_or_unknown_files_have_no_size():
    assert pixel_size(b"\x89PNG\r\n\x1a\n", "png") is None
    assert pixel_size(b"\xff\xd8\xff", "jpg") is None
    assert pixel_size(b"not an image", "gif") is None


def test_jupyter_metadata_wins_and_one_side_keeps_the_aspect():
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300)).save(buffer, format="PNG")
    data = buffer.getvalue()
    assert display_size(data, "png") == (400, 300)
    assert display_size(data, "png", {"width": 200, "height": 150}) == (200, 150)
    assert display_size(data, "png", {"width": 100}) == (100, 75)
    assert display_size(data, "png", {"height": "60"}) == (80, 60)
    assert display_size(data, "png", {"width": "50%"}) == (400, 300)  # not a pixel count: the file decides
