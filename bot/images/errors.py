"""The typed failures of image handling. A chat layer answers each kind with one clear sentence; none of them
is a crash: an image that cannot be read is an ordinary outcome of a message."""

from __future__ import annotations


class ImageError(Exception):
    """Base of every image failure; `str(exc)` is a short reason fit for logs."""


class TooLarge(ImageError):
    """Too many bytes, or too many pixels announced in the header (decompression bombs): refused before decoding."""


class Undecodable(ImageError):
    """Not an image in an accepted format (JPEG, PNG, WebP, GIF), or a truncated or corrupt one."""


class OcrUnavailable(ImageError):
    """No OCR engine is installed (the `images` extra and Tesseract's language packs), or a language pack is missing."""


class OcrTimeout(ImageError):
    """Text recognition ran past its time limit and was cancelled."""
