"""One call for a chat layer: bytes of a received image -> its text and perceptual hashes. Synchronous and
CPU-bound (decode ~10 ms, hashes ~50 ms, OCR 0.1-1 s): run it in a worker thread, one image at a time per chat."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.images.decode import MAX_BYTES, MAX_PIXELS, decode_image
from bot.images.errors import ImageError, OcrTimeout, OcrUnavailable
from bot.images.ocr import DEFAULT_LANGUAGES, DEFAULT_TIMEOUT, recognise
from bot.images.phash import PerceptualHash, query_hashes


@dataclass(frozen=True)
class ImageReading:
    text: str  # "" when nothing was read or OCR failed
    hashes: list[PerceptualHash] = field(default_factory=list)
    ocr_confidence: float = 0.0
    ocr_error: ImageError | None = None  # OcrUnavailable or OcrTimeout: the hashes still count

    @property
    def usable_hashes(self) -> list[str]:
        """The hex of the hashes worth matching (not too flat to trust): what Engine.check_image takes."""
        return [h.hex for h in self.hashes if h.usable]


def read_image(data: bytes, *, languages: str = DEFAULT_LANGUAGES, timeout: float = DEFAULT_TIMEOUT,
               max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS, ocr: bool = True) -> ImageReading:
    """Decode (TooLarge and Undecodable propagate: there is nothing to answer about), hash, then OCR. An OCR
    failure is recorded, not raised, so a known picture is still recognised on a bot without OCR."""
    image = decode_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    hashes = query_hashes(image)
    if not ocr:
        return ImageReading(text="", hashes=hashes)
    try:
        result = recognise(image, languages=languages, timeout=timeout)
    except (OcrUnavailable, OcrTimeout) as exc:
        return ImageReading(text="", hashes=hashes, ocr_error=exc)
    return ImageReading(text=result.text, hashes=hashes, ocr_confidence=result.confidence)
