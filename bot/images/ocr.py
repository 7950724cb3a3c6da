"""Image -> recognised text with Tesseract, offline, from the language packs installed by Debian's packages
(tesseract-ocr-eng, -rus, ...; nothing is downloaded at run time).

Two bindings of the same engine, chosen at first use: tesserocr (the engine in-process, one handle per thread
and language set, cancellable by a deadline) when its wheel is installed, else pytesseract (one `tesseract`
process per image, killed at the time limit). Synchronous and blocking: a chat layer calls `recognise` in a
worker thread (asyncio.to_thread), never on the event loop.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.images.errors import ImageError, OcrTimeout, OcrUnavailable

if TYPE_CHECKING:
    from PIL import Image

DEFAULT_LANGUAGES = "eng+rus"  # Latin and Cyrillic; see BENCHMARKS.md "Images" for the other packs measured
DEFAULT_TIMEOUT = 10.0  # seconds; a dense 4K screenshot takes about 3 s on one core here
MAX_OCR_SIDE = 2600  # larger images are scaled down first: headline text stays well above Tesseract's sweet spot
MIN_OCR_HEIGHT = 600  # smaller ones (thumbnails, cropped phone screenshots) are scaled up
# Tesseract's page segmentation: 6, one block of text, read in line order. On the benchmark's screenshots it
# beat 3 (automatic layout, which split wrapped headlines into columns and read them out of order): CER 0.055
# against 0.073 (English) and 0.055 against 0.081 (Russian), 59 against 58 of 78 answered, and faster.
PAGE_SEGMENTATION = 6
TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                 "/usr/share/tessdata", "/usr/local/share/tessdata")


@dataclass(frozen=True)
class OcrText:
    text: str  # lines joined with newlines, whitespace collapsed; "" when nothing was read
    confidence: float  # mean word confidence 0..100 of the kept words (0 when none)
    seconds: float
    engine: str  # "tesserocr" | "pytesseract"


def tessdata_dir() -> str | None:
    """Where the language packs are: $TESSDATA_PREFIX, else Debian's and the usual paths."""
    env = os.environ.get("TESSDATA_PREFIX")
    for d in ([env] if env else []) + list(TESSDATA_DIRS):
        if d and any(Path(d).glob("*.traineddata")):
            return d
    return None


def available_languages() -> list[str]:
    """The installed language packs (e.g. ['eng', 'rus', 'ukr']); [] when there are none."""
    d = tessdata_dir()
    return sorted(p.stem for p in Path(d).glob("*.traineddata") if p.stem != "osd") if d else []


def _check_languages(languages: str) -> None:
    have = set(available_languages())
    if not have:
        raise OcrUnavailable("no Tesseract language packs found (apt-get install tesseract-ocr tesseract-ocr-eng "
                             "tesseract-ocr-rus)")
    missing = [lang for lang in languages.split("+") if lang not in have]
    if missing:
        raise OcrUnavailable(f"Tesseract language pack(s) not installed: {', '.join(missing)} "
                             f"(apt-get install {' '.join('tesseract-ocr-' + m for m in missing)})")


def prepare(image: "Image.Image") -> "Image.Image":
    """Greyscale, dark-on-light, at a size Tesseract reads well. Dark mode screenshots (light text on dark) are
    inverted: Tesseract's binarisation expects dark text and loses light-on-dark lines otherwise."""
    from PIL import Image as PILImage, ImageOps, ImageStat

    grey = image.convert("L")
    w, h = grey.size
    scale = 1.0
    if max(w, h) > MAX_OCR_SIDE:
        scale = MAX_OCR_SIDE / max(w, h)
    elif h < MIN_OCR_HEIGHT:
        scale = min(MIN_OCR_HEIGHT / h, MAX_OCR_SIDE / max(w, h), 3.0)
    if scale != 1.0:
        grey = grey.resize((max(1, round(w * scale)), max(1, round(h * scale))), PILImage.LANCZOS)
    if ImageStat.Stat(grey).mean[0] < 110:
        grey = ImageOps.invert(grey)
    return grey


_WS = re.compile(r"[ \t]+")


def _tidy(lines: list[str]) -> str:
    out = [_WS.sub(" ", line).strip() for line in lines]
    return "\n".join(line for line in out if line)


class _Tesserocr:
    name = "tesserocr"

    def __init__(self) -> None:
        import tesserocr  # noqa: F401  (ImportError -> the next binding)

        self._local = threading.local()

    def _api(self, languages: str):
        import tesserocr

        apis = getattr(self._local, "apis", None)
        if apis is None:
            apis = self._local.apis = {}
        api = apis.get(languages)
        if api is None:
            # A handle costs ~0.2 s to open, so it is kept per thread (tesserocr handles are not thread-safe)
            # and per language set.
            api = tesserocr.PyTessBaseAPI(path=tessdata_dir() + "/", lang=languages, psm=PAGE_SEGMENTATION)
            apis[languages] = api
        return api

    def read(self, grey: "Image.Image", languages: str, timeout: float) -> tuple[str, float]:
        api = self._api(languages)
        api.SetImage(grey)
        start = time.perf_counter()
        if not api.Recognize(timeout=max(1, int(timeout * 1000))):
            api.Clear()
            if time.perf_counter() - start >= timeout * 0.9:
                raise OcrTimeout(f"text recognition took longer than {timeout:g} s")
            raise ImageError("Tesseract could not recognise this image")
        lines = api.GetUTF8Text().splitlines()  # from the recognition above; not run again
        confs = [c for c in api.AllWordConfidences() if c >= 0]
        api.Clear()
        return _tidy(lines), (sum(confs) / len(confs) if confs else 0.0)


class _Pytesseract:
    name = "pytesseract"

    def __init__(self) -> None:
        import pytesseract  # noqa: F401

        if shutil.which("tesseract") is None:
            raise ImportError("the tesseract program is not installed")

    def read(self, grey: "Image.Image", languages: str, timeout: float) -> tuple[str, float]:
        import pytesseract

        config = f'--psm {PAGE_SEGMENTATION} --tessdata-dir "{tessdata_dir()}"'
        try:
            data = pytesseract.image_to_data(grey, lang=languages, config=config, timeout=timeout,
                                             output_type=pytesseract.Output.DICT)
        except RuntimeError as exc:  # pytesseract's way of saying the process was killed at the time limit
            if "timeout" in str(exc).lower():
                raise OcrTimeout(f"text recognition took longer than {timeout:g} s") from None
            raise
        except pytesseract.TesseractNotFoundError as exc:
            raise OcrUnavailable(str(exc)) from None
        lines: dict[tuple[int, int, int], list[str]] = {}
        confs = []
        for i, word in enumerate(data["text"]):
            if word.strip():
                key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
                lines.setdefault(key, []).append(word)
                if float(data["conf"][i]) >= 0:
                    confs.append(float(data["conf"][i]))
        return _tidy([" ".join(ws) for _, ws in sorted(lines.items())]), (sum(confs) / len(confs) if confs else 0.0)


_BINDINGS = {"tesserocr": _Tesserocr, "pytesseract": _Pytesseract}
_backend_lock = threading.Lock()
_backends: dict[str, object] = {}


def _backend(prefer: str | None):
    names = [prefer] if prefer else list(_BINDINGS)
    reasons = []
    with _backend_lock:
        for name in names:
            if name in _backends:
                return _backends[name]
            try:
                _backends[name] = _BINDINGS[name]()
                return _backends[name]
            except ImportError as exc:
                reasons.append(f"{name}: {exc}")
    raise OcrUnavailable("no OCR engine installed (pip install 'claim-context[images]' and apt-get install "
                         "tesseract-ocr tesseract-ocr-rus); " + "; ".join(reasons))


def ocr_available(languages: str = DEFAULT_LANGUAGES) -> bool:
    """Whether `recognise` can run here with these languages (no exception, no work done)."""
    try:
        _backend(None)
        _check_languages(languages)
    except OcrUnavailable:
        return False
    return True


def recognise(image: "Image.Image", *, languages: str = DEFAULT_LANGUAGES, timeout: float = DEFAULT_TIMEOUT,
              binding: str | None = None) -> OcrText:
    """The text Tesseract reads in a decoded image (see `bot.images.decode`). `languages`: Tesseract codes
    joined with '+', e.g. 'eng+rus', 'ukr', 'ara+fas'. Blocking: run it in a worker thread.

    OcrUnavailable: no engine or a language pack missing. OcrTimeout: past `timeout` seconds."""
    backend = _backend(binding)
    _check_languages(languages)
    start = time.perf_counter()
    grey = prepare(image)
    remaining = timeout - (time.perf_counter() - start)
    if remaining <= 0:
        raise OcrTimeout(f"text recognition took longer than {timeout:g} s")
    try:
        text, confidence = backend.read(grey, languages, remaining)
    except OcrTimeout:
        raise OcrTimeout(f"text recognition took longer than {timeout:g} s") from None
    return OcrText(text=text, confidence=round(confidence, 1), seconds=time.perf_counter() - start,
                   engine=backend.name)
