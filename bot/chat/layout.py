"""The card layout, defined once: which sections a card has, in what order, with what labels.

Every front end renders these sections (plain text in bot/chat/render_text.py, Telegram HTML and Discord
embeds in their adapters) and decides only how a span looks. Spans are plain text with a style; URLs are
checked here once, so a renderer never turns a malformed URL into a link.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.chat.i18n import EN, N_, Translator
from bot.engine.cards import Card, CheckResult, FactCheck, ImageMatch, OutletNote, RelatedClaim, Source
from bot.engine.urlcheck import valid_http_url

STATUS_LABELS: dict[str, str] = {
    "true": N_("True"),
    "mostly-true": N_("Mostly true"),
    "misleading": N_("Misleading"),
    "disputed": N_("Disputed"),
    "unproven": N_("Unproven"),
    "unverified": N_("Unverified"),
    "false": N_("False"),
    "fact-checked": N_("Fact-checked"),  # imported ClaimReview items: see the rating
}
SOURCING_LABELS: dict[str, str] = {
    "anonymous-officials": N_("anonymous officials"),
    "anonymous-sources": N_("anonymous sources"),
    "named-officials": N_("named officials"),
    "official-statement": N_("official statement"),
    "official-report": N_("official report"),
    "documents": N_("documents"),
    "court-records": N_("court records"),
    "investigation": N_("investigative reporting"),
    "eyewitnesses": N_("eyewitnesses"),
    "social-media": N_("social media posts"),
    "unknown": N_("unknown"),
}
RELATED_NOTE = N_("Related known claim: your message is on the same topic but is not this claim.")
NO_MATCH = N_("No known claim matches this message.")
NOT_FOUND_HINT = N_("If you think this claim deserves context, report it to the curators: "
                     "open an issue in the knowledge repository.")
NO_SOURCES = N_("No sources are recorded for this claim.")
# TRANSLATORS: shown under a claim whose file has no translation into the reader's language; name your language.
SHOWN_IN_ENGLISH = N_("Shown in English: there is no translation of this claim into this language yet.")


def status_label(status: str, t: Translator = EN) -> str:
    return t(STATUS_LABELS[status]) if status in STATUS_LABELS else status.capitalize()


def sourcing_label(sourcing: str, t: Translator = EN) -> str:
    return t(SOURCING_LABELS[sourcing]) if sourcing in SOURCING_LABELS else sourcing


_SURROGATES = re.compile("[\ud800-\udfff]")


def scrub(text: str) -> str:
    """Text that every platform can encode: lone surrogates (from JSON imports, broken clients) become U+FFFD."""
    return _SURROGATES.sub("\ufffd", text) if isinstance(text, str) else str(text)


@dataclass(frozen=True)
class Span:
    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    href: str = ""  # only ever a valid http(s) URL (see link())

    def __post_init__(self) -> None:
        if _SURROGATES.search(self.text):
            object.__setattr__(self, "text", scrub(self.text))


Line = tuple[Span, ...]


def link(url: str, label: str = "link", *, spelled_out: bool = False) -> Span:
    """A link span; a URL that is not a valid http(s) URL stays visible text and is never a link."""
    if spelled_out or not valid_http_url(url):
        return Span(url)
    return Span(label, href=url)


@dataclass(frozen=True)
class Section:
    """`key` names the section for renderers that place sections differently (embed fields);
    `title` is its label ("" for the header); `lines` its content; `bullets` whether lines are list items;
    `run_in` whether the title runs into the first line ("First reported: ...") in flowing text."""

    key: str
    title: str
    lines: tuple[Line, ...]
    bullets: bool = False
    run_in: bool = False


def source_line(s: Source, *, full_url: bool = False, t: Translator = EN) -> Line:
    """A dated, cited item: 'date, who/outlet: summary (reported by outlet) "headline" link'."""
    head = ", ".join(x for x in (s.date, s.who or s.outlet) if x)
    body = s.summary
    if s.who and s.outlet:
        reported = t("reported by {outlet}", outlet=s.outlet)
        body = f"{body} ({reported})" if body else reported
    if s.headline:
        shown = headline(s.headline)
        body = f"{body} {shown}" if body else shown
    text = f"{head}: {body}" if head and body else head or body
    return (Span(text), Span(" "), link(s.url, t("link"), spelled_out=full_url)) if s.url else (Span(text),)


def headline(text: str) -> str:
    """A headline in quotation marks, as published; a curator's [bracketed note] (no headline, or one not
    confirmed word for word) is shown as a note, never quoted."""
    text = text.strip()
    return text if text.startswith("[") and text.endswith("]") else f"\u201c{text}\u201d"


def fact_check_line(f: FactCheck, *, full_url: bool = False, t: Translator = EN) -> Line:
    rest = " ".join(x for x in (f"({f.date})" if f.date else "", headline(f.headline) if f.headline else "") if x)
    spans = [Span(f.publisher + ": "), Span(f.rating, bold=True)] + ([Span(" " + rest)] if rest else [])
    if f.url:
        spans += [Span(" "), link(f.url, t("link"), spelled_out=full_url)]
    return tuple(spans)


def outlet_lines(o: OutletNote, t: Translator = EN) -> list[Line]:
    lines: list[Line] = [(Span(o.name, bold=True), Span(f" ({o.domain})"))]
    if o.ownership:
        lines.append((Span(t("Ownership:") + " ", bold=True), Span(f"{o.ownership}. {o.ownership_note}".rstrip())))
        if o.ownership_citation:
            lines.append((Span(t("Source: {citation}", citation=o.ownership_citation), italic=True),))
    if o.rsp_label:
        year = t(", last discussed {year}", year=o.rsp_year) if o.rsp_year else ""
        lines.append((Span(t("Wikipedia perennial sources:") + " ", bold=True), Span(f"{o.rsp_label}{year}.")))
        if o.rsp_summary:
            lines.append((Span(o.rsp_summary),))
        lines.append((Span("(", italic=True), link(o.rsp_link, "Wikipedia"), Span(", CC BY-SA 4.0)", italic=True)))
    return lines


def related_line(r: RelatedClaim, t: Translator = EN) -> Line:
    return (Span(r.id, code=True), Span(" " + r.statement), Span(f" ({status_label(r.status, t)})", italic=True))


def _sourcing(card: Card, t: Translator) -> Line:
    detail = f" ({card.sourcing_detail})" if card.sourcing_detail else ""
    return (Span(t("Sourcing:") + " ", bold=True), Span(f"{sourcing_label(card.sourcing, t)}{detail}"))


def footer(card: Card, t: Translator = EN) -> str:
    """Confidence, review date and the claim id; the id ends the line in every language (`id: ...` is
    read back from Discord footers)."""
    percent = f"{card.confidence:.0%}"
    text = t("Match confidence: {percent}", percent=percent)
    if card.last_reviewed:
        text += " | " + t("Last reviewed: {date}", date=card.last_reviewed)
    return f"{text} | id: {card.claim_id}"


def shown_in_english(card: Card, t: Translator) -> bool:
    """The reader's language has no translation of this claim: its English text is shown, with a note."""
    return t.lang != card.lang


def image_section(m: ImageMatch, t: Translator = EN) -> Section:
    """A received picture that a claim file lists: what it shows, and who showed what is wrong with it."""
    line: Line = (Span(t("This picture is known:") + " ", bold=True), Span(m.description))
    if m.source is not None:
        line += (Span(" \u2014 "), *source_line(m.source, t=t))
    return Section("image", t("Known picture"), (line,))


def forward_section(channel: str, note: OutletNote, t: Translator = EN) -> Section:
    """The channel a message was forwarded from, named, with the note on the outlet behind it."""
    head: Line = (Span(t("Forwarded from {channel}", channel=channel), bold=True),)
    return Section("forwarded", t("About the channel"), (head, *outlet_lines(note, t)))


def card_sections(card: Card, outlet: OutletNote | None = None, *, full_urls: bool = False, t: Translator = EN,
                  image: ImageMatch | None = None, forwarded_from: str = "",
                  channel_outlet: OutletNote | None = None) -> list[Section]:
    """The card, in order. `outlet`: the note for the checked link when the card itself has none; `image`: the
    known picture the card was found from; `forwarded_from`, `channel_outlet`: the channel a forwarded message
    came from and its outlet's note (shown once, in the channel's section)."""
    header: list[Line] = [
        (Span(t("Claim:") + " ", bold=True), Span(card.statement)),
        (Span(t("Status:") + " ", bold=True), Span(status_label(card.status, t), bold=True),
         Span(f". {card.status_note}".rstrip() if card.status_note else "")),
    ]
    if shown_in_english(card, t):
        header.append((Span(t(SHOWN_IN_ENGLISH), italic=True),))
    if card.decision == "related":
        header.append((Span(t(RELATED_NOTE), italic=True),))
    out = [Section("claim", "", tuple(header))]
    if image is not None:
        out.append(image_section(image, t))
    if channel_outlet is not None and forwarded_from:
        out.append(forward_section(forwarded_from, channel_outlet, t))
    first: list[Line] = []
    if card.first_report:
        first.append(source_line(card.first_report, full_url=full_urls, t=t))
        if card.sourcing:
            first.append(_sourcing(card, t))
    if card.sourcing_notes:
        first.append((Span(t("Sourcing notes:") + " ", bold=True), Span(card.sourcing_notes)))
    if first:
        out.append(Section("first_report", t("First report"), tuple(first), run_in=True))
    lists = (("denials", t("Denials and disputes"), [source_line(s, full_url=full_urls, t=t) for s in card.denials]),
             ("developments", t("Later developments"), [source_line(s, full_url=full_urls, t=t) for s in card.developments]),
             ("fact_checks", t("Fact-checks"), [fact_check_line(f, full_url=full_urls, t=t) for f in card.fact_checks]),
             ("related", t("Related claims"), [related_line(r, t) for r in card.related]))
    out += [Section(key, title, tuple(lines), bullets=True) for key, title, lines in lists if lines]
    note = card.outlet or outlet
    if note and not (forwarded_from and note == channel_outlet):
        out.append(Section("outlet", t("About the outlet"), tuple(outlet_lines(note, t))))
    out.append(Section("footer", "", ((Span(footer(card, t), italic=True),),)))
    return out


def no_match_sections(result: CheckResult, t: Translator = EN, *, forwarded_from: str = "",
                      channel_outlet: OutletNote | None = None) -> list[Section]:
    out = [Section("claim", "", ((Span(t(NO_MATCH), bold=True),),))]
    if channel_outlet is not None and forwarded_from:
        out.append(forward_section(forwarded_from, channel_outlet, t))
    if result.outlet and not (forwarded_from and result.outlet == channel_outlet):
        out.append(Section("outlet", t("About the outlet"), tuple(outlet_lines(result.outlet, t))))
    out.append(Section("hint", "", ((Span(t(NOT_FOUND_HINT)),),)))
    return out


def result_sections(result: CheckResult, t: Translator = EN, *, forwarded_from: str = "",
                    channel_outlet: OutletNote | None = None) -> list[Section]:
    """A whole answer: the card (with the link's outlet note and the known picture), or 'no known claim' with
    the notes; with the forwarded message's channel when its outlet has a note."""
    if result.card is not None:
        return card_sections(result.card, result.outlet, t=t, image=result.image, forwarded_from=forwarded_from,
                             channel_outlet=channel_outlet)
    return no_match_sections(result, t, forwarded_from=forwarded_from, channel_outlet=channel_outlet)


def sources_sections(card: Card, t: Translator = EN) -> list[Section]:
    """Every cited item with its URL spelled out: the full list the card only summarises."""
    out = [Section("claim", "", ((Span(t("Sources for:") + " ", bold=True), Span(card.statement)),
                                 (Span("id: ", italic=True), Span(card.claim_id, code=True))))]
    body = [s for s in card_sections(card, full_urls=True, t=t)
            if s.key in ("first_report", "denials", "developments", "fact_checks", "outlet")]
    return out + (body or [Section("none", "", ((Span(t(NO_SOURCES), italic=True),),))])


def related_sections(card: Card, t: Translator = EN) -> list[Section]:
    if not card.related:
        return [Section("related", "", ((Span(t("Related claims:") + " ", bold=True), Span(t("none recorded for") + " "),
                                         Span(card.claim_id, code=True)),))]
    lines = tuple(related_line(r, t) for r in card.related)
    return [Section("claim", "", ((Span(t("Claims related to:") + " ", bold=True), Span(card.statement)),)),
            Section("related", "", lines, bullets=True)]


# Engine.about()'s keys, as titles (an unknown key is shown as it is named).
ABOUT_TITLES = {"claims": N_("Claims"), "curated_claims": N_("Curated claims"), "outlet_domains": N_("Outlet domains"),
                "last_reviewed": N_("Last reviewed"), "knowledge_version": N_("Knowledge version"),
                "sources": N_("Sources"), "licences": N_("Licences")}


def about_sections(about: dict[str, Any], t: Translator = EN) -> list[Section]:
    """Engine.about() laid out generically: the engine owns its shape."""
    head = Section("claim", "", ((Span(t("About this bot's knowledge base"), bold=True),),))
    facts: list[Line] = []
    out = [head]
    for key, value in about.items():
        title = t(ABOUT_TITLES[key]) if key in ABOUT_TITLES else str(key).replace("_", " ").capitalize()
        if isinstance(value, dict):
            out.append(Section(str(key), title, tuple((Span(f"{k}: {v}"),) for k, v in value.items()), bullets=True))
        elif isinstance(value, (list, tuple)):
            out.append(Section(str(key), title, tuple((Span(str(v)),) for v in value), bullets=True))
        else:
            facts.append((Span(f"{title}: ", bold=True), Span(str(value))))
    if facts:
        out.insert(1, Section("facts", "", tuple(facts)))
    return out


LOG_CHAT = N_("Log chat")
LOG_CHANNEL = N_("Log channel")


def settings_rows(s: Any, log_label: str = LOG_CHAT, log_value: str = "", t: Translator = EN) -> list[tuple[str, str]]:
    """Moderation settings (a moderation.ChatSettings) as (label, value) rows, the same on every platform
    (a platform may name the log chat in its own words and show it as a mention). The mode's value stays
    as typed in commands (reply, notify)."""
    off, none, hours = t("off"), t("none"), f"{s.cooldown_s / 3600:g}"
    quiet = (f"{s.quiet_start:02d}:00\u2013{s.quiet_end:02d}:00 UTC"
             if s.quiet_start is not None and s.quiet_end is not None else off)
    return [(t("Moderation"), t("on") if s.enabled else off), (t("Mode"), s.mode),
            (t(log_label), (log_value or str(s.log_chat_id)) if s.log_chat_id else none),
            (t("Cooldown"), t("{hours} h per claim", hours=hours)), (t("Quiet hours"), quiet),
            (t("Extra threshold"), f"{s.threshold:g}"), (t("Muted claims"), ", ".join(sorted(s.muted)) or none)]


def flag_lines(flags: Iterable[dict[str, Any]], t: Translator = EN) -> list[Line]:
    """The moderators' log, newest first: when, which claim, what was done, a link to the message."""
    lines: list[Line] = []
    for f in flags:
        when = f.get("ts")
        stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime(float(when))) if isinstance(when, (int, float)) else str(when or "")
        detail = ", ".join(f"{k}: {f[k]}" for k in ("action", "reason", "repeat_count", "message_id")
                           if f.get(k) not in (None, ""))
        message = str(f.get("message_link") or "")
        tail: Line = (Span(" "), link(message, t("message"))) if message else ()
        lines.append((Span(stamp + " "), Span(str(f.get("claim_id") or ""), code=True), Span(" " + detail)) + tail)
    return lines
