"""The StateStore contract: runtime state that must survive knowledge rebuilds and restarts (feedback, group
moderation, button references, and the fleet's update claims and send budget), written once over a few
primitives that each backend provides.

Every statement here is portable SQL with `?` (or `:name`) parameters; the PostgreSQL backend translates
them. Backends differ only in connections, transactions and locks:

- `query(sql, params)`: rows as dicts, outside any transaction.
- `write(key)`: one transaction, committed on normal exit and rolled back on any exception. Writes with the
  same `key` never interleave; a write with no key excludes every other write (SQLite: BEGIN IMMEDIATE,
  one writer at a time anyway; PostgreSQL: advisory transaction locks, the key's exclusive and a database
  lock shared, which a keyless write takes exclusive). Reads inside see the latest committed state.

`StateStore(target)` opens the backend the target names: a `postgresql://` URL or a SQLite path.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

FEEDBACK_STATUSES = ("open", "accepted", "rejected", "promoted")  # the one list: curation and the CLI use it
MAX_FEEDBACK_TEXT = 4096
POSTGRES_SCHEMES = ("postgresql://", "postgres://")

Params = Sequence[Any] | dict[str, Any]


class StateUnavailable(RuntimeError):
    """The state database cannot be reached or used at start (the message says where and why)."""


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Tx:
    """One open write transaction. `execute` runs portable SQL; rows support row["column"] and dict(row)."""

    def __init__(self, execute: Any, dialect: str) -> None:
        self._execute = execute
        self.dialect = dialect

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        return self._execute(sql, params)

    def one(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        row = self._execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def all(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self._execute(sql, params).fetchall()]

    def insert_id(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT ... RETURNING id (both backends) and return the id."""
        return int(self._execute(sql, params).fetchone()["id"])

    # -- moderation, inside decide()'s and update()'s transactions (bot/moderation.py holds the policy) ------
    def chat_settings(self, platform: str, chat_id: str) -> dict[str, Any] | None:
        return self.one("SELECT * FROM chat_settings WHERE platform = ? AND chat_id = ?", (platform, chat_id))

    def save_chat_settings(self, platform: str, chat_id: str, values: dict[str, Any], now: float) -> None:
        cols = ("enabled", "mode", "log_chat_id", "cooldown_s", "threshold", "quiet_start", "quiet_end")
        row = {**{c: values[c] for c in cols}, "enabled": int(values["enabled"])}
        self.execute(
            "INSERT INTO chat_settings (platform, chat_id, " + ", ".join(cols) + ", updated_ts) VALUES (?,?,"
            + ",".join("?" * len(cols)) + ",?) ON CONFLICT (platform, chat_id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in (*cols, "updated_ts")),
            (platform, chat_id, *(row[c] for c in cols), now))

    def message_decisions(self, platform: str, chat_id: str, message_id: str) -> list[dict[str, Any]]:
        return self.all("SELECT revision, action, claim_id, flag_id FROM decisions WHERE platform = ? AND chat_id = ?"
                        " AND message_id = ?", (platform, chat_id, message_id))

    def add_decision(self, platform: str, chat_id: str, message_id: str, revision: int, ts: float, action: str,
                     reason: str, claim_id: str | None, score: float, flag_id: int | None, repeat_count: int) -> None:
        self.execute("INSERT INTO decisions (platform, chat_id, message_id, revision, ts, action, reason, claim_id,"
                     " score, flag_id, repeat_count) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                     (platform, chat_id, message_id, revision, ts, action, reason, claim_id, score, flag_id,
                      repeat_count))

    def cooldown(self, platform: str, chat_id: str, claim_id: str) -> dict[str, Any] | None:
        return self.one("SELECT * FROM cooldowns WHERE platform = ? AND chat_id = ? AND claim_id = ?",
                        (platform, chat_id, claim_id))

    def add_flag(self, **row: Any) -> int:
        cols = ("ts", "platform", "chat_id", "message_id", "revision", "message_link", "claim_id", "claim_text",
                "score", "action", "reason", "repeat_count", "excerpt")
        return self.insert_id(f"INSERT INTO flags ({', '.join(cols)}) VALUES ({','.join('?' * len(cols))})"
                              " RETURNING id", tuple(row[c] for c in cols))

    def start_cooldown(self, platform: str, chat_id: str, claim_id: str, ts: float, flag_id: int) -> None:
        self.execute("INSERT INTO cooldowns (platform, chat_id, claim_id, last_card_ts, last_flag_id, repeats)"
                     " VALUES (?,?,?,?,?,0) ON CONFLICT (platform, chat_id, claim_id) DO UPDATE SET"
                     " last_card_ts = excluded.last_card_ts, last_flag_id = excluded.last_flag_id, repeats = 0",
                     (platform, chat_id, claim_id, ts, flag_id))

    def count_repeat(self, platform: str, chat_id: str, claim_id: str) -> None:
        self.execute("INSERT INTO cooldowns (platform, chat_id, claim_id, repeats) VALUES (?,?,?,1)"
                     " ON CONFLICT (platform, chat_id, claim_id) DO UPDATE SET repeats = cooldowns.repeats + 1",
                     (platform, chat_id, claim_id))


def is_postgres_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.lower().startswith(POSTGRES_SCHEMES)


class StateStore(ABC):
    dialect: str = ""
    skip_locked: str = ""  # " FOR UPDATE SKIP LOCKED" where the backend has it (purges race across processes)

    def __new__(cls, target: str | Path, *args: Any, **kwargs: Any) -> "StateStore":
        if cls is StateStore:  # StateStore(target) opens the backend the target names
            if is_postgres_url(target):
                from bot.state.postgres import PostgresState

                cls = PostgresState
            else:
                from bot.state.sqlite import SqliteState

                cls = SqliteState
        return super().__new__(cls)

    # -- primitives each backend provides ------------------------------------------------------------------
    @abstractmethod
    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        """Rows as dicts."""

    @abstractmethod
    def write(self, key: str | None = None) -> AbstractContextManager[Tx]:
        """One write transaction (see the module docstring for what `key` serialises)."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def schema_version(self) -> int: ...

    def ping(self) -> bool:
        """Whether the database answers (for /readyz)."""
        try:
            return self.query("SELECT 1 AS ok")[0]["ok"] == 1
        except Exception:
            return False

    def execute(self, sql: str, params: Params = ()) -> int:
        """One statement in its own write transaction; the number of rows it changed."""
        with self.write() as tx:
            return tx.execute(sql, params).rowcount

    def transaction(self, statements: list[tuple[str, Params]], key: str | None = None) -> None:
        with self.write(key) as tx:
            for sql, params in statements:
                tx.execute(sql, params)

    def __enter__(self) -> "StateStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- references ----------------------------------------------------------------------------------------
    def put_ref(self, key: str, value: str, ttl: float, *, now: float | None = None) -> str:
        """Store `value` under `key` for `ttl` seconds (a later put renews it); expired rows are purged a few
        at a time on every put, so the table stays as large as what is live."""
        now = time.time() if now is None else now
        with self.write(f"ref:{key}") as tx:
            tx.execute("DELETE FROM refs WHERE key IN (SELECT key FROM refs WHERE expires <= ? LIMIT 100"
                       + self.skip_locked + ")", (now,))
            tx.execute("INSERT INTO refs (key, value, expires) VALUES (?,?,?) ON CONFLICT (key) DO UPDATE SET"
                       " value = excluded.value, expires = excluded.expires", (key, value, now + ttl))
        return key

    def get_ref(self, key: str, *, now: float | None = None) -> str | None:
        """The live value under `key`, or None when there is none or it has expired."""
        now = time.time() if now is None else now
        rows = self.query("SELECT value FROM refs WHERE key = ? AND expires > ?", (key, now))
        return rows[0]["value"] if rows else None

    def take_ref(self, key: str, *, now: float | None = None) -> str | None:
        """The live value under `key`, removed in the same transaction: of two callers at once, one gets it
        (a button that may work once)."""
        now = time.time() if now is None else now
        with self.write(f"ref:{key}") as tx:
            row = tx.one("SELECT value FROM refs WHERE key = ? AND expires > ?", (key, now))
            if row is not None:
                tx.execute("DELETE FROM refs WHERE key = ?", (key,))
        return row["value"] if row is not None else None

    # -- feedback ------------------------------------------------------------------------------------------
    def record_feedback(self, *, platform: str, chat_id: str | int, user_id: str | int, claim_id: str, kind: str,
                        text: str = "", is_admin: bool = False) -> bool:
        """Add one feedback item unless this user already sent the same kind for the same claim on the same
        text in this chat (a double click is one opinion; the same claim on another message is new).
        True when stored. Check and insert are one transaction."""
        key = (platform, str(chat_id), str(user_id), claim_id, kind, (text or "")[:MAX_FEEDBACK_TEXT])
        with self.write(f"feedback:{platform}:{chat_id}") as tx:
            if tx.one("SELECT 1 AS seen FROM feedback WHERE platform=? AND chat_id=? AND user_id=? AND claim_id=? "
                      "AND kind=? AND text=? LIMIT 1", key):
                return False
            tx.execute("INSERT INTO feedback (ts, platform, chat_id, user_id, claim_id, kind, text, is_admin) "
                       "VALUES (?,?,?,?,?,?,?,?)", (time.time(), *key, int(is_admin)))
        return True

    def add_feedback(self, *, platform: str, chat_id: str | int, user_id: str | int, claim_id: str, kind: str,
                     text: str = "", is_admin: bool = False) -> int:
        with self.write(f"feedback:{platform}:{chat_id}") as tx:
            return tx.insert_id(
                "INSERT INTO feedback (ts, platform, chat_id, user_id, claim_id, kind, text, is_admin)"
                " VALUES (?,?,?,?,?,?,?,?) RETURNING id",
                (time.time(), platform, str(chat_id), str(user_id), claim_id, kind, text[:MAX_FEEDBACK_TEXT],
                 int(is_admin)))

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
        with self.write(f"feedback-id:{int(feedback_id)}") as tx:
            return tx.execute(sql, params).rowcount == 1

    def admin_wrong_match_texts(self, platform: str, chat_id: str, claim_id: str, limit: int) -> list[str]:
        """Newest first: texts admins reported as a wrong match for this claim in this chat that no curator
        has since rejected or promoted."""
        rows = self.query(
            "SELECT text FROM feedback WHERE platform = ? AND chat_id = ? AND claim_id = ? AND kind = 'wrong'"
            " AND is_admin = 1 AND status IN ('open', 'accepted') ORDER BY id DESC LIMIT ?",
            (platform, chat_id, claim_id, limit))
        return [r["text"] for r in rows]

    # -- moderation: settings and mutes --------------------------------------------------------------------
    @staticmethod
    def chat_key(platform: str, chat_id: str) -> str:
        """The write key of everything moderation keeps per chat: settings, mutes, decisions, cooldowns, flags."""
        return f"chat:{platform}:{chat_id}"

    def chat_settings(self, platform: str, chat_id: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM chat_settings WHERE platform = ? AND chat_id = ?", (platform, chat_id))
        return rows[0] if rows else None

    def muted_claims(self, platform: str, chat_id: str) -> set[str]:
        return {r["claim_id"] for r in self.query(
            "SELECT claim_id FROM muted_claims WHERE platform = ? AND chat_id = ?", (platform, chat_id))}

    def decision_view(self, platform: str, chat_id: str, claim_id: str) -> dict[str, Any] | None:
        """A chat's settings row with `claim_muted` for one claim: decide()'s one read on the common path."""
        rows = self.query(
            "SELECT s.*, EXISTS (SELECT 1 FROM muted_claims m WHERE m.platform = s.platform AND m.chat_id = s.chat_id"
            " AND m.claim_id = :claim) AS claim_muted FROM chat_settings s WHERE s.platform = :platform"
            " AND s.chat_id = :chat", {"platform": platform, "chat": chat_id, "claim": claim_id})
        return rows[0] if rows else None

    def mute(self, platform: str, chat_id: str, claim_id: str) -> None:
        self.transaction([("INSERT INTO muted_claims (platform, chat_id, claim_id, ts) VALUES (?,?,?,?)"
                           " ON CONFLICT DO NOTHING", (platform, chat_id, claim_id, time.time()))],
                         key=self.chat_key(platform, chat_id))

    def unmute(self, platform: str, chat_id: str, claim_id: str) -> None:
        self.transaction([("DELETE FROM muted_claims WHERE platform = ? AND chat_id = ? AND claim_id = ?",
                           (platform, chat_id, claim_id))], key=self.chat_key(platform, chat_id))

    def recent_flags(self, platform: str, chat_id: str, limit: int) -> list[dict[str, Any]]:
        return self.query(
            "SELECT id, ts, message_id, revision, message_link, claim_id, claim_text, score, action, reason,"
            " repeat_count, excerpt FROM flags WHERE platform = ? AND chat_id = ? ORDER BY id DESC LIMIT ?",
            (platform, chat_id, limit))

    def flags_between(self, lo: float, hi: float | None) -> list[dict[str, Any]]:
        """Flags with lo <= ts < hi (hi None: no upper bound), oldest first."""
        sql = "SELECT * FROM flags WHERE ts >= ?" + (" AND ts < ?" if hi is not None else "") + " ORDER BY ts, id"
        return self.query(sql, (lo, hi) if hi is not None else (lo,))

    # -- the fleet: update claims and the shared send budget --------------------------------------------------
    def claim_update(self, platform: str, update_id: str | int, owner: str, *, lease_s: float = 60.0,
                     now: float | None = None) -> str:
        """Take one incoming update for `owner` (a process) unless another process has it. "take": handle it,
        then call finish_update. "done": it was handled already (acknowledge it). "busy": another live
        process is handling it (the platform's retry of an update in flight: ask for a later retry). A claim
        whose owner died unfinished expires after `lease_s`; the next redelivery takes it over."""
        now = time.time() if now is None else now
        uid = str(update_id)
        with self.write(f"update:{platform}:{uid}") as tx:
            row = tx.one("SELECT status, owner, lease_until FROM updates WHERE platform = ? AND update_id = ?",
                         (platform, uid))
            if row is not None and row["status"] == "done":
                return "done"
            if row is not None and row["lease_until"] > now:
                return "busy"
            tx.execute("INSERT INTO updates (platform, update_id, status, owner, lease_until, ts) VALUES (?,?,?,?,?,?)"
                       " ON CONFLICT (platform, update_id) DO UPDATE SET status = excluded.status, owner ="
                       " excluded.owner, lease_until = excluded.lease_until, ts = excluded.ts",
                       (platform, uid, "taken", owner, now + lease_s, now))
        return "take"

    def renew_update(self, platform: str, update_id: str | int, owner: str, *, lease_s: float = 60.0,
                     now: float | None = None) -> bool:
        """Extend `owner`'s lease on an update it is still handling (a live process keeps what it took: only a
        dead one's lease runs out). False when the update is no longer this owner's to handle."""
        now = time.time() if now is None else now
        with self.write(f"update:{platform}:{update_id}") as tx:
            return tx.execute("UPDATE updates SET lease_until = ? WHERE platform = ? AND update_id = ? AND owner = ?"
                              " AND status = 'taken'", (now + lease_s, platform, str(update_id), owner)).rowcount == 1

    def finish_update(self, platform: str, update_id: str | int, owner: str, *, done: bool = True) -> None:
        """Mark a claimed update handled (done=True), or release it for a redelivery (done=False: the handler
        failed before answering)."""
        uid = str(update_id)
        with self.write(f"update:{platform}:{uid}") as tx:
            if done:
                tx.execute("UPDATE updates SET status = 'done' WHERE platform = ? AND update_id = ? AND owner = ?",
                           (platform, uid, owner))
            else:
                tx.execute("DELETE FROM updates WHERE platform = ? AND update_id = ? AND owner = ? AND status = 'taken'",
                           (platform, uid, owner))

    def purge_updates(self, older_than: float) -> int:
        """Forget finished updates older than a timestamp (platforms stop redelivering after a day)."""
        with self.write("updates-purge") as tx:
            return tx.execute("DELETE FROM updates WHERE status = 'done' AND ts < ?", (older_than,)).rowcount

    def take_send_slot(self, buckets: Sequence[tuple[str, float]], *, now: float | None = None) -> float:
        """Reserve the next send time that respects every bucket at once, for the whole fleet. Each bucket is
        (name, interval seconds): at most one send per interval in that bucket (e.g. the bot's global
        1/30 s, a group's 3 s, a chat's 1 s). Returns the time to send at (>= now); the caller sleeps until
        then. The reservation is written before anyone sends, so processes never pick the same slot."""
        now = time.time() if now is None else now
        names = sorted(name for name, _ in buckets)  # lock order: one order for every caller, no deadlock
        with self.write("send-slots") as tx:
            placeholders = ",".join("?" * len(names))
            have = {r["bucket"]: r["next_free"] for r in tx.all(
                f"SELECT bucket, next_free FROM send_slots WHERE bucket IN ({placeholders})", names)}
            at = max([now, *have.values()])
            for name, interval in buckets:
                tx.execute("INSERT INTO send_slots (bucket, next_free) VALUES (?, ?) ON CONFLICT (bucket) DO UPDATE"
                           " SET next_free = excluded.next_free", (name, at + interval))
        return at
