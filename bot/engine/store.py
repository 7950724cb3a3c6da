"""Compiling knowledge into SQLite (sqlite-utils) and reading it back.

A build writes a new file beside the target and renames it into place, so a failed build leaves the
previous database intact. Rows are inserted in a fixed order, so the same knowledge gives the same file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.engine import actor_roles, actors, known_images, language, normalize
from bot.engine.actors import alias_is_case_sensitive
from bot.engine.knowledge import Knowledge, load_knowledge
from bot.engine.outlets import RSP_LABELS, channel_rows, split_domain
from bot.engine.postings import build_postings, field_stems

SCHEMA_VERSION = "8"  # 2: impact-ordered postings; 3: stemmed fields for the re-ranker; 4: Porter2 stems, actors of imported claims;
# 5: UTS #39 folding, marks removed (issue 16); 6: claims' texts in other languages (claim_terms);
# 7: each claim's actors by role (doer/target/place) and the gazetteer's part_of (agency -> state);
# 8: known images (perceptual hashes) and outlets' Telegram channels; the gazetteer's acts_for (a person in
# office -> their state)
REBUILD = "rebuild it with `python -m bot knowledge build` (then run `knowledge import` again for imported feeds)"
FTS_COLUMNS = ("statement", "phrasings", "entities")
_NO_LEET: frozenset[str] = frozenset()  # claims are indexed as written: no leetspeak decoding


def claim_main_actor(claim: dict[str, Any], people: actors.NameIndex | None = None, toks: list[str] | None = None,
                     roles: actor_roles.Roles | None = None, index: actor_roles.RoleIndex | None = None) -> str:
    """The curated main actor; for a claim without one (imports), the first person of the gazetteer
    its statement names, so the matcher's rule "a match must name the claim's actor" covers it too. With
    the claim's roles, only a person it says did or underwent the act counts ("..., as Seymour Hersh
    reported" names a source, not the actor)."""
    curated = next((e["name"] for e in claim.get("entities", []) if e.get("role") == "actor"), "")
    if curated or people is None or claim.get("entities"):
        return curated
    first = people.first_named(claim["statement"], toks)
    if roles is None or index is None or first in roles.doers or not (roles.doers or roles.targets):
        return first
    if roles.doers:  # someone else did it ("Taylor Swift is a Pentagon psyop to help Joe Biden win"): roles decide
        return ""
    return first if first in roles.targets else next((n for n in roles.targets if index.kind_of(n) == "person"), "")


def claim_roles(claim: dict[str, Any], index: actor_roles.RoleIndex | None) -> actor_roles.Roles:
    """Who the claim says did it, to whom, where: the curated entities' roles, else (imports, or curated
    claims naming only subjects) read from the statement."""
    curated = actor_roles.roles_from_entities(claim.get("entities", []), index)
    if any(curated) or index is None:
        return curated
    return index.roles(claim["statement"])


def claim_states(claim: dict[str, Any], index: actor_roles.RoleIndex | None) -> list[str]:
    """States an uncurated claim names only by a metonym or an agency ("the Kremlin", "GRU"), indexed by name
    so that a message saying "Russia" finds it (curated claims list their entities' aliases instead)."""
    if index is None or claim.get("entities"):
        return []
    return index.metonym_states(actor_roles.role_tokens(normalize.clean(claim["statement"])))


def _create_schema(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["claims"].create({"rowid": int, "id": str, "statement": str, "status": str, "main_actor": str, "actors": str,
                         "source": str, "last_reviewed": str, "stems": str, "data": str}, pk="rowid")
    db["claims"].create_index(["id"], unique=True)
    db["entities"].create({"claim_rowid": int, "name": str, "role": str, "alias": str})
    db["entities"].create_index(["claim_rowid"])
    db["gazetteer"].create({"name": str, "kind": str, "alias": str, "case_sensitive": int, "part_of": str,
                            "acts_for": str})
    db["outlets"].create({"domain": str, "path": str, "name": str, "rsp_status": str, "rsp_label": str,
                          "rsp_summary": str, "rsp_year": str, "rsp_link": str, "ownership": str,
                          "ownership_note": str, "ownership_citation": str})
    db["outlets"].create_index(["domain"])
    db["outlet_channels"].create({"platform": str, "handle": str, "domain": str, "citation": str},
                                 pk=("platform", "handle"))
    db["known_images"].create({"claim_id": str, "entry": int, "slot": int, "hash": str, "description": str,
                               "source": str}, pk=("claim_id", "entry", "slot"))
    db["terms"].create({"term": str, "df": int}, pk="term")
    # A claim's statement and phrasings in other languages, as index terms of that language (one row a text;
    # slot 0 the statement, 1 a phrasing): the first stage's fourth field and the re-ranker's lines for a
    # message in that language.
    db["claim_terms"].create({"claim_rowid": int, "lang": str, "slot": int, "terms": str})
    db["claim_terms"].create_index(["claim_rowid", "lang"])
    db.execute("CREATE VIRTUAL TABLE claims_fts USING fts5(statement, phrasings, entities, "
               "tokenize = 'porter unicode61 remove_diacritics 2')")


_NAME_RE = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){1,2}")


def joined_names(text: str) -> list[str]:
    """Capitalised word runs joined into one token ('PnB Rock' -> 'pnbrock'): how handles spell names."""
    out = []
    for m in _NAME_RE.finditer(text):
        words = normalize.tokens(m.group(0), _NO_LEET)
        out += ["".join(words[i:i + n]) for n in (2, 3) for i in range(len(words) - n + 1)]
    return out


def gazetteer_aliases(entity: dict[str, Any]) -> list[str]:
    """Every name of a gazetteer entity: its name, aliases, and its names in other languages (so a message
    naming "Кремль" or "طهران" names Russia or Iran as surely as one naming the Kremlin or Tehran)."""
    names = [entity["name"], *entity.get("aliases", [])]
    names += [n for _, forms in sorted((entity.get("names") or {}).items()) for n in forms]
    return list(dict.fromkeys(names))


def language_terms(claim: dict[str, Any], rowid: int) -> list[dict[str, Any]]:
    """claim_terms rows for the claim's `languages` blocks: each text analysed in its own language."""
    rows = []
    for lang, block in sorted((claim.get("languages") or {}).items()):
        texts = ([(0, block["statement"])] if block.get("statement") else []) + [
            (1, p["text"]) for p in block.get("phrasings", []) if p.get("text")]
        for slot, text in texts:
            words = language.terms(normalize.tokens(text, _NO_LEET), lang)
            if words:
                rows.append({"claim_rowid": rowid, "lang": lang, "slot": slot, "terms": " ".join(words)})
    return rows


def _claim_rows(claims: Iterable[dict[str, Any]], start: int, df: Counter, people: actors.NameIndex | None = None,
                roles: actor_roles.RoleIndex | None = None) -> Iterator[tuple[dict, dict, list[dict], list[dict]]]:
    for rowid, claim in enumerate(claims, start):
        phrasings = claim.get("phrasings", [])
        ent_names = []
        entity_rows = []
        for e in claim.get("entities", []):
            for alias in [e["name"], *e.get("aliases", [])]:
                entity_rows.append({"claim_rowid": rowid, "name": e["name"], "role": e["role"], "alias": alias})
                ent_names.append(alias)
        fts = {"rowid": rowid,
               "statement": normalize.normalize(claim["statement"], _NO_LEET),
               "phrasings": "\n".join(normalize.normalize(p, _NO_LEET) for p in phrasings),
               "entities": normalize.normalize(" ".join(ent_names + joined_names(claim["statement"])
                                                        + claim_states(claim, roles)), _NO_LEET)}
        df.update(set((fts["statement"] + " " + fts["phrasings"]).split()))
        data = {k: v for k, v in claim.items() if not k.startswith("_") and k != "images"}  # images: own table
        # The re-ranker reads every candidate's words: store them stemmed, one line per field.
        stems = "\n".join(" ".join(field_stems(f)) for f in [fts["statement"], *fts["phrasings"].split("\n")] if f)
        claim_actors = claim_roles(claim, roles)
        row = {"rowid": rowid, "id": claim["id"], "statement": claim["statement"], "status": claim["status"],
               "main_actor": claim_main_actor(claim, people, fts["statement"].split(), claim_actors, roles),
               "actors": json.dumps(claim_actors.to_dict(), ensure_ascii=False), "source": claim.get("source", "curated"),
               "last_reviewed": claim.get("last_reviewed", ""), "stems": stems,
               "data": json.dumps(data, ensure_ascii=False, sort_keys=True)}
        yield row, fts, entity_rows, language_terms(claim, rowid)


def insert_claims(db: sqlite_utils.Database, claims: Iterable[dict[str, Any]], batch: int = 5000) -> int:
    """Append claims (and their FTS rows and term counts); returns how many were added."""
    start = (db.execute("SELECT COALESCE(MAX(rowid), 0) FROM claims").fetchone()[0]) + 1
    df: Counter = Counter()
    added = 0
    rows, fts_rows, ent_rows, term_rows = [], [], [], []

    def flush() -> None:
        db["claims"].insert_all(rows, batch_size=batch)
        db.conn.executemany("INSERT INTO claims_fts (rowid, statement, phrasings, entities) VALUES (?,?,?,?)",
                            [(f["rowid"], f["statement"], f["phrasings"], f["entities"]) for f in fts_rows])
        db["entities"].insert_all(ent_rows, batch_size=batch)
        db["claim_terms"].insert_all(term_rows, batch_size=batch)
        rows.clear(); fts_rows.clear(); ent_rows.clear(); term_rows.clear()

    # Imported claims get their main actor from the people of the database's gazetteer (see claim_main_actor).
    people = actors.NameIndex(actors.by_name(db.execute(
        "SELECT name, alias, case_sensitive FROM gazetteer WHERE kind = 'person'").fetchall()))
    for row, fts, entity_rows, terms in _claim_rows(claims, start, df, people, actor_roles.RoleIndex.from_db(db)):
        rows.append(row); fts_rows.append(fts); ent_rows.extend(entity_rows); term_rows.extend(terms)
        added += 1
        if len(rows) >= batch:
            flush()
    flush()
    db.conn.executemany("INSERT INTO terms (term, df) VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET df = df + excluded.df",
                        sorted(df.items()))
    return added


def _outlet_rows(kb: Knowledge) -> list[dict[str, Any]]:
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    blank = {"name": "", "rsp_status": "", "rsp_label": "", "rsp_summary": "", "rsp_year": "", "rsp_link": "",
             "ownership": "", "ownership_note": "", "ownership_citation": ""}
    for entry in kb.rsp:
        for d in entry.get("domains", []):
            domain, path = split_domain(d)
            row = by_key.setdefault((domain, path), {"domain": domain, "path": path, **blank})
            row.update(name=row["name"] or entry["name"], rsp_status=entry["status"],
                       rsp_label=RSP_LABELS.get(entry["status"], entry["status"]), rsp_summary=entry["summary"],
                       rsp_year=entry.get("year", ""), rsp_link=entry["link"])
    for o in kb.ownership:
        domain, path = split_domain(o["domain"])
        row = by_key.setdefault((domain, path), {"domain": domain, "path": path, **blank})
        c = o["citation"]
        cite = f"{c['outlet']}, {c['date']}: {c['headline']}" + (f" {c['url']}" if c.get("url") else "")
        country = f" ({o['country']})" if o.get("country") else ""
        row.update(name=o["name"], ownership=f"{o['ownership']}{country}", ownership_note=o["note"], ownership_citation=cite)
    return [by_key[k] for k in sorted(by_key)]


def knowledge_version(kb: Knowledge) -> str:
    h = hashlib.sha256(SCHEMA_VERSION.encode())  # a new schema makes every old database stale
    for path in sorted(kb.files):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


_TMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)(?:\.import)?\.tmp(?:-journal|-wal|-shm)?$")
STALE_TMP_AGE_S = 24 * 3600  # older than any build or import: stale even if its pid was reused


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    except OSError:
        return False
    return True


def remove_stale_temporaries(target: Path, now: float | None = None) -> list[Path]:
    """Delete `.<db name>.<pid>[.import].tmp` files (and their SQLite journals) left beside `target` by a
    build or import that was killed: those whose process is gone, or older than a day. A running build's
    file is left alone. Returns what was removed."""
    now = time.time() if now is None else now
    removed = []
    try:
        candidates = list(target.parent.iterdir())
    except OSError:
        return removed
    for path in candidates:
        m = _TMP_RE.match(path.name)
        if not m or m.group("name") != target.name:
            continue
        pid = int(m.group("pid"))
        try:
            age = now - path.stat().st_mtime
        except OSError:
            continue
        if pid == os.getpid() or (_pid_alive(pid) and age < STALE_TMP_AGE_S):
            continue
        try:
            path.unlink()
            removed.append(path)
        except OSError:
            pass
    return removed


def _add_vectors(conn: sqlite3.Connection, reuse_from: Path | None = None) -> None:
    """The semantic tier's claim vectors for the claims that have none (bot/engine/semantic.py), after taking
    over those of `reuse_from` (the version this one replaces) for the claims it holds unchanged."""
    from bot.engine.semantic import add_vectors

    add_vectors(conn, reuse_from=reuse_from)


def write_database(db_path: str | Path, kb: Knowledge, *, version: str = "", extra_claims: Iterable[dict] = (),
                   vectors: bool = False, reuse_vectors_from: Path | None = None) -> Path:
    """Build a complete database into a temporary file, then atomically replace `db_path`.
    `vectors`: also embed every claim for the semantic tier (part of the same atomic build), taking over the
    vectors of unchanged claims from `reuse_vectors_from` (the current version) where it has them."""
    target = Path(db_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        conn = sqlite3.connect(str(tmp))
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        db = sqlite_utils.Database(conn)
        with conn:
            _create_schema(db)
            db["gazetteer"].insert_all(  # first: imported claims take their main actor from it
                {"name": g["name"], "kind": g["kind"], "alias": a, "case_sensitive": int(alias_is_case_sensitive(a)),
                 "part_of": g.get("part_of", ""), "acts_for": g.get("acts_for", "")}
                for g in kb.gazetteer for a in gazetteer_aliases(g))
            n = insert_claims(db, kb.claims)
            n += insert_claims(db, extra_claims)
            db["outlets"].insert_all(_outlet_rows(kb))
            db["outlet_channels"].insert_all(channel_rows(kb.ownership))
            db["known_images"].insert_all(known_images.image_rows(kb.claims))
            last = max((c.get("last_reviewed", "") for c in kb.claims), default="")
            db["meta"].insert_all([
                {"key": "schema_version", "value": SCHEMA_VERSION},
                {"key": "knowledge_version", "value": version},
                {"key": "claims", "value": str(n)},
                {"key": "last_reviewed", "value": last},
            ])
        conn.execute("INSERT INTO claims_fts(claims_fts) VALUES('optimize')")
        build_postings(conn)
        conn.commit()
        if vectors:
            _add_vectors(conn, reuse_vectors_from)
        conn.execute("VACUUM")
        conn.close()
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def build_database(knowledge_dir: str | Path, db_path: str | Path, vectors: bool = False) -> Path:
    """Validate `knowledge_dir` (raises KnowledgeError, building nothing) and compile it to `db_path`
    (`vectors`: with the semantic tier's claim vectors)."""
    kb = load_knowledge(knowledge_dir)
    return write_database(db_path, kb, version=knowledge_version(kb), vectors=vectors)


def empty_database(db_path: str | Path, gazetteer_dir: str | Path | None = None) -> None:
    """A new database with the schema, no claims and the shipped gazetteer (for `knowledge import` into a fresh
    file: imported claims and the messages checked against them need it to name actors and their roles)."""
    if gazetteer_dir is None:
        from bot.config import DEFAULT_KNOWLEDGE_DIR

        gazetteer_dir = DEFAULT_KNOWLEDGE_DIR
    gazetteer = load_knowledge(gazetteer_dir).gazetteer if Path(gazetteer_dir, "entities.yaml").exists() else []
    write_database(db_path, Knowledge(gazetteer=gazetteer), version="import")


def meta_value(db_path: str | Path | None, key: str) -> str | None:
    """One `meta` value of a claim database (schema_version, knowledge_version, ...); None when the file is
    missing, is not a claim database, or has no such key."""
    if db_path is None or not Path(db_path).exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def database_is_current(knowledge_dir: str | Path, db_path: str | Path) -> bool:
    stored = meta_value(db_path, "knowledge_version")
    if stored is None:
        return False
    try:
        kb = load_knowledge(knowledge_dir)
    except Exception:
        return False
    return stored == knowledge_version(kb)


def check_schema(db_path: str | Path) -> None:
    """ValueError, saying how to rebuild, unless `db_path` is a claim database of this schema version."""
    found = meta_value(db_path, "schema_version")
    if found != SCHEMA_VERSION:
        raise ValueError(f"{db_path}: database schema {found or 'unknown'} is not {SCHEMA_VERSION}: {REBUILD}")


def import_claims(db_path: str | Path, claims: list[dict[str, Any]], vectors: bool = False) -> tuple[int, int]:
    """Add imported claims to `db_path` (created if missing), skipping ids already there.
    Works on a copy that replaces the original only when complete. Returns (added, already present).
    `vectors`: embed the claims that have no vector yet (the new ones) for the semantic tier."""
    target = Path(db_path)
    if not target.exists():
        empty_database(target)
    remove_stale_temporaries(target)
    check_schema(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.import.tmp")
    src = sqlite3.connect(str(target))
    dst = sqlite3.connect(str(tmp))
    try:
        src.backup(dst)
        src.close()
        db = sqlite_utils.Database(dst)
        existing = {r[0] for r in dst.execute("SELECT id FROM claims")}
        new = []
        for c in claims:  # an id twice in one batch (two files holding one item) counts as already present
            if c["id"] not in existing:
                existing.add(c["id"])
                new.append(c)
        with dst:
            added = insert_claims(db, new)
            build_postings(dst)
            total = dst.execute("SELECT COUNT(*) FROM claims").fetchone()[0]
            dst.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('claims', ?)", (str(total),))
        if vectors:
            _add_vectors(dst)
        dst.close()
        os.replace(tmp, target)
    except BaseException:
        dst.close()
        tmp.unlink(missing_ok=True)
        raise
    return added, len(claims) - len(new)
