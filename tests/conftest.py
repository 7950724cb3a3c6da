from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import DEFAULT_KNOWLEDGE_DIR
from bot.engine.service import Engine
from bot.engine.store import build_database
from bot.state import StateStore, open_state

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.fixture(scope="session")
def knowledge_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped knowledge compiled once per test session, with the semantic tier's claim vectors as
    `knowledge build` makes it (bot processes started on it do not have to add them, all at once)."""
    return build_database(DEFAULT_KNOWLEDGE_DIR, tmp_path_factory.mktemp("kb") / "knowledge.db", vectors=True)


@pytest.fixture(scope="session")
def engine(knowledge_db: Path) -> Engine:
    return Engine(knowledge_db)


# --- state backends: every test that takes `state` (or `state_target`) runs on SQLite and on PostgreSQL ---
PG_DEFAULT_URL = "postgresql://postgres@127.0.0.1:55432/claim_context_test"  # what tests/services.sh starts
STATE_BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The PostgreSQL test server (CLAIM_CONTEXT_TEST_PG, default the one tests/services.sh starts). When it
    cannot be reached: a failure in CI (CI is set), a skip with the reason elsewhere."""
    url = os.environ.get("CLAIM_CONTEXT_TEST_PG") or PG_DEFAULT_URL
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=5).close()
    except Exception as exc:  # ImportError too: psycopg comes with the package's dependencies
        missing(f"PostgreSQL test server not reachable at {url}: {exc!s}".strip()
                + " -- start it with `bash tests/services.sh` (or set CLAIM_CONTEXT_TEST_PG)")
    return url


def missing(message: str) -> None:
    """Something a test needs is not installed or not running: a failure in CI (CI is set), a skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def ocr() -> None:
    """Tesseract with its English pack, for tests that read the text in pictures (see `missing`)."""
    from bot.images.ocr import ocr_available

    if not ocr_available("eng"):
        missing("OCR not installed: pip install '.[images]' and apt-get install tesseract-ocr tesseract-ocr-eng "
                "tesseract-ocr-rus")


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A URL to a fresh, empty schema of the test database (its own search_path), dropped afterwards: tests
    never see each other's rows and can run in any order."""
    import psycopg

    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in pg_server_url else "?"
    yield f"{pg_server_url}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=STATE_BACKENDS)
def state_target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a state store lives, once per backend: a SQLite file, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return tmp_path / "state.db"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def state(state_target: str | Path) -> Iterator[StateStore]:
    s = open_state(state_target)
    yield s
    s.close()
