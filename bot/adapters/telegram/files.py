"""Pictures in Telegram messages: which file to read, and its bytes through the Bot API's getFile path.

A photo arrives as several sizes of one picture; the largest within the byte cap is read. A picture sent as a
file is a document with an image/* MIME type. The bytes come from the configured file URL (Application
base_file_url, derived from TELEGRAM_API_BASE_URL in app.py), streamed and cut off past the cap: the size
Telegram declares is checked first, so an oversized file is never requested at all.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from telegram import Message, PhotoSize
from telegram.error import TelegramError

from bot.chat.messages import DownloadFailed, ForwardOrigin, IncomingImage
from bot.images.decode import MAX_BYTES
from bot.images.errors import TooLarge

log = logging.getLogger(__name__)

GET_FILE_MAX = 20 * 1024 * 1024  # the Bot API's getFile serves files up to 20 MB (core.telegram.org/bots/api#getfile)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
CHUNK = 64 * 1024


def largest_photo(sizes: tuple[PhotoSize, ...] | list[PhotoSize], max_bytes: int = MAX_BYTES) -> PhotoSize | None:
    """The biggest size whose declared file size fits the cap; when none does, the smallest (its size is
    what the refusal reports)."""
    if not sizes:
        return None
    by_area = sorted(sizes, key=lambda p: p.width * p.height)
    fitting = [p for p in by_area if (p.file_size or 0) <= max_bytes]
    return fitting[-1] if fitting else by_area[0]


def message_images(msg: Message | None) -> tuple[IncomingImage, ...]:
    """The picture a message carries (a photo, or an image sent as a file) as the chat layer's value."""
    if msg is None:
        return ()
    photo = largest_photo(msg.photo or ())
    if photo is not None:
        return (_image(msg, photo.file_id, photo.file_size or 0, "image/jpeg", ""),)
    doc = msg.document
    if doc is not None and (doc.mime_type or "").lower().startswith("image/"):
        return (_image(msg, doc.file_id, doc.file_size or 0, doc.mime_type or "", doc.file_name or ""),)
    return ()


def forward_origin(msg: Message | None) -> ForwardOrigin | None:
    """The channel a message was forwarded from (Bot API 7.0 `forward_origin` of type channel), else None."""
    origin = getattr(msg, "forward_origin", None) if msg is not None else None
    chat = getattr(origin, "chat", None) if getattr(origin, "type", "") == "channel" else None
    if chat is None:
        return None
    return ForwardOrigin(username=chat.username or "", title=chat.title or "", platform_id=str(chat.id))


def _image(msg: Message, file_id: str, size: int, mime: str, name: str) -> IncomingImage:
    async def fetch(max_bytes: int) -> bytes:
        return await download(msg.get_bot(), file_id, size, max_bytes)
    return IncomingImage(fetch=fetch, size=size, mime=mime, name=name)


async def download(bot: Any, file_id: str, declared: int, max_bytes: int) -> bytes:
    """getFile, then the bytes from the bot's configured file URL, at most `max_bytes` of them.
    TooLarge past the cap (declared or counted); DownloadFailed when Telegram does not serve the file."""
    cap = min(max_bytes, GET_FILE_MAX)
    if declared > cap:
        raise TooLarge(f"{declared} bytes declared; the limit is {cap}")
    try:
        file = await bot.get_file(file_id)
    except TelegramError as exc:  # e.g. "Bad Request: file is too big"
        raise DownloadFailed(f"getFile: {exc}") from None
    if (file.file_size or 0) > cap:
        raise TooLarge(f"{file.file_size} bytes; the limit is {cap}")
    url = file.file_path or ""
    if not url.startswith(bot.base_file_url + "/"):  # a local Bot API server's path on disk: not served to us
        raise DownloadFailed("the file is not under the configured file URL")
    return await _bounded_get(url, cap)


async def _bounded_get(url: str, cap: int) -> bytes:
    """The body of `url`, streamed, stopping past `cap` bytes. The URL holds the bot token: never logged."""
    parts: list[bytes] = []
    size = 0
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
            # identity: the cap counts the bytes as sent, so nothing is inflated past it
            async with client.stream("GET", url, headers={"Accept-Encoding": "identity"}) as response:
                if response.status_code != 200:
                    raise DownloadFailed(f"file download: HTTP {response.status_code}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise TooLarge(f"{declared} bytes; the limit is {cap}")
                async for chunk in response.aiter_raw(CHUNK):
                    size += len(chunk)
                    if size > cap:
                        raise TooLarge(f"more than {cap} bytes")
                    parts.append(chunk)
    except httpx.HTTPError as exc:
        raise DownloadFailed(f"file download: {type(exc).__name__}") from None
    return b"".join(parts)
