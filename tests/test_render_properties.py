"""Property-based tests of the renderers (issue 16): for any text and any card, Telegram gets valid HTML
within 4,096 UTF-16 units a message (checked by the fake server's own parser), Discord gets embeds within
every documented limit, and the Discord echo's escape and unescape are inverses."""

from __future__ import annotations

import discord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.discord import render as dc
from bot.adapters.discord.responder import payload
from bot.adapters.telegram import render as tg
from bot.chat.i18n import translator
from bot.chat.messages import CardReply, Incoming, Notice
from bot.engine.cards import Card, CheckResult, FactCheck, OutletNote, RelatedClaim, Source
from tests.fakes.discord_api import validate_message
from tests.fakes.telegram_api import parse_html, utf16_len

# Any Unicode, lone surrogates, bidi controls and markup characters included.
TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=300)
MARKUP = st.text(alphabet=st.sampled_from(list("<>&\"'`*_~|\\[]()#-@ \n\u202e\u200b\ud800") + ["a", "é", "я", "😀"]),
                 max_size=200)
ANY_TEXT = st.one_of(TEXT, MARKUP)
URL = st.one_of(st.just(""), st.just("https://example.org/a?b=1&c=<2>"), st.just("http://"), st.just("https://[::1"),
                st.just("http://a..b/"), st.just("https://ex.com/\u202e"), ANY_TEXT.map(lambda s: "https://" + s))
SOURCE = st.builds(Source, date=ANY_TEXT, outlet=ANY_TEXT, headline=ANY_TEXT, url=URL, who=ANY_TEXT, summary=ANY_TEXT)
CARD = st.builds(
    Card, claim_id=st.from_regex(r"[a-z0-9]+(-[a-z0-9]+){0,3}", fullmatch=True), statement=ANY_TEXT,
    status=st.sampled_from(["true", "false", "unproven", "fact-checked", "odd"]), status_note=ANY_TEXT,
    decision=st.sampled_from(["match", "related"]), confidence=st.floats(0, 1),
    first_report=st.one_of(st.none(), SOURCE), sourcing=st.sampled_from(["", "unknown", "anonymous-officials"]),
    sourcing_detail=ANY_TEXT, sourcing_notes=ANY_TEXT, denials=st.lists(SOURCE, max_size=3).map(tuple),
    fact_checks=st.lists(st.builds(FactCheck, publisher=ANY_TEXT, rating=ANY_TEXT, date=ANY_TEXT, headline=ANY_TEXT,
                                   url=URL), max_size=3).map(tuple),
    developments=st.lists(SOURCE, max_size=3).map(tuple),
    related=st.lists(st.builds(RelatedClaim, id=ANY_TEXT, statement=ANY_TEXT, status=ANY_TEXT), max_size=3).map(tuple),
    outlet=st.one_of(st.none(), st.builds(OutletNote, domain=ANY_TEXT, name=ANY_TEXT, rsp_label=ANY_TEXT,
                                          rsp_summary=ANY_TEXT, rsp_link=URL, ownership=ANY_TEXT,
                                          ownership_note=ANY_TEXT, ownership_citation=ANY_TEXT)),
    last_reviewed=ANY_TEXT)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _reply(card: Card, checked: str, notice: bool) -> CardReply:
    msg = Incoming(platform="x", chat_id="1", text=checked, chat_title=checked)  # user text enters here
    n = Notice(msg.chat_title, "https://t.me/c/1/2", "2", msg.text, msg.text) if notice else None
    return CardReply(CheckResult(text=msg.text, decision=card.decision, card=card), checked_text=msg.text, notice=n)


@FAST
@given(CARD, ANY_TEXT, st.booleans())
def test_any_card_is_valid_telegram_html_within_limits(card: Card, checked: str, notice: bool) -> None:
    pages = tg.paginate(tg.card_reply_lines(_reply(card, checked, notice)), max_pages=tg.MAX_PAGES)
    assert 1 <= len(pages) <= tg.MAX_PAGES
    for page in pages:
        page.encode("utf-8")  # encodable: no lone surrogate reaches Telegram
        assert utf16_len(parse_html(page)) <= tg.MAX_MESSAGE  # the fake's parser: tags, entities, link URLs


@FAST
@given(CARD, ANY_TEXT, st.booleans())
def test_any_card_fits_every_discord_limit(card: Card, checked: str, notice: bool) -> None:
    out = payload(_reply(card, checked, notice))
    message = {"embeds": [e.to_dict() for e in out["embeds"]], "content": out.get("content")}
    validate_message(message)
    str(message).encode("utf-8")


def _echoed(text: str) -> str:
    """What the one-line echo keeps of a message: line breaks become spaces; zero-width spaces and isolate
    marks (the echo's own devices) go."""
    for mark in (dc.ZWSP, dc.FSI, dc.PDI):
        text = text.replace(mark, "")
    return text.replace("\n", " ").strip()


@settings(max_examples=400, deadline=None)
@given(ANY_TEXT, st.sampled_from(["", "\u2026", "...\u2026", "\u2068", "\u2069", "\\\u2026", "@everyone\u2026"]),
       st.sampled_from(["en", "ar", "fa"]))
def test_discord_echo_escape_and_unescape_are_inverses(text: str, end: str, lang: str) -> None:
    """Through the card's author line too (isolated in a right-to-left card): the user's own trailing "…" and
    isolate marks used to be taken for the echo's and the stored feedback text lost them."""
    text += end
    escaped = dc.escape_user_text(text)
    assert dc.unescape_user_text(escaped) == _echoed(text)
    for raw in ("@everyone", "@here"):
        assert raw not in escaped
    embed = discord.Embed(title="x")
    dc._echo(embed, text, translator(lang))
    if len(dc.escape_user_text(text)) <= dc.CHECKED_ECHO_MAX - 2:  # not cut
        assert dc.checked_text_of(embed) == _echoed(text)


def test_a_huge_statement_is_a_bounded_card() -> None:
    """An imported statement of 10 MB made a card of 4,886 pages and blocked the loop for 21.7 s."""
    card = Card("huge", "word " * 2_000_000, "false", "note", "match", 1.0)
    pages = tg.paginate(tg.card_lines(card), max_pages=tg.MAX_PAGES)
    assert len(pages) == tg.MAX_PAGES and "cut" in parse_html(pages[-1])
    assert sum(utf16_len(parse_html(p)) for p in pages) <= tg.MAX_PAGES * tg.MAX_MESSAGE
