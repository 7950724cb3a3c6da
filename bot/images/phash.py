"""Perceptual hashes of known images: PDQ (Meta's 256-bit hash, the `pdqhash` wheel: 0.8 MB, numpy only),
compared by Hamming distance.

PDQ was chosen over imagehash's 64-bit pHash by measurement (BENCHMARKS.md "Images"): a lighter install
(imagehash pulls scipy and PyWavelets, ~150 MB) and a wider gap between transformed copies and unrelated images.
A hash is 64 hex digits: the 256 bits in the order pdqhash returns them, most significant first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.engine.known_images import ALGORITHM, MATCH_DISTANCE
from bot.engine.known_images import nearest as nearest_hex

if TYPE_CHECKING:
    from PIL import Image

BITS = 256
HASH_SIDE = 512  # PDQ's reference downsamples to 512 px as well: the hash barely changes, the time drops 10x
MIN_QUALITY = 50  # PDQ's own advice: below 50 the image is too flat (a blank or gradient) to match on
# MATCH_DISTANCE, hamming and the scan live in bot/engine/known_images.py: the engine matches without Pillow.

K = TypeVar("K")


@dataclass(frozen=True)
class PerceptualHash:
    hex: str
    quality: int  # 0..100; below MIN_QUALITY the hash is not used for matching
    algorithm: str = ALGORITHM

    @property
    def usable(self) -> bool:
        return self.quality >= MIN_QUALITY


def pdq_hash(image: "Image.Image") -> PerceptualHash:
    """The PDQ hash of a decoded RGB image (see `bot.images.decode`)."""
    try:
        import numpy as np
        import pdqhash
    except ImportError as exc:  # pragma: no cover - the `images` extra
        from bot.images.errors import ImageError

        raise ImageError(f"pdqhash is not installed (pip install 'claim-context[images]'): {exc}") from None
    small = image.convert("RGB")
    if max(small.size) > HASH_SIDE:
        small = small.copy()
        small.thumbnail((HASH_SIDE, HASH_SIDE))
    bits, quality = pdqhash.compute(np.asarray(small, dtype=np.uint8))
    value = 0
    for b in bits.tolist():
        value = (value << 1) | int(b)
    return PerceptualHash(hex=f"{value:064x}", quality=int(quality))


CROP = 0.9  # the reference crops: a shared copy often loses up to 10% of its width and height


CROP_OFFSETS = (0.0, 0.5, 1.0)  # where the 90% crops sit along each axis: a 3 x 3 grid


def reference_boxes(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The whole picture, then 90% crops on a 3 x 3 grid (centre, edges, corners)."""
    cw, ch = round(width * CROP), round(height * CROP)
    dx, dy = width - cw, height - ch
    grid = [(round(dx * fx), round(dy * fy)) for fy in CROP_OFFSETS for fx in CROP_OFFSETS]
    return [(0, 0, width, height)] + [(x, y, x + cw, y + ch) for x, y in grid]


def reference_hashes(image: "Image.Image") -> list[PerceptualHash]:
    """Hashes stored for a known image: the whole picture and nine 90% crops (`reference_boxes`). PDQ (like
    every DCT hash) is not shift-invariant: a 10% crop alone moves it ~80 of 256 bits, as far as an unrelated
    image; a copy cropped by up to about 10% lands near one of the crops instead."""
    return [pdq_hash(image.crop(box)) for box in reference_boxes(*image.size)]


def content_box(image: "Image.Image") -> tuple[int, int, int, int] | None:
    """The picture inside a screenshot: the largest band of rows, then of columns, that are mostly not the
    background colour (read from the corners). Rows of UI text are mostly background (sparse ink); rows
    through a photo are almost never. None when there is no such frame to remove."""
    import numpy as np

    small = image.convert("L")
    scale = 256 / max(small.size)
    if scale < 1:
        small = small.resize((max(1, round(small.width * scale)), max(1, round(small.height * scale))))
    else:
        scale = 1.0
    a = np.asarray(small, dtype=np.int16)
    corners = np.array([a[0, 0], a[0, -1], a[-1, 0], a[-1, -1]])
    bg = int(np.median(corners))
    if np.abs(corners - bg).max() > 12:  # corners disagree: no uniform frame (an ordinary photo)
        return None
    foreground = np.abs(a - bg) > 12

    def band(fraction: "np.ndarray") -> tuple[int, int]:
        inside = fraction > 0.5
        best, start = (0, 0), None
        for i, v in enumerate(list(inside) + [False]):
            if v and start is None:
                start = i
            if not v and start is not None:
                if i - start > best[1] - best[0]:
                    best = (start, i)
                start = None
        return best

    top, bottom = band(foreground.mean(axis=1))
    if bottom - top < a.shape[0] * 0.2:
        return None
    left, right = band(foreground[top:bottom].mean(axis=0))
    if right - left < a.shape[1] * 0.2:
        return None
    if (bottom - top) * (right - left) > 0.97 * a.size:
        return None
    box = (round(left / scale), round(top / scale), round(right / scale), round(bottom / scale))
    return box


def query_hashes(image: "Image.Image") -> list[PerceptualHash]:
    """Hashes of an image as received: the whole of it, and the picture inside it when it sits in a
    screenshot frame (see `content_box`)."""
    hashes = [pdq_hash(image)]
    box = content_box(image)
    if box is not None:
        hashes.append(pdq_hash(image.crop(box)))
    return hashes


def nearest(query: PerceptualHash | list[PerceptualHash], known: Iterable[tuple[str, K]],
            max_distance: int = MATCH_DISTANCE) -> tuple[K, int] | None:
    """`known_images.nearest` for computed hashes: those too flat to trust (PDQ quality below MIN_QUALITY)
    are left out, so a blank picture matches nothing."""
    queries = [q.hex for q in (query if isinstance(query, list) else [query]) if q.usable]
    return nearest_hex(queries, known, max_distance)


def image_hash_entry(path: str | Path) -> dict[str, object]:
    """What a curator pastes under a claim's `images:` (knowledge/README.md) for a local image file: the hash
    of the whole picture, the hashes of its reference crops, and placeholders for the description and the
    source that only a person can write."""
    from bot.images.decode import read_image_file

    whole, *crops = reference_hashes(read_image_file(path))
    entry: dict[str, object] = {"algorithm": whole.algorithm, "hash": whole.hex, "crops": [c.hex for c in crops]}
    if not whole.usable:
        entry["warning"] = f"PDQ quality {whole.quality} is below {MIN_QUALITY}: too flat an image to match reliably"
    entry["description"] = "TODO: what the picture shows, and what is wrong with it"
    entry["source"] = {"outlet": "TODO", "date": "TODO", "headline": "TODO"}
    return entry
