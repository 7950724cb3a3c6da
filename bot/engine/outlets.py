"""Outlet notes: Wikipedia's perennial-sources list (derived file, CC BY-SA 4.0) plus curated ownership
notes, looked up by the domain of a link (subdomains such as www., m. and de.rt.com included)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

RSP_LABELS = {
    "gr": "Generally reliable",
    "gu": "Generally unreliable",
    "nc": "No consensus on reliability",
    "d": "Deprecated",
    "b": "Blacklisted",
    "m": "Reliability under review (see summary)",
}
RSP_PAGE = "https://en.wikipedia.org/wiki/Wikipedia:Reliable_sources/Perennial_sources"
RSP_NOTICE = (
    "Derived from Wikipedia's 'Reliable sources/Perennial sources' list "
    f"({RSP_PAGE}), licensed CC BY-SA 4.0. This file is distributed under the same licence; "
    "each entry links to its Wikipedia section or shortcut. Regenerate with "
    "`python -m bot knowledge rsp PATH/TO/sources.jsonl`; do not edit by hand."
)

_USES_RE = re.compile(r"\{\{\s*WP:RSPUSES\s*\|([^{}]*)\}\}")
_REF_RE = re.compile(r"<ref[^>/]*/>|<ref[^>]*>.*?</ref>", re.S | re.I)
_TAG_RE = re.compile(r"<[^>]+>")
_LINK_RE = re.compile(r"\[\[(?:[^\]|]*\|)?([^\]]*)\]\]")
_EXT_LINK_RE = re.compile(r"\[https?://\S+\s+([^\]]*)\]")
_PSLINK_RE = re.compile(r"\{\{\s*(?:pslink|tq|q|small|nowrap)\s*\|([^{}|]*)(?:\|[^{}]*)?\}\}", re.I)
_TEMPLATE_RE = re.compile(r"\{\{[^{}]*\}\}")


def clean_wikitext(text: str) -> str:
    """Wikitext to plain text: references, templates, links and emphasis markup removed."""
    text = _REF_RE.sub("", text or "")
    text = _PSLINK_RE.sub(r"\1", text)
    for _ in range(5):  # nested templates, innermost first
        text, n = _TEMPLATE_RE.subn("", text)
        if not n:
            break
    text = _LINK_RE.sub(r"\1", text)
    text = _EXT_LINK_RE.sub(r"\1", text)
    text = _TAG_RE.sub("", text)
    text = text.replace("'''", "").replace("''", "")
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([.,;:])", r"\1", text)


def rsp_entries(jsonl_path: str | Path) -> list[dict[str, Any]]:
    """Parse the perennial-sources JSONL into outlet entries with every domain from `WP:RSPUSES`."""
    entries = []
    for line_no, line in enumerate(Path(jsonl_path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        domains: list[str] = []
        for group in _USES_RE.findall(row.get("alltext", "")):
            domains.extend(d.strip().lower() for d in group.split("|") if d.strip() and "=" not in d)
        if not domains and row.get("domain"):
            domains.append(row["domain"].strip().lower())
        if not domains:
            continue
        shortcut = (row.get("shortcut") or "").strip()
        link = f"https://en.wikipedia.org/wiki/{shortcut}" if shortcut else f"{RSP_PAGE}#{row['id'].replace(' ', '_')}"
        entries.append({
            "name": clean_wikitext(row.get("name", "")),
            "status": row.get("status", ""),
            "year": str(row.get("rsp_last") or ""),
            "summary": clean_wikitext(row.get("summary", "")),
            "link": link,
            "domains": sorted(dict.fromkeys(domains)),
        })
    entries.sort(key=lambda e: e["name"].casefold())
    return entries


def write_rsp_yaml(entries: list[dict[str, Any]], out_path: str | Path) -> None:
    header = "".join(f"# {line}\n" for line in RSP_NOTICE.split(". "))
    body = yaml.safe_dump({"licence": "CC BY-SA 4.0", "notice": RSP_NOTICE, "entries": entries},
                          allow_unicode=True, sort_keys=False, width=120)
    Path(out_path).write_text(header + body, encoding="utf-8")


def split_domain(value: str) -> tuple[str, str]:
    """'pressreader.com/uk/daily-mail' -> ('pressreader.com', '/uk/daily-mail')."""
    host, _, path = value.partition("/")
    return host.lower().removeprefix("www."), f"/{path}" if path else ""


def host_suffixes(url: str) -> tuple[list[str], str]:
    """Host and its parent domains, most specific first ('de.rt.com' -> ['de.rt.com', 'rt.com']), and the path."""
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return [], ""
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)], parts.path or "/"


def channel_rows(ownership: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`outlet_channels` rows from the ownership notes' `telegram:` handles (lowercase, as Telegram compares
    usernames), each with its citation as one line."""
    rows = []
    for outlet in ownership:
        for h in outlet.get("telegram") or []:
            c = h["citation"]
            when = f", {c['date']}" if c.get("date") else ""
            rows.append({"platform": "telegram", "handle": h["handle"].lower(), "domain": split_domain(outlet["domain"])[0],
                         "citation": f"{c['outlet']}{when}: {c['headline']} {c['url']} ({c['states']})"})
    return sorted(rows, key=lambda r: r["handle"])
