"""Cleaning page titles into headlines: whitespace, entities, and site-name suffixes ("… | Reuters")."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

MAX_TEXT = 600  # a headline or description longer than this is page furniture, not a headline

_WS = re.compile(r"\s+")
# Separators sites put between headline and site name. Only split on them when surrounded by spaces,
# so hyphenated words and "Fact check: …" stay intact.
_SEP = re.compile(r"\s+(?:\||-|–|—|·|•|»|«|::|~|/)\s+")
_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
_HOST_NOISE = frozenset({"www", "m", "amp", "mobile", "edition", "news", "en", "com", "org", "net", "co", "uk"})


def clean_text(value: object) -> str:
    """Text with entities decoded and whitespace collapsed; non-strings become ''."""
    if not isinstance(value, str):
        return ""
    text = _WS.sub(" ", html.unescape(value)).strip()
    return text[:MAX_TEXT].rstrip() if len(text) > MAX_TEXT else text


def _key(text: str) -> str:
    return _NON_ALNUM.sub("", text.casefold())


def site_names(site_name: str, *urls: str) -> list[str]:
    """Names a site may append to its titles: the declared site name and the host's distinctive labels."""
    names: list[str] = []
    if site_name:
        names.append(site_name)
    for url in urls:
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:
            continue
        if not host:
            continue
        names.append(host.removeprefix("www."))
        labels = [lab for lab in host.split(".") if lab and lab not in _HOST_NOISE]
        if labels:
            names.append(labels[-1] if len(labels) == 1 else labels[-2] if len(labels[-1]) <= 3 else labels[-1])
    return names


def _is_site(segment: str, names: list[str]) -> bool:
    seg = _key(segment)
    if len(seg) < 2:
        return False
    for name in names:
        n = _key(name)
        if len(n) < 2:
            continue
        # "CNN Politics" for CNN, "BBC" for "BBC News", "Reuters.com" for reuters.
        if seg == n or (len(n) >= 3 and seg.startswith(n) and len(seg) - len(n) <= 16) or (len(seg) >= 3 and n.startswith(seg)):
            return True
    return False


def strip_site_affix(title: str, names: list[str]) -> str:
    """`title` without a leading or trailing segment that names the site; unchanged when none does."""
    text = clean_text(title)
    if not names or not text:
        return text
    for _ in range(2):  # "Headline | Politics | CNN" loses at most two trailing segments
        parts = _SEP.split(text)
        if len(parts) < 2:
            break
        seps = _SEP.findall(text)
        if _is_site(parts[-1], names):
            text = text[: len(text) - len(parts[-1]) - len(seps[-1])].strip()
        elif _is_site(parts[0], names):
            text = text[len(parts[0]) + len(seps[0]):].strip()
        else:
            break
    return text


def headline_candidates(raw: list[str], names: list[str]) -> list[str]:
    """Cleaned, suffix-stripped, de-duplicated candidates in the given (best-first) order."""
    stripped = [strip_site_affix(t, names) for t in raw]
    stripped = [t for t in stripped if t]
    out: list[str] = []
    seen: set[str] = set()
    for text in stripped:
        # "Headline - Something" when another candidate is exactly "Headline": the tail is a suffix
        # whose site name we did not know.
        for other in stripped:
            if other != text and text.startswith(other) and _SEP.match(text[len(other):]):
                text = other
                break
        k = _key(text)
        if k and k not in seen:
            seen.add(k)
            out.append(text)
    return out
