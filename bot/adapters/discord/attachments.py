"""Pictures attached to Discord messages, fetched through the safe fetcher (bot/links) and only from Discord's
attachment hosts (Settings.discord_attachment_hosts): an attachment URL is data from the gateway, and a URL
that points anywhere else is refused before any connection. No redirects are followed; the size Discord
declares is checked before the download and the bytes are counted during it."""

from __future__ import annotations

from urllib.parse import urlsplit

import discord

from bot.chat.messages import DownloadFailed, IncomingImage
from bot.config import Settings
from bot.images.decode import MAX_BYTES
from bot.images.errors import TooLarge, Undecodable
from bot.links.fetch import Fetched, SafeFetcher

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
TIMEOUT = 20.0  # seconds for one attachment, connection to last byte


class AttachmentFetcher:
    def __init__(self, settings: Settings, *, max_bytes: int = MAX_BYTES) -> None:
        self.hosts = frozenset(h.strip().lower() for h in settings.discord_attachment_hosts if h.strip())
        self.max_bytes = max_bytes
        self.fetcher = SafeFetcher(allow_private=settings.allow_private_fetch, max_bytes=max_bytes, max_redirects=0,
                                   total_timeout=TIMEOUT, read_timeout=TIMEOUT / 2)

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("https", "http") and (parts.hostname or "").lower() in self.hosts

    def images(self, message: discord.Message) -> tuple[IncomingImage, ...]:
        """The message's first image attachment (content type image/*), as the chat layer's value."""
        for a in message.attachments:
            if (a.content_type or "").split(";")[0].strip().lower().startswith("image/"):
                url = a.url

                async def fetch(max_bytes: int, url: str = url) -> bytes:
                    return await self.fetch(url, max_bytes)
                return (IncomingImage(fetch=fetch, size=a.size or 0, mime=a.content_type or "", name=a.filename),)
        return ()

    async def fetch(self, url: str, max_bytes: int) -> bytes:
        if not self.allowed(url):
            raise DownloadFailed(f"not a Discord attachment host: {urlsplit(url).hostname!r}")
        got = await self.fetcher.fetch(url, accept=IMAGE_TYPES)
        if not isinstance(got, Fetched):
            reason = getattr(got, "reason", "not modified")
            if reason == "too large":
                raise TooLarge(f"more than {self.max_bytes} bytes")
            if reason.startswith("unexpected content-type"):  # an image/* we do not decode (HEIC, SVG, ...)
                raise Undecodable(reason)
            raise DownloadFailed(reason)
        if len(got.body) > max_bytes:
            raise TooLarge(f"{len(got.body)} bytes; the limit is {max_bytes}")
        return got.body

    async def aclose(self) -> None:
        await self.fetcher.aclose()
