"""Cards as Discord embeds, within Discord's documented limits. Pure functions: no network, no client.

Limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits): title 256,
description 4096, 25 fields, field name 256, field value 1024, footer 2048, author name 256, and 6000
characters in total across all embeds of one message; at most 10 embeds; content 2000.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

import discord

from bot.engine.cards import (NOT_FOUND_HINT, STATUS_LABELS, Card, CheckResult, OutletNote, fact_check_line,
                              outlet_lines, source_line)

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
    "true": 0x2E7D32,
    "mostly-true": 0x689F38,
    "misleading": 0xEF6C00,
    "disputed": 0xF9A825,
    "unproven": 0x757575,
    "unverified": 0x9E9E9E,
    "false": 0xC62828,
    "fact-checked": 0x5865F2,
}
NO_MATCH_COLOUR = 0x546E7A
INFO_COLOUR = 0x5865F2


def truncate(text: str, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def escape_user_text(text: str, limit: int | None = None) -> str:
    """User text we echo: markdown and mentions neutralised (allowed_mentions none is the second guard).

    Truncate before escaping would leave a dangling backslash-less marker; escape first, then cut on a
    boundary that does not split an escape sequence."""
    out = discord.utils.escape_mentions(discord.utils.escape_markdown(text or "", ignore_links=False))
    out = out.replace("\n", " ").strip()
    if limit is not None and len(out) > limit:
        cut = out[: limit - 1]
        cut = cut[:-1] if cut.endswith("\\") else cut
        out = cut.rstrip() + ELLIPSIS
    return out


_UNESCAPE_RE = re.compile(r"\\([\\*_`~|>#\-\[\]()])")


def unescape_user_text(text: str) -> str:
    """Inverse of `escape_user_text` for the echo (zero-width spaces from escape_mentions are dropped)."""
    text = text.replace("\u200b", "")
    return _UNESCAPE_RE.sub(r"\1", text).removesuffix(ELLIPSIS)


def _kb(text: str) -> str:
    """Curated knowledge text: escaped so stray markdown in a headline cannot restyle the card."""
    return discord.utils.escape_markdown(text or "", ignore_links=True)


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
            # Nothing long left: drop trailing fields, then trailing embeds.
            last = embeds[-1]
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


def _outlet_text(o: OutletNote) -> str:
    return _kb("\n".join(outlet_lines(o)))


def card_embed(card: Card, *, checked_text: str = "", outlet: OutletNote | None = None) -> discord.Embed:
    """The context card: title = the claim, colour = its status; fields per section."""
    desc = [f"**{card.status_label}.** {_kb(card.status_note)}".strip()]
    if card.decision == "related":
        desc.insert(0, "*Related known claim: your message is on the same topic but is not this claim.*")
    e = discord.Embed(title=truncate(card.statement, TITLE_MAX), description=truncate("\n".join(desc), DESCRIPTION_MAX),
                      colour=status_colour(card.status))
    if checked_text:
        e.set_author(name=CHECKED_PREFIX + escape_user_text(checked_text, CHECKED_ECHO_MAX))
    fr = card.first_report
    if fr or card.sourcing_notes:
        lines = []
        if fr:
            lines.append(_kb(source_line(fr)))
            if card.sourcing:
                detail = f" ({_kb(card.sourcing_detail)})" if card.sourcing_detail else ""
                lines.append(f"**Sourcing:** {_kb(card.sourcing_label)}{detail}")
        if card.sourcing_notes:
            lines.append(f"**Notes:** {_kb(card.sourcing_notes)}")
        e.add_field(name="First report", value=_join_lines(lines, FIELD_VALUE_MAX), inline=False)
    more = " (see Sources)"
    if card.denials:
        e.add_field(name="Denials and disputes", value=_join_lines([f"\u2022 {_kb(source_line(s))}" for s in card.denials], FIELD_VALUE_MAX, more), inline=False)
    if card.fact_checks:
        e.add_field(name="Fact-checks", value=_join_lines([f"\u2022 {_kb(fact_check_line(f))}" for f in card.fact_checks], FIELD_VALUE_MAX, more), inline=False)
    if card.developments:
        e.add_field(name="Later developments", value=_join_lines([f"\u2022 {_kb(source_line(s))}" for s in card.developments], FIELD_VALUE_MAX, more), inline=False)
    if card.related:
        e.add_field(name="Related claims", value=_join_lines(
            [f"\u2022 `{r.id}` {_kb(r.statement)} ({STATUS_LABELS.get(r.status, r.status)})" for r in card.related],
            FIELD_VALUE_MAX, " (see Related)"), inline=False)
    note = card.outlet or outlet
    if note:
        e.add_field(name="About the outlet", value=truncate(_outlet_text(note), FIELD_VALUE_MAX), inline=False)
    footer = f"Match confidence: {card.confidence:.0%}"
    if card.last_reviewed:
        footer += f" | Last reviewed: {card.last_reviewed}"
    e.set_footer(text=f"{footer} | id: {card.claim_id}")
    return e


def no_match_embed(result: CheckResult, *, checked_text: str = "") -> discord.Embed:
    e = discord.Embed(title="No known claim matches this message", description=NOT_FOUND_HINT, colour=NO_MATCH_COLOUR)
    if checked_text:
        e.set_author(name=CHECKED_PREFIX + escape_user_text(checked_text, CHECKED_ECHO_MAX))
    if result.matches:
        e.add_field(name="Closest known claims (not a match)", value=_join_lines(
            [f"\u2022 `{m.id}` {_kb(m.claim)}" for m in result.matches[:5]], FIELD_VALUE_MAX), inline=False)
    if result.outlet:
        e.add_field(name="About the outlet", value=truncate(_outlet_text(result.outlet), FIELD_VALUE_MAX), inline=False)
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


_FOOTER_ID_RE = re.compile(r"\bid: ([a-z0-9][a-z0-9-]*)$")


def claim_id_of(embed: discord.Embed) -> str | None:
    text = embed.footer.text if embed.footer else None
    m = _FOOTER_ID_RE.search(text or "")
    return m.group(1) if m else None


def sources_embeds(card: Card) -> list[discord.Embed]:
    """Every cited item with its link: the full list the card only summarises."""
    e = discord.Embed(title=truncate(f"Sources: {card.statement}", TITLE_MAX), colour=status_colour(card.status))
    sections: list[tuple[str, list[str]]] = []
    if card.first_report:
        sections.append(("First report", [_kb(source_line(card.first_report))]))
    sections.append(("Denials and disputes", [_kb(source_line(s)) for s in card.denials]))
    sections.append(("Fact-checks", [_kb(fact_check_line(f)) for f in card.fact_checks]))
    sections.append(("Later developments", [_kb(source_line(s)) for s in card.developments]))
    for name, lines in sections:
        # One field per chunk of whole lines so long lists are split rather than cut.
        chunk: list[str] = []
        part = 1
        for line in lines:
            line = truncate(f"\u2022 {line}", FIELD_VALUE_MAX)
            if chunk and len("\n".join(chunk + [line])) > FIELD_VALUE_MAX:
                e.add_field(name=name if part == 1 else f"{name} ({part})", value="\n".join(chunk), inline=False)
                chunk, part = [], part + 1
            chunk.append(line)
        if chunk:
            e.add_field(name=name if part == 1 else f"{name} ({part})", value="\n".join(chunk), inline=False)
    if not e.fields:
        e.description = "No sources are recorded for this claim."
    e.set_footer(text=f"id: {card.claim_id}")
    return fit_embeds([e])


def related_embeds(card: Card) -> list[discord.Embed]:
    e = discord.Embed(title=truncate(f"Related to: {card.statement}", TITLE_MAX), colour=status_colour(card.status))
    if card.related:
        e.description = _join_lines([f"\u2022 `{r.id}` {_kb(r.statement)} ({STATUS_LABELS.get(r.status, r.status)})"
                                     for r in card.related], DESCRIPTION_MAX)
    else:
        e.description = "No related claims are recorded."
    e.set_footer(text=f"id: {card.claim_id}")
    return fit_embeds([e])


def about_embeds(info: dict[str, Any]) -> list[discord.Embed]:
    e = discord.Embed(title="About claim-context", colour=INFO_COLOUR,
                      description="Answers a claim or a link with what is known about it: first report and its sourcing, "
                                  "denials, fact-checks, later developments, related claims, and a note on the outlet.")
    for key, value in info.items():
        if isinstance(value, (list, tuple)):
            text = "\n".join(f"\u2022 {_kb(str(v))}" for v in value) or "-"
        elif isinstance(value, dict):
            text = "\n".join(f"{_kb(str(k))}: {_kb(str(v))}" for k, v in value.items()) or "-"
        else:
            text = _kb(str(value)) or "-"
        if len(e.fields) < FIELDS_MAX:
            e.add_field(name=truncate(str(key).replace("_", " ").capitalize(), FIELD_NAME_MAX), value=text, inline=False)
    e.set_footer(text="Commands: /check, /sources, /about; right-click a message > Apps > Check claim")
    return fit_embeds([e])


def choice_name(claim_id: str, statement: str) -> str:
    """An autocomplete label: the statement, then the id, within Discord's 100 characters."""
    tail = f" [{claim_id}]"
    if len(tail) > CHOICE_NAME_MAX // 2:
        return truncate(statement or claim_id, CHOICE_NAME_MAX)
    return truncate(statement, CHOICE_NAME_MAX - len(tail)) + tail if statement else truncate(claim_id, CHOICE_NAME_MAX)


def flags_embeds(flags: Iterable[dict[str, Any]]) -> list[discord.Embed]:
    flags = list(flags)
    e = discord.Embed(title="Recent flags in this server", colour=INFO_COLOUR)
    if not flags:
        e.description = "Nothing flagged yet."
    else:
        lines = []
        for f in flags:
            when = f.get("ts") or f.get("created") or ""
            if isinstance(when, (int, float)):
                when = f"<t:{int(when)}:R>"
            link = f.get("message_link") or ""
            parts = [str(when), f"`{f.get('claim_id', '?')}`", str(f.get("action", "")), str(f.get("reason", ""))]
            if f.get("repeat_count"):
                parts.append(f"seen {f['repeat_count']}x")
            lines.append(" ".join(p for p in parts if p) + (f" {link}" if link else ""))
        e.description = _join_lines(lines, DESCRIPTION_MAX)
    return fit_embeds([e])


def settings_text(s: Any) -> str:
    """One line per moderation setting (a ChatSettings)."""
    log = f"<#{s.log_chat_id}>" if s.log_chat_id else "not set"
    quiet = f"{s.quiet_start:02d}:00-{s.quiet_end:02d}:00 UTC" if s.quiet_start is not None and s.quiet_end is not None else "off"
    muted = ", ".join(f"`{m}`" for m in sorted(s.muted)) or "none"
    return truncate("\n".join([
        f"Auto-flagging: **{'on' if s.enabled else 'off'}**",
        f"Mode: **{s.mode}**",
        f"Log channel: {log}",
        f"Cooldown: {s.cooldown_s / 3600:g} h",
        f"Quiet hours: {quiet}",
        f"Muted claims: {muted}",
    ]), CONTENT_MAX)
