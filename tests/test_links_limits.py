"""Issue 16's fetcher attacks: concurrency bounded per host, per chat and overall (below the connection
pool), our own saturation never cached as the link's failure, and hostile charset names ignored."""

from __future__ import annotations

import asyncio
import codecs
from collections import Counter
from urllib.parse import urlsplit

import httpx
import pytest

from bot.links import LinkResolver
from bot.links.extract import decode_html, extract_page
from bot.links.fetch import Fetched, Refusal

PAGE = b"<html><head><title>An ordinary page</title></head><body>x</body></html>"


class FakeFetcher:
    """Stands in for SafeFetcher.fetch: hosts named slow* wait for `release`; records concurrency."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.running: Counter[str] = Counter()
        self.peak_host: Counter[str] = Counter()
        self.total = 0
        self.peak_total = 0
        self.calls: Counter[str] = Counter()
        self.outcome: dict[str, Refusal] = {}

    async def fetch(self, url: str) -> Fetched | Refusal:
        host = urlsplit(url).hostname or ""
        self.calls[url] += 1
        self.running[host] += 1
        self.total += 1
        self.peak_host[host] = max(self.peak_host[host], self.running[host])
        self.peak_total = max(self.peak_total, self.total)
        try:
            if host.startswith("slow"):
                await self.release.wait()
            if url in self.outcome:
                return self.outcome[url]
            return Fetched(url=url, final_url=url, body=PAGE, charset="utf-8", content_type="text/html", redirects=0)
        finally:
            self.running[host] -= 1
            self.total -= 1

    async def aclose(self) -> None:
        pass


def resolver_with_fake(**kwargs) -> tuple[LinkResolver, FakeFetcher]:
    resolver = LinkResolver(**kwargs)
    fake = FakeFetcher()
    resolver.fetcher.fetch = fake.fetch  # type: ignore[method-assign]
    return resolver, fake


async def test_a_slow_host_holds_a_few_slots_and_others_still_resolve() -> None:
    resolver, fake = resolver_with_fake(per_host=4)
    slow = [asyncio.create_task(resolver.resolve(f"https://slow.example/{i}")) for i in range(110)]
    await asyncio.sleep(0.05)
    assert fake.peak_host["slow.example"] == 4
    ordinary = await asyncio.wait_for(resolver.resolve("https://news.example/story"), 2)
    assert ordinary.ok and ordinary.page.title == "An ordinary page"
    fake.release.set()
    results = await asyncio.gather(*slow)
    assert all(r.ok for r in results) and fake.peak_host["slow.example"] == 4
    await resolver.aclose()


async def test_slow_links_on_many_hosts_stay_below_the_connection_pool() -> None:
    resolver, fake = resolver_with_fake(max_fetches=32)
    slow = [asyncio.create_task(resolver.resolve(f"https://slow{i}.example/")) for i in range(110)]
    await asyncio.sleep(0.05)
    assert fake.peak_total == 32  # the pool holds 100 connections: never all taken by fetches
    ordinary = asyncio.create_task(resolver.resolve("https://news.example/story"))
    await asyncio.sleep(0.05)
    fake.release.set()
    assert (await asyncio.wait_for(ordinary, 2)).ok  # waited for a slot; did not fail
    await asyncio.gather(*slow)
    assert fake.peak_total == 32
    await resolver.aclose()


async def test_one_chat_flooding_links_waits_on_itself() -> None:
    resolver, fake = resolver_with_fake(per_chat=3)
    flood = [asyncio.create_task(resolver.resolve(f"https://slow{i}.example/", chat=("telegram", 1))) for i in range(20)]
    await asyncio.sleep(0.05)
    assert fake.peak_total == 3
    other_chat = await asyncio.wait_for(resolver.resolve("https://news.example/y", chat=("telegram", 2)), 2)
    assert other_chat.ok
    fake.release.set()
    assert all(r.ok for r in await asyncio.gather(*flood))
    await resolver.aclose()


async def test_our_saturation_is_not_cached_as_the_links_failure() -> None:
    resolver, fake = resolver_with_fake(per_host=1, queue_wait=0.05)
    first = asyncio.create_task(resolver.resolve("https://slow.example/a"))
    await asyncio.sleep(0.01)
    busy = await resolver.resolve("https://slow.example/b")
    assert not busy.ok and busy.reason.startswith("busy")
    fake.release.set()
    assert (await first).ok
    again = await resolver.resolve("https://slow.example/b")  # fetched now: the busy answer was not cached
    assert again.ok and fake.calls["https://slow.example/b"] == 1


async def test_a_pool_timeout_is_busy_and_not_cached_while_a_server_timeout_is() -> None:
    resolver, fake = resolver_with_fake()
    fake.outcome["https://a.example/"] = Refusal("https://a.example/", "busy: no free connection")
    fake.outcome["https://b.example/"] = Refusal("https://b.example/", "timeout")
    for url in ("https://a.example/", "https://b.example/"):
        assert not (await resolver.resolve(url)).ok
        await resolver.resolve(url)
    assert fake.calls["https://a.example/"] == 2 and fake.calls["https://b.example/"] == 1


async def test_safe_fetcher_reports_a_full_pool_as_busy() -> None:
    async def public_dns(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    resolver = LinkResolver(resolver=public_dns)

    async def full_pool(request: httpx.Request) -> httpx.Response:
        raise httpx.PoolTimeout("no connection available")

    resolver.fetcher._transport.handle_async_request = full_pool  # type: ignore[method-assign]
    result = await resolver.resolve("https://example.com/page")
    assert result.reason.startswith("busy")
    assert resolver.cache.get("https://example.com/page") is None
    await resolver.aclose()


@pytest.mark.parametrize("label", ["rot13", "base64", "idna", "zlib", "hex", "unicode_escape", "punycode",
                                   "uu", "bz2", "quopri", "utf-7", "undefined", "x-nonsense"])
def test_non_text_charset_names_are_ignored(label: str) -> None:
    body = f'<html><head><meta charset="{label}"><title>Caf\u00e9 news</title></head></html>'.encode()
    assert "Caf\u00e9 news" in decode_html(body, label)
    assert extract_page(body, "https://e.example/").title == "Caf\u00e9 news"


@pytest.mark.parametrize("bom, codec", [(codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
                                        (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF8, "utf-8")])
def test_byte_order_marks_are_honoured(bom: bytes, codec: str) -> None:
    html = "<html><head><title>\u041f\u0440\u0438\u0432\u0435\u0442 world</title></head></html>"
    assert decode_html(bom + html.encode(codec), "iso-8859-1") == html
