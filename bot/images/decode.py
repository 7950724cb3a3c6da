"""Safe decoding of untrusted image bytes with Pillow.

Every limit is checked before the pixels are decoded: the byte size first, then the dimensions read from the
header (a 50 KB PNG can announce 100,000 x 100,000 pixels and inflate to 40 GB: a decompression bomb). Only
JPEG, PNG, WebP and GIF are parsed (Pillow tries no other plugin); a GIF or animated WebP gives its first
frame; EXIF orientation is applied so a phone photo is upright for OCR and hashing.
"""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

from bot.images.errors import ImageError, TooLarge, Undecodable

try:
    from PIL import Image, ImageOps
except ImportError:  # pragma: no cover - Pillow comes with the `images` extra
    Image = None  # type: ignore[assignment]

FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
MAX_BYTES = 20 * 1024 * 1024  # Discord's free upload limit is 10 MB, Telegram's Bot API getFile serves up to 20 MB
MAX_PIXELS = 24_000_000  # a 12 MP phone photo, a 4K screenshot; at most ~100 MB as RGBA while decoding
MAX_SIDE = 4096  # a JPEG larger than this is decoded at 1/2, 1/4 or 1/8 scale (DCT scaling: cheaper, same text)
# The longest side of any picture, after that scaling: a long phone screenshot is 1080 x 10,000 or so. A PNG of
# 1 x 24,000,000 pixels (22 KB) passed the pixel cap and took hashing and OCR's resize to 1.6 GB.
MAX_LONG_SIDE = 16_384


def _require_pillow() -> None:
    if Image is None:
        raise ImageError("Pillow is not installed (pip install 'claim-context[images]')")


def decode_image(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> "Image.Image":
    """The first frame of `data` as an upright RGB image (transparency flattened onto white).

    TooLarge: more than `max_bytes`, or more than `max_pixels` or a side over MAX_LONG_SIDE in the header (after
    JPEG draft scaling).
    Undecodable: not JPEG/PNG/WebP/GIF, truncated or corrupt."""
    _require_pillow()
    if len(data) > max_bytes:
        raise TooLarge(f"{len(data)} bytes; the limit is {max_bytes}")
    if not data:
        raise Undecodable("empty file")
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check (a warning above 89 MP, an error above 179 MP) stays as a second line;
            # ours below is stricter and comes first.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=FORMATS)  # reads the header only
            if im.format == "JPEG":
                _jpeg_draft(im, max_pixels)
            width, height = im.size
            if width <= 0 or height <= 0:
                raise Undecodable(f"{width}x{height} pixels")
            if width * height > max_pixels:
                raise TooLarge(f"{width}x{height} pixels; the limit is {max_pixels} pixels")
            if max(width, height) > MAX_LONG_SIDE:
                raise TooLarge(f"{width}x{height} pixels; the longest side may be {MAX_LONG_SIDE} pixels")
            im.seek(0)
            im.load()  # the decoding proper; a truncated file fails here
            im = ImageOps.exif_transpose(im) or im
            return _to_rgb(im)
    except (TooLarge, Undecodable):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooLarge(str(exc)) from None
    except Image.UnidentifiedImageError:
        raise Undecodable("not a JPEG, PNG, WebP or GIF image") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError) as exc:
        # UnidentifiedImageError is an OSError; truncated data is an OSError; some broken headers raise
        # SyntaxError, struct.error or IndexError inside the plugins.
        raise Undecodable(f"{type(exc).__name__}: {exc}") from None
    except MemoryError:
        raise TooLarge("out of memory while decoding") from None


def _jpeg_draft(im: "Image.Image", max_pixels: int) -> None:
    """Ask libjpeg for the smallest DCT scale (1, 1/2, 1/4, 1/8) that fits MAX_SIDE and the pixel cap; this
    changes `im.size` and decodes nothing."""
    w, h = im.size
    for s in (1, 2, 4, 8):
        sw, sh = -(-w // s), -(-h // s)
        if max(sw, sh) <= MAX_SIDE and sw * sh <= max_pixels:
            break
    if s > 1:
        im.draft("RGB", (sw, sh))


def _to_rgb(im: "Image.Image") -> "Image.Image":
    if im.mode == "RGB":
        return im
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return im.convert("RGB")


def read_image_file(path: str | Path, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> "Image.Image":
    """`decode_image` of a local file, read no further than `max_bytes` + 1 bytes."""
    with open(path, "rb") as f:
        data = f.read(max_bytes + 1)
    return decode_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
