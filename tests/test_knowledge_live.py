"""Knowledge as a versioned artifact: builds publish a new version and switch atomically, a running bot
answers from the new version within seconds without dropping or doubling a message, and `knowledge sync`
keeps a feed's previous good copy whenever the new one is not whole."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.cli import main  # noqa: E402
from bot.engine.service import Engine  # noqa: E402
from bot.engine.store import build_database  # noqa: E402
from bot.knowledge_live import LiveEngine  # noqa: E402
from bot.knowledge_sync import sync  # noqa: E402
from bot.knowledge_versions import current_version, publish, versions_dir  # noqa: E402
from bot.state import StateStore  # noqa: E402
from tests.fakes.telegram_api import BotUnderTest, FakeTelegram  # noqa: E402
from tests.test_telegram_e2e import IRAN_TEXT, _claim, make_settings, write_knowledge  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
NEW_ID = "atlantis-found-2026"
NEW_TEXT = "Divers found the lost city of Atlantis off the coast of Crete"


def add_new_claim(knowledge: Path) -> None:
    c = _claim(NEW_ID, "Divers found the remains of Atlantis off Crete.", [NEW_TEXT], "Atlantis", ["Atlanteans"],
               status="false")
    (knowledge / "claims" / f"{NEW_ID}.yaml").write_text(yaml.safe_dump(c, sort_keys=False))


def claim_ids(db: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute("SELECT id FROM claims")}
    finally:
        conn.close()


# --- versions ------------------------------------------------------------------------------------------

def test_build_publishes_a_new_version_and_switches_the_path_atomically(tmp_path: Path, capsys) -> None:
    knowledge, db = write_knowledge(tmp_path / "knowledge"), tmp_path / "var" / "knowledge.db"
    assert main(["knowledge", "build", "--knowledge", str(knowledge), "--db", str(db)]) == 0
    first = current_version(db)
    assert db.is_symlink() and first is not None and first.parent == versions_dir(db)
    old_engine = Engine(first)
    add_new_claim(knowledge)
    assert main(["knowledge", "build", "--knowledge", str(knowledge), "--db", str(db)]) == 0
    second = current_version(db)
    assert second != first and NEW_ID in claim_ids(db) and NEW_ID not in claim_ids(first)
    assert old_engine.check(IRAN_TEXT).decision == "match"  # the old version still answers what it had
    for _ in range(3):
        assert main(["knowledge", "build", "--knowledge", str(knowledge), "--db", str(db)]) == 0
    assert len(list(versions_dir(db).glob("*.db"))) == 3  # older versions pruned, current kept


def test_a_failed_build_keeps_the_current_version(tmp_path: Path) -> None:
    knowledge, db = write_knowledge(tmp_path / "knowledge"), tmp_path / "knowledge.db"
    assert main(["knowledge", "build", "--knowledge", str(knowledge), "--db", str(db)]) == 0
    before = current_version(db)
    (knowledge / "claims" / "broken.yaml").write_text("id: broken\nstatement: [not, a, string\n")
    assert main(["knowledge", "build", "--knowledge", str(knowledge), "--db", str(db)]) == 1
    assert current_version(db) == before


def test_live_engine_switches_on_a_new_version_and_keeps_the_old_one_on_a_broken_one(tmp_path: Path) -> None:
    knowledge, db = write_knowledge(tmp_path / "knowledge"), tmp_path / "knowledge.db"
    publish(db, lambda f: build_database(knowledge, f))
    live = LiveEngine(db)
    assert live.check(NEW_TEXT).decision != "match" and live.reload_if_changed() is False
    add_new_claim(knowledge)
    publish(db, lambda f: build_database(knowledge, f))
    assert live.reload_if_changed() is True and live.check(NEW_TEXT).matches[0].id == NEW_ID
    publish(db, lambda f: f.write_bytes(b"not a database"))  # a version that cannot be opened
    assert live.reload_if_changed() is False and live.check(NEW_TEXT).matches[0].id == NEW_ID


async def test_sighup_switches_at_once(tmp_path: Path) -> None:
    import signal

    knowledge, db = write_knowledge(tmp_path / "knowledge"), tmp_path / "knowledge.db"
    publish(db, lambda f: build_database(knowledge, f))
    live = LiveEngine(db)
    stop = asyncio.Event()
    watcher = asyncio.create_task(live.watch(stop, interval=600))  # no polling within this test
    await asyncio.sleep(0.1)
    add_new_claim(knowledge)
    new = publish(db, lambda f: build_database(knowledge, f))
    await asyncio.sleep(0.3)
    assert live.version_file != new  # nothing polls: still the old version
    os.kill(os.getpid(), signal.SIGHUP)
    for _ in range(400):  # up to 20 s on a loaded machine; a switch takes well under a second here
        if live.version_file == new:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await watcher
    assert live.version_file == new and live.check(NEW_TEXT).matches[0].id == NEW_ID


async def test_a_running_bot_answers_a_new_claim_within_seconds_and_every_message_once(tmp_path: Path) -> None:
    """A stream of private messages, one every 50 ms, while a new version with an extra claim lands: the new
    claim is answered (matched) within seconds of the switch; no message fails or is answered twice."""
    knowledge, db = write_knowledge(tmp_path / "knowledge"), tmp_path / "var" / "knowledge.db"
    publish(db, lambda f: build_database(knowledge, f))
    live = LiveEngine(db)
    stop = asyncio.Event()
    watcher = asyncio.create_task(live.watch(stop, interval=0.2))
    state = StateStore(tmp_path / "state.db")
    async with FakeTelegram() as fake:
        async with BotUnderTest(fake, make_settings(fake, tmp_path), live, state) as bot:
            sent: list[tuple[int, dict[str, Any], float]] = []
            switched_at: list[float] = []

            def build_new() -> None:
                add_new_claim(knowledge)
                publish(db, lambda f: build_database(knowledge, f))
                switched_at.append(time.monotonic())

            builder = threading.Thread(target=build_new)
            # keep sending until 3 s after the switch, however long the build takes on a loaded machine
            # (bounded: 600 messages at most)
            for i in range(600):
                chat = 7000 + i % 20
                sent.append((chat, fake.message(chat, chat, NEW_TEXT if i % 2 else IRAN_TEXT), time.monotonic()))
                if i == 20:
                    builder.start()
                if switched_at and time.monotonic() > switched_at[0] + 3.0:
                    break
                await asyncio.sleep(0.05)
            builder.join()
            for chat, msg, _ in sent:
                await fake.wait_for(lambda: fake.replies_to(chat, msg["message_id"]), 20, "every message answered")
            await bot.settle()
            assert fake.violations == []
    stop.set()
    await watcher
    state.close()
    replies = {(c, m["message_id"]): fake.replies_to(c, m["message_id"]) for c, m, _ in sent}
    assert all(len(r) == 1 for r in replies.values()), "a message was answered twice or not at all"
    new_claim_answers = [(t, "Atlantis" in replies[(c, m["message_id"])][0]["text"])
                         for c, m, t in sent if m["text"] == NEW_TEXT]
    assert not any(hit for t, hit in new_claim_answers if t < switched_at[0] - 1.0)  # before: not known
    late = [hit for t, hit in new_claim_answers if t > switched_at[0] + 2.0]
    assert late and all(late), "the new claim was not answered within 2 s of the switch"


# --- sync ----------------------------------------------------------------------------------------------

def review(claim: str, n: int) -> dict[str, Any]:
    return {"@context": "https://schema.org", "@type": "ClaimReview", "claimReviewed": claim,
            "url": f"https://factcheck.example/{n}", "datePublished": "2026-03-04",
            "author": {"@type": "Organization", "name": "Example Check"},
            "reviewRating": {"@type": "Rating", "alternateName": "False"},
            "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": "A Claimant"},
                             "datePublished": "2026-03-01"}}


def datafeed(*claims: str) -> bytes:
    items = [{"@type": "DataFeedItem", "item": [review(c, i)]} for i, c in enumerate(claims)]
    return json.dumps({"@context": "https://schema.org", "@type": "DataFeed", "dataFeedElement": items}).encode()


class FeedServer:
    """One feed URL whose next answer the test chooses: a body with an ETag (304 when it matches
    If-None-Match), a body cut short of its Content-Length, or an error."""

    def __init__(self) -> None:
        self.mode, self.body, self.etag = "ok", b"", ""
        self.conditional: list[str] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.conditional.append(request.headers.get("If-None-Match", ""))
        if self.mode == "500":
            return web.Response(status=500)
        if self.etag and request.headers.get("If-None-Match") == self.etag:
            return web.Response(status=304, headers={"ETag": self.etag})
        if self.mode == "cut":  # the connection drops half-way through the declared length
            resp = web.StreamResponse(headers={"Content-Type": "application/json", "Content-Length": str(len(self.body))})
            await resp.prepare(request)
            await resp.write(self.body[: len(self.body) // 2])
            request.transport.close()
            return resp
        return web.Response(body=self.body, content_type="application/ld+json", headers={"ETag": self.etag} if self.etag else {})


@pytest.fixture
async def feed_server():
    server = FeedServer()
    app = web.Application()
    app.router.add_get("/feed.json", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield server, f"http://127.0.0.1:{port}/feed.json"
    await runner.cleanup()


async def test_sync_keeps_the_previous_good_version_on_304_truncation_or_a_broken_item(tmp_path: Path, feed_server) -> None:
    server, url = feed_server
    knowledge, db = write_knowledge(tmp_path / "knowledge"), tmp_path / "var" / "knowledge.db"
    publish(db, lambda f: build_database(knowledge, f))

    def run_sync(max_bytes: int = 1_000_000):
        return asyncio.to_thread(sync, knowledge, db, [url], feeds_dir=tmp_path / "var" / "feeds",
                                 max_bytes=max_bytes, allow_private=True)

    server.body, server.etag = datafeed("Windmills cause cancer in nearby towns", "The moon landing was staged"), '"v1"'
    first = await run_sync()
    assert first.ok and first.published is not None and [f.status for f in first.feeds] == ["updated"]
    good = current_version(db)
    good_ids = claim_ids(good)
    assert len(good_ids) == 4 + 2  # the curated claims and the feed's

    second = await run_sync()  # unchanged: the server answers 304 to the stored ETag
    assert server.conditional[-1] == '"v1"'
    assert [f.status for f in second.feeds] == ["not modified"] and second.published is None
    assert current_version(db) == good

    server.etag = ""  # from now on the server sends a body every time
    cases = {
        "truncated JSON": datafeed("Windmills cause cancer in nearby towns", "A third claim appears")[:-40],
        "broken item": json.dumps([review("A third claim appears", 9), {"@type": "ClaimReview"}]).encode(),
        "over the cap": datafeed(*[f"Claim number {i} is a long enough statement" for i in range(400)]),
    }
    for what, body in cases.items():
        server.body = body
        report = await run_sync(max_bytes=50_000)
        assert not report.ok and report.published is None, what
        assert report.feeds[0].status.startswith(("rejected", "failed")) and report.feeds[0].claims == 2, what
        assert current_version(db) == good and claim_ids(db) == good_ids, what

    server.mode, server.body = "cut", datafeed("Windmills cause cancer in nearby towns", "A third claim appears")
    report = await run_sync()
    assert report.feeds[0].status.startswith("failed") and report.published is None and current_version(db) == good
    server.mode = "500"
    assert (await run_sync()).published is None and current_version(db) == good

    server.mode, server.body = "ok", datafeed("Windmills cause cancer in nearby towns", "A third claim appears")
    fixed = await run_sync()
    assert fixed.ok and fixed.published is not None and len(claim_ids(db)) == 4 + 2


async def test_a_synced_version_is_one_a_bot_with_the_semantic_tier_opens(tmp_path: Path, feed_server,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    """A sync published a version without claim vectors: every running bot with the tier (the default) refused
    it, logging so every 2 s, and kept answering from the old one. The vectors of unchanged claims are taken
    over from the current version, so a sync embeds only what the feeds changed."""
    import logging

    from bot.engine.semantic import vector_summary

    server, url = feed_server
    knowledge, db = write_knowledge(tmp_path / "knowledge"), tmp_path / "var" / "knowledge.db"
    publish(db, lambda f: build_database(knowledge, f, vectors=True))
    live = LiveEngine(db, semantic=True)

    def run_sync():
        return sync(knowledge, db, [url], feeds_dir=tmp_path / "var" / "feeds", max_bytes=1_000_000,
                    allow_private=True)

    def embedded_now() -> float:
        conn = sqlite3.connect(current_version(db))
        try:
            summary = vector_summary(conn)
        finally:
            conn.close()
        assert summary is not None and summary["vectors"] == len(claim_ids(db))
        return summary["last_added"]

    server.body = datafeed("Windmills cause cancer in nearby towns")
    assert (await asyncio.to_thread(run_sync)).published is not None
    assert embedded_now() == 1  # the curated claims' vectors were taken over
    assert live.reload_if_changed() is True
    assert live.check("Windmills cause cancer in nearby towns").decision == "match"
    server.body = datafeed("Windmills cause cancer in nearby towns", "The moon landing was staged")
    assert (await asyncio.to_thread(run_sync)).published is not None
    assert embedded_now() == 1 and live.reload_if_changed() is True

    publish(db, lambda f: f.write_bytes(b"not a database"))
    with caplog.at_level(logging.ERROR, logger="bot.knowledge_live"):
        assert [live.reload_if_changed() for _ in range(3)] == [False, False, False]
    assert len([r for r in caplog.records if "cannot be opened" in r.getMessage()]) == 1  # said once


def test_sync_needs_feeds(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("CLAIM_CONTEXT_FEEDS", raising=False)
    assert main(["knowledge", "sync", "--db", str(tmp_path / "k.db")]) == 2
    assert "CLAIM_CONTEXT_FEEDS" in capsys.readouterr().err
    assert os.path.exists(tmp_path / "k.db") is False


# --- what publishing may replace ---------------------------------------------------------------------------

def test_publishing_never_replaces_a_file_that_is_not_knowledge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CLAIM_CONTEXT_DB naming the state database (or any other file by a typo) replaced it with a symlink to a
    fresh build: moderation settings and feedback gone, without a word."""
    from bot.engine.knowledge import KnowledgeError

    knowledge = write_knowledge(tmp_path / "knowledge")
    state_file = tmp_path / "state.db"
    StateStore(state_file).close()
    garbage = tmp_path / "notes.db"
    garbage.write_text("my notes")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    for path, why in ((state_file, r"is not a knowledge database \(its tables: "), (garbage, "is not a SQLite database"),
                      (folder, "is a directory")):
        before = path.read_bytes() if path.is_file() else None
        with pytest.raises(KnowledgeError, match=why):
            publish(path, lambda f: build_database(knowledge, f))
        assert not path.is_symlink() and (before is None or path.read_bytes() == before)
        assert not versions_dir(path).exists()  # refused before building anything
    assert main(["knowledge", "build", "--db", str(state_file)]) == 1
    assert "not replacing it" in capsys.readouterr().err
    # what it may replace: nothing, its own symlink, and a plain knowledge database from before versioning
    plain = tmp_path / "old-knowledge.db"
    build_database(knowledge, plain)
    for path in (tmp_path / "new.db", plain, plain):
        publish(path, lambda f: build_database(knowledge, f))
        assert path.is_symlink() and Engine(path).about()["claims"] >= 1


def test_the_knowledge_and_state_databases_cannot_be_one_file(tmp_path: Path) -> None:
    from bot.config import ConfigError, Settings

    same = str(tmp_path / "bot.db")
    with pytest.raises(ConfigError, match="CLAIM_CONTEXT_DB: names the same file as CLAIM_CONTEXT_STATE"):
        Settings.from_env({"CLAIM_CONTEXT_DB": same, "CLAIM_CONTEXT_STATE": same})
    Settings.from_env({"CLAIM_CONTEXT_DB": same, "CLAIM_CONTEXT_STATE": str(tmp_path / "state.db")})
