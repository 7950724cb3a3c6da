"""Plain-text rendering of the layout, for the console and `python -m bot check`. Links are spelled out
(a terminal has no anchors); the header's labels are written in capitals in place of bold."""

from __future__ import annotations

from collections.abc import Sequence

from bot.chat import texts
from bot.chat.i18n import EN, N_, Translator
from bot.chat.layout import (Line, Section, Span, about_sections, flag_lines, related_sections, result_sections,
                             settings_rows, sources_sections)
from bot.chat.messages import (AboutReply, CardReply, FlagsReply, HelpReply, LogChatProbe, MuteReply, Receipt,
                               Refusal, RelatedReply, Reply, SettingsReply, SourcesReply)
from bot.engine.cards import CheckResult, OutletNote


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


def render_result(result: CheckResult, t: Translator = EN, *, forwarded_from: str = "",
                  channel_outlet: OutletNote | None = None) -> str:
    """A whole answer: the card (with the link's outlet note), or 'no known claim' with the note."""
    return render_sections(result_sections(result, t, forwarded_from=forwarded_from, channel_outlet=channel_outlet))


CONSOLE_INTRO = N_("claim-context console. Paste a headline, a message or a link and get what is known about it.")
CONSOLE_COMMANDS = N_("Commands:")
CONSOLE_EXAMPLE = N_("Example:")


def console_help(t: Translator = EN) -> str:
    return (f"{t(CONSOLE_INTRO)}\n{t(CONSOLE_COMMANDS)} /sources <claim id>  /about  /help  /quit\n"
            f"{t(CONSOLE_EXAMPLE)} {t(texts.EXAMPLE)}")


CONSOLE_HELP = console_help()


def render_reply(reply: Reply, t: Translator = EN) -> str:
    """Any reply as plain text (the console's whole renderer), in the translator's language."""
    if isinstance(reply, CardReply):
        return render_result(reply.result, t, forwarded_from=reply.channel, channel_outlet=reply.channel_outlet)
    if isinstance(reply, SourcesReply):
        return render_sections(sources_sections(reply.card, t))
    if isinstance(reply, RelatedReply):
        return render_sections(related_sections(reply.card, t))
    if isinstance(reply, AboutReply):
        return render_sections(about_sections(reply.about, t))
    if isinstance(reply, HelpReply):
        return texts.usage(reply.topic, t) or console_help(t)
    if isinstance(reply, SettingsReply):
        rows = [f"{label}: {value}" for label, value in settings_rows(reply.settings, t=t)]
        return "\n".join(([t(texts.SAVED)] if reply.saved else []) + rows)
    if isinstance(reply, MuteReply):
        return texts.mute_text(reply.claim_id, reply.muted, t)
    if isinstance(reply, FlagsReply):
        lines = [_line(line) for line in flag_lines(reply.flags, t)]
        return "\n".join([t(texts.RECENT_FLAGS)] + lines or [t(texts.NO_FLAGS)])
    if isinstance(reply, LogChatProbe):
        return t(texts.LOG_CHAT_PROBE, title=reply.chat_title)
    if isinstance(reply, Refusal):
        return texts.refusal_text(reply, t)
    if isinstance(reply, Receipt):
        return t(texts.RECEIPTS[reply.kind])
    raise TypeError(f"no plain-text rendering for {type(reply).__name__}")
