from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_KNOWLEDGE_DIR
from bot.engine.service import Engine
from bot.engine.store import build_database

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.fixture(scope="session")
def knowledge_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped knowledge compiled once per test session."""
    return build_database(DEFAULT_KNOWLEDGE_DIR, tmp_path_factory.mktemp("kb") / "knowledge.db")


@pytest.fixture(scope="session")
def engine(knowledge_db: Path) -> Engine:
    return Engine(knowledge_db)
