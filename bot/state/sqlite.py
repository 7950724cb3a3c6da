"""The embedded backend: one SQLite file in WAL mode. One writer at a time (BEGIN IMMEDIATE), across
threads and processes; every write is one transaction, committed (synchronous=FULL: on disk) before we
acknowledge."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.state import migrations
from bot.state.base import Params, StateStore, StateUnavailable, Tx


# How long a store waits for another connection's lock (another process, or a second store on the file)
_LOCK_WAIT_SECONDS = 30.0


def _enter_wal(conn: sqlite3.Connection, deadline: float) -> None:
    """Switch the file to WAL, retrying while another connection holds it. Changing the journal mode needs
    an exclusive lock and SQLite answers "database is locked" at once, without the busy timeout, when a
    second process is opening the same new file at the same moment; once one of them has switched, the
    others find WAL already set. (A mode it could not change is answered with the old one, so that is
    retried too; an in-memory database keeps "memory".)"""
    pause = 0.001
    while True:
        try:
            (mode,) = conn.execute("PRAGMA journal_mode=WAL").fetchone()
            if mode in ("wal", "memory"):
                return
            problem: Exception = sqlite3.OperationalError(f"journal mode stayed {mode!r}, not WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            problem = exc
        if time.monotonic() >= deadline:
            raise problem
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


class SqliteState(StateStore):
    dialect = "sqlite"

    def __init__(self, path: str | Path, **_options: Any) -> None:  # options are the server backends'
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            # timeout: another process (or a second store on the same file) holding the write lock: wait
            self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                                        timeout=_LOCK_WAIT_SECONDS)
        except (OSError, sqlite3.Error) as exc:
            raise StateUnavailable(f"cannot open the SQLite state database at {path}: {exc}") from None
        self.conn.row_factory = sqlite3.Row
        try:
            _enter_wal(self.conn, deadline=time.monotonic() + _LOCK_WAIT_SECONDS)
            self.conn.execute("PRAGMA synchronous=FULL")  # acknowledged means on disk
            self._migrate()
        except sqlite3.DatabaseError as exc:  # not a database ("file is not a database"), a locked one, a full disk
            self.conn.close()
            raise StateUnavailable(f"cannot use the SQLite state database at {path}: {exc}") from None
        except BaseException:
            self.conn.close()
            raise

    def _columns(self, table: str) -> set[str]:
        return {r["name"] for r in self.conn.execute(f"PRAGMA table_info({table})")}

    def _migrate(self) -> None:
        """Pending migrations in one BEGIN IMMEDIATE transaction: a second process starting at the same time
        waits for the lock, then finds them applied. (Not executescript: it would commit first.)"""
        with self.write() as tx:
            tx.execute(migrations.VERSION_TABLE.format(**migrations.TYPES[self.dialect]))
            applied = tx.one("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")["v"]
            for m in migrations.pending(applied):
                for sql in m.sql(self.dialect, self._columns):
                    tx.execute(sql)
                tx.execute("INSERT INTO schema_migrations (version, name, applied_ts) VALUES (?,?,?)",
                           (m.version, m.name, time.time()))

    def schema_version(self) -> int:
        return int(self.query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")[0]["v"])

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        """Rows as dicts, fetched while holding the lock (a cursor iterated later could interleave with a
        transaction another thread runs on the same connection)."""
        with self._lock:
            return [dict(r) for r in self.conn.execute(sql, params).fetchall()]

    @contextmanager
    def write(self, key: str | None = None) -> Iterator[Tx]:
        """BEGIN IMMEDIATE takes the file's write lock up front, so reads inside see the latest committed
        state and no other writer, thread or process, can interleave (`key` needs nothing more here)."""
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self.conn.execute, self.dialect)
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self.conn.close()
