"""Is this an http(s) URL a chat platform will accept as a link? One check for imports, validation and
rendering: Telegram rejects a whole message whose <a href> is malformed, so one poisoned entry must never
reach a card as a link."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

MAX_URL = 2048
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _valid_host(host: str, bracketed: bool) -> bool:
    if bracketed:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return False
    labels = ascii_host.rstrip(".").split(".")
    return len(ascii_host) <= 253 and all(_LABEL.match(label) for label in labels)


def valid_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a valid host, no whitespace or control/format characters,
    at most MAX_URL characters."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        return False
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # raises for a port out of range
    except ValueError:
        return False
    host = parts.hostname
    if parts.scheme.lower() not in ("http", "https") or not host:
        return False
    return _valid_host(host, "[" in parts.netloc)
