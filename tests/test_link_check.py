"""Links through the engine: a page's headline or ClaimReview is matched, and the outlet note is added."""

import json
from pathlib import Path

import pytest
from aiohttp import web

from bot.cli import main
from bot.links import LinkResolver

PAGES = Path(__file__).parent / "pages"
PATHS = {"/politics/iran-bounties": "cnn_iran_bounties.html", "/news/biolabs": "sputnik_article.html"}


@pytest.fixture
async def site():
    app = web.Application()
    async def page(request):
        return web.Response(body=(PAGES / PATHS[request.path]).read_bytes(), content_type="text/html")

    app.router.add_get("/politics/iran-bounties", page)
    app.router.add_get("/news/biolabs", page)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]
    yield port
    await runner.cleanup()


def resolver_for(port: int) -> LinkResolver:
    async def dns(host: str, _port: int) -> list[str]:
        return ["127.0.0.1"]  # every test host name lives on loopback

    return LinkResolver(allow_private=True, resolver=dns)


async def test_headline_of_linked_page_matches_with_outlet_note(engine, site):
    resolver = resolver_for(site)
    try:
        r = await engine.check_message(f"look http://edition.cnn.com:{site}/politics/iran-bounties?utm_source=tw", resolver)
    finally:
        await resolver.aclose()
    assert r.link["ok"], r.link
    assert "Iran paid bounties" in json.dumps(r.link)
    assert r.decision == "match" and r.matches[0].id == "iran-taliban-bounties-2020"
    assert r.outlet is not None and r.outlet.domain == "cnn.com"
    assert r.card.outlet == r.outlet


async def test_outlet_note_without_a_match(engine, site):
    resolver = resolver_for(site)
    try:
        r = await engine.check_message(f"http://www.sputniknews.com:{site}/news/biolabs", resolver)
    finally:
        await resolver.aclose()
    assert r.outlet is not None and r.outlet.rsp_label == "Deprecated"
    assert r.to_dict()["outlet"]["domain"] == "sputniknews.com"


async def test_refused_link_still_answers_from_text(engine):
    resolver = LinkResolver()  # production settings: loopback refused
    try:
        r = await engine.check_message("Russia paid Taliban-linked militants to kill American soldiers http://127.0.0.1:9/x", resolver)
    finally:
        await resolver.aclose()
    assert r.decision == "match" and r.matches[0].id == "russia-gru-taliban-bounties-2020"
    assert r.link["ok"] is False and "refused" in r.link["reason"]


def test_check_json_url_cli_includes_link_and_outlet(knowledge_db, capsys):
    # A refused (internal) address: the JSON still has `link` (with the reason) and `outlet` keys.
    assert main(["check", "--db", str(knowledge_db), "--json", "http://169.254.169.254/latest/meta-data"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["link"]["ok"] is False and "outlet" in out
