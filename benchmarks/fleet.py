"""Fleet benchmark: N `python -m bot run` processes in Telegram webhook mode on one real PostgreSQL.

    python -m benchmarks fleet [--processes 1,2,3] [--updates 20000] [--chats 2000] [--kill] [--pg URL]

The fake Bot API (tests/fakes/telegram_api.py) runs in this process with Telegram's flood limits; updates
are group messages in `--chats` groups with moderation on (mostly chatter that needs no answer; one
chat in eight posts a known claim, which earns a card). They are POSTed to the processes' webhook ports
round-robin, as a load balancer would, with Telegram's retry behaviour (tests/fakes/telegram_delivery.py:
a non-2xx, a refused connection or no answer within 10 s is retried with backoff, to any replica).
With --kill, one process is SIGKILLed when 40% of the updates are in and restarted 2 s later.

Checks, per run: every update acknowledged (nothing lost) and marked handled once in the shared
database; every expected card sent exactly once and no other message sent; no flood-limit violation
recorded by the fake. Reports throughput (updates acknowledged per second, first POST to last 2xx) and the
p50/p99 delivery latency (first POST of an update to its 2xx, retries included) and handling time (the
successful POST alone). Telegram keeps at most 40 connections open to a webhook; so does the deliverer,
so updates beyond that wait in Telegram's queue, which these latencies do not count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks import ROOT
from benchmarks.metrics import percentile

PG_DEFAULT = "postgresql://postgres@127.0.0.1:55432/claim_context_test"
SECRET = "bench-secret"
CHATTER = [
    "good morning everyone", "lol", "anyone up for lunch?", "what time is the meeting tomorrow",
    "happy birthday!!", "the weather is lovely today", "did you see the match last night",
    "can someone send me the notes", "ok", "thanks, that was helpful", "brb", "see you at 7",
    "my cat knocked the plant over again", "traffic is terrible on the bridge", "who is bringing snacks",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_url(base: str) -> str:
    """The benchmark's PostgreSQL: start the test cluster (tests/services.sh) when it does not answer."""
    import psycopg

    try:
        psycopg.connect(base, connect_timeout=3).close()
    except psycopg.OperationalError:
        subprocess.run(["bash", str(ROOT / "tests" / "services.sh")], check=True, stdout=subprocess.DEVNULL)
    return base


def fresh_schema(base: str) -> tuple[str, str]:
    import psycopg

    schema = f"bench_{secrets.token_hex(4)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    return schema, f"{base}{sep}options=-csearch_path%3D{schema}"


def drop_schema(base: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


class Process:
    def __init__(self, i: int, env: dict[str, str], log: Path) -> None:
        self.i, self.env, self.log = i, env, log
        self.port = int(env["TELEGRAM_WEBHOOK_PORT"])
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = open(self.log, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=self.env, stdout=out,
                                     stderr=subprocess.STDOUT)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def wait_ready(port: int, timeout: float = 90.0) -> None:
    from aiohttp import ClientSession

    deadline = time.monotonic() + timeout
    async with ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"bot process on port {port} never became ready (see its log)")


def known_texts(db: Path) -> list[str]:
    from bot.engine.service import Engine

    engine = Engine(db)
    texts = []
    for (data,) in engine.conn.execute("SELECT data FROM claims ORDER BY id LIMIT 300"):
        d = json.loads(data)
        for t in d.get("phrasings", [])[:2]:
            if engine.check(t).decision == "match":
                texts.append(t)
    return texts


async def one_run(n: int, args: argparse.Namespace, db: Path, knowledge: Path, work: Path, texts: list[str]) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from bot.moderation import Moderation
    from bot.state import open_state
    from tests.fakes.telegram_api import FakeTelegram
    from tests.fakes.telegram_delivery import Delivery

    base = pg_url(args.pg)
    schema, url = fresh_schema(base)
    fake = FakeTelegram()
    await fake.start()
    procs: list[Process] = []
    try:
        with open_state(url) as state:  # moderation on in every group, as the admins would have set it
            mod = Moderation(state)
            for c in range(args.chats):
                mod.update("telegram", -1_000_000 - c, enabled=True)
        for i in range(n):
            port = free_port()
            env = {**os.environ, "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
                   "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook", "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
                   "TELEGRAM_WEBHOOK_PORT": str(port), "TELEGRAM_WEBHOOK_SECRET": SECRET,
                   "TELEGRAM_WEBHOOK_SKIP_REGISTER": "1" if i else "0", "CLAIM_CONTEXT_STATE": url,
                   "CLAIM_CONTEXT_DB": str(db), "CLAIM_CONTEXT_KNOWLEDGE": str(knowledge),
                   "CLAIM_CONTEXT_UPDATE_LEASE": "10", "CLAIM_CONTEXT_STATE_POOL": "6", "PYTHONPATH": str(ROOT)}
            env.pop("DISCORD_BOT_TOKEN", None)
            procs.append(Process(i, env, work / f"bot-{n}-{i}.log"))
            procs[-1].start()
        await asyncio.gather(*(wait_ready(p.port) for p in procs))

        updates, expected = [], set()
        per_chat = max(1, args.updates // args.chats)
        uid = 1
        for k in range(per_chat):
            for c in range(args.chats):
                chat = -1_000_000 - c
                claim_here = c % 8 == 0 and k == per_chat // 2
                text = texts[c % len(texts)] if claim_here else CHATTER[(c + k) % len(CHATTER)] + f" ({k})"
                msg = fake.message(chat, 10_000 + c, text, queue=False)
                if claim_here:
                    expected.add((chat, msg["message_id"]))
                updates.append({"update_id": uid, "message": msg})
                uid += 1
        delivery = Delivery([f"http://127.0.0.1:{p.port}/hook" for p in procs], SECRET, max_connections=40,
                            answer_timeout=10.0, give_up_after=600)
        killed: dict[str, Any] = {}

        async def killer() -> None:
            while len(delivery.delivered) < 0.4 * len(updates):
                await asyncio.sleep(0.05)
            victim = procs[-1]
            victim.kill()
            killed.update(process=victim.i, at_delivered=len(delivery.delivered), t=time.monotonic())
            await asyncio.sleep(2.0)
            victim.start()
            await wait_ready(victim.port)
            killed["restarted_after_s"] = round(time.monotonic() - killed["t"], 2)

        t0 = time.monotonic()
        kill_task = asyncio.create_task(killer()) if args.kill else None
        await delivery.run(updates)
        wall = time.monotonic() - t0
        if kill_task is not None:
            await kill_task
        await fake.idle(quiet=1.0, timeout=120)

        with open_state(url) as state:
            done = state.query("SELECT COUNT(*) AS n FROM updates WHERE status = 'done'")[0]["n"]
            flags = Counter(r["action"] for r in state.query("SELECT action FROM flags"))
        sends = [c for c in fake.calls_to("sendMessage")]
        replied: Counter[tuple[int, int]] = Counter()
        for c in sends:
            reply_to = (c.params.get("reply_parameters") or {}).get("message_id") or c.params.get("reply_to_message_id")
            replied[(int(c.params["chat_id"]), int(reply_to or 0))] += 1
        doubled = sum(1 for k, v in replied.items() if v > 1)
        lost_cards = len(expected - set(replied))
        unexpected = sum(v for k, v in replied.items() if k not in expected)
        first_post: dict[int, float] = {}
        acked: dict[int, float] = {}
        handling = []
        for a in delivery.attempts:
            first_post[a.update_id] = min(first_post.get(a.update_id, a.started), a.started)
            if 200 <= a.status < 300:
                acked[a.update_id] = a.started + a.seconds
                handling.append(a.seconds)
        latencies = sorted(acked[u] - first_post[u] for u in acked)  # first POST -> 2xx, retries included
        handling.sort()
        statuses = Counter(a.status for a in delivery.attempts)
        return {
            "processes": n, "updates": len(updates), "chats": args.chats, "expected_cards": len(expected),
            "acknowledged": len(delivery.delivered), "not_delivered": len(delivery.failed),
            "handled_once_in_db": done, "cards_sent": len(sends), "cards_doubled": doubled, "cards_lost": lost_cards,
            "unexpected_sends": unexpected, "flags": dict(flags), "flood_violations": len(fake.violations),
            "flood_waits_429": len(fake.calls_to("sendMessage", ok_only=False)) - len(sends),
            "attempts": dict(statuses), "wall_s": round(wall, 1),
            "throughput_updates_per_s": round(len(delivery.delivered) / wall, 1),
            "latency_p50_ms": round(1000 * percentile(latencies, 50), 1),
            "latency_p99_ms": round(1000 * percentile(latencies, 99), 1),
            "handling_p50_ms": round(1000 * percentile(handling, 50), 1),  # the successful POST alone
            "handling_p99_ms": round(1000 * percentile(handling, 99), 1),
            "kill": killed or None,
            "exactly_once": (len(delivery.delivered) == len(updates) == done and doubled == 0 and lost_cards == 0
                             and unexpected == 0 and not fake.violations),
        }
    finally:
        for p in procs:
            p.stop()
        await fake.stop()
        drop_schema(base, schema)


def run(argv: list[str]) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks fleet", description=__doc__.split("\n\n")[0])
    p.add_argument("--processes", default="1,2,3", help="comma-separated fleet sizes to run")
    p.add_argument("--updates", type=int, default=20_000)
    p.add_argument("--chats", type=int, default=2_000)
    p.add_argument("--kill", action="store_true", help="SIGKILL one process mid-run and restart it")
    p.add_argument("--pg", default=os.environ.get("CLAIM_CONTEXT_TEST_PG") or PG_DEFAULT)
    args = p.parse_args(argv)
    from bot.config import Settings
    from bot.engine.store import build_database

    knowledge = Settings.from_env().knowledge_dir
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        work = Path(tmp)
        db = build_database(knowledge, work / "knowledge.db")
        texts = known_texts(db)
        reports = []
        for n in [int(x) for x in args.processes.split(",")]:
            report = asyncio.run(one_run(n, args, db, knowledge, work, texts))
            reports.append(report)
            print(json.dumps(report), flush=True)
        if not all(r["exactly_once"] for r in reports):
            for log in sorted(work.glob("bot-*.log")):
                print(f"--- {log.name} (tail)\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:]),
                      file=sys.stderr)
            print("FAILED: an update lost or doubled, a card lost or doubled, or a flood limit violated", file=sys.stderr)
            raise SystemExit(1)
