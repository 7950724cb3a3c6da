"""The cache key of a link: a URL normalised so the same page shared twice is fetched once."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = re.compile(r"(?i)^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|yclid|_ga|ref_src|ref_url|s|smid|cmpid|ocid)$")


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
