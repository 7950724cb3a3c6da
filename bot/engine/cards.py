"""The platform-neutral card model and its plain-text rendering.

The engine builds a `Card`; each front end renders it (plain text here for the console and
`check`, Telegram HTML and Discord embeds in their adapters).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STATUS_LABELS: dict[str, str] = {
    "true": "True",
    "mostly-true": "Mostly true",
    "misleading": "Misleading",
    "disputed": "Disputed",
    "unproven": "Unproven",
    "unverified": "Unverified",
    "false": "False",
    "fact-checked": "Fact-checked",  # imported ClaimReview items: see the rating
}

SOURCING_LABELS: dict[str, str] = {
    "anonymous-officials": "anonymous officials",
    "anonymous-sources": "anonymous sources",
    "named-officials": "named officials",
    "official-statement": "official statement",
    "official-report": "official report",
    "documents": "documents",
    "court-records": "court records",
    "investigation": "investigative reporting",
    "eyewitnesses": "eyewitnesses",
    "social-media": "social media posts",
    "unknown": "unknown",
}


@dataclass(frozen=True)
class Source:
    """A dated, cited item: a first report, a denial, a development."""

    date: str = ""
    outlet: str = ""
    headline: str = ""
    url: str = ""
    who: str = ""  # for denials: who denied or disputed
    summary: str = ""  # paraphrase of what was said or happened


@dataclass(frozen=True)
class FactCheck:
    publisher: str
    rating: str
    date: str = ""
    headline: str = ""
    url: str = ""


@dataclass(frozen=True)
class RelatedClaim:
    id: str
    statement: str
    status: str


@dataclass(frozen=True)
class OutletNote:
    """What is known about the outlet behind a link."""

    domain: str
    name: str
    rsp_status: str = ""  # e.g. "gu" from Wikipedia's perennial-sources list
    rsp_label: str = ""  # e.g. "Generally unreliable"
    rsp_summary: str = ""
    rsp_year: str = ""
    rsp_link: str = ""  # attribution link (CC BY-SA 4.0)
    ownership: str = ""  # e.g. "state-funded"
    ownership_note: str = ""
    ownership_citation: str = ""


@dataclass(frozen=True)
class Card:
    claim_id: str
    statement: str
    status: str
    status_note: str
    decision: str  # "match" | "related"
    confidence: float  # 0..1
    first_report: Source | None = None
    sourcing: str = ""  # a SOURCING_LABELS key
    sourcing_detail: str = ""
    sourcing_notes: str = ""
    denials: tuple[Source, ...] = ()
    fact_checks: tuple[FactCheck, ...] = ()
    developments: tuple[Source, ...] = ()
    related: tuple[RelatedClaim, ...] = ()
    outlet: OutletNote | None = None
    last_reviewed: str = ""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status.capitalize())

    @property
    def sourcing_label(self) -> str:
        return SOURCING_LABELS.get(self.sourcing, self.sourcing)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Match:
    id: str
    claim: str  # canonical statement text
    score: float  # 0..1
    status: str = ""


@dataclass
class CheckResult:
    """What the engine answers for one message."""

    text: str
    decision: str  # "match" | "related" | "none"
    matches: list[Match] = field(default_factory=list)
    card: Card | None = None  # for the best match when decision != "none"
    outlet: OutletNote | None = None  # for the first link, if any
    link: dict[str, Any] | None = None  # extracted page fields, if a link was fetched
    reason: str = ""  # why the decision was taken (short, for logs and curators)
    actors: dict[str, Any] | None = None  # {"message": roles, "claim": the top claim's roles}, roles by doer/target/place

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "matches": [asdict(m) for m in self.matches],
            "card": self.card.to_dict() if self.card else None,
            "outlet": asdict(self.outlet) if self.outlet else None,
            "link": self.link,
            "reason": self.reason,
            "actors": self.actors,
        }


def source_line(s: Source) -> str:
    """One line for a cited item: 'date, outlet: summary ("headline")'."""
    head = ", ".join(x for x in (s.date, s.who or s.outlet) if x)
    body = s.summary
    if s.who and s.outlet:
        body = f"{body} (reported by {s.outlet})" if body else f"reported by {s.outlet}"
    if s.headline:
        body = f"{body} \u201c{s.headline}\u201d" if body else f"\u201c{s.headline}\u201d"
    line = f"{head}: {body}" if head and body else head or body
    return f"{line} {s.url}".rstrip() if s.url else line


def fact_check_line(f: FactCheck) -> str:
    parts = [f"{f.publisher}: {f.rating}"]
    if f.date:
        parts.append(f"({f.date})")
    if f.headline:
        parts.append(f"\u201c{f.headline}\u201d")
    if f.url:
        parts.append(f.url)
    return " ".join(parts)


def outlet_lines(o: OutletNote) -> list[str]:
    lines = [f"{o.name} ({o.domain})"]
    if o.ownership:
        lines.append(f"Ownership: {o.ownership}. {o.ownership_note}".rstrip())
        if o.ownership_citation:
            lines.append(f"  Source: {o.ownership_citation}")
    if o.rsp_label:
        year = f", last discussed {o.rsp_year}" if o.rsp_year else ""
        lines.append(f"Wikipedia perennial sources: {o.rsp_label}{year}.")
        if o.rsp_summary:
            lines.append(f"  {o.rsp_summary}")
        lines.append(f"  (Wikipedia, CC BY-SA 4.0: {o.rsp_link})")
    return lines


def render_text(card: Card) -> str:
    """Plain text for the console adapter and `check`."""
    lines = [f"CLAIM: {card.statement}", f"STATUS: {card.status_label}. {card.status_note}".rstrip()]
    if card.decision == "related":
        lines.append("(Related known claim: your message is on the same topic but is not this claim.)")
    fr = card.first_report
    if fr:
        lines.append("")
        lines.append(f"First reported: {source_line(fr)}")
        if card.sourcing:
            detail = f" ({card.sourcing_detail})" if card.sourcing_detail else ""
            lines.append(f"Sourcing: {card.sourcing_label}{detail}")
    if card.sourcing_notes:
        lines.append(f"Sourcing notes: {card.sourcing_notes}")
    for title, items in (("Denials and disputes", card.denials), ("Later developments", card.developments)):
        if items:
            lines.append("")
            lines.append(f"{title}:")
            lines.extend(f"- {source_line(s)}" for s in items)
    if card.fact_checks:
        lines.append("")
        lines.append("Fact-checks:")
        lines.extend(f"- {fact_check_line(f)}" for f in card.fact_checks)
    if card.related:
        lines.append("")
        lines.append("Related claims:")
        lines.extend(f"- [{r.id}] {r.statement} ({STATUS_LABELS.get(r.status, r.status)})" for r in card.related)
    if card.outlet:
        lines.append("")
        lines.append("About the outlet:")
        lines.extend(outlet_lines(card.outlet))
    lines.append("")
    footer = f"Match confidence: {card.confidence:.0%}"
    if card.last_reviewed:
        footer += f" | Last reviewed: {card.last_reviewed}"
    lines.append(f"{footer} | id: {card.claim_id}")
    return "\n".join(lines)


def render_result_text(result: CheckResult) -> str:
    """Plain text answer for a whole check: the card, or a plain 'not known' with the outlet note."""
    if result.card is not None:
        text = render_text(result.card)
        if result.outlet and result.card.outlet is None:
            text += "\n\nAbout the outlet:\n" + "\n".join(outlet_lines(result.outlet))
        return text
    lines = ["No known claim matches this message."]
    if result.outlet:
        lines.append("")
        lines.append("About the outlet:")
        lines.extend(outlet_lines(result.outlet))
    lines.append("")
    lines.append(NOT_FOUND_HINT)
    return "\n".join(lines)


NOT_FOUND_HINT = (
    "If you think this claim deserves context, report it to the curators: "
    "use the 'Wrong match' button on a card, or open an issue in the knowledge repository."
)
