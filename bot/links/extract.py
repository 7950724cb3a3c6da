"""Page metadata from HTML: titles, site name, dates, canonical URL and schema.org ClaimReview.

Pure and total: any bytes in, a PageInfo out. trafilatura supplies the generic metadata (site name,
date, description, URL fallbacks); JSON-LD is read with lxml + json because trafilatura does not
expose ClaimReview or keep headline and og:title apart.
"""

from __future__ import annotations

import codecs
import email.utils
import json
import logging
import re
from datetime import datetime
from typing import Any, Iterator
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html

from bot.links.models import ClaimReviewInfo, PageInfo
from bot.links.titles import clean_text

log = logging.getLogger(__name__)

MAX_JSONLD_NODES = 5000  # per page: a hostile page cannot make the walk expensive
MAX_JSONLD_DEPTH = 40
MAX_CLAIM_REVIEWS = 50

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_ARTICLE_TYPES = (  # best first: where the page's own headline lives
    "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle", "backgroundnewsarticle",
    "reviewnewsarticle", "askpublicnewsarticle", "article", "blogposting", "liveblogposting", "socialmediaposting",
    "report", "scholarlyarticle", "techarticle", "claimreview", "webpage", "creativework",
)


# ---------------------------------------------------------------------------------------------- decoding

# The encodings a web page may declare (the WHATWG Encoding Standard's list, as Python codecs). A label
# outside it is ignored, so "rot13", "base64", "idna", "zlib" or "unicode_escape" in a header or a meta tag
# can neither raise LookupError (bytes-to-bytes codecs) nor reinterpret the page.
_WEB_ENCODINGS = frozenset(codecs.lookup(name).name for name in (
    "utf-8", "ibm866", "iso-8859-2", "iso-8859-3", "iso-8859-4", "iso-8859-5", "iso-8859-6", "iso-8859-7",
    "iso-8859-8", "iso-8859-10", "iso-8859-13", "iso-8859-14", "iso-8859-15", "iso-8859-16", "koi8-r", "koi8-u",
    "mac-roman", "mac-cyrillic", "cp874", "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255", "cp1256",
    "cp1257", "cp1258", "gbk", "gb2312", "gb18030", "big5", "big5hkscs", "euc-jp", "iso-2022-jp", "shift_jis",
    "euc-kr", "utf-16-be", "utf-16-le", "utf-16", "latin-1", "ascii",
))
# Longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def web_encoding(label: str | None) -> str | None:
    """The Python codec for a declared charset label, or None when it is unknown or not a text encoding."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip()).name
    except (LookupError, ValueError):
        return None
    return name if name in _WEB_ENCODINGS else None


def decode_html(body: bytes, charset: str | None = None) -> str:
    """Bytes to text: BOM, then the HTTP charset, then <meta charset>, then UTF-8, then Windows-1252.
    Declared charsets that are not web text encodings are ignored."""
    for bom, enc in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(enc, errors="replace")
    candidates = [charset] if charset else []
    m = _META_CHARSET.search(body[:4096])
    if m:
        candidates.append(m.group(1).decode("ascii", "ignore"))
    for label in candidates:
        enc = web_encoding(label)
        if enc is None:
            continue
        try:
            return body.decode(enc, errors="replace")
        except (LookupError, UnicodeError, ValueError):  # a codec that cannot replace: try the next
            continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def _parse(html: str | bytes) -> lxml.html.HtmlElement | None:
    text = decode_html(html) if isinstance(html, bytes) else html
    # lxml refuses str input that carries an XML encoding declaration.
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    if not text.strip():
        return None
    try:
        return lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError, TypeError):
        return None


# ---------------------------------------------------------------------------------------------- JSON-LD

def _jsonld_blocks(tree: lxml.html.HtmlElement) -> Iterator[Any]:
    for script in tree.iter("script"):
        kind = (script.get("type") or "").split(";", 1)[0].strip().lower()
        if kind != "application/ld+json":
            continue
        raw = (script.text or "").strip()
        # Wrappers CMSs leave around the JSON.
        for prefix, suffix in (("<!--", "-->"), ("//<![CDATA[", "//]]>"), ("<![CDATA[", "]]>")):
            if raw.startswith(prefix) and raw.endswith(suffix):
                raw = raw[len(prefix): -len(suffix)].strip()
        if not raw:
            continue
        for attempt in (raw, _TRAILING_COMMA.sub(r"\1", raw)):
            try:
                yield json.loads(attempt, strict=False)
                break
            except (ValueError, RecursionError):
                continue
        else:
            log.debug("unparseable JSON-LD block skipped")


def _types(node: dict) -> set[str]:
    t = node.get("@type")
    values = t if isinstance(t, list) else [t]
    # "schema:ClaimReview", "http://schema.org/ClaimReview" -> "claimreview"
    return {re.split(r"[/:#]", v)[-1].lower() for v in values if isinstance(v, str)}


def _nodes(blocks: list[Any]) -> list[dict]:
    """Every JSON object in the blocks (inside lists, @graph and nested values), depth-first, bounded."""
    out: list[dict] = []
    stack: list[tuple[Any, int]] = [(b, 0) for b in reversed(blocks)]
    while stack and len(out) < MAX_JSONLD_NODES:
        value, depth = stack.pop()
        if depth > MAX_JSONLD_DEPTH:
            continue
        if isinstance(value, dict):
            out.append(value)
            stack.extend((v, depth + 1) for v in reversed(list(value.values())) if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in reversed(value) if isinstance(v, (dict, list)))
    return out


class _Graph:
    """JSON-LD nodes with @id references resolvable ({"@id": "#org"} -> the Organization node)."""

    def __init__(self, blocks: list[Any]) -> None:
        self.nodes = _nodes(blocks)
        self.by_id: dict[str, dict] = {}
        for n in self.nodes:
            ident = n.get("@id")
            if isinstance(ident, str) and len(n) > 1:
                self.by_id.setdefault(ident, n)

    def deref(self, value: Any) -> Any:
        if isinstance(value, dict) and set(value) <= {"@id", "@type"} and isinstance(value.get("@id"), str):
            return self.by_id.get(value["@id"], value)
        return value

    def first(self, value: Any) -> Any:
        value = self.deref(value)
        if isinstance(value, list):
            return self.deref(value[0]) if value else None
        return value

    def name(self, value: Any) -> str:
        """Name of a Person/Organization given as a string, an object, a reference or a list of those."""
        value = self.deref(value)
        if isinstance(value, list):
            for item in value:
                found = self.name(item) if isinstance(item, (dict, str)) else ""
                if found:
                    return found
            return ""
        if isinstance(value, dict):
            return clean_text(value.get("name")) or clean_text(value.get("legalName")) or clean_text(value.get("alternateName"))
        return clean_text(value)


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    return clean_text(value)


def _rating(graph: _Graph, value: Any) -> str:
    r = graph.first(value)
    if isinstance(r, str):
        return clean_text(r)
    if not isinstance(r, dict):
        return ""
    label = _text(r.get("alternateName")) or _text(r.get("name"))
    if label:
        return label
    val, best = _text(r.get("ratingValue")), _text(r.get("bestRating"))
    return f"{val}/{best}" if val and best else val


def _claim_review(graph: _Graph, node: dict, page_url: str) -> ClaimReviewInfo:
    item = graph.first(node.get("itemReviewed"))
    claimant = graph.name(item.get("author")) if isinstance(item, dict) else ""
    url = _text(node.get("url"))
    return ClaimReviewInfo(
        claim_reviewed=_text(node.get("claimReviewed")) or (_text(item.get("name")) if isinstance(item, dict) else ""),
        rating=_rating(graph, node.get("reviewRating")),
        publisher=graph.name(node.get("author")) or graph.name(node.get("publisher")),
        url=_absolute(url, page_url) if url else page_url,
        date=iso_date(_text(node.get("datePublished")) or _text(node.get("dateCreated"))),
        claimant=claimant,
    )


# ---------------------------------------------------------------------------------------------- helpers

def _absolute(href: str, base: str) -> str:
    try:
        url = urljoin(base, href.strip())
    except ValueError:
        return ""
    return url if urlsplit(url).scheme in ("http", "https") else ""


def iso_date(text: str) -> str:
    """A date or date-time in ISO 8601 ('2022-03-10', '2022-03-10T15:44:00+00:00'); '' if unreadable."""
    text = clean_text(text)
    if not text:
        return ""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)  # RFC 2822, as some CMSs write it
        except (TypeError, ValueError, IndexError):
            return ""
    if len(text) <= 10 and parsed.hour == parsed.minute == parsed.second == 0:
        return parsed.date().isoformat()
    return parsed.isoformat()


def _meta(tree: lxml.html.HtmlElement) -> dict[str, str]:
    """First content of each <meta property|name=...>, keys lower-cased."""
    out: dict[str, str] = {}
    for m in tree.iter("meta"):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or "").strip().lower()
        content = m.get("content")
        if key and content and key not in out:
            out[key] = content
    return out


def _link(tree: lxml.html.HtmlElement, rel: str) -> str:
    for link in tree.iter("link"):
        if rel in (link.get("rel") or "").lower().split() and link.get("href"):
            return link.get("href") or ""
    return ""


def _title(tree: lxml.html.HtmlElement) -> str:
    for t in tree.iter("title"):
        # An <svg><title> inside the body is not the page title.
        if t.getparent() is not None and t.getparent().tag in ("head", "html"):
            return clean_text(t.text_content())
    first = next(tree.iter("title"), None)
    return clean_text(first.text_content()) if first is not None else ""


def _trafilatura_metadata(tree: lxml.html.HtmlElement, url: str) -> Any:
    try:
        from trafilatura.metadata import extract_metadata

        # Non-extensive date search: meta tags, JSON-LD and URL only, not a scan of the whole text.
        return extract_metadata(tree, default_url=url or None, extensive=False)
    except Exception:  # noqa: BLE001 - a third-party bug must not lose the rest of the metadata
        log.debug("trafilatura metadata failed for %s", url, exc_info=True)
        return None


# ---------------------------------------------------------------------------------------------- entry point

def extract_page(html: str | bytes, url: str) -> PageInfo:
    """Metadata of one page; never raises (malformed HTML or JSON-LD gives what could be read)."""
    try:
        return _extract(html, url)
    except Exception:  # noqa: BLE001 - hostile pages must not crash the bot
        log.warning("metadata extraction failed for %s", url, exc_info=True)
        return PageInfo(url=url, final_url=url)


def _extract(html: str | bytes, url: str) -> PageInfo:
    page = PageInfo(url=url, final_url=url)
    tree = _parse(html)
    if tree is None:
        return page
    meta = _meta(tree)
    graph = _Graph(list(_jsonld_blocks(tree)))

    ranked = sorted(
        (n for n in graph.nodes if _types(n) & set(_ARTICLE_TYPES)),
        key=lambda n: min(_ARTICLE_TYPES.index(t) for t in _types(n) if t in _ARTICLE_TYPES),
    )
    article = next((n for n in ranked if _text(n.get("headline"))), ranked[0] if ranked else None)

    page.title = _title(tree)
    page.og_title = clean_text(meta.get("og:title") or meta.get("twitter:title"))
    page.headline = _text(article.get("headline")) if article else ""
    page.description = clean_text(meta.get("og:description") or meta.get("description") or meta.get("twitter:description"))
    page.site_name = clean_text(meta.get("og:site_name"))
    if not page.site_name and article:
        page.site_name = graph.name(article.get("publisher"))
    canonical = _link(tree, "canonical") or meta.get("og:url", "")
    page.canonical_url = _absolute(canonical, url) if canonical else ""
    page.published = (
        (iso_date(_text(article.get("datePublished"))) if article else "")
        or iso_date(meta.get("article:published_time", ""))
        or iso_date(meta.get("datepublished", ""))
    )

    reviews: list[ClaimReviewInfo] = []
    seen: set[tuple[str, str, str]] = set()
    for node in graph.nodes:
        if "claimreview" in _types(node) and len(reviews) < MAX_CLAIM_REVIEWS:
            review = _claim_review(graph, node, page.canonical_url or url)
            key = (review.claim_reviewed, review.rating, review.url)
            if key not in seen and (review.claim_reviewed or review.rating):
                seen.add(key)
                reviews.append(review)
    page.claim_reviews = reviews

    # Generic fallbacks (twitter:site, application-name, <time>, URL dates, ...) from trafilatura.
    doc = _trafilatura_metadata(tree, url)
    if doc is not None:
        page.site_name = page.site_name or clean_text(doc.sitename)
        page.published = page.published or iso_date(doc.date or "")
        page.description = page.description or clean_text(doc.description)
        if not page.title:
            page.title = clean_text(doc.title)
    return page
