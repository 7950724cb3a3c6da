"""Import fact-check data from the ecosystem's standard formats into claim records.

Formats: schema.org ClaimReview JSON-LD (a single object, a list, an `@graph`, or a DataFeed with
`dataFeedElement[].item[]`) and the Google Fact Check Tools `claims:search` response. Malformed items
are reported with a reason and skipped; every valid item is kept.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from datetime import date
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.engine.characters import without_controls
from bot.engine.knowledge import ISO_639_1
from bot.engine.urlcheck import valid_http_url

# Bounds (issue 16): a 10 MB statement became a card of 4,886 pages, and a 100,000-deep document a
# RecursionError. Statements longer than this are skipped, other text fields cut; the file cap keeps
# json.loads itself bounded.
MAX_STATEMENT_CHARS = 4_000
MAX_FIELD_CHARS = 1_000
MAX_IMPORT_FILE_BYTES = 200_000_000  # a full ClaimReview feed is tens of MB
MAX_JSON_DEPTH = 64  # a DataFeed nests about 6 deep
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


def _text(value: Any, limit: int = MAX_FIELD_CHARS) -> str:
    """A scalar as one stripped string without control characters, cut to `limit` characters; containers
    give ''."""
    if isinstance(value, (dict, list)) or value is None:
        return ""
    text = without_controls(str(value)).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _name(value: Any) -> str:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("site") or value.get("url") or "")
    if isinstance(value, list) and value:
        return _name(value[0])
    return ""


def _url(value: Any) -> str:
    """An http(s) URL that a card can link, or '' (the review is kept without its link)."""
    url = value.strip() if isinstance(value, str) else ""
    return url if valid_http_url(url) else ""


def _statement(value: Any, field_name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field_name} missing or empty")
    if (problem := _not_unicode(value)) is not None:
        raise ValueError(f"{field_name} {problem}")
    text = without_controls(value).strip()
    if len(text) > MAX_STATEMENT_CHARS:
        raise ValueError(f"{field_name} longer than {MAX_STATEMENT_CHARS} characters ({len(text):,})")
    if not any(ch.isalnum() for ch in text):  # zero-width characters or punctuation alone: nothing to match
        raise ValueError(f"{field_name} has no letters or digits")
    return text


def _not_unicode(text: str) -> str | None:
    """Why `text` cannot be stored (a lone surrogate, which JSON's \\u escapes can spell but UTF-8 cannot
    encode), or None when it can."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"is not valid Unicode (a lone surrogate at character {exc.start + 1})"
    return None


def _unstorable(value: Any, path: str = "") -> str | None:
    """The first text in a converted record that cannot be stored, as "field problem", or None."""
    if isinstance(value, str):
        problem = _not_unicode(value)
        return f"{path or 'text'} {problem}" if problem else None
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        where = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else str(key)
        if (found := _unstorable(child, where)) is not None:
            return found
    return None


def _language(value: Any) -> str:
    """An ISO 639-1 code from a language tag ("pt-BR" gives "pt"); English for a tag that names none."""
    code = _text(value).split("-")[0].split("_")[0].lower()
    return code if code in ISO_639_1 else "en"


def _date(value: Any) -> str:
    """YYYY, YYYY-MM or YYYY-MM-DD from the start of a date or date-time; '' for anything else ("20215",
    "2021-02-28garbage")."""
    m = re.match(r"(\d{4}(?:-\d{2}(?:-\d{2})?)?)(?:$|[T ])", value if isinstance(value, str) else "")
    if not m:
        return ""
    parts = [int(p) for p in m.group(1).split("-")]
    try:
        date(*parts, *[1] * (3 - len(parts)))  # 2021-02-30 or month 13: no date rather than a wrong one
    except ValueError:
        return ""
    return m.group(1)


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
        types = [t for t in types if isinstance(t, str)]  # unhashable @type values are just unknown
        if "ClaimReview" in types:
            yield node
        elif "DataFeed" in types:
            elements = node.get("dataFeedElement") or []
            if not isinstance(elements, list):
                yield {"__malformed__": f"dataFeedElement is not a list: {type(elements).__name__}"}
                return
            for element in elements:
                items = element.get("item") if isinstance(element, dict) else None
                if items is None:
                    yield {"__malformed__": "dataFeedElement without item"}
                    continue
                yield from _walk_claimreviews(items)
        elif "@graph" in node:
            yield from _walk_claimreviews(node["@graph"])
        else:
            yield {"__malformed__": f"not a ClaimReview (@type {_text(repr(node.get('@type')), 80)})"}
    else:
        yield {"__malformed__": f"not an object: {type(node).__name__}"}


def _from_claimreview(item: dict[str, Any]) -> dict[str, Any]:
    if "__malformed__" in item:
        raise ValueError(item["__malformed__"])
    statement = _statement(item.get("claimReviewed"), "claimReviewed")
    rating_node = item.get("reviewRating") or {}
    rating = ""
    if isinstance(rating_node, dict):
        rating = _text(rating_node.get("alternateName") or rating_node.get("name") or "")
    if not rating:
        raise ValueError("reviewRating.alternateName missing")
    reviewed = item.get("itemReviewed") if isinstance(item.get("itemReviewed"), dict) else {}
    claimant = _name(reviewed.get("author"))
    publisher = _name(item.get("author")) or _name(item.get("publisher")) or "unknown publisher"
    review = {"publisher": publisher, "rating": rating, "date": _date(item.get("datePublished")),
              "headline": _text(item.get("name") or item.get("headline") or ""), "url": _url(item.get("url"))}
    return _record(statement, claimant, _date(reviewed.get("datePublished")), review_clean([review]),
                   _language(item.get("inLanguage") or "en"))


def review_clean(reviews: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in r.items() if v or k in ("publisher", "rating", "date")} for r in reviews]


def _from_google(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError("claim is not an object")
    text = _statement(item.get("text"), "text")
    raw_reviews = item.get("claimReview") or []
    if not isinstance(raw_reviews, list):
        raise ValueError(f"claimReview is not a list: {type(raw_reviews).__name__}")
    reviews, language = [], ""
    for r in raw_reviews:
        if not isinstance(r, dict) or not _text(r.get("textualRating")):
            continue
        reviews.append({"publisher": _name(r.get("publisher")) or "unknown publisher", "rating": _text(r["textualRating"]),
                        "date": _date(r.get("reviewDate")), "headline": _text(r.get("title")), "url": _url(r.get("url"))})
        language = language or _language(r.get("languageCode") or "en")
    if not reviews:
        raise ValueError("no claimReview with a textualRating")
    return _record(text, _text(item.get("claimant")), _date(item.get("claimDate")), review_clean(reviews), language)


def _too_deep(data: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `data` nests deeper than `limit` (iterative: the walk below recurses per level)."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return False


def parse_document(data: Any, origin: str = "<input>") -> ImportReport:
    """Recognise the format of one parsed JSON document and convert every item. Never raises: a bad
    document or item is one line in `skipped`."""
    report = ImportReport()
    if _too_deep(data):
        report.skipped.append(f"{origin}: nested deeper than {MAX_JSON_DEPTH} levels; nothing imported")
        return report
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
        except Exception as exc:  # a shape no rule above foresaw: skip the item, keep the import going
            report.skipped.append(f"{origin}: item {n}: malformed ({type(exc).__name__})")
            continue
        # a rating or publisher SQLite could not store, named by the field it came from (the reviews first:
        # the status note repeats their rating)
        if (problem := _unstorable({"fact_checks": record["fact_checks"], **record})) is not None:
            report.skipped.append(f"{origin}: item {n}: {problem}")
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
        size = path.stat().st_size
        if size > MAX_IMPORT_FILE_BYTES:
            return ImportReport(skipped=[f"{path}: file is {size:,} bytes, over the {MAX_IMPORT_FILE_BYTES:,}-byte limit"])
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return ImportReport(skipped=[f"{path}: cannot read JSON: {exc}"])
    except RecursionError:  # json's C scanner recurses once per level
        return ImportReport(skipped=[f"{path}: cannot read JSON: nested too deeply"])
    return parse_document(data, str(path))


def parse_files(paths: Iterable[str | Path]) -> ImportReport:
    """Parse several files into one report; an item already seen in an earlier file (same claim id) is
    reported as a duplicate, so one import never inserts the same claim twice."""
    total = ImportReport()
    first_seen: dict[str, str] = {}
    for path in paths:
        report = parse_file(path)
        total.skipped += report.skipped
        for claim in report.claims:
            if claim["id"] in first_seen:
                total.skipped.append(f"{path}: {claim['id']}: duplicate of the same item in {first_seen[claim['id']]}")
                continue
            first_seen[claim["id"]] = str(path)
            total.claims.append(claim)
    return total
