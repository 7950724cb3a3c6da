"""Images in messages: safe decoding (decode), text recognition (ocr) and perceptual hashes of known images
(phash). Pure: no network, no chat platforms. Pillow, pdqhash and an OCR binding come with the `images` extra."""

from bot.images.errors import ImageError, OcrTimeout, OcrUnavailable, TooLarge, Undecodable

__all__ = ["ImageError", "OcrTimeout", "OcrUnavailable", "TooLarge", "Undecodable"]
