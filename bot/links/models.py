"""What a link lookup returns: page metadata, fact-check reviews found on it, and the fetch outcome."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.links.titles import headline_candidates, site_names


@dataclass
class ClaimReviewInfo:
    """One schema.org ClaimReview: a fact-checker's ruling on a claim."""

    claim_reviewed: str = ""
    rating: str = ""  # reviewRating.alternateName, e.g. "False", "Misleading"
    publisher: str = ""  # the fact-checking organisation
    url: str = ""
    date: str = ""
    claimant: str = ""  # itemReviewed.author: who made the claim

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PageInfo:
    url: str = ""  # the URL as shared
    final_url: str = ""  # after redirects
    canonical_url: str = ""  # <link rel=canonical> or og:url, "" when the page names none
    title: str = ""  # <title>, as written
    og_title: str = ""
    headline: str = ""  # JSON-LD headline of the article
    site_name: str = ""
    published: str = ""  # ISO 8601 date or date-time when known
    description: str = ""
    claim_reviews: list[ClaimReviewInfo] = field(default_factory=list)

    def headline_candidates(self) -> list[str]:
        """Cleaned, de-duplicated headlines, best first (JSON-LD headline, og:title, title), site suffix removed."""
        names = site_names(self.site_name, self.final_url or self.url, self.canonical_url)
        return headline_candidates([self.headline, self.og_title, self.title], names)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["headline_candidates"] = self.headline_candidates()
        return d


@dataclass
class FetchResult:
    ok: bool
    url: str
    reason: str = ""  # "" when ok, else e.g. "refused: address 10.0.0.1 is private", "timeout", "too large"
    page: PageInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "url": self.url, "reason": self.reason, "page": self.page.to_dict() if self.page else None}
