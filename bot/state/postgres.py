"""The fleet backend: PostgreSQL through psycopg 3 with a connection pool, when CLAIM_CONTEXT_STATE is a
postgresql:// URL. Several bot processes share it.

Writes serialise by key with advisory transaction locks (released at COMMIT/ROLLBACK, so a process killed
mid-transaction releases them with its connection): a keyed write takes its key's lock exclusive and the
database lock shared; a keyless write takes the database lock exclusive, so it excludes every write as
SQLite's BEGIN IMMEDIATE does. Moderation keys by chat, so chats decide in parallel across the fleet.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.state import migrations
from bot.state.base import Params, StateStore, StateUnavailable, Tx


def lock_id(name: str) -> int:
    """A stable signed 64-bit advisory lock id for a name (a collision only serialises two keys needlessly)."""
    return int.from_bytes(hashlib.blake2b(f"claim-context:{name}".encode(), digest_size=8).digest(), "big", signed=True)


DATABASE_LOCK = lock_id("database")
MIGRATION_LOCK = lock_id("migrations")
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|::|:[A-Za-z_]\w*|\?|%")


@lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """Portable SQL (`?` and `:name` parameters) in psycopg's format (%s, %(name)s, every literal % doubled:
    psycopg reads % even inside quotes); `?` and `:` inside quoted strings and identifiers stay as they are."""
    def sub(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok == "?":
            return "%s"
        if tok == "%":
            return "%%"
        if tok.startswith(":") and tok != "::":
            return f"%({tok[1:]})s"
        return tok.replace("%", "%%")
    return _TOKEN.sub(sub, sql)


def _clean(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL; SQLite stores it. A hostile message must not fail a decision.
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


def _params(params: Params) -> Any:
    if isinstance(params, dict):
        return {k: _clean(v) for k, v in params.items()}
    return [_clean(v) for v in params]


class PostgresState(StateStore):
    dialect = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, *, pool_size: int = 8, connect_timeout: float = 10.0) -> None:
        self.url = url
        self._closed = threading.Event()
        # keepalives: a link dropped silently is noticed in about a minute; statement_timeout: no write waits
        # forever on a lost server. (The pool's `check` was tried for connections cut by a server restart: with
        # every pooled connection cut, the first caller then waited the whole pool timeout.)
        self.pool = ConnectionPool(url, min_size=1, max_size=max(1, pool_size), open=False, name="claim-context-state",
                                   kwargs={"autocommit": True, "row_factory": dict_row, "keepalives": 1,
                                           "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,
                                           "options": _with_statement_timeout(url)})
        try:
            self.pool.open(wait=True, timeout=connect_timeout)
        except PoolTimeout as exc:
            self.pool.close()
            raise StateUnavailable(f"cannot reach the PostgreSQL state database at {_safe(url)} within "
                                   f"{connect_timeout:g} s") from exc
        try:
            self._migrate()
        except BaseException:
            self.close()  # e.g. SchemaTooNew: no pool threads left behind
            raise

    def _execute(self, conn: psycopg.Connection, sql: str, params: Params = ()) -> Any:
        return conn.execute(to_pyformat(sql), _params(params))

    def _migrate(self) -> None:
        """Pending migrations in one transaction under an advisory lock: processes starting at once apply
        each migration once; the others wait and find it done. PostgreSQL DDL is transactional, so a failed
        migration leaves the previous version whole."""
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute(migrations.VERSION_TABLE.format(**migrations.TYPES[self.dialect]))
            applied = conn.execute("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").fetchone()["v"]

            def columns(table: str) -> set[str]:
                return {r["column_name"] for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
                    " AND table_schema = current_schema()", (table,))}

            for m in migrations.pending(applied):
                for sql in m.sql(self.dialect, columns):
                    conn.execute(sql)
                conn.execute("INSERT INTO schema_migrations (version, name, applied_ts) VALUES (%s, %s, %s)",
                             (m.version, m.name, time.time()))

    def schema_version(self) -> int:
        return int(self.query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")[0]["v"])

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        with self.pool.connection() as conn:
            return list(self._execute(conn, sql, params).fetchall())

    @contextmanager
    def write(self, key: str | None = None) -> Iterator[Tx]:
        with self.pool.connection() as conn, conn.transaction():
            if key is None:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (DATABASE_LOCK,))
            else:
                conn.execute("SELECT pg_advisory_xact_lock_shared(%s), pg_advisory_xact_lock(%s)",
                             (DATABASE_LOCK, lock_id(key)))
            yield Tx(lambda sql, params=(): self._execute(conn, sql, params), self.dialect)

    def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            self.pool.close()


STATEMENT_TIMEOUT_MS = 60_000  # every statement here takes milliseconds; a minute means the server is gone


def _with_statement_timeout(url: str) -> str:
    """The URL's own server options (a search_path, say) and the statement timeout: a keyword argument
    replaces the URL's value rather than adding to it."""
    from psycopg.conninfo import conninfo_to_dict

    given = str(conninfo_to_dict(url).get("options") or "")
    return f"{given} -c statement_timeout={STATEMENT_TIMEOUT_MS}".strip()


def _safe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)
