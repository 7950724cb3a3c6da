"""The chat layer's layout as Discord embeds, within Discord's documented limits. Pure functions.

Limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits): title 256,
description 4096, 25 fields, field name 256, field value 1024, footer 2048, author name 256, and 6000
characters in total across all embeds of one message; at most 10 embeds; content 2000.

Right-to-left answers (Arabic, Persian) wrap each line of text in Unicode directional isolates (U+2068 FSI
... U+2069 PDI; see `isolate`): each line takes its direction from its own first strong character, and the
ids, numbers and URLs inside stay in order. The isolates count towards the limits; cuts keep them paired.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import discord

from bot.chat import texts
from bot.chat.i18n import EN, LANGUAGES, N_, Translator, translator
from bot.chat.layout import (LOG_CHANNEL, NO_MATCH, NO_SOURCES, NOT_FOUND_HINT, RELATED_NOTE, SHOWN_IN_ENGLISH, Line,
                             Section, Span, about_sections, card_sections, flag_lines, footer, no_match_sections,
                             related_sections, settings_rows, shown_in_english, sources_sections, status_label)
from bot.chat.messages import Notice
from bot.engine.cards import Card, CheckResult, ImageMatch, OutletNote
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
FSI, PDI = "\u2068", "\u2069"  # first-strong isolate, pop directional isolate
ZWSP = "\u200b"  # breaks a mention in the echo; marks a user's own trailing ellipsis
_OPENERS = ("\u2066", "\u2067", FSI)  # LRI, RLI, FSI
CHECKED = N_("Checked:")
CHECKED_PREFIX = "Checked: "  # English; each language has its own (checked_prefix)
CHECKED_ECHO_MAX = 200  # the echoed message in the card's author line

STATUS_COLOURS: dict[str, int] = {
    "true": 0x2E7D32, "mostly-true": 0x689F38, "misleading": 0xEF6C00, "disputed": 0xF9A825,
    "unproven": 0x757575, "unverified": 0x9E9E9E, "false": 0xC62828, "fact-checked": 0x5865F2,
}
NO_MATCH_COLOUR = 0x546E7A
INFO_COLOUR = 0x5865F2


def _open_isolates(text: str) -> int:
    opened = 0
    for ch in text:
        if ch in _OPENERS:
            opened += 1
        elif ch == PDI and opened:
            opened -= 1
    return opened


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, ending with an ellipsis when cut; isolates opened before the cut are
    closed after it, within the limit."""
    text = text or ""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)].rstrip()
    if FSI in cut or "\u2066" in cut or "\u2067" in cut:
        while cut and len(cut) + 1 + _open_isolates(cut) > limit:
            cut = cut[:-1]
        return cut + ELLIPSIS + PDI * _open_isolates(cut)
    return cut + ELLIPSIS


_RTL_CHARS = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


def isolate(text: str, rtl: bool = True) -> str:
    """Each line of `text` in its own first-strong isolate (when `rtl`, or when the text itself has
    right-to-left letters); empty lines stay empty."""
    if not text or not (rtl or _RTL_CHARS.search(text)):
        return text
    return "\n".join(f"{FSI}{line}{PDI}" if line.strip() else line for line in text.split("\n"))


def checked_prefix(t: Translator = EN) -> str:
    return t(CHECKED) + " "


# Discord's markdown specials, escaped one character at a time so that unescape is an exact inverse.
_MARKDOWN = re.compile(r"([\\*_`~|>#\-\[\]()])")
_MENTION = re.compile(r"@(everyone|here|[!&]?[0-9]{17,20})")


def escape_user_text(text: str, limit: int | None = None) -> str:
    """User text we echo on one line: markdown and mentions neutralised (allowed_mentions none is the
    second guard). Every special character gets one backslash and every `@` of a mention a zero-width space;
    a user's own trailing "…" is followed by one too, to tell it from the cut's. So `unescape_user_text`
    recovers the text exactly, up to what the echo drops (line breaks become spaces; zero-width spaces and
    isolate marks, which are ours, go) and up to a cut, which never splits an escape."""
    plain = (text or "").replace(ZWSP, "").replace(FSI, "").replace(PDI, "").replace("\n", " ").strip()
    out = _MENTION.sub(f"@{ZWSP}\\1", _MARKDOWN.sub(r"\\\1", plain))
    if out.endswith(ELLIPSIS):
        out += ZWSP
    if limit is not None and len(out) > limit:
        cut = out[: limit - 1]
        if len(cut) - len(cut.rstrip("\\")) & 1:  # an odd run of backslashes at the end: one escape was cut
            cut = cut[:-1]
        out = cut + ELLIPSIS
    return out


_UNESCAPE_RE = re.compile(r"\\([\\*_`~|>#\-\[\]()])")


def unescape_user_text(text: str) -> str:
    """Inverse of `escape_user_text` for the echo: the isolate around it and the zero-width spaces it added
    are dropped, and a bare trailing "…" is the cut's (a user's own is followed by a zero-width space)."""
    text = text.removeprefix(FSI).removesuffix(PDI).removesuffix(ELLIPSIS).replace(ZWSP, "")
    return _UNESCAPE_RE.sub(r"\1", text)


def _kb(text: str) -> str:
    """Curated knowledge text: escaped so stray markdown in a headline cannot restyle the card."""
    return discord.utils.escape_markdown(text or "", ignore_links=True)


def span_md(s: Span, rtl: bool = False) -> str:
    text = _kb(s.text)
    if s.code:
        code = "`" + s.text.replace("`", "'") + "`"
        return f"{FSI}{code}{PDI}" if rtl else code
    if s.href:
        linked = f"[{text}]({s.href.replace(')', '%29')})"
        return f"{FSI}{linked}{PDI}" if rtl else linked
    if s.bold:
        return f"**{text}**"
    if s.italic and text.strip():
        return f"*{text}*"
    return text


def line_md(line: Line, rtl: bool = False) -> str:
    """A line as markdown; in a right-to-left answer, the whole line and its ids and links are isolated."""
    text = "".join(span_md(s, rtl) for s in line)
    return isolate(text) if rtl else text


def _join_lines(lines: Sequence[str], limit: int, more_hint: str = "", t: Translator = EN) -> str:
    """Whole lines up to `limit` characters, with '... and N more' when some do not fit."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        rest = len(lines) - i
        tail = "\n" + isolate(f"{ELLIPSIS} {t(AND_MORE, n=rest - 1)}{more_hint}", t.rtl) if rest > 1 else ""
        piece = truncate(line, limit)
        need = len(piece) + (1 if out else 0)
        if used + need + (len(tail) if rest > 1 else 0) > limit:
            tail = isolate(f"{ELLIPSIS} {t(AND_MORE, n=rest)}{more_hint}", t.rtl)
            if used + len(tail) + (1 if out else 0) <= limit:
                out.append(tail)
            elif not out:
                out.append(truncate(line, limit))
            break
        out.append(piece)
        used += need
    return "\n".join(out)


AND_MORE = N_("and {n} more")
SEE_RELATED = N_("(see Related)")
SEE_SOURCES = N_("(see Sources)")


def section_lines(section: Section, rtl: bool = False) -> list[str]:
    bullet = "\u2022 " if section.bullets else ""
    if rtl:  # the bullet inside the line's isolate, so it stands on the line's own side
        return [isolate(bullet + "".join(span_md(s, True) for s in line)) for line in section.lines]
    return [bullet + line_md(line) for line in section.lines]


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


def _echo(e: discord.Embed, checked_text: str, t: Translator = EN) -> None:
    """The checked message, escaped, under the card's author line; isolated when it or the answer is
    right-to-left (so `Checked:` and the user's words keep their own directions)."""
    if checked_text:
        echo = isolate(escape_user_text(checked_text, CHECKED_ECHO_MAX - 2), t.rtl)
        e.set_author(name=checked_prefix(t) + echo)


def _add_sections(e: discord.Embed, sections: Iterable[Section], *, split: bool = False, t: Translator = EN) -> None:
    """Each titled section as a field; with `split`, long sections become several fields instead of a cut."""
    for section in sections:
        if not section.title or not section.lines:
            continue
        lines = section_lines(section, t.rtl)
        if not split:
            see = SEE_RELATED if section.key == "related" else SEE_SOURCES
            hint = " " + t(see)
            e.add_field(name=section.title, value=_join_lines(lines, FIELD_VALUE_MAX, hint, t), inline=False)
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


def _title(text: str, t: Translator) -> str:
    return isolate(truncate(text, TITLE_MAX - 2), t.rtl)


def _footer(card: Card, t: Translator) -> str:
    """The card footer; right-to-left, the id is isolated too (it ends the footer: see claim_id_of)."""
    text = footer(card, t)
    if not t.rtl:
        return text
    head = text.removesuffix(f"id: {card.claim_id}")
    return f"{FSI}{head}{PDI}id: {FSI}{card.claim_id}{PDI}"


def card_embed(card: Card, *, checked_text: str = "", outlet: OutletNote | None = None, t: Translator = EN,
               image: ImageMatch | None = None, forwarded_from: str = "",
               channel_outlet: OutletNote | None = None) -> discord.Embed:
    """The context card: title = the claim, colour = its status; a field per section."""
    desc = [f"**{status_label(card.status, t)}.** {_kb(card.status_note)}".strip()]
    if shown_in_english(card, t):
        desc.append(f"*{t(SHOWN_IN_ENGLISH)}*")
    if card.decision == "related":
        desc.insert(0, f"*{t(RELATED_NOTE)}*")
    description = "\n".join(isolate(d, t.rtl) for d in desc)
    e = discord.Embed(title=_title(card.statement, t), description=truncate(description, DESCRIPTION_MAX),
                      colour=status_colour(card.status))
    _echo(e, checked_text, t)
    sections = card_sections(card, outlet, t=t, image=image, forwarded_from=forwarded_from, channel_outlet=channel_outlet)
    _add_sections(e, (s for s in sections if s.key not in ("claim", "footer")), t=t)
    e.set_footer(text=_footer(card, t))
    return e


def no_match_embed(result: CheckResult, *, checked_text: str = "", t: Translator = EN, forwarded_from: str = "",
                   channel_outlet: OutletNote | None = None) -> discord.Embed:
    """'No known claim', with the notes on the link's outlet and the forwarded message's channel as fields."""
    e = discord.Embed(title=_title(t(NO_MATCH).rstrip("."), t), description=isolate(t(NOT_FOUND_HINT), t.rtl),
                      colour=NO_MATCH_COLOUR)
    _echo(e, checked_text, t)
    _add_sections(e, no_match_sections(result, t, forwarded_from=forwarded_from, channel_outlet=channel_outlet), t=t)
    return e


def result_embeds(result: CheckResult, *, checked_text: str = "", t: Translator = EN, forwarded_from: str = "",
                  channel_outlet: OutletNote | None = None) -> list[discord.Embed]:
    forward = {"forwarded_from": forwarded_from, "channel_outlet": channel_outlet}
    if result.card is not None:
        return fit_embeds([card_embed(result.card, checked_text=checked_text, outlet=result.outlet, t=t,
                                      image=result.image, **forward)])
    return fit_embeds([no_match_embed(result, checked_text=checked_text, t=t, **forward)])


def checked_text_of(embed: discord.Embed) -> str:
    """The echoed message text from a card's author line (for 'Wrong match' feedback after a restart),
    whichever language the card was shown in."""
    name = embed.author.name if embed.author else None
    if not name:
        return ""
    for lang in LANGUAGES:
        prefix = checked_prefix(translator(lang))
        if name.startswith(prefix):
            return unescape_user_text(name[len(prefix):])
    return ""


_FOOTER_ID_RE = re.compile(rf"\bid: {FSI}?({CLAIM_ID}){PDI}?$")


def claim_id_of(embed: discord.Embed) -> str | None:
    m = _FOOTER_ID_RE.search(embed.footer.text if embed.footer and embed.footer.text else "")
    return m.group(1) if m else None


def _id_footer(claim_id: str, t: Translator) -> str:
    return f"id: {FSI}{claim_id}{PDI}" if t.rtl else f"id: {claim_id}"


def sources_embeds(card: Card, t: Translator = EN) -> list[discord.Embed]:
    """Every cited item with its link: the full list the card only summarises."""
    e = discord.Embed(title=_title(t("Sources: {claim}", claim=card.statement), t), colour=status_colour(card.status))
    _add_sections(e, sources_sections(card, t), split=True, t=t)
    if not e.fields:
        e.description = isolate(t(NO_SOURCES), t.rtl)
    e.set_footer(text=_id_footer(card.claim_id, t))
    return fit_embeds([e])


def related_embeds(card: Card, t: Translator = EN) -> list[discord.Embed]:
    e = discord.Embed(title=_title(t("Related to: {claim}", claim=card.statement), t), colour=status_colour(card.status))
    related = [s for s in related_sections(card, t) if s.key == "related"]
    e.description = (_join_lines(section_lines(related[0], t.rtl), DESCRIPTION_MAX, t=t) if card.related
                     else isolate(t("No related claims are recorded."), t.rtl))
    e.set_footer(text=_id_footer(card.claim_id, t))
    return fit_embeds([e])


ABOUT_TITLE = N_("About claim-context")
KNOWLEDGE_BASE = N_("Knowledge base")
ABOUT_FOOTER = N_("Commands: /check, /sources, /about; right-click a message > Apps > Check claim")


def about_embeds(info: dict[str, Any], t: Translator = EN) -> list[discord.Embed]:
    sections = about_sections(info, t)
    e = discord.Embed(title=t(ABOUT_TITLE), colour=INFO_COLOUR, description=isolate(t(texts.INTRO), t.rtl))
    for s in sections[1:]:
        if len(e.fields) < FIELDS_MAX:
            e.add_field(name=truncate(s.title or t(KNOWLEDGE_BASE), FIELD_NAME_MAX),
                        value=_join_lines(section_lines(s, t.rtl), FIELD_VALUE_MAX, t=t) or "-", inline=False)
    e.set_footer(text=isolate(t(ABOUT_FOOTER), t.rtl))
    return fit_embeds([e])


def flags_embeds(flags: Iterable[dict[str, Any]], t: Translator = EN) -> list[discord.Embed]:
    lines = [line_md(x, t.rtl) for x in flag_lines(flags, t)]
    e = discord.Embed(title=t("Recent flags in this server"), colour=INFO_COLOUR,
                      description=_join_lines(lines, DESCRIPTION_MAX, t=t) if lines else t("Nothing flagged yet."))
    return fit_embeds([e])


def settings_text(s: Any, saved: bool = False, t: Translator = EN) -> str:
    rows = settings_rows(s, log_label=LOG_CHANNEL, log_value=f"<#{s.log_chat_id}>" if s.log_chat_id else "", t=t)
    head = [f"**{t(texts.SAVED)}**"] if saved else []
    lines = head + [f"{label}: **{_kb(value)}**" for label, value in rows]
    return truncate("\n".join(isolate(x, t.rtl) for x in lines), CONTENT_MAX)


def content(text: str, t: Translator = EN) -> str:
    """A sentence as message content: isolated line by line in a right-to-left answer, within 2000."""
    return truncate(isolate(text, t.rtl), CONTENT_MAX)


def notice_text(n: Notice, t: Translator = EN) -> str:
    author = escape_user_text(n.author, 80) if n.author else t("someone")
    said = t("Known claim posted by {author} in {channel}:", author=author, channel=n.chat_title)
    return truncate(f"{isolate(said, t.rtl)} {n.message_link}", CONTENT_MAX)


def choice_name(claim_id: str, statement: str) -> str:
    """An autocomplete label: the statement, then the id, within Discord's 100 characters."""
    tail = f" [{claim_id}]"
    if len(tail) > CHOICE_NAME_MAX // 2:
        return truncate(statement or claim_id, CHOICE_NAME_MAX)
    return truncate(statement, CHOICE_NAME_MAX - len(tail)) + tail if statement else truncate(claim_id, CHOICE_NAME_MAX)
