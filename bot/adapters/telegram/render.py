"""Telegram HTML rendering of the chat layer's layout (pure functions, no network).

Every message is a list of lines, each a tuple of spans whose tags open and close inside the span.
Escaping happens in one place (`span_html`), and pagination cuts only between lines (or, for one over-long
line, between spans/words), so a cut never lands inside a tag. Lengths are counted the way Telegram counts
them: visible text after entity parsing, in UTF-16 units. A card is at most MAX_PAGES messages.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable, Sequence

from bot.chat import texts
from bot.chat.commands import MODERATION_USAGE
from bot.chat.i18n import EN, N_, Translator
from bot.chat.layout import (Line, Section, Span, about_sections, card_sections, flag_lines, related_sections,
                             result_sections, settings_rows, sourcing_label, sources_sections, status_label)
from bot.chat.messages import CardReply, Notice
from bot.engine.cards import Card, CheckResult, OutletNote
from bot.engine.urlcheck import valid_http_url

Seg = Span  # a Telegram line is made of the layout's spans
MAX_MESSAGE = 4096  # Telegram: message text after entity parsing
MAX_CALLBACK_DATA = 64  # bytes
MAX_START_PAYLOAD = 64  # deep-link /start parameter: A-Za-z0-9_- only
MAX_PAGES = 6  # a card never takes more messages than this; the rest is behind /sources
MAX_SPAN = MAX_MESSAGE * MAX_PAGES  # longer text cannot be shown anyway: cut before splitting (bounded work)
CUT = N_("\u2026 (cut: the full text is too long for a chat message)")
BLANK: Line = (Span(""),)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def span_html(s: Span) -> str:
    t = html.escape(s.text, quote=False)
    if s.code:
        t = f"<code>{t}</code>"
    if s.href and valid_http_url(s.href):  # checked again here: Telegram rejects a whole message for one bad link
        t = f'<a href="{html.escape(s.href, quote=True)}">{t}</a>'
    if s.italic:
        t = f"<i>{t}</i>"
    if s.bold:
        t = f"<b>{t}</b>"
    return t



def line_html(line: Line) -> str:
    return "".join(span_html(s) for s in line)


def line_len(line: Line) -> int:
    return sum(utf16_len(s.text) for s in line)


def to_html(lines: Iterable[Line]) -> str:
    return "\n".join(line_html(line) for line in lines).strip()


def _cut_text(text: str, limit: int) -> tuple[str, str]:
    """Split text so the head has at most `limit` UTF-16 units, preferring a word boundary."""
    units = 0
    cut = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            break
        cut = i + 1
    else:
        return text, ""
    space = text.rfind(" ", 0, cut)
    if space > cut // 2:
        cut = space + 1
    return text[:cut], text[cut:]


def _split_line(line: Line, limit: int) -> list[Line]:
    """A line longer than `limit` split into several lines, each within the limit."""
    if line_len(line) <= limit:
        return [line]
    out: list[Line] = []
    cur: list[Span] = []
    room = limit
    queue = [Span(s.text[:MAX_SPAN], s.bold, s.italic, s.code, s.href) for s in line]
    while queue:
        s = queue.pop(0)
        n = utf16_len(s.text)
        if n <= room:
            cur.append(s)
            room -= n
            continue
        if room < limit // 4 and cur:  # little room left: start a new line rather than a tiny fragment
            out.append(tuple(cur))
            cur, room = [], limit
            queue.insert(0, s)
            continue
        head, tail = _cut_text(s.text, room)
        cur.append(Span(head, s.bold, s.italic, s.code, s.href))
        out.append(tuple(cur))
        cur, room = [], limit
        if tail:
            queue.insert(0, Span(tail, s.bold, s.italic, s.code, s.href))
    if cur:
        out.append(tuple(cur))
    return out


def paginate(lines: Iterable[Line], limit: int = MAX_MESSAGE, max_pages: int | None = None, t: Translator = EN) -> list[str]:
    """HTML pages, each at most `limit` visible characters, cut at line boundaries; with `max_pages`, at most
    that many, the last one ending with a note when text was left out."""
    pages: list[list[Line]] = []
    cur: list[Line] = []
    used = 0
    cut_short = False
    for line in lines:
        for piece in _split_line(line, limit):
            n = line_len(piece)
            add = n + (1 if cur else 0)  # the joining newline counts too
            if cur and used + add > limit:
                pages.append(cur)
                cur, used, add = [], 0, n
                if len(pages) == max_pages:
                    cut_short = True
                    break
            cur.append(piece)
            used += add
        if cut_short:
            break
    if cur and not cut_short:
        pages.append(cur)
    if cut_short:
        last = pages[-1]
        cut = t(CUT)
        while last and line_len(last[-1]) + utf16_len(cut) + 1 > limit - sum(line_len(x) + 1 for x in last[:-1]):
            last = last[:-1]
        pages[-1] = [*last, (Span(cut, italic=True),)]
    out = [to_html(p) for p in pages]
    return [p for p in out if p] or [""]


# --- the layout as Telegram lines ----------------------------------------------------------------------

def section_lines(sections: Sequence[Section]) -> list[Line]:
    """Sections as Telegram lines: a bold title, bullet items, a blank line between sections."""
    lines: list[Line] = []
    for section in sections:
        if not section.lines:
            continue
        if lines:
            lines.append(BLANK)
        body = list(section.lines)
        if section.title and section.run_in:
            body[0] = (Span(f"{section.title}: ", bold=True), *body[0])
        elif section.title:
            lines.append((Span(f"{section.title}:", bold=True),))
        lines += [(Span("\u2022 "), *line) if section.bullets else line for line in body]
    return lines


def card_lines(card: Card, outlet: object = None, t: Translator = EN) -> list[Line]:
    return section_lines(card_sections(card, outlet, t=t))  # type: ignore[arg-type]


def result_lines(result: CheckResult, t: Translator = EN, *, forwarded_from: str = "",
                 channel_outlet: OutletNote | None = None) -> list[Line]:
    return section_lines(result_sections(result, t, forwarded_from=forwarded_from, channel_outlet=channel_outlet))


def notice_lines(n: Notice, t: Translator = EN) -> list[Line]:
    where = (Span(t("the message"), href=n.message_link) if valid_http_url(n.message_link)
             else Span(t("message {id}", id=n.message_id)))
    return [(Span(t(texts.KNOWN_CLAIM_POSTED, title=n.chat_title), bold=True), where),
            (Span("\u201c" + n.excerpt + "\u201d", italic=True),), BLANK]


def card_reply_lines(reply: CardReply, t: Translator = EN) -> list[Line]:
    body = result_lines(reply.result, t, forwarded_from=reply.channel, channel_outlet=reply.channel_outlet)
    return (notice_lines(reply.notice, t) if reply.notice else []) + body


def sources_lines(card: Card, t: Translator = EN) -> list[Line]:
    return section_lines(sources_sections(card, t))


def related_lines(card: Card, t: Translator = EN) -> list[Line]:
    return section_lines(related_sections(card, t))


def about_lines(about: dict, t: Translator = EN) -> list[Line]:
    return section_lines(about_sections(about, t))


def settings_lines(settings: object, saved: bool, t: Translator = EN) -> list[Line]:
    head: list[Line] = [(Span(t(texts.SAVED), bold=True),)] if saved else []
    return head + [(Span(f"{label}: ", bold=True), Span(value)) for label, value in settings_rows(settings, t=t)]


def flags_lines(flags: list[dict], t: Translator = EN) -> list[Line]:
    body = [(Span("\u2022 "), *line) for line in flag_lines(flags, t)] or [(Span(t(texts.NO_FLAGS)),)]
    return [(Span(t(texts.RECENT_FLAGS), bold=True),), *body]


# The help, a sentence per line; HTML tags are added around the translated words, never inside them.
HELP_SEND = N_("Send me a headline or a link, or use:")
HELP_CHECK = N_("headline or URL")
HELP_CHECK_REPLY = N_("(or reply /check to a message)")
HELP_SOURCES = N_("claim id or text")
HELP_SOURCES_WHAT = N_("the full sourcing list")
HELP_ABOUT_WHAT = N_("the knowledge base, its sources and licences")
HELP_EXAMPLE = N_("Example:")
HELP_INLINE = N_("In any chat you can also type {mention} to share a card.")
HELP_INLINE_WORD = N_("headline")
HELP_ADMINS = N_("Group admins:")
MODERATION_TITLE = N_("Moderation commands")
MODERATION_WHO = N_("(group admins):")


def help_html(username: str, t: Translator = EN) -> str:
    e = html.escape
    mention = f"<code>@{e(username)} {e(t(HELP_INLINE_WORD))}</code>"
    return (f"<b>Claim Context</b> {e(t(texts.INTRO).removeprefix('Claim Context '))}\n\n"
            f"{e(t(HELP_SEND))}\n"
            f"/check <i>{e(t(HELP_CHECK))}</i> {e(t(HELP_CHECK_REPLY))}\n"
            f"/sources <i>{e(t(HELP_SOURCES))}</i> \u2014 {e(t(HELP_SOURCES_WHAT))}\n"
            f"/about \u2014 {e(t(HELP_ABOUT_WHAT))}\n\n"
            f"<b>{e(t(HELP_EXAMPLE))}</b> <code>/check {e(t(texts.EXAMPLE))}</code>\n\n"
            f"{e(t(HELP_INLINE, mention='{mention}')).format(mention=mention)}\n"
            f"{e(t(HELP_ADMINS))} /moderation, /mute, /unmute, /flags.")


def moderation_help_html(t: Translator = EN) -> str:
    return (f"<b>{html.escape(t(MODERATION_TITLE))}</b> {html.escape(t(MODERATION_WHO))}\n"
            + "\n".join(html.escape(t(u)) for u in MODERATION_USAGE))


def one_line_summary(card: Card, t: Translator = EN) -> str:
    """Inline result description: status and sourcing on one line."""
    parts = [status_label(card.status, t)]
    fr = card.first_report
    if fr and (fr.outlet or fr.date):
        parts.append(t("first reported by {who}", who=", ".join(x for x in (fr.outlet, fr.date) if x)))
    if card.sourcing:
        parts.append(t("sourcing: {how}", how=sourcing_label(card.sourcing, t)))
    return " \u00b7 ".join(parts).replace("\n", " ")


def plain_text(lines: Iterable[Line]) -> str:
    """The same content without markup: the fallback if Telegram ever rejects our HTML."""
    return "\n".join("".join(s.text for s in line) for line in lines).strip()


def short_hash(value: str, n: int = 16) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:n]


def fits_callback(data: str) -> bool:
    return 0 < len(data.encode("utf-8")) <= MAX_CALLBACK_DATA
