"""Fetch-then-match: the one place where a message's link is looked up and its page matched.

The link is fetched on the event loop (async, bounded by the resolver); all engine work for the message,
the text and up to a few page candidates, runs in ONE worker-thread call, so a page with 50 ClaimReviews
never blocks the loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

from bot.engine.cards import CheckResult
from bot.engine.service import Engine
from bot.engine.urls import find_urls, strip_urls

if TYPE_CHECKING:
    from bot.links import LinkResolver

log = logging.getLogger(__name__)

PAGE_REVIEWS = 3  # ClaimReviews taken from one page
PAGE_HEADLINES = 3


async def check(engine: Engine, text: str, links: Sequence[str] = (), resolver: "LinkResolver | None" = None,
                chat: Hashable | None = None) -> CheckResult:
    """The engine's answer for a message: its text, and what the first link's page says about itself.
    `links`: URLs the platform carries outside the text; `chat`: where it was posted (one chat's lookups are
    bounded, so a flood of links in one group cannot take the fetcher from the others). A failed lookup
    still answers from the text."""
    urls = [*find_urls(text), *(u for u in links if u)]
    if not urls or resolver is None:
        return await asyncio.to_thread(engine.check, text)
    url = urls[0]
    try:
        fetched = await resolver.resolve(url, chat=chat)
    except Exception:  # the resolver never raises by contract; a bug there must not cost the answer
        log.warning("link lookup failed; matching the text alone", exc_info=True)
        return await asyncio.to_thread(engine.check, strip_urls(text))
    candidates: list[str] = []
    final_url = ""
    if fetched.ok and fetched.page is not None:
        page = fetched.page
        candidates += [cr.claim_reviewed for cr in page.claim_reviews if cr.claim_reviewed][:PAGE_REVIEWS]
        candidates += page.headline_candidates()[:PAGE_HEADLINES]
        final_url = page.final_url or ""
    return await asyncio.to_thread(engine.check_candidates, text, candidates, url=url, final_url=final_url,
                                   link=fetched.to_dict())
