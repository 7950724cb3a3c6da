"""Finding URLs in message text (pure functions: the engine reads links as text, it never fetches)."""

from __future__ import annotations

import re

# Scheme URLs and bare www. hosts; stops at whitespace, angle brackets and quotes.
URL_RE = re.compile(r"""(?i)\b(?:https?://|www\.)[^\s<>"'\u200b]+""")
_TRAILING = ".,;:!?)]}\u2019\u201d'\""


def find_urls(text: str) -> list[str]:
    """URLs in order of appearance, trailing punctuation trimmed, duplicates removed."""
    seen: dict[str, None] = {}
    for m in URL_RE.finditer(text or ""):
        url = _trim(m.group(0))
        if url.lower().startswith("www."):
            url = "http://" + url
        seen.setdefault(url, None)
    return list(seen)


_OPENER = {")": "(", "]": "[", "}": "{"}


def _trim(url: str) -> str:
    """Trailing punctuation is prose, except a closing bracket the URL itself opened (Foo_(bar)). The
    brackets are counted once (linear: a URL followed by 64k ')' took 1.8 s counting on each step)."""
    count = {ch: url.count(ch) for ch in "()[]{}"}
    end = len(url)
    while end and url[end - 1] in _TRAILING:
        closer = url[end - 1]
        opener = _OPENER.get(closer)
        if opener and count[opener] >= count[closer]:
            break
        if closer in count:
            count[closer] -= 1
        end -= 1
    return url[:end]


def strip_urls(text: str) -> str:
    return URL_RE.sub(" ", text or "")
