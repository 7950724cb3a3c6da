"""Runtime state: one StateStore contract (bot/state/base.py), two backends: SQLite (bot/state/sqlite.py,
the embedded default) and PostgreSQL (bot/state/postgres.py, for a fleet of processes). Schema migrations
live in bot/state/migrations.py.

`StateStore(target)` and `open_state(target)` open the backend the target names: a `postgresql://` URL
or a SQLite file path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.state.base import FEEDBACK_STATUSES, MAX_FEEDBACK_TEXT, StateStore, StateUnavailable, Tx, is_postgres_url

__all__ = ["FEEDBACK_STATUSES", "MAX_FEEDBACK_TEXT", "StateStore", "StateUnavailable", "Tx", "is_postgres_url",
           "open_state"]


def open_state(target: str | Path, **options: Any) -> StateStore:
    """The state store at `target` (migrated to the latest schema). Options go to the backend (PostgreSQL:
    pool_size, connect_timeout)."""
    return StateStore(target, **options)
