"""Telegram load benchmark: many private chats through the real python-telegram-bot stack.

    python -m benchmarks telegram [--updates 10000] [--chats 1000] [--db PATH] [--overall-rate 0]

Updates (known-claim phrasings from the knowledge base mixed with unrelated chatter) are queued on the
local fake Bot API (tests/fakes/telegram_api.py, 127.0.0.1) and fetched by the real Application with
long polling. Verifies that every update is answered exactly once (none lost, none doubled) and that the
fake recorded no flood-limit violation; reports throughput (updates/s) and handling latency (update queued
-> reply received by the fake), p50/p99.

Per-chat limits (about 1 message/second per chat, small burst) are enforced on both sides, so a chat's
10 messages take at least ~8 s: latency figures include that wait. Telegram's overall ~30 messages/s
broadcast limit would cap 10,000 replies at ~6 minutes; it is off by default here to measure the bot
itself, and `--overall-rate 30` turns it on (on both the fake and the bot's limiter).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.metrics import percentile
from bot.config import Settings

CHATTER = [
    "good morning everyone", "lol", "anyone up for lunch?", "what time is the meeting tomorrow",
    "happy birthday!!", "the weather is lovely today", "did you see the match last night",
    "can someone send me the notes", "ok", "thanks, that was helpful", "brb", "new phone who dis",
    "my cat knocked the plant over again", "traffic is terrible on the bridge", "see you at 7",
]




def _known_texts(engine: Any, limit: int = 400) -> list[str]:
    rows = engine.conn.execute("SELECT data FROM claims ORDER BY id LIMIT ?", (limit,)).fetchall()
    texts: list[str] = []
    for (data,) in rows:
        d = json.loads(data)
        texts += d.get("phrasings", [])[:3] or [d.get("statement", "")]
    return [t for t in texts if t]


def _database(path: str | None, workdir: Path) -> Path:
    if path:
        return Path(path)
    from bot.engine.store import build_database

    return build_database(Settings.from_env().knowledge_dir, workdir / "knowledge.db")


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    from tests.fakes.telegram_api import BotUnderTest, FakeTelegram, Limits

    from bot.adapters.telegram import FloodLimiter
    from bot.engine.service import Engine
    from bot.state import StateStore

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="tg-load-") as tmp:
        workdir = Path(tmp)
        engine = Engine(_database(args.db, workdir))
        known = _known_texts(engine)
        state = StateStore(workdir / "state.db")
        overall = float(args.overall_rate)
        fake = FakeTelegram(limits=Limits(overall_per_second=overall, reject=True))
        await fake.start()
        answered: dict[tuple[int, int], int] = {}
        latencies: list[float] = []
        last_reply = [0.0]

        def on_call(call: Any) -> None:
            if call.method != "sendMessage":
                return
            msg = call.result
            replied = msg.get("reply_to_message")
            if not replied:
                return
            key = (msg["chat"]["id"], replied["message_id"])
            answered[key] = answered.get(key, 0) + 1
            now = time.perf_counter()
            queued = fake.queued_at.get(key)
            if queued is not None and answered[key] == 1:
                latencies.append(now - queued)
            last_reply[0] = now

        fake.listeners.append(on_call)
        settings = Settings(state_path=workdir / "state.db", telegram_token=fake.token,
                            telegram_api_base_url=fake.base_url)
        limiter = FloodLimiter(overall_per_second=overall * 0.95 if overall else 0)
        bot = BotUnderTest(fake, settings, engine, state, limiter=limiter, poll_timeout=2)
        await bot.start()
        try:
            expected: list[tuple[int, int]] = []
            kinds = {"known": 0, "chatter": 0}
            t0 = time.perf_counter()
            for i in range(args.updates):
                chat = 10_000 + i % args.chats
                if rng.random() < args.known_share:
                    text, kinds["known"] = rng.choice(known), kinds["known"] + 1
                else:
                    text, kinds["chatter"] = rng.choice(CHATTER), kinds["chatter"] + 1
                msg = fake.message(chat, chat, text)
                expected.append((chat, msg["message_id"]))
            deadline = time.monotonic() + args.timeout
            while len(answered) < len(expected) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await bot.settle(quiet=0.5, timeout=max(5.0, deadline - time.monotonic()))
        finally:
            await bot.stop()
            await fake.stop()
            state.close()
        elapsed = max(last_reply[0] - t0, 1e-9)
        lost = [k for k in expected if k not in answered]
        doubled = [k for k, n in answered.items() if n > 1]
        report = {
            "updates": len(expected), "chats": args.chats, "known": kinds["known"], "chatter": kinds["chatter"],
            "answered": len(answered), "lost": len(lost), "answered_twice": len(doubled),
            "flood_violations": len(fake.violations), "overall_rate_limit": overall or None,
            "seconds": round(elapsed, 2), "throughput_updates_per_s": round(len(answered) / elapsed, 1),
            "latency_p50_s": round(percentile(latencies, 50), 3),
            "latency_p99_s": round(percentile(latencies, 99), 3),
            "ok": not lost and not doubled and not fake.violations,
        }
    return report


def run(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks telegram", description=__doc__.split("\n\n")[0])
    p.add_argument("--updates", type=int, default=10_000)
    p.add_argument("--chats", type=int, default=1_000)
    p.add_argument("--known-share", type=float, default=0.5, help="share of messages that are known-claim phrasings")
    p.add_argument("--db", help="knowledge database (default: build the shipped knowledge into a temp dir)")
    p.add_argument("--overall-rate", type=float, default=0.0, help="overall messages/s limit on fake and bot (0 = off)")
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv or [])
    report = asyncio.run(_run(args))
    print(json.dumps(report, indent=2))
    if not report["ok"]:
        print("FAILED: lost, doubled or rate-limit violations (see above)", file=sys.stderr)
    return report


if __name__ == "__main__":  # pragma: no cover
    run(sys.argv[1:])
