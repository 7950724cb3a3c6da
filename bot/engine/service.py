"""The engine facade every front end calls. Knows nothing of chat platforms."""

from __future__ import annotations

import gc
import itertools
import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.engine import known_images
from bot.engine.cards import Card, CheckResult, FactCheck, ImageMatch, Match, OutletNote, RelatedClaim, Source
from bot.engine.matcher import Decision, Matcher
from bot.engine.normalize import normalize as normalize_text
from bot.engine.outlets import RSP_PAGE, host_suffixes
from bot.engine.store import REBUILD, SCHEMA_VERSION
from bot.engine.urls import find_urls

MAX_TEXT = 4096  # longer messages are cut before matching: no chat platform sends more
MAX_CANDIDATES = 7  # a message and what its link's page says about itself (ClaimReviews, headlines)
MAX_IMAGE_HASHES = 8  # a received picture brings one or two (the whole, the picture inside a screenshot frame)
_ORDER = {"match": 2, "related": 1, "none": 0}


def _source(d: dict[str, Any]) -> Source:
    return Source(date=d.get("date", ""), outlet=d.get("outlet", ""), headline=d.get("headline", ""),
                  url=d.get("url", ""), who=d.get("who", ""), summary=d.get("summary", ""))


class Engine:
    """Open once per process. Each thread gets its own read-only SQLite connection."""

    def __init__(self, db_path: str | Path, *, semantic: bool = False) -> None:
        """`semantic`: also rank with the semantic tier (bot/engine/semantic.py; the bot turns it on unless
        CLAIM_CONTEXT_SEMANTIC=0; the database needs its claim vectors, which `knowledge build` adds); one
        model serves every thread."""
        self.db_path = Path(db_path)
        if not self.db_path.exists():
            raise FileNotFoundError(f"{self.db_path}: knowledge database not found (run `python -m bot knowledge build`)")
        self._local = threading.local()
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError:  # not a claim database at all
            row = None
        if not row or row[0] != SCHEMA_VERSION:
            raise ValueError(f"{self.db_path}: database schema {row[0] if row else 'unknown'} is not {SCHEMA_VERSION}: "
                             f"{REBUILD}")
        self.semantic = None
        if semantic:
            from bot.engine.semantic import SemanticIndex

            self.semantic = SemanticIndex(self.conn)
        self.matcher  # open now so a broken file fails at start, not on the first message
        # Known pictures: a few hundred rows read once; immutable, so every thread shares them.
        self.known_images = known_images.KnownImages(self.conn.execute(
            "SELECT claim_id, entry, hash, description, source FROM known_images ORDER BY claim_id, entry, slot"))
        self._gc_frozen = False  # see _result

    # -- connections -------------------------------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, check_same_thread=False)
            self._local.conn = conn
        return conn

    @property
    def matcher(self) -> Matcher:
        m = getattr(self._local, "matcher", None)
        if m is None:
            m = Matcher(self.conn, semantic=self.semantic)
            self._local.matcher = m
        return m

    # -- checking ----------------------------------------------------------------------------------------
    def _result(self, text: str, d: Decision, limit: int, outlet: OutletNote | None = None) -> CheckResult:
        if not self._gc_frozen:
            # A full garbage collection walks every tracked object (15 ms for the engine and its imports alone)
            # and is charged to whichever message triggers it. At the first message, after the engine and the
            # chat libraries have loaded, gc.freeze (O(1)) takes everything alive out of the collector's reach,
            # so later collections only walk what was made since.
            gc.freeze()
            self._gc_frozen = True
        matches = [Match(s.id, s.statement, round(s.score, 4), s.status) for s in d.ranked[:limit]]
        card = None
        if d.decision != "none" and d.ranked:
            card = self.card(d.ranked[0].id, confidence=d.confidence, decision=d.decision, outlet=outlet)
        roles = {"message": d.message_roles.to_dict(), "claim": d.ranked[0].roles.to_dict() if d.ranked else None}
        return CheckResult(text=text, decision=d.decision, matches=matches, card=card, outlet=outlet, reason=d.reason,
                           actors=roles, language=d.lang)

    def check(self, text: str, *, limit: int = 5) -> CheckResult:
        """Match a message's text (no network). Decision: match | related | none."""
        text = (text or "")[:MAX_TEXT]
        urls = find_urls(text)
        outlet = self.outlet_for_url(urls[0]) if urls else None
        return self._result(text, self.matcher.decide(text, limit), limit, outlet)

    def check_candidates(self, text: str, candidates: list[str], *, limit: int = 5, url: str = "",
                         final_url: str = "", link: dict[str, Any] | None = None) -> CheckResult:
        """Match a message whose link was fetched: the message text and the page's candidates (its ClaimReviews,
        its headlines) are matched in this one call, and the best-supported answer wins. `url` is the link as
        shared, `final_url` where it led (its outlet note wins), `link` the page fields shown to the user."""
        text = (text or "")[:MAX_TEXT]
        best: Decision | None = None
        for candidate in [text, *candidates][:MAX_CANDIDATES]:
            d = self.matcher.decide(candidate[:MAX_TEXT], limit)
            if best is None or (_ORDER[d.decision], d.confidence) > (_ORDER[best.decision], best.confidence):
                best = d
        assert best is not None
        outlet = (self.outlet_for_url(final_url) if final_url and final_url != url else None) or (
            self.outlet_for_url(url) if url else None)
        result = self._result(text, best, limit, outlet)
        result.link = link
        return result

    def check_image(self, text: str, hashes: Sequence[str], *, limit: int = 5) -> CheckResult:
        """Match a received picture: `hashes` are its usable PDQ hashes (hex; bot/images computes them) and
        `text` what OCR read from it. A picture within MATCH_DISTANCE of a known one gets that claim's card,
        with or without text; when the text points to another claim, the picture wins (the reason says so:
        a known fake photo under an unrelated caption is still that fake). Otherwise, `check(text)`."""
        by_text = self.check(text, limit=limit)
        queries = [h.lower() for h in itertools.islice(hashes, MAX_IMAGE_HASHES) if isinstance(h, str)]
        found = self.known_images.match(queries)
        if found is None:
            return by_text
        image, distance = found
        confidence = known_images.confidence(distance)
        reason = f"known image, {distance} bits"
        text_top = by_text.matches[0].id if by_text.decision != "none" and by_text.matches else ""
        if text_top == image.claim_id:
            confidence = max(confidence, by_text.card.confidence if by_text.card else 0.0)
            reason += f"; the text agrees ({by_text.decision}: {by_text.reason})"
        elif text_top:
            reason += f"; the picture wins over the text, which is {by_text.decision} {text_top} ({by_text.reason})"
        card = self.card(image.claim_id, confidence=confidence, decision="match", outlet=by_text.outlet)
        if card is None:  # not possible: both come from one database build
            return by_text
        others = [m for m in by_text.matches if m.id != image.claim_id]
        matches = [Match(image.claim_id, card.statement, confidence, card.status)] + others[:max(0, limit - 1)]
        return CheckResult(text=by_text.text, decision="match", matches=matches, card=card, outlet=by_text.outlet,
                           reason=reason, actors=by_text.actors, language=by_text.language,
                           image=ImageMatch(image.claim_id, image.description,
                                            _source(image.source) if image.source else None, distance))

    def search(self, text: str, *, limit: int = 10) -> CheckResult:
        """Up to `limit` candidate claims for inline search, best first, each with its own card."""
        text = (text or "")[:MAX_TEXT]
        d = self.matcher.decide(text, limit)
        return self._result(text, d, limit)

    # -- cards -------------------------------------------------------------------------------------------
    def claim_data(self, claim_id: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT data FROM claims WHERE id = ?", (claim_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def card(self, claim_id: str, *, confidence: float = 1.0, decision: str = "match",
             outlet: OutletNote | None = None, lang: str = "en") -> Card | None:
        """The claim's card; `lang`: its statement and status note in that language where the claim file has
        them (`Card.lang` says which language the card is in: English where there is no translation)."""
        data = self.claim_data(claim_id)
        if data is None:
            return None
        fr = data.get("first_report") or {}
        related = []
        for rid in data.get("related", []):
            row = self.conn.execute("SELECT statement, status, data FROM claims WHERE id = ?", (rid,)).fetchone()
            if row:
                other = _translated(json.loads(row[2]) if lang != "en" and row[2] else {}, lang)
                related.append(RelatedClaim(rid, other.get("statement") or row[0], row[1]))
        own = _translated(data, lang)
        return Card(
            claim_id=data["id"], statement=own.get("statement") or data["statement"], status=data["status"],
            status_note=own.get("status_note") or data.get("status_note", ""), decision=decision,
            confidence=round(float(confidence), 4), lang=lang if own.get("statement") else "en",
            first_report=_source(fr) if fr else None, sourcing=fr.get("sourcing", ""),
            sourcing_detail=fr.get("sourcing_detail", ""), sourcing_notes=data.get("sourcing_notes", ""),
            denials=tuple(_source(x) for x in data.get("denials", [])),
            fact_checks=tuple(FactCheck(f["publisher"], f["rating"], f.get("date", ""), f.get("headline", ""), f.get("url", ""))
                              for f in data.get("fact_checks", [])),
            developments=tuple(_source(x) for x in data.get("developments", [])),
            related=tuple(related), outlet=outlet, last_reviewed=data.get("last_reviewed", ""),
        )

    def complete_claims(self, prefix: str, *, limit: int = 25) -> list[tuple[str, str]]:
        """(id, statement) pairs for autocomplete: ids starting with `prefix`, then claims whose text has
        every word of `prefix` (the last one as a prefix). Index lookups only, so it stays fast at 1M claims."""
        prefix = prefix.strip()
        if not prefix:
            return [(r[0], r[1]) for r in self.conn.execute("SELECT id, statement FROM claims ORDER BY id LIMIT ?", (limit,))]
        low = prefix.lower()
        out = dict(self.conn.execute("SELECT id, statement FROM claims WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
                                     (low, low + "\uffff", limit)).fetchall())
        words = [w.replace('"', "") for w in normalize_text(prefix).split()]
        if words and len(out) < limit:
            query = " ".join(f'"{w}"' for w in words[:-1]) + f' "{words[-1]}"*'
            try:
                rows = self.conn.execute(
                    "SELECT c.id, c.statement FROM claims_fts f JOIN claims c ON c.rowid = f.rowid "
                    "WHERE claims_fts MATCH ? ORDER BY f.rank LIMIT ?", (query, limit)).fetchall()
            except sqlite3.OperationalError:
                rows = []
            for cid, statement in rows:
                out.setdefault(cid, statement)
        return list(out.items())[:limit]

    # -- outlets -----------------------------------------------------------------------------------------
    def outlet_for_url(self, url: str) -> OutletNote | None:
        suffixes, path = host_suffixes(url)
        for host in suffixes:
            rows = self.conn.execute(
                "SELECT domain, path, name, rsp_status, rsp_label, rsp_summary, rsp_year, rsp_link, ownership, "
                "ownership_note, ownership_citation FROM outlets WHERE domain = ? ORDER BY length(path) DESC",
                (host.removeprefix("www."),)).fetchall()
            for r in rows:
                if not r[1] or path.lower().startswith(r[1].lower()):
                    return OutletNote(domain=r[0] + r[1], name=r[2], rsp_status=r[3], rsp_label=r[4],
                                      rsp_summary=_first_sentences(r[5]), rsp_year=r[6], rsp_link=r[7],
                                      ownership=r[8], ownership_note=r[9], ownership_citation=r[10])
        return None

    def outlet_for_channel(self, handle: str) -> OutletNote | None:
        """The note of the outlet whose Telegram channel this is (a username, with or without @, any case),
        as `outlet_for_url` gives it for the outlet's domain; None when ownership.yaml lists no such handle."""
        name = (handle or "").strip().removeprefix("@").lower()
        row = self.conn.execute("SELECT domain FROM outlet_channels WHERE platform = 'telegram' AND handle = ?",
                                (name,)).fetchone() if name else None
        return self.outlet_for_url(f"https://{row[0]}/") if row else None

    def about(self) -> dict[str, Any]:
        meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
        curated = self.conn.execute("SELECT COUNT(*) FROM claims WHERE source = 'curated'").fetchone()[0]
        outlets = self.conn.execute("SELECT COUNT(DISTINCT domain) FROM outlets").fetchone()[0]
        return {
            "claims": int(meta.get("claims", 0)), "curated_claims": curated, "outlet_domains": outlets,
            "last_reviewed": meta.get("last_reviewed", ""), "knowledge_version": meta.get("knowledge_version", ""),
            "sources": [
                "Curated claim files in knowledge/claims (each claim cites its reports, denials and fact-checks)",
                f"Wikipedia: Reliable sources/Perennial sources ({RSP_PAGE}), CC BY-SA 4.0",
                "Curated ownership notes in knowledge/outlets/ownership.yaml, each with its citation",
            ],
            "licences": {"code": "MIT", "outlet notes from Wikipedia": "CC BY-SA 4.0"},
        }


def _translated(data: dict[str, Any], lang: str) -> dict[str, Any]:
    """The claim file's `languages` block for `lang` ({} for English or when there is none)."""
    block = (data.get("languages") or {}).get(lang) if lang != "en" else None
    return block if isinstance(block, dict) else {}


def _first_sentences(text: str, limit: int = 420) -> str:
    """Keep card notes short: whole sentences up to `limit` characters."""
    if len(text) <= limit:
        return text
    cut = text.rfind(". ", 0, limit)
    return text[:cut + 1] if cut > 80 else text[:limit].rsplit(" ", 1)[0] + "\u2026"
