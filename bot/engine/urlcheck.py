"""Is this string an http(s) URL that Telegram, Discord and browsers all accept as a link?

One pure function shared by the importers, the knowledge validator and the card renderers, so a URL that
passes at import time also passes at render time. Telegram refuses a whole message when one `<a href>` is
malformed, so a poisoned entry must be caught here rather than make a card undeliverable.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

import idna

MAX_URL_LENGTH = 2048  # the common browser/CDN bound; Telegram's own link limit is not documented

_LABEL_RE = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")  # '_' occurs in real subdomains
# Quotes and angle brackets end an href early; a backslash reads as '/' in browsers (host confusion).
_REFUSED = frozenset('"<>\\')
# Controls, formats (bidi, zero-width), separators, surrogates, private use and unassigned code points.
_BAD_CATEGORIES = frozenset(("Cc", "Cf", "Zs", "Zl", "Zp", "Cs", "Co", "Cn"))


def url_problem(url: object) -> str | None:
    """Why `url` is not a usable absolute http(s) URL, or None when it is."""
    if not isinstance(url, str):
        return "not a string"
    if not url:
        return "empty"
    if len(url) > MAX_URL_LENGTH:
        return f"longer than {MAX_URL_LENGTH} characters"
    for ch in url:
        if ch in _REFUSED or (not "!" <= ch <= "~" and (ch.isspace() or unicodedata.category(ch) in _BAD_CATEGORIES)):
            return f"contains the character U+{ord(ch):04X}"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        return f"cannot be parsed: {str(exc)[:100]}"
    if parts.scheme.lower() not in ("http", "https"):
        return "scheme is not http or https"
    if not url.lower().startswith(f"{parts.scheme.lower()}://"):
        return "not an absolute URL (scheme://host)"
    netloc = parts.netloc.rpartition("@")[2]
    if netloc.startswith("["):
        if "]" not in netloc:
            return "unbalanced '[' in the host"
        try:
            ipaddress.IPv6Address(netloc[1:netloc.index("]")])
        except ValueError:
            return "bracketed host is not an IPv6 address"
        if not re.fullmatch(r"(:\d{1,5})?", netloc[netloc.index("]") + 1:]):
            return "text after the IPv6 host that is not a port"
    elif "[" in netloc or "]" in netloc:
        return "'[' or ']' outside an IPv6 host"
    host = parts.hostname or ""
    if not host:
        return "no host"
    if port == 0:
        return "port 0"
    if ":" in host:
        return None  # IPv6, validated above
    try:
        ipaddress.IPv4Address(host)
        return None
    except ValueError:
        pass
    # IDNA 2008 as current browsers and httpx (the fetcher) apply it ("http://º" is refused, where Python's
    # IDNA 2003 codec would map it to "o"); the `idna` package is what httpx uses, without its network code.
    try:
        ascii_host = (host if host.isascii() else idna.encode(host.lower()).decode("ascii")).rstrip(".").lower()
    except (idna.IDNAError, UnicodeError) as exc:
        return f"host is not a valid domain name ({str(exc)[:60]})"
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL_RE.match(label) for label in labels):
        return "host is not a valid domain name"
    if labels[-1].isdigit():
        return "host looks like a malformed IP address"
    return None


def valid_http_url(url: object) -> bool:
    """True when `url` is an absolute http(s) URL with a valid host and no control, space or bidi character."""
    return url_problem(url) is None
