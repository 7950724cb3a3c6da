"""Links through the engine: a page's headline or ClaimReview is matched, and the outlet note is added."""

import json
from pathlib import Path

import pytest

from bot.chat import checking
from bot.cli import main
from bot.links import LinkResolver
from tests.fakes.pages import html_site

PAGES = Path(__file__).parent / "pages"


@pytest.fixture
async def site():
    async with html_site({"/politics/iran-bounties": (PAGES / "cnn_iran_bounties.html").read_bytes(),
                          "/news/biolabs": (PAGES / "sputnik_article.html").read_bytes()}) as base:
        yield int(base.rsplit(":", 1)[1])


async def check_with_loopback_dns(engine, text: str):
    """Every host name resolves to 127.0.0.1, where the test site listens."""

    async def dns(host: str, _port: int) -> list[str]:
        return ["127.0.0.1"]

    resolver = LinkResolver(allow_private=True, resolver=dns)
    try:
        return await checking.check(engine, text, resolver=resolver)
    finally:
        await resolver.aclose()


async def test_headline_of_linked_page_matches_with_outlet_note(engine, site):
    r = await check_with_loopback_dns(engine, f"look http://edition.cnn.com:{site}/politics/iran-bounties?utm_source=tw")
    assert r.link["ok"], r.link
    assert "Iran paid bounties" in json.dumps(r.link)
    assert r.decision == "match" and r.matches[0].id == "iran-taliban-bounties-2020"
    assert r.outlet is not None and r.outlet.domain == "cnn.com"
    assert r.card.outlet == r.outlet


async def test_outlet_note_without_a_match(engine, site):
    r = await check_with_loopback_dns(engine, f"http://www.sputniknews.com:{site}/news/biolabs")
    assert r.outlet is not None and r.outlet.rsp_label == "Deprecated"
    assert r.to_dict()["outlet"]["domain"] == "sputniknews.com"


async def test_refused_link_still_answers_from_text(engine):
    resolver = LinkResolver()  # production settings: loopback refused
    try:
        r = await checking.check(engine, "Russia paid Taliban-linked militants to kill American soldiers http://127.0.0.1:9/x",
                                 resolver=resolver)
    finally:
        await resolver.aclose()
    assert r.decision == "match" and r.matches[0].id == "russia-gru-taliban-bounties-2020"
    assert r.link["ok"] is False and "refused" in r.link["reason"]


def test_check_json_url_cli_includes_link_and_outlet(knowledge_db, capsys):
    # A refused (internal) address: the JSON still has `link` (with the reason) and `outlet` keys.
    assert main(["check", "--db", str(knowledge_db), "--json", "http://169.254.169.254/latest/meta-data"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["link"]["ok"] is False and "outlet" in out
