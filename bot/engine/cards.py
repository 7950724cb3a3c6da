"""The platform-neutral card model: what the engine knows about a claim, with no presentation.

The engine builds a `Card`; the chat layer lays it out once (bot/chat/layout.py) and each front end
renders that layout (plain text, Telegram HTML, Discord embeds).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

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
    sourcing: str = ""  # one of knowledge.SOURCINGS
    sourcing_detail: str = ""
    sourcing_notes: str = ""
    denials: tuple[Source, ...] = ()
    fact_checks: tuple[FactCheck, ...] = ()
    developments: tuple[Source, ...] = ()
    related: tuple[RelatedClaim, ...] = ()
    outlet: OutletNote | None = None
    last_reviewed: str = ""
    lang: str = "en"  # the language of statement and status_note (English where the file has no translation)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ImageMatch:
    """A received picture recognised as one a claim file lists under `images:` (by perceptual hash)."""

    claim_id: str
    description: str  # the curator's: what the picture shows and what is wrong with it
    source: Source | None = None  # who showed it was fake / where it first spread
    distance: int = 0  # Hamming bits between the nearest stored hash and the picture's


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
    language: str = "en"  # the message's, as the engine read it (bot/engine/language.py)
    image: ImageMatch | None = None  # when the card was found from a known picture, not from text

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "matches": [asdict(m) for m in self.matches],
            "card": self.card.to_dict() if self.card else None,
            "outlet": asdict(self.outlet) if self.outlet else None,
            "link": self.link,
            "reason": self.reason,
            "actors": self.actors,
            "language": self.language,
            "image": asdict(self.image) if self.image else None,
        }
