"""The generated image set of `python -m benchmarks images`: headline screenshots, drawn "known" pictures and
their shared copies, and unrelated pictures. Everything comes from a seed, so the set is rebuilt identically
on any machine with the same fonts (Debian's fonts-dejavu-core, fonts-liberation, fonts-noto-core).
"""

from __future__ import annotations

import io
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from benchmarks import ROOT

HEADLINES = ROOT / "benchmarks" / "data" / "image_headlines.json"
FONTS = [  # (path, what it stands for); all carry Latin and Cyrillic
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVu Sans"),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "DejaVu Sans Bold"),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", "DejaVu Serif"),
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf", "Liberation Sans (Arial metrics)"),
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf", "Liberation Sans Bold"),
    ("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf", "Liberation Serif (Times metrics)"),
    ("/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf", "Liberation Serif Bold"),
    ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "Noto Sans"),
    ("/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf", "Noto Sans Bold"),
    ("/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf", "Noto Serif"),
]
THEMES = [  # (background, headline colour, secondary colour): light, dim, dark mode, a coloured banner
    ((255, 255, 255), (15, 20, 25), (83, 100, 113)),
    ((245, 248, 250), (20, 23, 26), (101, 119, 134)),
    ((21, 32, 43), (255, 255, 255), (139, 152, 165)),
    ((0, 0, 0), (231, 233, 234), (113, 118, 123)),
    ((255, 250, 235), (60, 20, 10), (120, 90, 60)),
    ((200, 16, 46), (255, 255, 255), (255, 220, 220)),
    ((232, 240, 254), (23, 43, 77), (80, 100, 130)),
]
OUTLETS = ["News Now · 2h", "Daily Report @dailyreport · 35m", "World Channel · 1,204 views", "Breaking 24 · 14:02",
           "Новости дня · 2 ч", "Канал «Сводка» · 12 тыс. просмотров"]


@dataclass
class Item:
    file: str
    kind: str  # headline | known | copy | unrelated
    lang: str = ""  # en | ru for text images
    text: str = ""  # every line rendered, joined with spaces (the OCR reference)
    claim: str = ""  # the claim it is about (headline, known, copy); "" for unrelated
    source: str = ""  # for a copy: the known image's file
    transform: str = ""  # for a copy: resize | crop10 | jpeg40 | border | all
    style: str = ""  # font, size, theme, quality, rotation


def fonts_present() -> list[tuple[str, str]]:
    return [f for f in FONTS if Path(f[0]).exists()]


def _jpeg(im: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    return lines + ([line] if line else [])


def render_headline(text: str, rnd: random.Random, fonts: list[tuple[str, str]]) -> tuple[bytes, str, str]:
    """A post or article screenshot: a source line, the headline wrapped, sometimes a footer; returned as
    JPEG bytes, the rendered text (reference for OCR), and the style."""
    font_path, font_name = rnd.choice(fonts)
    size = rnd.choice([18, 22, 26, 30, 36, 44])
    bg, fg, dim = rnd.choice(THEMES)
    width = rnd.choice([480, 640, 800, 1080])
    font = ImageFont.truetype(font_path, size)
    small = ImageFont.truetype(fonts[0][0], max(13, int(size * 0.6)))
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    margin = rnd.randint(16, 40)
    lines = _wrap(scratch, text, font, width - 2 * margin)
    header = rnd.choice(OUTLETS)
    footer = rnd.choice(["", "", "Read more", "♡ 1.2K   ⟲ 340", "Подробнее"])
    line_h = int(size * 1.3)
    height = margin * 2 + int(small.size * 2.2) + line_h * len(lines) + (int(small.size * 2) if footer else 0)
    im = Image.new("RGB", (width, height), bg)
    d = ImageDraw.Draw(im)
    y = margin
    d.text((margin, y), header, font=small, fill=dim)
    y += int(small.size * 2.2)
    for line in lines:
        d.text((margin, y), line, font=font, fill=fg)
        y += line_h
    if footer:
        d.text((margin, y + small.size // 2), footer, font=small, fill=dim)
    rotation = rnd.choice([0, 0, 0, -1.5, -0.8, 0.8, 1.5, 2.5])
    if rotation:
        im = im.rotate(rotation, resample=Image.BICUBIC, expand=True, fillcolor=bg)
    scale = rnd.choice([1.0, 1.0, 0.75, 1.5])
    if scale != 1.0:
        im = im.resize((round(im.width * scale), round(im.height * scale)), Image.LANCZOS)
    quality = rnd.choice([40, 60, 75, 90])
    rendered = " ".join([header] + lines + ([footer] if footer else []))
    style = f"{font_name} {size}px x{scale}, bg {bg}, q{quality}, rot {rotation}"
    return _jpeg(im, quality), rendered, style


def scene(seed: int, size: tuple[int, int] = (800, 600)) -> Image.Image:
    """A drawn outdoor picture: sky and ground gradients, a skyline, a blurred smoke plume, sensor noise.
    Photo-like enough for perceptual hashes (smooth areas, edges at several scales); different per seed."""
    rnd = random.Random(seed)
    rng = np.random.default_rng(seed)
    w, h = size
    y = np.linspace(0, 1, h)[:, None, None]
    top = np.array([rnd.randrange(256) for _ in range(3)])
    bottom = np.array([rnd.randrange(256) for _ in range(3)])
    im = Image.fromarray(((top * (1 - y) + bottom * y) * np.ones((1, w, 1))).astype(np.uint8))
    d = ImageDraw.Draw(im)
    horizon = int(h * rnd.uniform(0.5, 0.75))
    hills = [(x, horizon - rnd.randrange(0, h // 8)) for x in range(0, w + 80, 80)]
    d.polygon([(0, horizon)] + hills + [(w, h), (0, h)], fill=tuple(rnd.randrange(256) for _ in range(3)))
    for _ in range(rnd.randrange(3, 9)):
        x, bw, bh = rnd.randrange(w), rnd.randrange(w // 16, w // 5), rnd.randrange(h // 10, h // 2)
        colour = tuple(rnd.randrange(256) for _ in range(3))
        d.rectangle((x, horizon - bh, x + bw, horizon + 10), fill=colour)
        for wy in range(horizon - bh + 8, horizon, 18):
            d.line((x + 4, wy, x + bw - 4, wy), fill=tuple(max(0, v - 60) for v in colour), width=3)
    mask = Image.new("L", size, 0)
    md = ImageDraw.Draw(mask)
    cx, cy = rnd.randrange(w), rnd.randrange(max(1, horizon))
    for _ in range(rnd.randrange(4, 12)):
        r = rnd.randrange(w // 20, w // 6)
        md.ellipse((cx - r, cy - r, cx + r, cy + r), fill=rnd.randrange(120, 255))
        cx += rnd.randrange(-w // 10, w // 10)
        cy -= rnd.randrange(0, h // 10)
    smoke = Image.new("RGB", size, tuple([rnd.randrange(0, 90)] * 3))
    im = Image.composite(smoke, im, mask.filter(ImageFilter.GaussianBlur(w / 60)))
    noisy = np.asarray(im, dtype=np.float32) + rng.normal(0, 6, (h, w, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def screenshot_frame(im: Image.Image, rnd: random.Random) -> Image.Image:
    """The picture as a phone screenshot of a post: a margin, an account line and a caption above, counts below."""
    bg, fg, dim = rnd.choice(THEMES[:4])
    font = ImageFont.truetype(fonts_present()[0][0], 22)
    side, top = rnd.randint(12, 48), rnd.randint(90, 160)
    frame = Image.new("RGB", (im.width + 2 * side, im.height + top + 90), bg)
    d = ImageDraw.Draw(frame)
    d.text((side, 16), "Some Account @someaccount · 3h", font=font, fill=dim)
    d.text((side, 50), rnd.choice(["is this real??", "wow look at this", "смотрите что происходит"]), font=font, fill=fg)
    frame.paste(im, (side, top))
    d.text((side, top + im.height + 30), "12.4K   3,021   ♡ 44K", font=font, fill=dim)
    return frame


def crop10(im: Image.Image, rnd: random.Random, fraction: float = 0.1) -> Image.Image:
    """10% off the width and the height, split at random between the sides (not one of the reference crops)."""
    w, h = im.size
    tx, ty = round(w * fraction), round(h * fraction)
    left, top = rnd.randint(0, tx), rnd.randint(0, ty)
    return im.crop((left, top, w - (tx - left), h - (ty - top)))


TRANSFORMS: dict[str, Callable[[Image.Image, random.Random], Image.Image]] = {
    "resize": lambda im, rnd: im.resize((im.width // 2, im.height // 2), Image.LANCZOS),
    "crop10": crop10,
    "crop5": lambda im, rnd: crop10(im, rnd, 0.05),
    "jpeg40": lambda im, rnd: Image.open(io.BytesIO(_jpeg(im, 40))),
    "border": screenshot_frame,
    "all": lambda im, rnd: screenshot_frame(crop10(im, rnd), rnd).resize(
        (round(im.width * 0.6), round(im.height * 0.6 * (im.height + 250) / im.height)), Image.LANCZOS),
}


def claims_phrasings(knowledge: Path) -> dict[str, list[str]]:
    import yaml

    out = {}
    for f in sorted((knowledge / "claims").glob("*.yaml")):
        data = yaml.safe_load(f.read_text(encoding="utf-8"))
        out[data["id"]] = [str(p) for p in data["phrasings"]]
    return out


def generate(out: Path, knowledge: Path, *, seed: int = 19, per_claim: int = 2, known: int = 24,
             unrelated_scenes: int = 220) -> list[Item]:
    """Write the set under `out` (files and manifest.json) and return its items."""
    fonts = fonts_present()
    if len(fonts) < 3:
        raise RuntimeError("fonts missing: apt-get install fonts-dejavu-core fonts-liberation fonts-noto-core")
    rnd = random.Random(seed)
    texts = json.loads(HEADLINES.read_text(encoding="utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    items: list[Item] = []

    def save(name: str, data: bytes, item: Item) -> None:
        (out / name).write_bytes(data)
        item.file = name
        items.append(item)

    phrasings = claims_phrasings(knowledge)
    n = 0
    for claim, ps in phrasings.items():
        for p in rnd.sample(ps, min(per_claim, len(ps))):
            data, rendered, style = render_headline(p, rnd, fonts)
            save(f"headline-en-{n:03d}.jpg", data, Item("", "headline", "en", rendered, claim, style=style))
            n += 1
    for claim, ps in texts["russian"].items():
        for p in ps:
            data, rendered, style = render_headline(p, rnd, fonts)
            save(f"headline-ru-{n:03d}.jpg", data, Item("", "headline", "ru", rendered, claim, style=style))
            n += 1
    for lang in ("en", "ru"):
        for i, p in enumerate(texts[f"unrelated_{lang}"]):
            data, rendered, style = render_headline(p, rnd, fonts)
            save(f"unrelated-text-{lang}-{i:03d}.jpg", data, Item("", "unrelated", lang, rendered, style=style))
    claim_ids = list(phrasings)
    for k in range(known):
        size = rnd.choice([(800, 600), (1024, 768), (640, 640), (1200, 675)])
        original = scene(seed * 1000 + k, size)
        name = f"known-{k:03d}.png"
        buf = io.BytesIO()
        original.save(buf, "PNG")
        claim = claim_ids[(k * 7) % len(claim_ids)]
        save(name, buf.getvalue(), Item("", "known", claim=claim, style=f"{size[0]}x{size[1]}"))
        for t, f in TRANSFORMS.items():
            copy = f(original, rnd).convert("RGB")
            quality = 40 if t in ("jpeg40", "all") else 85
            save(f"copy-{k:03d}-{t}.jpg", _jpeg(copy, quality), Item("", "copy", claim=claim, source=name, transform=t))
    for u in range(unrelated_scenes):
        size = rnd.choice([(800, 600), (1024, 768), (640, 640), (1200, 675), (480, 800)])
        im = scene(seed * 1000 + 500 + u, size)
        if u % 4 == 3:
            im = screenshot_frame(im, rnd)  # unrelated pictures get frames too, or the frame alone would separate
        save(f"unrelated-scene-{u:03d}.jpg", _jpeg(im, rnd.choice([60, 85])), Item("", "unrelated", style=f"{size}"))
    (out / "manifest.json").write_text(json.dumps({"seed": seed, "items": [asdict(i) for i in items]},
                                                  ensure_ascii=False, indent=1), encoding="utf-8")
    return items
