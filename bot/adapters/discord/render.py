"""The chat layer's layout as Discord embeds, within Discord's documented limits. Pure functions.

Limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits): title 256,
description 4096, 25 fields, field name 256, field value 1024, footer 2048, author name 256, and 6000
characters in total across all embeds of one message; at most 10 embeds; content 2000.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import discord

from bot.chat import texts
from bot.chat.layout import (NO_MATCH, NOT_FOUND_HINT, RELATED_NOTE, Line, Section, Span, about_sections, card_sections,
                             flag_lines, footer, outlet_lines, related_sections, settings_rows, sources_sections,
                             status_label)
from bot.chat.messages import Notice
from bot.engine.cards import Card, CheckResult, OutletNote
from bot.engine.knowledge import CLAIM_ID

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
EMBEDS_MAX = 10
CONTENT_MAX = 2000
CUSTOM_ID_MAX = 100
CHOICE_NAME_MAX = 100
CHOICES_MAX = 25

ELLIPSIS = "\u2026"
CHECKED_PREFIX = "Checked: "
CHECKED_ECHO_MAX = 200  # the echoed message in the card's author line

STATUS_COLOURS: dict[str, int] = {
    "true": 0x2E7D32, "mostly-true": 0x689F38, "misleading": 0xEF6C00, "disputed": 0xF9A825,
    "unproven": 0x757575, "unverified": 0x9E9E9E, "false": 0xC62828, "fact-checked": 0x5865F2,
}
NO_MATCH_COLOUR = 0x546E7A
INFO_COLOUR = 0x5865F2


def truncate(text: str, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + ELLIPSIS


# Discord's markdown specials, escaped one character at a time so that unescape is an exact inverse.
_MARKDOWN = re.compile(r"([\\*_`~|>#\-\[\]()])")
_MENTION = re.compile(r"@(everyone|here|[!&]?[0-9]{17,20})")


def escape_user_text(text: str, limit: int | None = None) -> str:
    """User text we echo: markdown and mentions neutralised (allowed_mentions none is the second guard).
    Every special character gets one backslash and every `@` of a mention a zero-width space, so
    `unescape_user_text` recovers the text exactly; a cut never splits an escape."""
    out = _MARKDOWN.sub(r"\\\1", (text or "").replace("\u200b", "").replace("\n", " ").strip())
    out = _MENTION.sub("@\u200b\\1", out)
    if limit is not None and len(out) > limit:
        cut = out[: limit - 1]
        if len(cut) - len(cut.rstrip("\\")) & 1:  # an odd run of backslashes at the end: one escape was cut
            cut = cut[:-1]
        out = cut + ELLIPSIS
    return out


_UNESCAPE_RE = re.compile(r"\\([\\*_`~|>#\-\[\]()])")


def unescape_user_text(text: str) -> str:
    """Inverse of `escape_user_text` for the echo (the zero-width spaces it added are dropped)."""
    return _UNESCAPE_RE.sub(r"\1", text.replace("\u200b", "").removesuffix(ELLIPSIS))


def _kb(text: str) -> str:
    """Curated knowledge text: escaped so stray markdown in a headline cannot restyle the card."""
    return discord.utils.escape_markdown(text or "", ignore_links=True)


def span_md(s: Span) -> str:
    text = _kb(s.text)
    if s.code:
        return "`" + s.text.replace("`", "'") + "`"
    if s.href:
        return f"[{text}]({s.href.replace(')', '%29')})"
    if s.bold:
        return f"**{text}**"
    if s.italic and text.strip():
        return f"*{text}*"
    return text


def line_md(line: Line) -> str:
    return "".join(span_md(s) for s in line)


def _join_lines(lines: Sequence[str], limit: int, more_hint: str = "") -> str:
    """Whole lines up to `limit` characters, with '... and N more' when some do not fit."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        rest = len(lines) - i
        tail = f"\n{ELLIPSIS} and {rest - 1} more{more_hint}" if rest > 1 else ""
        piece = truncate(line, limit)
        need = len(piece) + (1 if out else 0)
        if used + need + (len(tail) if rest > 1 else 0) > limit:
            tail = f"{ELLIPSIS} and {rest} more{more_hint}"
            if used + len(tail) + (1 if out else 0) <= limit:
                out.append(tail)
            elif not out:
                out.append(truncate(line, limit))
            break
        out.append(piece)
        used += need
    return "\n".join(out)


def section_lines(section: Section) -> list[str]:
    return [("\u2022 " if section.bullets else "") + line_md(line) for line in section.lines]


def embed_size(embed: discord.Embed) -> int:
    """Characters that count towards the 6000 limit."""
    n = len(embed.title or "") + len(embed.description or "")
    n += sum(len(f.name or "") + len(f.value or "") for f in embed.fields)
    n += len(embed.footer.text or "") if embed.footer else 0
    n += len(embed.author.name or "") if embed.author else 0
    return n


def fit_embeds(embeds: list[discord.Embed]) -> list[discord.Embed]:
    """Enforce every per-embed limit, then the 6000 total by shortening the longest fields and descriptions."""
    embeds = embeds[:EMBEDS_MAX]
    for e in embeds:
        if e.title:
            e.title = truncate(e.title, TITLE_MAX)
        if e.description:
            e.description = truncate(e.description, DESCRIPTION_MAX)
        while len(e.fields) > FIELDS_MAX:
            e.remove_field(FIELDS_MAX)
        for i, f in enumerate(list(e.fields)):
            e.set_field_at(i, name=truncate(f.name or "\u200b", FIELD_NAME_MAX) or "\u200b",
                           value=truncate(f.value or "\u200b", FIELD_VALUE_MAX) or "\u200b", inline=f.inline)
        if e.footer and e.footer.text:
            e.set_footer(text=truncate(e.footer.text, FOOTER_MAX), icon_url=e.footer.icon_url)
        if e.author and e.author.name:
            e.set_author(name=truncate(e.author.name, AUTHOR_MAX), url=e.author.url, icon_url=e.author.icon_url)
    total = sum(embed_size(e) for e in embeds)
    while total > EMBED_TOTAL_MAX:
        # Shorten the single longest shrinkable piece; each round removes at least the overflow or halves it.
        best: tuple[int, discord.Embed, int] | None = None  # (length, embed, field index or -1 for description)
        for e in embeds:
            if e.description and (best is None or len(e.description) > best[0]):
                best = (len(e.description), e, -1)
            for i, f in enumerate(e.fields):
                if best is None or len(f.value or "") > best[0]:
                    best = (len(f.value or ""), e, i)
        if best is None or best[0] <= 20:
            last = embeds[-1]  # nothing long left: drop trailing fields, then trailing embeds
            if last.fields:
                last.remove_field(len(last.fields) - 1)
            elif len(embeds) > 1:
                embeds.pop()
            else:
                last.description = truncate(last.description or "", 20)
                last.title = truncate(last.title or "", 100)
                break
        else:
            length, e, idx = best
            overflow = total - EMBED_TOTAL_MAX
            new_len = length - overflow if length - overflow >= 20 else max(20, length // 2)
            if idx == -1:
                e.description = truncate(e.description or "", new_len)
            else:
                f = e.fields[idx]
                e.set_field_at(idx, name=f.name, value=truncate(f.value or "", new_len), inline=f.inline)
        total = sum(embed_size(e) for e in embeds)
    return embeds


def status_colour(status: str) -> int:
    return STATUS_COLOURS.get(status, NO_MATCH_COLOUR)


def _echo(e: discord.Embed, checked_text: str) -> None:
    if checked_text:
        e.set_author(name=CHECKED_PREFIX + escape_user_text(checked_text, CHECKED_ECHO_MAX))


def _add_sections(e: discord.Embed, sections: Iterable[Section], *, split: bool = False) -> None:
    """Each titled section as a field; with `split`, long sections become several fields instead of a cut."""
    for section in sections:
        if not section.title or not section.lines:
            continue
        lines = section_lines(section)
        if not split:
            hint = " (see Related)" if section.key == "related" else " (see Sources)"
            e.add_field(name=section.title, value=_join_lines(lines, FIELD_VALUE_MAX, hint), inline=False)
            continue
        chunk: list[str] = []
        part = 1
        for line in (truncate(x, FIELD_VALUE_MAX) for x in lines):
            if chunk and len("\n".join(chunk + [line])) > FIELD_VALUE_MAX:
                e.add_field(name=section.title if part == 1 else f"{section.title} ({part})", value="\n".join(chunk), inline=False)
                chunk, part = [], part + 1
            chunk.append(line)
        if chunk:
            e.add_field(name=section.title if part == 1 else f"{section.title} ({part})", value="\n".join(chunk), inline=False)


def card_embed(card: Card, *, checked_text: str = "", outlet: OutletNote | None = None) -> discord.Embed:
    """The context card: title = the claim, colour = its status; a field per section."""
    desc = [f"**{status_label(card.status)}.** {_kb(card.status_note)}".strip()]
    if card.decision == "related":
        desc.insert(0, f"*{RELATED_NOTE}*")
    e = discord.Embed(title=truncate(card.statement, TITLE_MAX), description=truncate("\n".join(desc), DESCRIPTION_MAX),
                      colour=status_colour(card.status))
    _echo(e, checked_text)
    _add_sections(e, (s for s in card_sections(card, outlet) if s.key not in ("claim", "footer")))
    e.set_footer(text=footer(card))
    return e


def no_match_embed(result: CheckResult, *, checked_text: str = "") -> discord.Embed:
    e = discord.Embed(title=NO_MATCH.rstrip("."), description=NOT_FOUND_HINT, colour=NO_MATCH_COLOUR)
    _echo(e, checked_text)
    if result.outlet:
        e.add_field(name="About the outlet", value=truncate("\n".join(line_md(x) for x in outlet_lines(result.outlet)),
                                                            FIELD_VALUE_MAX), inline=False)
    return e


def result_embeds(result: CheckResult, *, checked_text: str = "") -> list[discord.Embed]:
    if result.card is not None:
        return fit_embeds([card_embed(result.card, checked_text=checked_text, outlet=result.outlet)])
    return fit_embeds([no_match_embed(result, checked_text=checked_text)])


def checked_text_of(embed: discord.Embed) -> str:
    """The echoed message text from a card's author line (for 'Wrong match' feedback after a restart)."""
    name = embed.author.name if embed.author else None
    if not name or not name.startswith(CHECKED_PREFIX):
        return ""
    return unescape_user_text(name[len(CHECKED_PREFIX):])


_FOOTER_ID_RE = re.compile(rf"\bid: ({CLAIM_ID})$")


def claim_id_of(embed: discord.Embed) -> str | None:
    m = _FOOTER_ID_RE.search(embed.footer.text if embed.footer and embed.footer.text else "")
    return m.group(1) if m else None


def sources_embeds(card: Card) -> list[discord.Embed]:
    """Every cited item with its link: the full list the card only summarises."""
    e = discord.Embed(title=truncate(f"Sources: {card.statement}", TITLE_MAX), colour=status_colour(card.status))
    _add_sections(e, sources_sections(card), split=True)
    if not e.fields:
        e.description = "No sources are recorded for this claim."
    e.set_footer(text=f"id: {card.claim_id}")
    return fit_embeds([e])


def related_embeds(card: Card) -> list[discord.Embed]:
    e = discord.Embed(title=truncate(f"Related to: {card.statement}", TITLE_MAX), colour=status_colour(card.status))
    related = [s for s in related_sections(card) if s.key == "related"]
    e.description = (_join_lines(section_lines(related[0]), DESCRIPTION_MAX) if card.related
                     else "No related claims are recorded.")
    e.set_footer(text=f"id: {card.claim_id}")
    return fit_embeds([e])


def about_embeds(info: dict[str, Any]) -> list[discord.Embed]:
    sections = about_sections(info)
    e = discord.Embed(title="About claim-context", colour=INFO_COLOUR, description=texts.INTRO)
    for s in sections[1:]:
        if len(e.fields) < FIELDS_MAX:
            e.add_field(name=truncate(s.title or "Knowledge base", FIELD_NAME_MAX),
                        value=_join_lines(section_lines(s), FIELD_VALUE_MAX) or "-", inline=False)
    e.set_footer(text="Commands: /check, /sources, /about; right-click a message > Apps > Check claim")
    return fit_embeds([e])


def flags_embeds(flags: Iterable[dict[str, Any]]) -> list[discord.Embed]:
    lines = [line_md(x) for x in flag_lines(flags)]
    e = discord.Embed(title="Recent flags in this server", colour=INFO_COLOUR,
                      description=_join_lines(lines, DESCRIPTION_MAX) if lines else "Nothing flagged yet.")
    return fit_embeds([e])


def settings_text(s: Any, saved: bool = False) -> str:
    rows = settings_rows(s, log_label="Log channel", log_value=f"<#{s.log_chat_id}>" if s.log_chat_id else "")
    head = [f"**{texts.SAVED}**"] if saved else []
    return truncate("\n".join(head + [f"{label}: **{_kb(value)}**" for label, value in rows]), CONTENT_MAX)


def notice_text(n: Notice) -> str:
    author = escape_user_text(n.author, 80) if n.author else "someone"
    return truncate(f"Known claim posted by {author} in {n.chat_title}: {n.message_link}", CONTENT_MAX)


def choice_name(claim_id: str, statement: str) -> str:
    """An autocomplete label: the statement, then the id, within Discord's 100 characters."""
    tail = f" [{claim_id}]"
    if len(tail) > CHOICE_NAME_MAX // 2:
        return truncate(statement or claim_id, CHOICE_NAME_MAX)
    return truncate(statement, CHOICE_NAME_MAX - len(tail)) + tail if statement else truncate(claim_id, CHOICE_NAME_MAX)
