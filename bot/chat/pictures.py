"""A picture in a message: fetched within the byte cap, read (decode, hashes, OCR) in a worker thread under the
OCR time limit, one picture at a time per chat, then matched by the engine like a message.

The limits are checked in order, each before the costlier step: the size the platform declares (nothing is
downloaded past the cap), the bytes as they arrive (the adapter's fetch stops at the cap), the pixel count in
the header (decompression bombs, bot/images/decode.py), the OCR time limit (bot/images/ocr.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass

from bot.chat.i18n import N_, Translator
from bot.chat.limits import WindowLimit
from bot.chat.messages import DownloadFailed, Incoming, IncomingImage, Refusal, RefusalKind
from bot.engine.cards import CheckResult
from bot.engine.service import Engine
from bot.images.decode import MAX_BYTES, MAX_PIXELS
from bot.images.errors import ImageError, OcrTimeout, OcrUnavailable, TooLarge, Undecodable
from bot.images.ocr import DEFAULT_TIMEOUT
from bot.images.reading import ImageReading, read_image

READERS = 2  # pictures read at once in this process: each keeps a core busy for up to the OCR time limit
# Pictures nobody asked about that one group may have read per window: Telegram hands one chat's updates over in
# order, so a flood of photos would otherwise queue OCR after OCR (up to the time limit each) ahead of the
# group's text messages. The rest are skipped silently, before anything is downloaded.
UNASKED_PER_WINDOW = 6
UNASKED_WINDOW = 60.0  # seconds
OCR_CHARS = 1500  # of recognised text matched: a screenshot of a long post carries its headline at the top
# TRANSLATORS: the limits of a picture the bot reads; {mb} and {megapixels} are numbers.
LIMITS = N_("the limit is {mb} MB and {megapixels} million pixels")


class ChatBusy(Exception):
    """Another picture from this chat is still being read."""


@dataclass(frozen=True)
class PictureCheck:
    result: CheckResult
    text: str  # what was matched: the recognised text, then the caption
    ocr_error: ImageError | None = None  # OcrUnavailable or OcrTimeout: only a known picture could match


class PictureReader:
    def __init__(self, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS,
                 ocr_timeout: float = DEFAULT_TIMEOUT, readers: int = READERS,
                 unasked_per_window: int = UNASKED_PER_WINDOW, window: float = UNASKED_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_bytes, self.max_pixels, self.ocr_timeout = max_bytes, max_pixels, ocr_timeout
        self._busy: set[Hashable] = set()
        self._readers = asyncio.Semaphore(readers)
        self.unasked = WindowLimit(unasked_per_window, window, clock)

    def take_unasked(self, chat: Hashable) -> bool:
        """Whether a picture nobody asked about in `chat` (group auto-moderation) may be read now: at most
        `unasked_per_window` a window per chat. Counts the picture when it may."""
        return self.unasked.take(chat)

    @contextlib.contextmanager
    def one_per_chat(self, chat: Hashable) -> Iterator[None]:
        """Hold `chat`'s only picture slot; ChatBusy when another picture from it is being read. A set, not a
        lock: a second picture is answered (or skipped) at once, never queued behind the first."""
        if chat in self._busy:
            raise ChatBusy(str(chat))
        self._busy.add(chat)
        try:
            yield
        finally:
            self._busy.discard(chat)

    async def read(self, image: IncomingImage) -> ImageReading:
        """TooLarge, Undecodable, DownloadFailed, or ImageError (Pillow missing) for a picture not read at all;
        an OCR failure is in the reading (`ocr_error`), so a known picture still matches."""
        if image.size > self.max_bytes:
            raise TooLarge(f"{image.size} bytes declared; the limit is {self.max_bytes}")
        data = await image.fetch(self.max_bytes)
        async with self._readers:
            return await asyncio.to_thread(read_image, data, timeout=self.ocr_timeout, max_bytes=self.max_bytes,
                                           max_pixels=self.max_pixels)

    async def check(self, engine: Engine, msg: Incoming) -> PictureCheck:
        """The engine's answer for the message's first picture: a known picture, or its text with the caption."""
        reading = await self.read(msg.images[0])
        text = matched_text(reading.text, msg.text)
        result = await asyncio.to_thread(engine.check_image, text, reading.usable_hashes)
        return PictureCheck(result, text, reading.ocr_error)

    def limits(self, t: Translator) -> str:
        mb, megapixels = f"{self.max_bytes / 1024 / 1024:g}", f"{self.max_pixels / 1e6:g}"
        return t(LIMITS, mb=mb, megapixels=megapixels)


def matched_text(recognised: str, caption: str) -> str:
    """The picture's words first (the claim), then the sender's caption ("is this true?", or the claim again)."""
    return "\n".join(x for x in (recognised.strip()[:OCR_CHARS], caption.strip()) if x)


def refusal(error: Exception, reader: PictureReader, t: Translator) -> Refusal:
    """The one sentence for a picture that could not be read at all."""
    if isinstance(error, TooLarge):
        return Refusal(RefusalKind.IMAGE_TOO_LARGE, reader.limits(t))
    if isinstance(error, Undecodable):
        return Refusal(RefusalKind.IMAGE_UNREADABLE)
    if isinstance(error, DownloadFailed):
        return Refusal(RefusalKind.IMAGE_DOWNLOAD)
    return Refusal(RefusalKind.NO_OCR)  # ImageError: the images extra (Pillow) is not installed


def unanswered(check: PictureCheck) -> Refusal | None:
    """Why a picture that matched nothing got no card, when the reason is ours or the picture's (no OCR,
    OCR out of time, no text at all) rather than 'no known claim'."""
    if check.result.card is not None or check.result.image is not None:
        return None
    if isinstance(check.ocr_error, OcrUnavailable):
        return Refusal(RefusalKind.NO_OCR)
    if isinstance(check.ocr_error, OcrTimeout):
        return Refusal(RefusalKind.OCR_TIMEOUT)
    if not check.text.strip():
        return Refusal(RefusalKind.IMAGE_NO_TEXT)
    return None
