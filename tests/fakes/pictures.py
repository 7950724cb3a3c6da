"""Pictures people post, drawn with Pillow for the image tests: a headline screenshot, a smaller copy (the
thumbnail sizes Telegram makes of a photo), an oversized file. Bombs: tests/test_images.py `bomb_png`."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from bot.engine.service import Engine

FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
         "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf")


def _font(size: int) -> "ImageFont.FreeTypeFont | ImageFont.ImageFont":
    path = next((p for p in FONTS if Path(p).exists()), None)
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size=size)


def headline_screenshot(headline: str, *, source: str = "World News · 2h", width: int = 900) -> bytes:
    """A news post as a phone screenshot shows it: a grey source line, the headline wrapped in bold; JPEG."""
    font, small = _font(34), _font(20)
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    lines, line = [], ""
    for word in headline.split():
        trial = f"{line} {word}".strip()
        if line and scratch.textlength(trial, font=font) > width - 80:
            lines.append(line)
            line = word
        else:
            line = trial
    lines.append(line)
    im = Image.new("RGB", (width, 120 + 46 * len(lines)), (255, 255, 255))
    draw = ImageDraw.Draw(im)
    draw.text((40, 30), source, font=small, fill=(110, 110, 110))
    for i, text in enumerate(lines):
        draw.text((40, 80 + 46 * i), text, font=font, fill=(20, 20, 20))
    return jpeg(im)


def jpeg(im: "Image.Image", quality: int = 85) -> bytes:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def resized(data: bytes, width: int) -> tuple[bytes, int, int]:
    """A smaller copy (as (bytes, width, height)), like the thumbnails Telegram sends with a photo."""
    im = Image.open(io.BytesIO(data))
    height = round(im.height * width / im.width)
    return jpeg(im.resize((width, height))), width, height


def size_of(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def oversized_png(total: int) -> bytes:
    """A file of `total` bytes that starts as a PNG (its size alone must refuse it; nothing reads further)."""
    head = jpeg(Image.new("RGB", (8, 8), (200, 0, 0)))
    return head + b"\0" * (total - len(head))


CHANNELS = {"rt_russian": "rt.com"}  # Telegram handle -> outlet domain, for the test knowledge


def add_channels(knowledge: Path) -> None:
    """Write CHANNELS into the test knowledge's ownership notes as `telegram:` handles, each with a citation."""
    import yaml

    path = knowledge / "outlets" / "ownership.yaml"
    notes = yaml.safe_load(path.read_text(encoding="utf-8"))
    for note in notes:
        handles = [h for h, d in CHANNELS.items() if d == note["domain"]]
        if handles:
            note["telegram"] = [{"handle": h, "citation": {
                "outlet": "Example Review", "headline": "The outlet's channels", "url": "https://example.org/channels",
                "states": f"Lists @{h} as the outlet's Telegram channel."}} for h in handles]
    path.write_text(yaml.safe_dump(notes, sort_keys=False, allow_unicode=True), encoding="utf-8")


def engine_with_channels(root: Path, write_knowledge: "Callable[[Path], object]") -> "Engine":
    """An engine on test knowledge written by `write_knowledge` (each platform's e2e tests have theirs), with
    CHANNELS among its ownership notes."""
    from bot.engine.service import Engine
    from bot.engine.store import build_database

    write_knowledge(root / "knowledge")
    add_channels(root / "knowledge")
    return Engine(build_database(root / "knowledge", root / "knowledge.db"))
