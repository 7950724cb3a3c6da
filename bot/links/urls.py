"""Finding and normalising URLs in message text (pure functions, no network)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Scheme URLs and bare www. hosts; stops at whitespace, angle brackets and quotes.
URL_RE = re.compile(r"""(?i)\b(?:https?://|www\.)[^\s<>"'\u200b]+""")
_TRAILING = ".,;:!?)]}\u2019\u201d'\""

TRACKING_PARAMS = re.compile(r"(?i)^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|yclid|_ga|ref_src|ref_url|s|smid|cmpid|ocid)$")


def find_urls(text: str) -> list[str]:
    """URLs in order of appearance, trailing punctuation trimmed, duplicates removed."""
    seen: dict[str, None] = {}
    for m in URL_RE.finditer(text or ""):
        url = _trim(m.group(0))
        if url.lower().startswith("www."):
            url = "http://" + url
        seen.setdefault(url, None)
    return list(seen)


def _trim(url: str) -> str:
    """Trailing punctuation is prose, except a closing bracket the URL itself opened (Foo_(bar))."""
    while url and url[-1] in _TRAILING:
        closer = url[-1]
        opener = {")": "(", "]": "[", "}": "{"}.get(closer)
        if opener and url.count(opener) >= url.count(closer):
            break
        url = url[:-1]
    return url


def strip_urls(text: str) -> str:
    return URL_RE.sub(" ", text or "")


def normalize_url(url: str) -> str:
    """Cache key for a URL: lower-case scheme and host, no default port, no user info, no fragment,
    no tracking parameters, sorted query. Never raises for a string."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. an unclosed IPv6 bracket: key on the text itself
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    netloc = f"[{host}]" if ":" in host else host  # IPv6 literals keep their brackets
    try:
        port = parts.port
    except ValueError:  # out-of-range port: keep it verbatim, the fetcher refuses the URL anyway
        port = None
        netloc = parts.netloc.rpartition("@")[2].lower()
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc = f"{netloc}:{port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k)))
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, query, ""))
