"""Load benchmark for the Discord adapter: N events through the fake Discord gateway into the real client.

    python -m benchmarks discord [--events 10000] [--users 1000] [--concurrency 200] [--db PATH]

Half the events are /check slash-command interactions, half are direct messages from `--users` users in
as many DM channels (each answered with a card reply); texts cycle through known-claim phrasings and chatter.
Every event must be answered exactly once (interactions: one accepted callback; messages: one accepted
reply referencing them) and none lost. Latency is from the gateway dispatch to the fake receiving the
answering REST call. Uses tests/fakes/discord_api.py (run from a source checkout).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.metrics import percentile

TEXTS = [
    "US intelligence claims Iran paid Taliban to kill American troops",
    "Russia secretly offered Afghan militants bounties to kill US troops",
    "5G towers are spreading coronavirus",
    "NASA faked the moon landing in a studio",
    "what time is the meeting tomorrow, anyone know?",
    "lunch at noon? @everyone **bring snacks**",
]




async def _bench(events: int, users: int, concurrency: int, db: Path | None, work: Path) -> dict[str, Any]:
    from tests.fakes.discord_api import BotHarness, Call, FakeDiscord, write_test_knowledge

    if db is None:
        from bot.engine.store import build_database

        write_test_knowledge(work / "knowledge")
        db = build_database(work / "knowledge", work / "knowledge.db")

    # Per-channel limits as Discord's (5 per channel per second); the interaction deadline is Discord's 3 s.
    fake = FakeDiscord(message_rate=(5, 1.0), webhook_rate=(5, 1.0), interaction_deadline=3.0)
    await fake.start()
    h = BotHarness(db, work / "state.db", fake=fake)
    await h.start()

    sent_at: dict[str, float] = {}  # interaction id or message id -> dispatch time
    answered: dict[str, list[float]] = {}
    rejected: list[Call] = []
    done = asyncio.Event()
    slots = asyncio.Semaphore(concurrency)

    def on_call(c: Call) -> None:
        key = None
        if c.path.endswith("/callback") and c.interaction_id is not None:
            key = str(c.interaction_id)
        elif c.method == "POST" and c.path.endswith("/messages") and isinstance(c.json, dict):
            ref = c.json.get("message_reference") or {}
            key = str(ref.get("message_id")) if ref else None
        if key is None or key not in sent_at:
            return
        if c.status >= 400 and c.status != 429:
            rejected.append(c)
        if 200 <= c.status < 300:
            first = key not in answered
            answered.setdefault(key, []).append(c.ts)
            if first:
                slots.release()
                if len(answered) == events:
                    done.set()

    fake.call_hooks.append(on_call)
    dm_channels = [fake.new_id() for _ in range(users)]
    people = [fake.user(i) for i in range(users)]
    t0 = time.monotonic()
    for i in range(events):
        try:
            await asyncio.wait_for(slots.acquire(), timeout=30)
        except asyncio.TimeoutError:  # answers stopped coming: report what was lost rather than hang
            break
        user = people[i % users]
        text = TEXTS[i % len(TEXTS)] + f" #{i}"
        if i % 2 == 0:
            payload = fake.slash("check", {"text": text}, user=user)
            sent_at[payload["id"]] = time.monotonic()
            await fake.interact(payload)
        else:
            msg = fake.message(text, author=user, channel_id=dm_channels[i % users], guild=False)
            sent_at[msg["id"]] = time.monotonic()
            await fake.dispatch("MESSAGE_CREATE", msg)
    try:
        await asyncio.wait_for(done.wait(), timeout=120)
    except asyncio.TimeoutError:
        pass
    elapsed = time.monotonic() - t0
    await asyncio.sleep(0.5)  # late duplicates would show up here
    latencies = [(ts[0] - sent_at[k]) * 1000 for k, ts in answered.items()]
    duplicates = sum(1 for ts in answered.values() if len(ts) > 1)
    result = {
        "events": events, "users": users, "concurrency": concurrency,
        "answered": len(answered), "lost": events - len(answered), "duplicates": duplicates,
        "rejected": len(rejected), "rate_limited_429": fake.rate_limited,
        "seconds": round(elapsed, 3), "events_per_s": round(len(answered) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(latencies, 50), 2), "p99_ms": round(percentile(latencies, 99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else 0.0,
        "client_messages_handled": h.handled,
    }
    await h.close()
    await fake.close()
    return result


def run(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="bench discord", description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=10_000)
    p.add_argument("--users", type=int, default=1_000)
    p.add_argument("--concurrency", type=int, default=200, help="events in flight at once")
    p.add_argument("--db", type=Path, help="knowledge DB (default: the test knowledge, built in a temp dir)")
    args = p.parse_args(argv or [])
    logging.getLogger("discord").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(_bench(args.events, args.users, args.concurrency, args.db, Path(tmp)))
    print(json.dumps(result, indent=2))
    ok = result["lost"] == 0 and result["duplicates"] == 0 and result["rejected"] == 0
    print("OK: every event answered exactly once" if ok else "FAILED: lost, duplicated or rejected answers")
    result["ok"] = ok
    return result


if __name__ == "__main__":
    raise SystemExit(0 if run(sys.argv[1:])["ok"] else 1)
