"""`python -m benchmarks links`: metadata extraction time per page, and what the safe fetcher and the
cache cost per link, against a local aiohttp server on 127.0.0.1 (no internet).

Extraction runs over the HTML fixtures in tests/pages (plus one ~1 MB page built from them) many
times each. Fetching compares, over a bounded number of requests: a bare httpx client (baseline),
LinkResolver uncached (every URL distinct: checks, pinned connect, redirect-free fetch, extraction),
LinkResolver cached (same link shared again), and N concurrent shares of one new link (coalesced).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from benchmarks.metrics import percentile
from benchmarks import ROOT

PAGES = ROOT / "tests" / "pages"




def _summary(samples_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(samples_ms),
        "p50_ms": round(percentile(samples_ms, 50), 3),
        "p99_ms": round(percentile(samples_ms, 99), 3),
        "mean_ms": round(statistics.fmean(samples_ms), 3) if samples_ms else 0.0,
    }


def _big_page() -> bytes:
    """A ~1 MB article: the CNN-like fixture with its body paragraphs repeated (long pages exist)."""
    html = (PAGES / "cnn_iran_bounties.html").read_text(encoding="utf-8")
    head, sep, rest = html.partition("<main")
    para = "<p class='paragraph'>" + "Officials said the assessment was briefed to lawmakers. " * 8 + "</p>\n"
    return (head + "<div>" + para * (1_000_000 // len(para)) + "</div>" + sep + rest).encode("utf-8")


def bench_extraction(reps: int) -> dict[str, dict[str, float]]:
    from bot.links import extract_page

    pages = {p.name: p.read_bytes() for p in sorted(PAGES.glob("*.html"))}
    pages["big_1mb (cnn body x ~1 MB)"] = _big_page()
    out: dict[str, dict[str, float]] = {}
    for name, body in pages.items():
        n = reps if len(body) < 100_000 else max(5, reps // 20)
        extract_page(body, "https://news.example/warmup")
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            extract_page(body, "https://news.example/article")
            samples.append((time.perf_counter() - t0) * 1000)
        out[name] = {**_summary(samples), "bytes": len(body)}
    return out


async def _bench_fetch(requests: int) -> dict[str, dict[str, float]]:
    import httpx
    from aiohttp import web

    from bot.links import LinkResolver

    body = (PAGES / "cnn_iran_bounties.html").read_bytes()

    async def page(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="text/html", charset="utf-8")

    app = web.Application()
    app.router.add_get("/article", page)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}/article"
    out: dict[str, dict[str, float]] = {}

    async def timed(label: str, call: Any, urls: list[str]) -> None:
        samples = []
        t_all = time.perf_counter()
        for url in urls:
            t0 = time.perf_counter()
            await call(url)
            samples.append((time.perf_counter() - t0) * 1000)
        total = time.perf_counter() - t_all
        out[label] = {**_summary(samples), "req_per_s": round(len(urls) / total, 1)}

    try:
        async with httpx.AsyncClient(trust_env=False) as client:
            async def bare(url: str) -> None:
                (await client.get(url)).raise_for_status()

            await bare(base)
            await timed("httpx bare GET (baseline)", bare, [f"{base}?id={i}" for i in range(requests)])

        resolver = LinkResolver(allow_private=True)
        try:
            async def resolve(url: str) -> None:
                result = await resolver.resolve(url)
                assert result.ok, result.reason

            await resolve(f"{base}?warm=1")
            await timed("LinkResolver uncached (fetch+extract)", resolve, [f"{base}?id={i}" for i in range(requests)])
            await timed("LinkResolver cached (same link)", resolve, [f"{base}?id=0&utm_source=s{i}" for i in range(requests)])
            fetches_before = resolver.stats["fetches"]
            t0 = time.perf_counter()
            results = await asyncio.gather(*(resolver.resolve(f"{base}?id=new&fbclid={i}") for i in range(requests)))
            wall = (time.perf_counter() - t0) * 1000
            assert all(r.ok for r in results)
            out[f"{requests} concurrent shares (coalesced)"] = {
                "n": requests, "wall_ms": round(wall, 3), "fetches": resolver.stats["fetches"] - fetches_before,
            }
        finally:
            await resolver.aclose()
    finally:
        await runner.cleanup()
    return out


def run(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="claim-context bench links", description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--reps", type=int, default=200, help="extractions per fixture page (default 200)")
    ap.add_argument("--requests", type=int, default=500, help="requests per fetch scenario, at most 5000 (default 500)")
    args = ap.parse_args(argv or [])
    requests = max(1, min(args.requests, 5000))

    extraction = bench_extraction(max(1, args.reps))
    fetch = asyncio.run(_bench_fetch(requests))

    print(f"Extraction (extract_page, {args.reps} reps per page; fewer for the 1 MB page)")
    print(f"  {'page':<32} {'bytes':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for name, fig in extraction.items():
        print(f"  {name:<32} {fig['bytes']:>9} {fig['p50_ms']:>8.3f} {fig['p99_ms']:>8.3f}")
    print(f"\nFetching from 127.0.0.1 ({requests} sequential requests per row)")
    print(f"  {'scenario':<40} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>9}")
    for label, fig in fetch.items():
        if "p50_ms" in fig:
            print(f"  {label:<40} {fig['p50_ms']:>8.3f} {fig['p99_ms']:>8.3f} {fig['req_per_s']:>9.1f}")
        else:
            print(f"  {label:<40} wall {fig['wall_ms']:.1f} ms, {fig['fetches']} fetch(es)")
    return {"extraction": extraction, "fetch": fetch, "requests": requests, "reps": args.reps}


if __name__ == "__main__":  # pragma: no cover
    run(__import__("sys").argv[1:])
