"""The source audit of the curated knowledge: per claim, every cited source, every quoted headline, every
URL and every quotation in the free text, so an independent check can verify them one by one.

Pure functions over a loaded `Knowledge`; `python -m bot knowledge audit` prints the report as text or JSON.
"""

from __future__ import annotations

import re
from typing import Any

from bot.engine.knowledge import Knowledge

# Where a claim cites something: (field, kind in the report, the key naming who published or said it).
SOURCE_FIELDS = (("denials", "denial", "who"), ("fact_checks", "fact-check", "publisher"),
                 ("developments", "development", None))
# Free-text fields in which curators may quote someone; each quotation must be attributable word for word.
TEXT_FIELDS = ("statement", "status_note", "sourcing_notes")
# Double quotes, straight or curly, and curly single quotes (a straight ' is too often an apostrophe).
QUOTATION_RE = re.compile(r"\u201c([^\u201d]+)\u201d|\"([^\"]+)\"|\u2018([^\u2019]+)\u2019")


def is_placeholder(headline: str) -> bool:
    """'[presidential video address; no headline]': a bracketed note where a source has no headline."""
    return headline.startswith("[") and headline.endswith("]")


def date_floor(date: str) -> str:
    """The first day a YYYY, YYYY-MM or YYYY-MM-DD date can mean, comparable as text."""
    parts = date.split("-")
    return "-".join(parts + ["01"] * (3 - len(parts)))


def claim_sources(claim: dict[str, Any]) -> list[dict[str, str]]:
    """Every source a claim cites, first report first, then denials, fact-checks and developments as filed, then
    the sources of its known images."""
    out: list[dict[str, str]] = []
    fr = claim.get("first_report") or {}
    if fr:
        out.append(_source("first-report", "", {**fr, "summary": fr.get("sourcing_detail", "")}))
    for field, kind, who_key in SOURCE_FIELDS:
        for item in claim.get(field) or []:
            out.append(_source(kind, item.get(who_key, "") if who_key else "", item))
    for image in claim.get("images") or []:
        out.append(_source("image", "", {**(image.get("source") or {}), "summary": image.get("description", "")}))
    return out


def _source(kind: str, by: str, item: dict[str, Any]) -> dict[str, str]:
    """`by` is who spoke or published (a denial's `who`, a fact-check's publisher); `outlet` where it appeared."""
    return {"kind": kind, "by": by, "outlet": item.get("outlet", ""), "date": item.get("date", ""),
            "headline": item.get("headline", ""), "url": item.get("url", ""), "author": item.get("author", ""),
            "rating": item.get("rating", ""), "summary": item.get("summary", "")}


def text_quotations(claim: dict[str, Any]) -> list[dict[str, str]]:
    """Words a claim's free text puts in double quotation marks, with the field they are in."""
    texts = [(f, claim.get(f, "")) for f in TEXT_FIELDS]
    texts += [(f"{field}.summary", item.get("summary", ""))
              for field, _, _ in SOURCE_FIELDS for item in claim.get(field) or []]
    texts += [("first_report.sourcing_detail", (claim.get("first_report") or {}).get("sourcing_detail", ""))]
    return [{"field": f, "quote": next(g for g in m.groups() if g)} for f, text in texts if text
            for m in QUOTATION_RE.finditer(text)]


def newest_dated_entry(claim: dict[str, Any]) -> str:
    """The latest date among the claim's first report, denials, fact-checks and developments ('' if none)."""
    dates = [s["date"] for s in claim_sources(claim) if s["date"]]
    return max(dates, key=date_floor, default="")


def review_is_stale(claim: dict[str, Any]) -> bool:
    """True when `last_reviewed` is older than the newest dated entry: someone added a source after the review."""
    newest = newest_dated_entry(claim)
    return bool(newest) and date_floor(newest) > claim.get("last_reviewed", "")


def stale_reviews(kb: Knowledge) -> list[tuple[str, str, str]]:
    """(claim id, last_reviewed, newest dated entry) for every claim whose review predates its sources."""
    return [(c["id"], c.get("last_reviewed", ""), newest_dated_entry(c)) for c in kb.claims if review_is_stale(c)]


def claim_audit(claim: dict[str, Any]) -> dict[str, Any]:
    sources = claim_sources(claim)
    return {
        "id": claim["id"], "file": claim.get("_file", ""), "status": claim.get("status", ""),
        "last_reviewed": claim.get("last_reviewed", ""), "newest_entry": newest_dated_entry(claim),
        "review_stale": review_is_stale(claim), "sources": sources,
        "quoted_headlines": [s["headline"] for s in sources if s["headline"] and not is_placeholder(s["headline"])],
        "urls": [s["url"] for s in sources if s["url"]],
        "quotations": text_quotations(claim),
    }


def audit_report(kb: Knowledge) -> dict[str, Any]:
    """The whole audit: claims (sorted by id) and the citations of the outlet ownership notes."""
    claims = [claim_audit(c) for c in sorted(kb.claims, key=lambda c: c["id"])]
    outlets = [{"domain": o.get("domain", ""), "name": o.get("name", ""), "ownership": o.get("ownership", ""),
                "citation": dict(o.get("citation") or {})} for o in kb.ownership]
    totals = {"claims": len(claims), "sources": sum(len(c["sources"]) for c in claims),
              "quoted_headlines": sum(len(c["quoted_headlines"]) for c in claims),
              "urls": sum(len(c["urls"]) for c in claims) + sum(1 for o in outlets if o["citation"].get("url")),
              "quotations": sum(len(c["quotations"]) for c in claims),
              "stale_reviews": sum(c["review_stale"] for c in claims), "outlet_notes": len(outlets)}
    return {"claims": claims, "outlet_notes": outlets, "totals": totals}


def render_audit_text(report: dict[str, Any]) -> str:
    """One block per claim: each source on a line (kind, date, who, outlet, quoted headline, URL)."""
    lines: list[str] = []
    for c in report["claims"]:
        stale = f"; REVIEW OLDER THAN {c['newest_entry']}" if c["review_stale"] else ""
        lines.append(f"== {c['id']} [{c['status']}] {c['file']} (last reviewed {c['last_reviewed']}{stale})")
        for s in c["sources"]:
            who = ", ".join(x for x in (s["by"], s["rating"] and f"rated {s['rating']}", s["outlet"] and f"in {s['outlet']}",
                                        s["author"] and f"by {s['author']}") if x)
            head = (f"(no headline: {s['headline']})" if is_placeholder(s["headline"])
                    else f"\u201c{s['headline']}\u201d" if s["headline"] else "(no headline cited)")
            lines.append(f"  {s['kind']:<12} {s['date'] or '-':<10}  {who}  {head}  {s['url']}".rstrip())
        for q in c["quotations"]:
            lines.append(f"  quotation in {q['field']}: \u201c{q['quote']}\u201d")
        lines.append("")
    if report["outlet_notes"]:
        lines.append("== outlet ownership notes")
        for o in report["outlet_notes"]:
            cit = o["citation"]
            lines.append(f"  {o['domain']:<24} {o['ownership']:<18} {cit.get('date', '-'):<10}  {cit.get('outlet', '')}  "
                         f"\u201c{cit.get('headline', '')}\u201d  {cit.get('url', '')}".rstrip())
        lines.append("")
    t = report["totals"]
    lines.append(f"{t['claims']} claims, {t['sources']} sources, {t['quoted_headlines']} quoted headlines, "
                 f"{t['urls']} URLs, {t['quotations']} quotations in text, {t['outlet_notes']} outlet notes, "
                 f"{t['stale_reviews']} stale review(s)")
    return "\n".join(lines)
