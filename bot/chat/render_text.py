"""Plain-text rendering of the layout, for the console and `python -m bot check`. Links are spelled out
(a terminal has no anchors); the header's labels are written in capitals in place of bold."""

from __future__ import annotations

from collections.abc import Sequence

from bot.chat import texts
from bot.chat.layout import (Line, Section, Span, about_sections, card_sections, flag_lines, no_match_sections,
                             related_sections, settings_rows, sources_sections)
from bot.chat.messages import (AboutReply, CardReply, FlagsReply, HelpReply, LogChatProbe, MuteReply, Receipt,
                               Refusal, RelatedReply, Reply, SettingsReply, SourcesReply)
from bot.engine.cards import CheckResult


def _span(s: Span, header: bool) -> str:
    if s.href:
        return s.href
    return s.text.upper() if header and s.bold and s.text.endswith(": ") else s.text


def _line(line: Line, header: bool = False) -> str:
    return "".join(_span(s, header) for s in line)


def render_sections(sections: Sequence[Section]) -> str:
    blocks: list[str] = []
    for section in sections:
        lines = [_line(line, header=section.key == "claim") for line in section.lines]
        if section.bullets:
            body = ([f"{section.title}:"] if section.title else []) + [f"- {line}" for line in lines]
        elif section.title and lines and section.run_in:
            body = [f"{section.title}: {lines[0]}", *lines[1:]]
        elif section.title:
            body = [f"{section.title}:", *lines]
        else:
            body = lines
        blocks.append("\n".join(body))
    return "\n\n".join(b for b in blocks if b)


def render_result(result: CheckResult) -> str:
    """A whole answer: the card (with the link's outlet note), or 'no known claim' with the note."""
    if result.card is not None:
        return render_sections(card_sections(result.card, result.outlet))
    return render_sections(no_match_sections(result))


CONSOLE_HELP = f"""claim-context console. Paste a headline, a message or a link and get what is known about it.
Commands: /sources <claim id>  /about  /help  /quit
Example: {texts.EXAMPLE}"""


def render_reply(reply: Reply) -> str:
    """Any reply as plain text (the console's whole renderer)."""
    if isinstance(reply, CardReply):
        return render_result(reply.result)
    if isinstance(reply, SourcesReply):
        return render_sections(sources_sections(reply.card))
    if isinstance(reply, RelatedReply):
        return render_sections(related_sections(reply.card))
    if isinstance(reply, AboutReply):
        return render_sections(about_sections(reply.about))
    if isinstance(reply, HelpReply):
        return texts.USAGE.get(reply.topic) or CONSOLE_HELP
    if isinstance(reply, SettingsReply):
        rows = [f"{label}: {value}" for label, value in settings_rows(reply.settings)]
        return "\n".join(([texts.SAVED] if reply.saved else []) + rows)
    if isinstance(reply, MuteReply):
        return (texts.MUTED if reply.muted else texts.UNMUTED).format(claim=reply.claim_id)
    if isinstance(reply, FlagsReply):
        return "\n".join([texts.RECENT_FLAGS] + [_line(line) for line in flag_lines(reply.flags)] or [texts.NO_FLAGS])
    if isinstance(reply, LogChatProbe):
        return texts.LOG_CHAT_PROBE.format(title=reply.chat_title)
    if isinstance(reply, Refusal):
        return texts.refusal_text(reply)
    if isinstance(reply, Receipt):
        return texts.RECEIPTS[reply.kind]
    raise TypeError(f"no plain-text rendering for {type(reply).__name__}")
