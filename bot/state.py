"""Runtime state that must survive knowledge rebuilds and restarts: feedback and group moderation (settings,
mutes, cooldowns, per-message decisions, the flags log; see bot/moderation.py). SQLite in WAL mode; every
write is one transaction, committed before we acknowledge."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FEEDBACK_STATUSES = ("open", "accepted", "rejected", "promoted")  # the one list: curation and the CLI use it
MAX_FEEDBACK_TEXT = 4096

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    platform TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    claim_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('wrong', 'helpful')),
    text TEXT NOT NULL DEFAULT '',
    is_admin INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'open',
    resolved_ts REAL
);
CREATE INDEX IF NOT EXISTS feedback_claim ON feedback(claim_id);
-- decide() looks up admins' wrong-match texts for one claim in one chat on every match
CREATE INDEX IF NOT EXISTS feedback_chat_claim ON feedback(platform, chat_id, claim_id);

-- Moderation: one row per chat that has ever been configured; no row means the defaults (off).
CREATE TABLE IF NOT EXISTS chat_settings (
    platform TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 0,
    mode TEXT NOT NULL DEFAULT 'reply',
    log_chat_id TEXT,
    cooldown_s INTEGER NOT NULL DEFAULT 21600,
    threshold REAL NOT NULL DEFAULT 0,
    quiet_start INTEGER,
    quiet_end INTEGER,
    updated_ts REAL NOT NULL,
    PRIMARY KEY (platform, chat_id)
);
CREATE TABLE IF NOT EXISTS muted_claims (
    platform TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    claim_id TEXT NOT NULL,
    ts REAL NOT NULL,
    PRIMARY KEY (platform, chat_id, claim_id)
);
-- The exactly-once guard: one row per (message, revision) that reached a decision worth remembering.
CREATE TABLE IF NOT EXISTS decisions (
    platform TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    ts REAL NOT NULL,
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    claim_id TEXT,
    score REAL NOT NULL DEFAULT 0,
    flag_id INTEGER,
    repeat_count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (platform, chat_id, message_id, revision)
);
-- Per claim per chat: when the last card went out, and how many sightings were counted since.
CREATE TABLE IF NOT EXISTS cooldowns (
    platform TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    claim_id TEXT NOT NULL,
    last_card_ts REAL,
    last_flag_id INTEGER,
    repeats INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (platform, chat_id, claim_id)
);
-- The moderators' log: every reply, notify and count.
CREATE TABLE IF NOT EXISTS flags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    platform TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0,
    message_link TEXT NOT NULL DEFAULT '',
    claim_id TEXT NOT NULL,
    claim_text TEXT NOT NULL DEFAULT '',
    score REAL NOT NULL,
    action TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    repeat_count INTEGER NOT NULL DEFAULT 0,
    excerpt TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS flags_chat ON flags(platform, chat_id, id);
CREATE INDEX IF NOT EXISTS flags_ts ON flags(ts);
-- Short references for values that do not fit a platform's button data (Telegram's 64-byte callback_data):
-- long claim ids, the rest of a long card. Each expires; a button whose reference is gone says so.
CREATE TABLE IF NOT EXISTS refs (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS refs_expires ON refs(expires);
"""

# Columns added after the first release: (table, column, declaration) for files created by older versions.
_MIGRATIONS = (("feedback", "resolved_ts", "REAL"),)


class StateStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # timeout: another process (or a second store on the same file) holding the write lock: wait, don't fail
        self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")  # acknowledged means on disk
        self.conn.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        for table, column, decl in _MIGRATIONS:
            have = {r["name"] for r in self.conn.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        with self._lock:
            return self.conn.execute(sql, params)

    def query(self, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]:
        """Rows as dicts, fetched while holding the lock (a cursor iterated later could interleave with a
        transaction another thread runs on the same connection)."""
        with self._lock:
            return [dict(r) for r in self.conn.execute(sql, params).fetchall()]

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: takes the write lock up front, so reads inside it see the
        latest committed state and no other writer, thread or process, can interleave). Commits on normal exit,
        rolls back on any exception."""
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    def transaction(self, statements: list[tuple[str, tuple | dict]]) -> None:
        with self.write() as conn:
            for sql, params in statements:
                conn.execute(sql, params)

    # -- references ---------------------------------------------------------------------------------------
    def put_ref(self, key: str, value: str, ttl: float, *, now: float | None = None) -> str:
        """Store `value` under `key` for `ttl` seconds (a later put renews it); expired rows are purged a few
        at a time on every put, so the table stays as large as what is live."""
        now = time.time() if now is None else now
        with self.write() as conn:
            conn.execute("DELETE FROM refs WHERE key IN (SELECT key FROM refs WHERE expires <= ? LIMIT 100)", (now,))
            conn.execute("INSERT OR REPLACE INTO refs (key, value, expires) VALUES (?,?,?)", (key, value, now + ttl))
        return key

    def get_ref(self, key: str, *, now: float | None = None) -> str | None:
        """The live value under `key`, or None when there is none or it has expired."""
        now = time.time() if now is None else now
        rows = self.query("SELECT value FROM refs WHERE key = ? AND expires > ?", (key, now))
        return rows[0]["value"] if rows else None

    # -- feedback -------------------------------------------------------------------------------------------
    def record_feedback(self, *, platform: str, chat_id: str | int, user_id: str | int, claim_id: str, kind: str,
                        text: str = "", is_admin: bool = False) -> bool:
        """Add one feedback item unless this user already sent the same kind for the same claim on the same
        text in this chat (a double click is one opinion; the same claim on another message is new).
        True when stored. Check and insert are one transaction."""
        key = (platform, str(chat_id), str(user_id), claim_id, kind, (text or "")[:MAX_FEEDBACK_TEXT])
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM feedback WHERE platform=? AND chat_id=? AND user_id=? AND claim_id=? "
                            "AND kind=? AND text=? LIMIT 1", key).fetchone():
                return False
            conn.execute("INSERT INTO feedback (ts, platform, chat_id, user_id, claim_id, kind, text, is_admin) "
                         "VALUES (?,?,?,?,?,?,?,?)", (time.time(), *key, int(is_admin)))
        return True

    def add_feedback(self, *, platform: str, chat_id: str | int, user_id: str | int, claim_id: str, kind: str,
                     text: str = "", is_admin: bool = False) -> int:
        cur = self.execute(
            "INSERT INTO feedback (ts, platform, chat_id, user_id, claim_id, kind, text, is_admin) VALUES (?,?,?,?,?,?,?,?)",
            (time.time(), platform, str(chat_id), str(user_id), claim_id, kind, text[:MAX_FEEDBACK_TEXT], int(is_admin)),
        )
        return int(cur.lastrowid)

    def feedback(self, status: str | None = "open") -> list[dict[str, Any]]:
        sql = "SELECT * FROM feedback" + (" WHERE status = ?" if status else "") + " ORDER BY id"
        return self.query(sql, (status,) if status else ())

    def get_feedback(self, feedback_id: int) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM feedback WHERE id = ?", (int(feedback_id),))
        return rows[0] if rows else None

    def set_feedback_status(self, feedback_id: int, status: str, *, only_if: str | None = "open") -> bool:
        """Resolve one feedback item; with `only_if`, only when it currently has that status (no lost update
        when two curators act at once). True if a row changed."""
        if status not in FEEDBACK_STATUSES:
            raise ValueError(f"feedback status must be one of {', '.join(FEEDBACK_STATUSES)}, not {status!r}")
        sql = "UPDATE feedback SET status = ?, resolved_ts = ? WHERE id = ?"
        params: tuple = (status, None if status == "open" else time.time(), int(feedback_id))
        if only_if is not None:
            sql += " AND status = ?"
            params += (only_if,)
        with self.write() as conn:
            return conn.execute(sql, params).rowcount == 1

    def close(self) -> None:
        with self._lock:
            self.conn.close()
