"""Import fact-check data from the ecosystem's standard formats into claim records.

Formats: schema.org ClaimReview JSON-LD (a single object, a list, an `@graph`, or a DataFeed with
`dataFeedElement[].item[]`) and the Google Fact Check Tools `claims:search` response. Malformed items
are reported with a reason and skipped; every valid item is kept.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_FALSE = re.compile(r"\b(false|fake|pants on fire|incorrect|wrong|fabricated|hoax|not true|untrue|baseless|debunked|four pinocchios)\b", re.I)
_MISLEADING = re.compile(r"\b(misleading|missing context|half[- ]true|mixture|mixed|partly (false|true)|out of context|exaggerat\w*|distort\w*|cherry)\b", re.I)
_UNPROVEN = re.compile(r"\b(unproven|unsupported|no evidence|unverified|unsubstantiated|lacks evidence)\b", re.I)
_TRUE = re.compile(r"\b(true|correct|accurate|mostly true)\b", re.I)


def status_from_rating(rating: str) -> str:
    """Map a publisher's rating words to our status vocabulary; unknown words stay 'fact-checked'."""
    if _MISLEADING.search(rating):
        return "misleading"
    if _FALSE.search(rating):
        return "false"
    if _UNPROVEN.search(rating):
        return "unproven"
    if re.search(r"\bmostly true\b", rating, re.I):
        return "mostly-true"
    if _TRUE.search(rating):
        return "true"
    return "fact-checked"


@dataclass
class ImportReport:
    claims: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "file: item N: reason"


def _name(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        return str(value.get("name") or value.get("site") or value.get("url") or "").strip()
    if isinstance(value, list) and value:
        return _name(value[0])
    return ""


def _date(value: Any) -> str:
    m = re.match(r"(\d{4}(?:-\d{2}(?:-\d{2})?)?)", str(value or ""))
    return m.group(1) if m else ""


def _claim_id(text: str, url: str) -> str:
    return "import-" + hashlib.sha1(f"{text}\n{url}".encode()).hexdigest()[:12]


def _record(statement: str, claimant: str, claim_date: str, reviews: list[dict[str, str]], language: str) -> dict[str, Any]:
    first = reviews[0]
    status = status_from_rating(first["rating"])
    return {
        "id": _claim_id(statement, first.get("url", "")),
        "statement": statement,
        "phrasings": [statement],
        "status": status,
        "status_note": f"Rated \u201c{first['rating']}\u201d by {first['publisher']}.",
        "language": language or "en",
        "first_report": {"outlet": claimant or "unknown claimant", "date": claim_date or first.get("date", ""),
                         "headline": statement, "sourcing": "unknown", "sourcing_detail": "as recorded by the fact-checker"},
        "fact_checks": reviews,
        "entities": [],
        "related": [],
        "last_reviewed": first.get("date", ""),
        "source": "import",
    }


def _walk_claimreviews(node: Any) -> Iterator[Any]:
    """Yield every object that claims to be a ClaimReview (or is malformed where one was expected)."""
    if isinstance(node, list):
        for item in node:
            yield from _walk_claimreviews(item)
    elif isinstance(node, dict):
        types = node.get("@type")
        types = types if isinstance(types, list) else [types]
        if "ClaimReview" in types:
            yield node
        elif "DataFeed" in types:
            for element in node.get("dataFeedElement") or []:
                items = element.get("item") if isinstance(element, dict) else None
                if items is None:
                    yield {"__malformed__": "dataFeedElement without item"}
                    continue
                yield from _walk_claimreviews(items)
        elif "@graph" in node:
            yield from _walk_claimreviews(node["@graph"])
        else:
            yield {"__malformed__": f"not a ClaimReview (@type {node.get('@type')!r})"}
    else:
        yield {"__malformed__": f"not an object: {type(node).__name__}"}


def _from_claimreview(item: dict[str, Any]) -> dict[str, Any]:
    if "__malformed__" in item:
        raise ValueError(item["__malformed__"])
    statement = item.get("claimReviewed")
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError("claimReviewed missing or empty")
    rating_node = item.get("reviewRating") or {}
    rating = ""
    if isinstance(rating_node, dict):
        rating = str(rating_node.get("alternateName") or rating_node.get("name") or "").strip()
    if not rating:
        raise ValueError("reviewRating.alternateName missing")
    reviewed = item.get("itemReviewed") if isinstance(item.get("itemReviewed"), dict) else {}
    claimant = _name(reviewed.get("author"))
    publisher = _name(item.get("author")) or _name(item.get("publisher")) or "unknown publisher"
    url = item.get("url") if isinstance(item.get("url"), str) else ""
    review = {"publisher": publisher, "rating": rating, "date": _date(item.get("datePublished")),
              "headline": str(item.get("name") or item.get("headline") or "").strip(), "url": url.strip()}
    language = str(item.get("inLanguage") or "en")[:2].lower()
    return _record(statement.strip(), claimant, _date(reviewed.get("datePublished")), review_clean([review]), language)


def review_clean(reviews: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in r.items() if v or k in ("publisher", "rating", "date")} for r in reviews]


def _from_google(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError("claim is not an object")
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text missing or empty")
    reviews = []
    for r in item.get("claimReview") or []:
        if not isinstance(r, dict) or not str(r.get("textualRating") or "").strip():
            continue
        reviews.append({"publisher": _name(r.get("publisher")) or "unknown publisher", "rating": str(r["textualRating"]).strip(),
                        "date": _date(r.get("reviewDate")), "headline": str(r.get("title") or "").strip(),
                        "url": str(r.get("url") or "").strip()})
    if not reviews:
        raise ValueError("no claimReview with a textualRating")
    language = str((item.get("claimReview") or [{}])[0].get("languageCode") or "en")[:2].lower()
    return _record(text.strip(), str(item.get("claimant") or "").strip(), _date(item.get("claimDate")), review_clean(reviews), language)


def parse_document(data: Any, origin: str = "<input>") -> ImportReport:
    """Recognise the format of one parsed JSON document and convert every item."""
    report = ImportReport()
    if isinstance(data, dict) and "claims" in data and isinstance(data["claims"], list):
        items, convert = list(data["claims"]), _from_google
    else:
        items, convert = list(_walk_claimreviews(data)), _from_claimreview
    seen: set[str] = set()
    for n, item in enumerate(items, 1):
        try:
            record = convert(item)
        except ValueError as exc:
            report.skipped.append(f"{origin}: item {n}: {exc}")
            continue
        if record["id"] in seen:
            report.skipped.append(f"{origin}: item {n}: duplicate of an earlier item")
            continue
        seen.add(record["id"])
        report.claims.append(record)
    return report


def parse_file(path: str | Path) -> ImportReport:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return ImportReport(skipped=[f"{path}: cannot read JSON: {exc}"])
    return parse_document(data, str(path))
