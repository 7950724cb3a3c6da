"""Telegram HTML rendering and the fake server's HTML/limit checks (no network)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.adapters.telegram import render as R  # noqa: E402
from bot.engine.cards import Card, OutletNote, RelatedClaim, Source  # noqa: E402
from tests.fakes.telegram_api import ParseError, parse_html, utf16_len  # noqa: E402

HOSTILE = "<b>bold</b> & <script>alert('x')</script> &amp; \"quotes\" </i>"


def card(**kw) -> Card:
    base = dict(claim_id="c-1", statement=HOSTILE, status="false", status_note=HOSTILE, decision="match", confidence=0.9,
                first_report=Source(date="2020-01-01", outlet=HOSTILE, headline=HOSTILE, url="https://ex.org/a?b=1&c=<2>"),
                sourcing="anonymous-officials", sourcing_detail=HOSTILE,
                related=(RelatedClaim("c-2", HOSTILE, "true"),),
                outlet=OutletNote(domain="rt.com", name=HOSTILE, rsp_label="Deprecated", rsp_link="javascript:alert(1)"))
    base.update(kw)
    return Card(**base)


def test_every_text_is_escaped_and_the_html_parses_back_to_the_original() -> None:
    html = R.to_html(R.card_lines(card()))
    visible = parse_html(html)
    assert visible.count(HOSTILE) >= 4  # statement, note, outlet, related: all shown literally
    assert "<script>" not in html and "href=\"javascript" not in html


@pytest.mark.parametrize("lines", [
    [(R.Seg("x" * 5000, bold=True),)],
    [(R.Seg("word " * 2000, href="https://example.org/"),)],
    [(R.Seg("\U0001F600" * 3000),)],  # astral characters count twice in UTF-16
    [(R.Seg(f"line {i} " + "&<>" * 40, italic=i % 2 == 0),) for i in range(300)],
])
def test_pages_fit_4096_units_and_lose_nothing(lines) -> None:
    pages = R.paginate(lines)
    assert len(pages) >= 2
    texts = [parse_html(p) for p in pages]  # every page is well-formed on its own
    assert all(utf16_len(t) <= 4096 for t in texts)
    original = "".join(s.text for line in lines for s in line)
    assert "".join(texts).replace("\n", "").replace(" ", "") == original.replace(" ", "")


def test_short_text_is_one_page_and_blank_lines_survive() -> None:
    pages = R.paginate([(R.Seg("a"),), (R.Seg(""),), (R.Seg("b"),)])
    assert pages == ["a\n\nb"]


def test_callback_fit_and_hash() -> None:
    assert R.fits_callback("s:" + "a" * 62) and not R.fits_callback("s:" + "a" * 63)
    assert not R.fits_callback("s:" + "é" * 32)
    assert R.short_hash("x") == R.short_hash("x") != R.short_hash("y")


@pytest.mark.parametrize("bad", ["<b>x", "<b>x</i>", "<script>x</script>", "a < b", "&nbsp;", "x &", "</b>"])
def test_fake_rejects_what_telegram_rejects(bad: str) -> None:
    with pytest.raises(ParseError):
        parse_html(bad)


@pytest.mark.parametrize("good,visible", [
    ("<b>x</b> &lt;&gt;&amp;&quot;&#39;&#x27;", "x <>&\"''"),
    ('<a href="https://e.org/?a=1&amp;b=2">l</a>', "l"),
    ("<i>a</i> > b", "a > b"),
])
def test_fake_accepts_valid_html(good: str, visible: str) -> None:
    assert parse_html(good) == visible
