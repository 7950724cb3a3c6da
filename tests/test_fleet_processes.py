"""The fleet as separate processes: two `python -m bot run` webhook processes on the test PostgreSQL, one
SIGKILLed mid-run and restarted, Telegram's retries delivering everything (benchmarks/fleet.py at a small
size; `python -m bot bench fleet` is the full run)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def test_two_processes_one_killed_every_update_handled_once(pg_server_url: str, knowledge_db: Path) -> None:
    from benchmarks import fleet
    from bot.config import DEFAULT_KNOWLEDGE_DIR

    args = argparse.Namespace(updates=600, chats=60, kill=True, pg=pg_server_url)
    texts = fleet.known_texts(knowledge_db)
    with tempfile.TemporaryDirectory(prefix="fleet-test-") as tmp:
        report = await fleet.one_run(2, args, knowledge_db, DEFAULT_KNOWLEDGE_DIR, Path(tmp), texts)
        logs = {p.name: p.read_text(errors="replace")[-3000:] for p in Path(tmp).glob("bot-*.log")}
    assert report["kill"] and report["kill"].get("restarted_after_s"), report
    assert report["acknowledged"] == report["handled_once_in_db"] == 600, (report, logs)
    assert report["cards_doubled"] == 0 and report["unexpected_sends"] == 0 and report["flood_violations"] == 0, report
    # a card can be lost only if the kill lands between its decision and its send (README: one round trip
    # wide, so at most one per kill in practice); never doubled
    assert report["expected_cards"] > 0 and report["cards_lost"] <= 1, report
