"""A local HTML site on 127.0.0.1 for link-lookup tests and the links benchmark."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


def headline_page(headline: str, body: str = "Story text.") -> str:
    """A minimal news page whose <title>, og:title and <h1> are `headline`."""
    return (f"<html><head><title>{headline}</title><meta property='og:title' content='{headline}'></head>"
            f"<body><h1>{headline}</h1><p>{body}</p></body></html>")


@asynccontextmanager
async def html_site(pages: dict[str, str | bytes]) -> AsyncIterator[str]:
    """Serve `pages` (path -> HTML) as text/html on a free loopback port; yields the base URL."""

    async def page(request: web.Request) -> web.Response:
        content = pages[request.path]
        body = content.encode() if isinstance(content, str) else content
        return web.Response(body=body, content_type="text/html", charset="utf-8")

    app = web.Application()
    for path in pages:
        app.router.add_get(path, page)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
