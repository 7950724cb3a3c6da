"""Telegram HTML rendering of engine cards (pure functions, no network).

Every message is built as a list of lines, each line a tuple of segments whose tags open and close
inside the segment. Escaping happens in one place (`seg_html`), and pagination cuts only between
lines (or, for a single over-long line, between segments/words), so a cut never lands inside a tag.
Lengths are counted the way Telegram counts them: visible text after entity parsing, in UTF-16 units.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from typing import Any, Iterable

from bot.engine.cards import (
    NOT_FOUND_HINT,
    STATUS_LABELS,
    Card,
    CheckResult,
    FactCheck,
    OutletNote,
    Source,
)

MAX_MESSAGE = 4096  # Telegram: message text after entity parsing
MAX_CALLBACK_DATA = 64  # bytes
MAX_INLINE_RESULTS = 50
MAX_START_PAYLOAD = 64  # deep-link /start parameter: A-Za-z0-9_- only


@dataclass(frozen=True)
class Seg:
    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    href: str = ""


Line = tuple[Seg, ...]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _safe_href(url: str) -> str:
    """Only plain http(s) links become anchors; anything else is shown as text."""
    u = (url or "").strip()
    if not u.lower().startswith(("http://", "https://")) or any(c.isspace() for c in u) or len(u) > 2048:
        return ""
    return u


def seg_html(s: Seg) -> str:
    t = html.escape(s.text, quote=False)
    if s.code:
        t = f"<code>{t}</code>"
    href = _safe_href(s.href)
    if href:
        t = f'<a href="{html.escape(href, quote=True)}">{t}</a>'
    if s.italic:
        t = f"<i>{t}</i>"
    if s.bold:
        t = f"<b>{t}</b>"
    return t


def line_html(line: Line) -> str:
    return "".join(seg_html(s) for s in line)


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
    cur: list[Seg] = []
    room = limit
    queue = list(line)
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
        cur.append(Seg(head, s.bold, s.italic, s.code, s.href))
        out.append(tuple(cur))
        cur, room = [], limit
        if tail:
            queue.insert(0, Seg(tail, s.bold, s.italic, s.code, s.href))
    if cur:
        out.append(tuple(cur))
    return out


def paginate(lines: Iterable[Line], limit: int = MAX_MESSAGE) -> list[str]:
    """HTML pages, each at most `limit` visible characters, cut at line boundaries."""
    pages: list[list[Line]] = []
    cur: list[Line] = []
    used = 0
    for line in lines:
        for piece in _split_line(line, limit):
            n = line_len(piece)
            add = n + (1 if cur else 0)  # the joining newline counts too
            if cur and used + add > limit:
                pages.append(cur)
                cur, used, add = [], 0, n
            cur.append(piece)
            used += add
    if cur:
        pages.append(cur)
    out = [to_html(p) for p in pages]
    return [p for p in out if p] or [""]


# --- cards ---------------------------------------------------------------------------------------

def _label(text: str) -> Seg:
    return Seg(text, bold=True)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.capitalize())


def source_segs(s: Source, *, full_url: bool = False) -> Line:
    """Like cards.source_line, with the URL as a link (or spelled out in full for the sources list)."""
    head = ", ".join(x for x in (s.date, s.who or s.outlet) if x)
    body = s.summary
    if s.who and s.outlet:
        body = f"{body} (reported by {s.outlet})" if body else f"reported by {s.outlet}"
    if s.headline:
        body = f"{body} \u201c{s.headline}\u201d" if body else f"\u201c{s.headline}\u201d"
    text = f"{head}: {body}" if head and body else head or body
    segs = [Seg(text)]
    if s.url:
        segs.append(Seg(" "))
        segs.append(Seg(s.url) if full_url or not _safe_href(s.url) else Seg("link", href=s.url))
    return tuple(segs)


def fact_check_segs(f: FactCheck, *, full_url: bool = False) -> Line:
    segs = [Seg(f.publisher + ": "), Seg(f.rating, bold=True)]
    rest = []
    if f.date:
        rest.append(f"({f.date})")
    if f.headline:
        rest.append(f"\u201c{f.headline}\u201d")
    if rest:
        segs.append(Seg(" " + " ".join(rest)))
    if f.url:
        segs.append(Seg(" "))
        segs.append(Seg(f.url) if full_url or not _safe_href(f.url) else Seg("link", href=f.url))
    return tuple(segs)


def outlet_line_list(o: OutletNote) -> list[Line]:
    lines: list[Line] = [(Seg(o.name, bold=True), Seg(f" ({o.domain})"))]
    if o.ownership:
        lines.append((_label("Ownership: "), Seg(f"{o.ownership}. {o.ownership_note}".rstrip())))
        if o.ownership_citation:
            lines.append((Seg("Source: " + o.ownership_citation, italic=True),))
    if o.rsp_label:
        year = f", last discussed {o.rsp_year}" if o.rsp_year else ""
        lines.append((_label("Wikipedia perennial sources: "), Seg(f"{o.rsp_label}{year}.")))
        if o.rsp_summary:
            lines.append((Seg(o.rsp_summary),))
        link = (Seg("Wikipedia", href=o.rsp_link) if _safe_href(o.rsp_link) else Seg(f"Wikipedia {o.rsp_link}".strip()))
        lines.append((Seg("(", italic=True), link, Seg(", CC BY-SA 4.0)", italic=True)))
    return lines


def card_lines(card: Card, outlet: OutletNote | None = None) -> list[Line]:
    """The full card. `outlet` is the note for the checked link when the card itself has none."""
    blank: Line = (Seg(""),)
    lines: list[Line] = [
        (_label("Claim: "), Seg(card.statement)),
        (_label("Status: "), Seg(card.status_label, bold=True), Seg(f". {card.status_note}".rstrip() if card.status_note else "")),
    ]
    if card.decision == "related":
        lines.append((Seg("Related known claim: your message is on the same topic but is not this claim.", italic=True),))
    fr = card.first_report
    if fr:
        lines += [blank, (_label("First reported: "),) + source_segs(fr)]
        if card.sourcing:
            detail = f" ({card.sourcing_detail})" if card.sourcing_detail else ""
            lines.append((_label("Sourcing: "), Seg(f"{card.sourcing_label}{detail}")))
    if card.sourcing_notes:
        lines.append((_label("Sourcing notes: "), Seg(card.sourcing_notes)))
    for title, items in (("Denials and disputes", card.denials), ("Later developments", card.developments)):
        if items:
            lines += [blank, (_label(f"{title}:"),)]
            lines += [(Seg("\u2022 "),) + source_segs(s) for s in items]
    if card.fact_checks:
        lines += [blank, (_label("Fact-checks:"),)]
        lines += [(Seg("\u2022 "),) + fact_check_segs(f) for f in card.fact_checks]
    if card.related:
        lines += [blank, (_label("Related claims:"),)]
        lines += [(Seg("\u2022 "), Seg(r.statement), Seg(f" ({status_label(r.status)})", italic=True)) for r in card.related]
    note = card.outlet or outlet
    if note:
        lines += [blank, (_label("About the outlet:"),)] + outlet_line_list(note)
    footer = f"Match confidence: {card.confidence:.0%}"
    if card.last_reviewed:
        footer += f" | Last reviewed: {card.last_reviewed}"
    lines += [blank, (Seg(footer + " | id: ", italic=True), Seg(card.claim_id, code=True))]
    return lines


def no_match_lines(result: CheckResult) -> list[Line]:
    lines: list[Line] = [(_label("No known claim matches this message."),)]
    if result.outlet:
        lines += [(Seg(""),), (_label("About the outlet:"),)] + outlet_line_list(result.outlet)
    lines += [(Seg(""),), (Seg(NOT_FOUND_HINT),)]
    return lines


def sources_lines(card: Card) -> list[Line]:
    """The full sourcing list of a claim, URLs spelled out."""
    blank: Line = (Seg(""),)
    lines: list[Line] = [(_label("Sources for: "), Seg(card.statement)), (Seg("id: ", italic=True), Seg(card.claim_id, code=True))]
    fr = card.first_report
    if fr:
        lines += [blank, (_label("First report:"),), (Seg("\u2022 "),) + source_segs(fr, full_url=True)]
        if card.sourcing:
            detail = f" ({card.sourcing_detail})" if card.sourcing_detail else ""
            lines.append((_label("Sourcing: "), Seg(f"{card.sourcing_label}{detail}")))
    if card.sourcing_notes:
        lines.append((_label("Sourcing notes: "), Seg(card.sourcing_notes)))
    for title, items in (("Denials and disputes", card.denials), ("Later developments", card.developments)):
        if items:
            lines += [blank, (_label(f"{title}:"),)]
            lines += [(Seg("\u2022 "),) + source_segs(s, full_url=True) for s in items]
    if card.fact_checks:
        lines += [blank, (_label("Fact-checks:"),)]
        lines += [(Seg("\u2022 "),) + fact_check_segs(f, full_url=True) for f in card.fact_checks]
    if card.outlet:
        lines += [blank, (_label("About the outlet:"),)] + outlet_line_list(card.outlet)
    if not (fr or card.denials or card.developments or card.fact_checks):
        lines += [blank, (Seg("No sources are recorded for this claim.", italic=True),)]
    return lines


def related_lines(card: Card) -> list[Line]:
    if not card.related:
        return [(_label("Related claims: "), Seg("none recorded for "), Seg(card.claim_id, code=True))]
    lines: list[Line] = [(_label("Claims related to: "), Seg(card.statement))]
    for r in card.related:
        lines.append((Seg("\u2022 "), Seg(r.statement), Seg(f" ({status_label(r.status)}) ", italic=True), Seg(r.id, code=True)))
    return lines


def one_line_summary(card: Card) -> str:
    """Inline result description: status and sourcing on one line."""
    parts = [card.status_label]
    fr = card.first_report
    if fr and (fr.outlet or fr.date):
        parts.append("first reported by " + ", ".join(x for x in (fr.outlet, fr.date) if x))
    if card.sourcing:
        parts.append(f"sourcing: {card.sourcing_label}")
    return " \u00b7 ".join(parts).replace("\n", " ")


def about_lines(about: dict[str, Any]) -> list[Line]:
    """Engine.about() rendered generically: the engine owns the shape, we only lay it out."""
    lines: list[Line] = [(_label("About this bot's knowledge base"),)]

    def title(key: str) -> str:
        return str(key).replace("_", " ").capitalize()

    def walk(value: Any, depth: int) -> list[Line]:
        pad = "  " * depth
        out: list[Line] = []
        if isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, (dict, list, tuple)):
                    out.append((Seg(pad), _label(f"{title(k)}:")))
                    out += walk(v, depth + 1)
                else:
                    out.append((Seg(pad), _label(f"{title(k)}: "), Seg(str(v))))
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, dict):
                    flat = ", ".join(f"{k}: {v}" for k, v in item.items() if not isinstance(v, (dict, list, tuple)))
                    out.append((Seg(pad + "\u2022 " + flat),))
                else:
                    out.append((Seg(pad + "\u2022 " + str(item)),))
        else:
            out.append((Seg(pad + str(value)),))
        return out

    return lines + walk(about, 0)


def plain_text(lines: Iterable[Line]) -> str:
    """The same content without markup: the fallback if Telegram ever rejects our HTML."""
    return "\n".join("".join(s.text for s in line) for line in lines).strip()


# --- compact keys for callback_data and deep links ----------------------------------------------

def short_hash(value: str, n: int = 16) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:n]


def fits_callback(data: str) -> bool:
    return 0 < len(data.encode("utf-8")) <= MAX_CALLBACK_DATA
