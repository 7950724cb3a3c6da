"""LinkResolver: the one entry point for link lookups (cached, coalesced, safe, never raises)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Awaitable, Callable
from urllib.parse import urlsplit

from bot.links.cache import TTLCache
from bot.links.extract import decode_html, extract_page
from bot.links.fetch import Fetched, SafeFetcher, check_url
from bot.links.limits import Busy, KeyedLimiter
from bot.links.models import FetchResult
from bot.links.urls import normalize_url

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)


class LinkResolver:
    """Resolves shared links to page metadata.

    A link shared 100 times is fetched once: results are cached per normalised URL (tracking
    parameters removed) for `ttl` seconds, failures for `failure_ttl`, and concurrent requests for
    the same URL wait on one in-flight fetch.

    Concurrency is bounded three ways, so 110 slow links cannot fill the connection pool and make the
    next ordinary link fail: at most `max_fetches` fetches at once (below the pool's 100 connections),
    `per_host` per host (a slow host holds a few slots, not all) and `per_chat` lookups per chat (one
    flooding chat waits on itself). A lookup that finds no slot within `queue_wait` seconds gets a
    "busy:" result, which is not cached: only answers about the link itself (refused, not HTML, too
    large, HTTP errors, the server's own timeout) are cached for `failure_ttl`.
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        ttl: float = 3600,
        failure_ttl: float = 60,
        max_bytes: int = 2_000_000,
        connect_timeout: float = 5,
        read_timeout: float = 5,
        total_timeout: float = 10,
        max_redirects: int = 5,
        cache_size: int = 4096,
        resolver: Callable[[str, int], Awaitable[list[str]]] | None = None,
        max_fetches: int = 32,
        per_host: int = 4,
        per_chat: int = 4,
        queue_wait: float | None = None,
    ) -> None:
        self.ttl = ttl
        self.failure_ttl = failure_ttl
        # Long enough for the slots ahead to finish (each fetch stops at total_timeout), bounded all the same.
        self.queue_wait = 3 * total_timeout if queue_wait is None else queue_wait
        self._fetch_slots = KeyedLimiter(max_fetches)
        self._host_slots = KeyedLimiter(per_host)
        self._chat_slots = KeyedLimiter(per_chat)
        self.fetcher = SafeFetcher(
            allow_private=allow_private,
            max_bytes=max_bytes,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            total_timeout=total_timeout,
            max_redirects=max_redirects,
            resolver=resolver,
        )
        self.cache: TTLCache[FetchResult] = TTLCache(cache_size)
        self._inflight: dict[str, asyncio.Task[FetchResult]] = {}
        self.stats: dict[str, int] = {"fetches": 0, "cache_hits": 0, "coalesced": 0, "failures": 0, "refused": 0,
                                      "busy": 0}

    @classmethod
    def from_settings(cls, settings: "Settings", **kwargs: Any) -> "LinkResolver":
        """The resolver the bot runs with: private addresses only when CLAIM_CONTEXT_ALLOW_PRIVATE_FETCH is set."""
        return cls(allow_private=settings.allow_private_fetch, **kwargs)

    async def resolve(self, url: str, chat: Hashable | None = None) -> FetchResult:
        """Metadata for `url`, from cache when fresh; a failed lookup is a FetchResult with ok=False.
        `chat` (any hashable, e.g. (platform, chat id)) bounds how many lookups one chat runs at once."""
        try:
            return await self._resolve(url, chat)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the caller gets a result, never an exception
            log.warning("link lookup failed for %r", url, exc_info=True)
            return FetchResult(ok=False, url=str(url), reason=f"error: {type(exc).__name__}")

    async def _resolve(self, url: str, chat: Hashable | None = None) -> FetchResult:
        if not isinstance(url, str):
            return FetchResult(ok=False, url=repr(url), reason="refused: not a URL")
        # Judged on the URL as given: normalising drops user info, so credentials must be caught first.
        reason = check_url(url, allow_private=self.fetcher.allow_private)
        if reason:
            self.stats["refused"] += 1
            return FetchResult(ok=False, url=url, reason=reason)
        key = normalize_url(url)
        cached = self.cache.get(key)
        if cached is not None:
            self.stats["cache_hits"] += 1
            return _for_caller(cached, url)
        if chat is None:
            return await self._shared_fetch(key, url)
        try:
            async with self._chat_slots.hold(chat, self.queue_wait):
                return await self._shared_fetch(key, url)
        except Busy:
            self.stats["busy"] += 1
            return FetchResult(ok=False, url=url, reason="busy: too many links from this chat are being looked up")

    async def _shared_fetch(self, key: str, url: str) -> FetchResult:
        cached = self.cache.get(key)  # filled while this caller waited for its chat's slot
        if cached is not None:
            self.stats["cache_hits"] += 1
            return _for_caller(cached, url)
        task = self._inflight.get(key)
        if task is not None:
            self.stats["coalesced"] += 1
        else:
            task = asyncio.create_task(self._fetch_and_store(key), name=f"link-fetch {key[:80]}")
            self._inflight[key] = task
        # Shielded: one impatient caller cancelling must not cancel the fetch the others wait for.
        return _for_caller(await asyncio.shield(task), url)

    async def _fetch_and_store(self, key: str) -> FetchResult:
        try:
            host = (urlsplit(key).hostname or "").lower()
            try:
                async with self._host_slots.hold(host, self.queue_wait), self._fetch_slots.hold(None, self.queue_wait):
                    self.stats["fetches"] += 1
                    outcome = await self.fetcher.fetch(key)
            except Busy as busy:
                self.stats["busy"] += 1
                return FetchResult(ok=False, url=key, reason=f"busy: {busy}")  # ours, not the link's: not cached
            if isinstance(outcome, Fetched):
                html = decode_html(outcome.body, outcome.charset)
                # lxml parsing of up to max_bytes: off the event loop.
                page = await asyncio.to_thread(extract_page, html, key)
                page.final_url = outcome.final_url
                result = FetchResult(ok=True, url=key, reason="", page=page)
                self.cache.set(key, result, self.ttl)
            else:
                self.stats["failures"] += 1
                if outcome.reason.startswith("refused"):
                    self.stats["refused"] += 1
                result = FetchResult(ok=False, url=key, reason=outcome.reason)
                if not outcome.reason.startswith("busy"):  # our own saturation says nothing about the link
                    self.cache.set(key, result, self.failure_ttl)
            return result
        finally:
            self._inflight.pop(key, None)

    async def aclose(self) -> None:
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.fetcher.aclose()


def _for_caller(result: FetchResult, url: str) -> FetchResult:
    """The shared cached result, labelled with the URL this caller asked about."""
    page = dataclasses.replace(result.page, url=url) if result.page is not None else None
    return dataclasses.replace(result, url=url, page=page)
