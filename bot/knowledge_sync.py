"""`python -m bot knowledge sync`: import the configured ClaimReview DataFeeds (CLAIM_CONTEXT_FEEDS), merge
them with the curated knowledge files, and publish a new knowledge version when anything changed.

Each feed is fetched through the safe fetcher (bot/links/fetch.py: address checks, a size cap, no
redirect tricks) as a conditional request with the ETag / Last-Modified of its last good copy. A feed is
taken only whole: a failed fetch, a body over the cap or cut short, JSON that does not parse, or any item
the importer cannot read keeps that feed's previous good copy (a partial feed would silently drop claims).
A 304 keeps it too, by definition. The last good copy of each feed is kept in <var>/feeds/. When the merged
content equals the current version's, nothing is published.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.engine.importers import parse_document
from bot.engine.knowledge import load_knowledge
from bot.engine.store import knowledge_version, meta_value, write_database
from bot.knowledge_versions import current_version, publish
from bot.links.fetch import Fetched, NotModified, SafeFetcher

FEED_TYPES = frozenset({"application/json", "application/ld+json", "text/json", "text/plain"})


@dataclass
class FeedOutcome:
    url: str
    status: str  # "updated", "not modified", "failed: ...", "rejected: ..."
    claims: int = 0  # claims used from this feed (new copy or the previous good one)

    @property
    def ok(self) -> bool:
        return self.status in ("updated", "not modified")


@dataclass
class SyncReport:
    feeds: list[FeedOutcome] = field(default_factory=list)
    published: Path | None = None  # the new version file, None when nothing changed
    version: str = ""

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.feeds)


def _key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FeedCache:
    """The last good copy of each feed and its validators, in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.index_path = folder / "index.json"
        try:
            self.index: dict[str, dict[str, Any]] = json.loads(self.index_path.read_text())
        except (OSError, ValueError):
            self.index = {}

    def body(self, url: str) -> bytes | None:
        try:
            return (self.folder / f"{_key(url)}.json").read_bytes() if url in self.index else None
        except OSError:
            return None

    def validators(self, url: str) -> dict[str, str]:
        return dict(self.index.get(url, {}).get("validators", {})) if self.body(url) is not None else {}

    def store(self, url: str, body: bytes, validators: dict[str, str]) -> None:
        _write_atomic(self.folder / f"{_key(url)}.json", body)
        self.index[url] = {"validators": validators, "fetched_ts": time.time()}
        _write_atomic(self.index_path, json.dumps(self.index, indent=1, sort_keys=True).encode())


def read_feed(body: bytes, url: str) -> tuple[list[dict[str, Any]], str]:
    """The feed's claims, or ([], why it is rejected) when any part of it cannot be used."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return [], f"not complete JSON ({type(exc).__name__})"
    report = parse_document(data, url)
    if report.skipped:
        return [], f"{len(report.skipped)} broken item(s), e.g. {report.skipped[0]}"
    if not report.claims:
        return [], "no ClaimReview items"
    return report.claims, ""


async def fetch_feeds(urls: list[str], cache: FeedCache, fetcher: SafeFetcher) -> tuple[list[FeedOutcome], list[dict]]:
    outcomes: list[FeedOutcome] = []
    claims: dict[str, dict[str, Any]] = {}
    for url in urls:
        result = await fetcher.fetch(url, accept=FEED_TYPES, conditional=cache.validators(url))
        if isinstance(result, NotModified):
            status = "not modified"
        elif isinstance(result, Fetched):
            got, problem = read_feed(result.body, url)
            if problem:
                status = f"rejected: {problem}"
            else:
                cache.store(url, result.body, result.validators)
                status = "updated"
        else:
            status = f"failed: {result.reason}"
        previous = cache.body(url)
        used = read_feed(previous, url)[0] if previous is not None else []
        for c in used:
            claims.setdefault(c["id"], c)
        outcomes.append(FeedOutcome(url, status, len(used)))
    return outcomes, list(claims.values())


def _db_version(path: Path | None) -> str:
    return meta_value(path, "knowledge_version") or ""


def sync(knowledge_dir: Path, db_path: Path, urls: list[str], *, feeds_dir: Path, max_bytes: int,
         allow_private: bool = False, vectors: bool = True) -> SyncReport:
    """Fetch the feeds, merge them with the curated knowledge and publish a new version if it changed
    (`vectors`: with the semantic tier's claim vectors, as running bots with the tier need; the current
    version's vectors are reused for unchanged claims)."""
    kb = load_knowledge(knowledge_dir)  # broken curated files raise KnowledgeError: nothing is published

    async def go() -> tuple[list[FeedOutcome], list[dict]]:
        fetcher = SafeFetcher(allow_private=allow_private, max_bytes=max_bytes, total_timeout=120, read_timeout=30)
        try:
            return await fetch_feeds(urls, FeedCache(feeds_dir), fetcher)
        finally:
            await fetcher.aclose()

    outcomes, claims = asyncio.run(go())
    claims.sort(key=lambda c: c["id"])
    digest = hashlib.sha256(json.dumps(claims, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]
    version = f"{knowledge_version(kb)}+feeds.{digest}" if claims else knowledge_version(kb)
    report = SyncReport(outcomes, None, version)
    previous = current_version(db_path)
    if _db_version(previous) == version:
        return report  # nothing changed: no new version
    report.published = publish(db_path, lambda f: write_database(f, kb, version=version, extra_claims=claims,
                                                                 vectors=vectors, reuse_vectors_from=previous),
                               label="sync")
    return report


def includes_curated(knowledge_dir: Path, db_path: Path) -> bool:
    """Whether the current version was synced from exactly these curated files (its version is theirs
    plus a feeds part), so a start does not rebuild it without its feeds."""
    try:
        own = knowledge_version(load_knowledge(knowledge_dir))
    except Exception:
        return False
    return _db_version(current_version(db_path)).startswith(own + "+feeds.")
