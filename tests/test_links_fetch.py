"""The safe fetcher and LinkResolver against local HTTP(S) servers on 127.0.0.1.

Every server here is bounded: endless or stalling responses stop by themselves after a few seconds
or a few tens of MB, and every test runs with short time limits.
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import ssl
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

import httpcore
import httpx
import pytest
from aiohttp import web

from bot.links import FetchResult, LinkResolver
from bot.links.fetch import USER_AGENT, Fetched, Refusal, SafeFetcher
from bot.links.transport import PinnedBackend, PinnedTransport

PAGES = Path(__file__).resolve().parent / "pages"
HARD_STOP_BYTES = 64 * 1024 * 1024  # the endless stream gives up here: a cap that was not enforced shows
HARD_STOP_SECONDS = 4.0


@dataclass
class Site:
    """State a test can inspect: what the server saw and sent."""

    hits: Counter[str] = field(default_factory=Counter)
    hosts: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    stream_sent: list[int] = field(default_factory=list)  # bytes sent by /forever before it stopped
    stream_cut: list[bool] = field(default_factory=list)  # True when the client hung up
    fail_first: int = 0


def make_app(site: Site) -> web.Application:
    async def record(request: web.Request) -> None:
        site.hits[request.path] += 1
        site.hosts.append(request.headers.get("Host", ""))
        site.agents.append(request.headers.get("User-Agent", ""))

    async def page(request: web.Request) -> web.Response:
        await record(request)
        name = request.match_info["name"]
        path = PAGES / name
        if "/" in name or not path.is_file():
            return web.Response(status=404, text="no such page")
        ctype = request.query.get("ctype", "text/html; charset=utf-8")
        return web.Response(body=path.read_bytes(), headers={"Content-Type": ctype})

    async def flaky(request: web.Request) -> web.Response:
        await record(request)
        if site.hits[request.path] <= site.fail_first:
            return web.Response(status=503, text="busy")
        return web.Response(body=(PAGES / "title_only.html").read_bytes(), content_type="text/html")

    async def chain(request: web.Request) -> web.Response:
        await record(request)
        n = int(request.match_info["n"])
        if n <= 0:
            return web.Response(body=(PAGES / "title_only.html").read_bytes(), content_type="text/html")
        raise web.HTTPFound(f"/chain/{n - 1}")

    async def to(request: web.Request) -> web.Response:
        await record(request)
        raise web.HTTPFound(request.query["loc"])

    async def pdf(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(body=b"%PDF-1.7\n" + b"0" * 1000, content_type="application/pdf")

    async def forever(request: web.Request) -> web.StreamResponse:
        await record(request)
        resp = web.StreamResponse(headers={"Content-Type": "text/html"})
        await resp.prepare(request)
        chunk = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>\n"
        sent, finished = 0, False
        deadline = time.monotonic() + HARD_STOP_SECONDS
        try:
            await resp.write(b"<html><head><title>endless</title></head><body>")
            while sent < HARD_STOP_BYTES and time.monotonic() < deadline:
                await resp.write(chunk)
                sent += len(chunk)
            finished = True
        except (ConnectionError, RuntimeError):
            pass
        finally:  # also on cancellation, which is how aiohttp reports a client that hung up
            site.stream_sent.append(sent)
            site.stream_cut.append(not finished)
        return resp

    async def declared_big(request: web.Request) -> web.StreamResponse:
        await record(request)
        resp = web.StreamResponse(headers={"Content-Type": "text/html", "Content-Length": str(50_000_000)})
        await resp.prepare(request)
        try:
            await resp.write(b"<html>")
            await asyncio.sleep(HARD_STOP_SECONDS)
        except (ConnectionError, RuntimeError):
            pass
        return resp

    async def bomb(request: web.Request) -> web.Response:
        await record(request)
        body = gzip.compress(b"<html><title>bomb</title>" + b" " * 30_000_000, compresslevel=9)
        return web.Response(body=body, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})

    async def gzipped(request: web.Request) -> web.Response:
        await record(request)
        body = gzip.compress((PAGES / "cnn_iran_bounties.html").read_bytes())
        return web.Response(body=body, headers={"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"})

    async def stall(request: web.Request) -> web.Response:
        await record(request)
        await asyncio.sleep(HARD_STOP_SECONDS)
        return web.Response(text="<title>late</title>", content_type="text/html")

    async def drip(request: web.Request) -> web.StreamResponse:
        await record(request)
        resp = web.StreamResponse(headers={"Content-Type": "text/html"})
        await resp.prepare(request)
        try:
            for _ in range(int(HARD_STOP_SECONDS / 0.1)):
                await resp.write(b" ")
                await asyncio.sleep(0.1)
        except (ConnectionError, RuntimeError):
            pass
        return resp

    async def plain(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(body=(PAGES / "rt_cp1251.html").read_bytes(), headers={"Content-Type": "text/html"})

    app = web.Application()
    app.router.add_get("/page/{name}", page)
    app.router.add_get("/flaky", flaky)
    app.router.add_get("/chain/{n}", chain)
    app.router.add_get("/to", to)
    app.router.add_get("/pdf", pdf)
    app.router.add_get("/forever", forever)
    app.router.add_get("/declared-big", declared_big)
    app.router.add_get("/bomb", bomb)
    app.router.add_get("/gzipped", gzipped)
    app.router.add_get("/stall", stall)
    app.router.add_get("/drip", drip)
    app.router.add_get("/cp1251", plain)
    return app


@dataclass
class Server:
    site: Site
    port: int

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"


async def start(site: Site, ssl_context: ssl.SSLContext | None = None) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(make_app(site), shutdown_timeout=0.5, handler_cancellation=True)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await tcp.start()
    port = runner.addresses[0][1]
    return runner, port


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    site = Site()
    runner, port = await start(site)
    try:
        yield Server(site, port)
    finally:
        await runner.cleanup()


@pytest.fixture
async def links() -> AsyncIterator[Callable[..., LinkResolver]]:
    made: list[LinkResolver] = []

    def make(**kwargs: object) -> LinkResolver:
        kwargs.setdefault("connect_timeout", 1)
        kwargs.setdefault("read_timeout", 1)
        kwargs.setdefault("total_timeout", 2)
        r = LinkResolver(**kwargs)  # type: ignore[arg-type]
        made.append(r)
        return r

    yield make
    for r in made:
        await r.aclose()


def fixed_dns(table: dict[str, list[str]]) -> Callable[[str, int], Awaitable[list[str]]]:
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]

    return resolve


# ------------------------------------------------------------------------------------------ pages & cache

async def test_fetches_cnn_like_page_with_headline_and_user_agent(server: Server, links) -> None:
    r = links(allow_private=True)
    result = await r.resolve(server.url("/page/cnn_iran_bounties.html"))
    assert result.ok and result.reason == "" and result.page is not None
    assert result.page.headline_candidates()[0] == "Iran paid bounties to Taliban fighters for targeting US troops, intelligence suggests"
    assert result.page.site_name == "CNN"
    assert server.site.agents == [USER_AGENT] and USER_AGENT.startswith("claim-context/0.1 (+link-preview;")
    assert result.to_dict()["page"]["headline"] == result.page.headline


async def test_factcheck_page_yields_claim_reviews_over_http(server: Server, links) -> None:
    r = links(allow_private=True)
    result = await r.resolve(server.url("/page/factcheck_graph.html"))
    assert result.ok and result.page is not None
    assert [(c.rating, c.claimant) for c in result.page.claim_reviews] == [("False", 'Telegram channel "Rybar"'), ("Fabricated", "Anonymous X user")]


async def test_sputnik_like_page_title_suffix_stripped_over_http(server: Server, links) -> None:
    r = links(allow_private=True)
    result = await r.resolve(server.url("/page/sputnik_article.html"))
    assert result.ok and result.page is not None
    assert result.page.headline_candidates() == ["Pentagon Leak Shows US Knew About Bioweapon Labs in Ukraine, Moscow Claims"]


async def test_gzip_body_and_header_less_charset(server: Server, links) -> None:
    r = links(allow_private=True)
    zipped = await r.resolve(server.url("/gzipped"))
    assert zipped.ok and zipped.page and zipped.page.site_name == "CNN"
    russian = await r.resolve(server.url("/cp1251"))  # Content-Type without charset: <meta> decides
    assert russian.ok and russian.page and russian.page.headline_candidates() == ["Захарова назвала ложью сообщения о выплатах Ирана талибам"]


async def test_hundred_shares_are_one_fetch_tracking_params_ignored(server: Server, links) -> None:
    r = links(allow_private=True)
    base = server.url("/page/cnn_iran_bounties.html")
    variants = [base, base + "?utm_source=twitter", base + "?fbclid=abc#top", base + "?utm_medium=social&gclid=9"]
    results = [await r.resolve(variants[i % len(variants)]) for i in range(100)]
    assert all(res.ok for res in results)
    assert server.site.hits["/page/cnn_iran_bounties.html"] == 1
    assert r.stats["fetches"] == 1 and r.stats["cache_hits"] == 99
    assert results[1].url == variants[1]  # each caller sees the URL they asked about
    assert results[1].page is not None and results[1].page.headline == results[0].page.headline


async def test_hundred_concurrent_requests_coalesce_into_one_fetch(server: Server, links) -> None:
    r = links(allow_private=True)
    base = server.url("/page/factcheck_graph.html")
    results = await asyncio.gather(*(r.resolve(f"{base}?utm_source=s{i}") for i in range(100)))
    assert all(res.ok for res in results)
    assert server.site.hits["/page/factcheck_graph.html"] == 1
    assert r.stats["fetches"] == 1 and r.stats["coalesced"] == 99


async def test_failures_are_cached_briefly_then_retried(server: Server, links) -> None:
    server.site.fail_first = 1
    r = links(allow_private=True, failure_ttl=60, ttl=3600)
    url = server.url("/flaky")
    first = await r.resolve(url)
    assert not first.ok and first.reason == "http 503" and first.page is None
    again = await r.resolve(url + "?utm_source=x")
    assert again.reason == "http 503" and server.site.hits["/flaky"] == 1  # served from the failure cache
    r.cache.clock = lambda: time.monotonic() + 61  # failure_ttl has passed; success ttl has not
    recovered = await r.resolve(url)
    assert recovered.ok and server.site.hits["/flaky"] == 2
    r.cache.clock = lambda: time.monotonic() + 120
    assert (await r.resolve(url)).ok and server.site.hits["/flaky"] == 2  # success still cached after 120 s
    r.cache.clock = lambda: time.monotonic() + 61 + 3601  # success stored at +61, ttl 3600
    assert (await r.resolve(url)).ok and server.site.hits["/flaky"] == 3


# ------------------------------------------------------------------------------------------ refusals

@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "localhost.test"],
)
async def test_loopback_refused_without_allow_private(server: Server, links, host: str) -> None:
    r = links(resolver=fixed_dns({"localhost.test": ["127.0.0.1"]}))
    result = await r.resolve(server.url("/page/title_only.html", host=host))
    assert not result.ok and result.page is None
    assert result.reason.startswith("refused: address ") and "loopback" in result.reason, result.reason
    assert server.site.hits.total() == 0  # nothing reached the server


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://10.0.0.1/", "refused: address 10.0.0.1 is private"),
        ("http://192.168.0.1:8080/admin", "refused: address 192.168.0.1 is private"),
        ("http://169.254.169.254/latest/meta-data/", "refused: address 169.254.169.254 is link-local"),
        ("http://100.100.100.200/", "refused: address 100.100.100.200 is shared (CGNAT)"),
        ("http://0.0.0.0/", "refused: address 0.0.0.0 is unspecified"),
        ("http://[fd00::1]/", "refused: address fd00::1 is private"),
        ("http://[64:ff9b::a00:1]/", "refused: address 64:ff9b::a00:1 is private (NAT64)"),
        ("http://[2002:a00:1::1]/", "refused: address 2002:a00:1::1 is private (6to4)"),
        ("http://999.0.0.1/", "refused: numeric host out of range: 999.0.0.1"),
        ("http://012.0.0.1/", "refused: address 10.0.0.1 is private"),  # octal 012 = 10
    ],
)
async def test_private_literals_refused(links, url: str, expected: str) -> None:
    result = await links().resolve(url)
    assert (result.ok, result.reason) == (False, expected)


async def test_hostname_resolving_to_any_private_address_is_refused(links) -> None:
    calls: list[str] = []

    async def dns(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["93.184.216.34", "10.0.0.7"]  # one public, one private: the attacker picks the order

    r = links(resolver=dns)
    result = await r.resolve("https://news.example.com/story")
    assert (result.ok, result.reason) == (False, "refused: address 10.0.0.7 is private")
    assert calls == ["news.example.com"]
    assert list(r.fetcher.backend.connections) == []  # refused before any connection


async def test_even_allow_private_refuses_metadata_link_local_multicast_unspecified(links) -> None:
    r = links(allow_private=True, resolver=fixed_dns({"metadata.test": ["169.254.169.254"], "mc.test": ["239.1.1.1"]}))
    for url, word in [
        ("http://169.254.169.254/latest/", "link-local"),
        ("http://metadata.test/latest/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://mc.test/", "multicast"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
    ]:
        result = await r.resolve(url)
        assert not result.ok and result.reason.startswith("refused: address") and word in result.reason, (url, result.reason)
    assert list(r.fetcher.backend.connections) == []


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://metadata.internal/computeMetadata/v1/",
        "http://0xa9fea9fe/",
        "http://[::ffff:169.254.169.254]/",
        "file:///etc/passwd",
        "http://admin:pw@127.0.0.1/",
    ],
)
async def test_redirect_to_internal_address_is_refused_before_connecting(server: Server, links, location: str) -> None:
    # allow_private=True so the local server is reachable; the metadata service must stay out of reach.
    dns = fixed_dns({"metadata.internal": ["169.254.169.254"]})
    r = links(allow_private=True, resolver=dns)
    result = await r.resolve(server.url("/to") + "?loc=" + httpx.QueryParams({"x": location})["x"])
    assert not result.ok and result.reason.startswith("refused:"), result.reason
    assert server.site.hits["/to"] == 1
    dialled = {addr for _, addr, _ in r.fetcher.backend.connections}
    assert dialled == {"127.0.0.1"}  # the redirect target was never dialled


async def test_redirect_to_private_refused_when_private_not_allowed() -> None:
    """allow_private=False: a "public" host (fake network) redirects to a private one, which is never dialled."""
    dialled: list[str] = []
    site = Site()
    runner, port = await start(site)
    try:
        class ToLocalServer(httpcore.AsyncNetworkBackend):
            # Stands in for the internet: the "public" address 93.184.216.34 is served by the local server.
            def __init__(self) -> None:
                self.inner = httpcore.AnyIOBackend()

            async def connect_tcp(self, host: str, port_: int, timeout=None, local_address=None, socket_options=None):
                dialled.append(host)
                assert host == "93.184.216.34"
                return await self.inner.connect_tcp("127.0.0.1", port_, timeout=timeout)

        fetcher = SafeFetcher(
            resolver=fixed_dns({"news.example": ["93.184.216.34"], "intranet.example": ["192.168.1.20"]}),
            network_backend=ToLocalServer(), total_timeout=3,
        )
        try:
            for target in ("http://intranet.example/", "http://192.168.1.20/", "http://[fc00::5]/", f"http://127.0.0.1:{port}/page/title_only.html"):
                out = await fetcher.fetch(f"http://news.example:{port}/to?loc=" + httpx.QueryParams({"x": target})["x"])
                assert isinstance(out, Refusal) and out.reason.startswith("refused: address"), (target, out)
            ok = await fetcher.fetch(f"http://news.example:{port}/to?loc=/page/title_only.html")
            assert isinstance(ok, Fetched) and ok.final_url.endswith("/page/title_only.html")
        finally:
            await fetcher.aclose()
    finally:
        await runner.cleanup()
    assert set(dialled) == {"93.184.216.34"} and site.hits["/to"] == 5
    assert set(site.hosts) == {f"news.example:{port}"}


async def test_five_redirects_followed_six_refused(server: Server, links) -> None:
    r = links(allow_private=True)
    ok = await r.resolve(server.url("/chain/5"))
    assert ok.ok and ok.page is not None and ok.page.final_url == server.url("/chain/0")
    too_many = await r.resolve(server.url("/chain/6"))
    assert (too_many.ok, too_many.reason) == (False, "too many redirects (> 5)")
    assert server.site.hits["/chain/0"] == 1  # the sixth hop was never requested


async def test_streamed_body_is_cut_at_the_cap(server: Server, links) -> None:
    r = links(allow_private=True, max_bytes=200_000, total_timeout=5)
    result = await r.resolve(server.url("/forever"))
    assert (result.ok, result.reason) == (False, "too large")
    for _ in range(50):  # let the server notice the hang-up
        if server.site.stream_cut:
            break
        await asyncio.sleep(0.05)
    # The client hung up; the server had sent a bounded amount (cap + socket buffers), far from the hard stop.
    assert server.site.stream_cut == [True]
    assert server.site.stream_sent[0] < HARD_STOP_BYTES // 4


async def test_declared_oversize_refused_without_reading(server: Server, links) -> None:
    r = links(allow_private=True, max_bytes=1_000_000)
    started = time.monotonic()
    result = await r.resolve(server.url("/declared-big"))
    assert (result.ok, result.reason) == (False, "too large")
    assert time.monotonic() - started < HARD_STOP_SECONDS  # did not wait for the body


async def test_compression_bomb_cut_at_decoded_cap(server: Server, links) -> None:
    r = links(allow_private=True, max_bytes=500_000)
    result = await r.resolve(server.url("/bomb"))  # ~30 KB on the wire, 30 MB decoded
    assert (result.ok, result.reason) == (False, "too large")


@pytest.mark.parametrize("path", ["/stall", "/drip"])
async def test_slow_responses_time_out_within_the_limit(server: Server, links, path: str) -> None:
    r = links(allow_private=True, connect_timeout=0.5, read_timeout=0.5, total_timeout=1.0)
    started = time.monotonic()
    result = await r.resolve(server.url(path))
    elapsed = time.monotonic() - started
    assert (result.ok, result.reason) == (False, "timeout")
    assert elapsed < 1.0 + 0.5  # /drip never trips the read timeout: the total limit stops it


async def test_non_html_refused(server: Server, links) -> None:
    r = links(allow_private=True)
    assert (await r.resolve(server.url("/pdf"))).reason == "not html: application/pdf"
    json_page = await r.resolve(server.url("/page/title_only.html?ctype=application/json"))
    assert json_page.reason == "not html: application/json"
    xhtml = await r.resolve(server.url("/page/title_only.html?ctype=application/xhtml%2Bxml"))
    assert xhtml.ok


@pytest.mark.parametrize(
    "url",
    ["ftp://127.0.0.1/x", "file:///etc/passwd", "javascript:alert(document.cookie)", "data:text/html;base64,PHRpdGxlPng8L3RpdGxlPg==",
     "http://user:pass@127.0.0.1/", "http://:token@127.0.0.1/"],
)
async def test_bad_schemes_and_credentials_refused(server: Server, links, url: str) -> None:
    r = links(allow_private=True)
    result = await r.resolve(url.replace("127.0.0.1", f"127.0.0.1:{server.port}"))
    assert not result.ok and result.reason.startswith("refused: ")
    assert ("credentials" in result.reason) == ("@" in url)
    assert server.site.hits.total() == 0


async def test_garbage_input_never_raises(links) -> None:
    r = links()
    for junk in ["", "   ", "http://", "http://[::1", "http://exa mple.com/", "https://" + "a" * 5000 + ".com/", None, 42]:
        result = await r.resolve(junk)  # type: ignore[arg-type]
        assert isinstance(result, FetchResult) and not result.ok and result.reason


def test_from_settings_follows_the_environment_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import Settings

    monkeypatch.setenv("CLAIM_CONTEXT_ALLOW_PRIVATE_FETCH", "1")
    assert LinkResolver.from_settings(Settings.from_env()).fetcher.allow_private is True
    monkeypatch.delenv("CLAIM_CONTEXT_ALLOW_PRIVATE_FETCH")
    assert LinkResolver.from_settings(Settings.from_env()).fetcher.allow_private is False


async def test_dns_failure_is_a_result(links) -> None:
    r = links(resolver=fixed_dns({}))
    result = await r.resolve("https://no-such-host.example/")
    assert not result.ok and result.reason.startswith("dns failed")


# ------------------------------------------------------------------------------------------ DNS rebinding

async def test_dns_rebinding_connection_goes_to_the_checked_address(server: Server, links) -> None:
    """First answer passes the check; every later answer is the metadata service. Only the first is ever used."""
    answers: list[str] = []

    async def rebinding_dns(host: str, port: int) -> list[str]:
        answer = "127.0.0.1" if not answers else "169.254.169.254"
        answers.append(answer)
        return [answer]

    r = links(allow_private=True, resolver=rebinding_dns)
    result = await r.resolve(f"http://rebind.test:{server.port}/page/bbc_like.html")
    assert result.ok, result.reason
    assert answers == ["127.0.0.1"]  # resolved once, by us; httpx never looked the name up again
    assert list(r.fetcher.backend.connections) == [("rebind.test", "127.0.0.1", server.port)]
    assert server.site.hosts == [f"rebind.test:{server.port}"]  # Host header kept


async def test_dns_rebinding_public_then_loopback_never_dials_loopback() -> None:
    answers = iter([["93.184.216.34"], ["127.0.0.1"], ["127.0.0.1"]])
    resolved: list[list[str]] = []
    dialled: list[str] = []

    async def dns(host: str, port: int) -> list[str]:
        resolved.append(next(answers))
        return resolved[-1]

    class NoInternet(httpcore.AsyncNetworkBackend):
        async def connect_tcp(self, host: str, port: int, timeout=None, local_address=None, socket_options=None):
            dialled.append(host)
            raise httpcore.ConnectError("no route to host (test network)")

    fetcher = SafeFetcher(resolver=dns, network_backend=NoInternet(), total_timeout=2)
    try:
        out = await fetcher.fetch("http://rebind.example/")
    finally:
        await fetcher.aclose()
    assert isinstance(out, Refusal) and out.reason.startswith("connect failed")
    assert resolved == [["93.184.216.34"]] and dialled == ["93.184.216.34"]


async def test_transport_refuses_hosts_the_fetcher_did_not_check(server: Server) -> None:
    """Used on its own (no pins), the pinned transport connects nowhere: no path around the checks."""
    async with httpx.AsyncClient(transport=PinnedTransport(backend=PinnedBackend())) as client:
        with pytest.raises(httpx.ConnectError, match="refused: no checked address"):
            await client.get(server.url("/page/title_only.html"))
    assert server.site.hits.total() == 0


# ------------------------------------------------------------------------------------------ TLS

def _self_signed(tmp: Path, name: str) -> tuple[Path, Path]:
    cert, key = tmp / f"{name}.crt", tmp / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
         "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=20,
    )
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a test certificate")
async def test_tls_uses_original_host_for_sni_and_certificate(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path, "news.example")
    seen_sni: list[str | None] = []
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    server_ctx.sni_callback = lambda sock, name, ctx: seen_sni.append(name)
    site = Site()
    runner, port = await start(site, ssl_context=server_ctx)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    dns = fixed_dns({"news.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]})
    fetcher = SafeFetcher(allow_private=True, resolver=dns, verify=client_ctx, total_timeout=3)
    try:
        ok = await fetcher.fetch(f"https://news.example:{port}/page/cnn_iran_bounties.html")
        assert isinstance(ok, Fetched), ok
        assert seen_sni == ["news.example"] and site.hosts == [f"news.example:{port}"]
        # Same checked IP, but the certificate does not name this host: verification still fails.
        bad = await fetcher.fetch(f"https://other.example:{port}/page/cnn_iran_bounties.html")
        assert isinstance(bad, Refusal) and "certificate" in bad.reason.lower(), bad
    finally:
        await fetcher.aclose()
        await runner.cleanup()
