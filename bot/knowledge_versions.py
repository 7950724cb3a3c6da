"""Knowledge as a versioned artifact: every build is a new database file beside the old ones, and the
configured path (CLAIM_CONTEXT_DB, default var/knowledge.db) is a symlink to the current one.

Publishing writes the new version completely (bot/engine/store.write_database: a temporary file renamed
into place), then points the symlink at it with one rename of a new symlink over the old: a reader sees
the old version or the new one, never a mix or a half-written file. Running processes notice the switch
(bot/knowledge_live.py) and open the new file; the old one stays on disk (the newest KEEP versions are
kept), so a message already being matched on it finishes there.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

KEEP = 3  # versions kept on disk, the current one included


def versions_dir(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".versions")


def current_version(db_path: str | Path) -> Path | None:
    """The version file the path points at now (the path itself when it is a plain file from before
    versioning), or None when there is no knowledge yet."""
    path = Path(db_path)
    if not path.exists():
        return None
    return Path(os.path.realpath(path))


def publish(db_path: str | Path, build: Callable[[Path], object], *, label: str = "") -> Path:
    """Build a new version with `build(version_file)` and switch `db_path` to it atomically. A failed
    build raises and leaves the current version as it was. Returns the new version file."""
    path = Path(db_path)
    refuse_to_replace(path)
    folder = versions_dir(path)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{time.time_ns() % 1_000_000_000:09d}"
    version = folder / (f"{stamp}-{label}.db" if label else f"{stamp}.db")
    build(version)
    link = path.with_name(f".{path.name}.{os.getpid()}.link")
    link.unlink(missing_ok=True)
    os.symlink(os.path.relpath(version, path.parent), link)
    os.replace(link, path)  # the switch: one rename, atomic on POSIX
    prune(path)
    return version


def refuse_to_replace(path: Path) -> None:
    """Raise KnowledgeError unless publishing may put a symlink at `path`: nothing there, a symlink, or a
    knowledge database from before versioning. CLAIM_CONTEXT_DB set to the state database (or a typo naming
    another file) replaced that file, moderation settings and feedback with it, without a word."""
    from bot.engine.knowledge import KnowledgeError

    if path.is_symlink() or not path.exists():
        return
    if path.is_dir():
        raise KnowledgeError([f"{path}: is a directory; CLAIM_CONTEXT_DB names the knowledge database file"])
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error:
        tables = None
    if tables is None or not {"claims", "meta"} <= tables:
        held = "is not a SQLite database" if tables is None else \
            f"is not a knowledge database (its tables: {', '.join(sorted(tables)[:6]) or 'none'})"
        raise KnowledgeError([f"{path}: {held}; not replacing it: point CLAIM_CONTEXT_DB at another file"])


def prune(db_path: Path, keep: int = KEEP) -> list[Path]:
    """Delete all but the newest `keep` versions (never the current one)."""
    current = current_version(db_path)
    files = sorted(versions_dir(db_path).glob("*.db"))
    removed = []
    for old in files[:-keep] if keep else files:
        if current is not None and old.resolve() == current:
            continue
        old.unlink(missing_ok=True)
        removed.append(old)
    return removed
