"""A fleet of Telegram webhook replicas on one PostgreSQL state database: every update is handled once
whichever replica Telegram's delivery reaches and however often it redelivers, the flood limits hold
for the fleet, and a setting made through one replica holds in all. (The processes here are replicas in
one test process, each with its own Application, webhook server and connection pool; the SIGKILL case
with separate processes is `python -m benchmarks fleet`.)"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import ops  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.moderation import Moderation  # noqa: E402
from bot.state import open_state  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.fakes.telegram_delivery import Delivery  # noqa: E402
from tests.test_telegram_e2e import IRAN_TEXT, NO_MATCH_TEXT, RUSSIA_TEXT, tg_db, tg_engine  # noqa: E402,F401

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
SECRET = "fleet-secret"
GROUP = -100555


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Fleet:
    def __init__(self, fake: FakeTelegram, engine: Any, url: str, n: int) -> None:
        self.fake, self.engine, self.url, self.n = fake, engine, url, n
        self.ports = [free_port() for _ in range(n)]
        self.states = [open_state(url) for _ in range(n)]
        self.stops = [asyncio.Event() for _ in range(n)]
        self.tasks: list[asyncio.Task[None]] = []

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}/hook" for p in self.ports]

    async def __aenter__(self) -> "Fleet":
        from bot.adapters.telegram import run_telegram

        for i, port in enumerate(self.ports):
            settings = Settings(telegram_token=self.fake.token, telegram_api_base_url=self.fake.base_url,
                                telegram_webhook_url=f"http://127.0.0.1:{port}/hook", telegram_webhook_listen="127.0.0.1",
                                telegram_webhook_port=port, telegram_webhook_secret=SECRET,
                                telegram_webhook_skip_register=i > 0)
            self.tasks.append(asyncio.create_task(run_telegram(settings, self.engine, self.states[i], None, self.stops[i])))
        await self._ready()
        return self

    async def _ready(self) -> None:
        from benchmarks.fleet import wait_ready

        for port in self.ports:
            await wait_ready(port, timeout=5.0)  # the bench's own readiness wait: /readyz answers 200

    async def __aexit__(self, *exc: object) -> None:
        for s in self.stops:
            s.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for st in self.states:
            st.close()


@pytest.fixture
async def fake():
    async with FakeTelegram() as f:
        yield f


def update(fake: FakeTelegram, uid: int, chat: int, user: int, text: str) -> dict[str, Any]:
    return {"update_id": uid, "message": fake.message(chat, user, text, queue=False)}


async def test_three_replicas_answer_every_update_once_under_redelivery(fake, tg_engine, pg_url):
    texts = [IRAN_TEXT, RUSSIA_TEXT, NO_MATCH_TEXT]
    updates = [update(fake, i + 1, 1000 + i % 40, 1000 + i % 40, texts[i % 3]) for i in range(120)]
    with open_state(pg_url) as admin_state:
        Moderation(admin_state).update("telegram", GROUP, enabled=True, cooldown_s=0)
    updates += [update(fake, 500 + i, GROUP, 700 + i, IRAN_TEXT + f" #{i}") for i in range(6)]
    async with Fleet(fake, tg_engine, pg_url, 3) as fleet:
        # every first attempt races a second one at another replica; answers slower than 0.5 s are redelivered
        delivery = Delivery(fleet.urls, SECRET, answer_timeout=0.5, race_first=True)
        await asyncio.wait_for(delivery.run(updates), 120)
        statuses = Counter(a.status for a in delivery.attempts)
        assert delivery.failed == [] and len(delivery.delivered) == len(updates)
        assert statuses[503] + statuses[0] > 0, "the retries never met an update in flight: the test proves nothing"
        await asyncio.sleep(0.5)  # nothing more may arrive late
        with open_state(pg_url) as s:
            done = s.query("SELECT COUNT(*) AS n FROM updates WHERE status = 'done'")[0]["n"]
            flags = s.query("SELECT COUNT(*) AS n FROM flags WHERE chat_id = ?", (str(GROUP),))[0]["n"]
    assert done == len(updates)
    for u in updates:
        m = u["message"]
        assert len(fake.replies_to(m["chat"]["id"], m["message_id"])) == 1, f"update {u['update_id']}"
    assert flags == 6
    assert fake.violations == [], f"flood limits violated: {fake.violations[:5]}"
    # the fleet-wide group limit: the one group's 6 cards went out 3 s apart (20 a minute), not 3 at once
    group_sends = sorted(c.ts for c in fake.calls_to("sendMessage") if c.params["chat_id"] == GROUP)
    # (measured where Telegram measures, at arrival: a replica's first send opens its connection and may
    # arrive late, shortening the first gap, so the span is taken from the second send; a loaded machine
    # delays single sends by up to about a second. Three replicas with only their own limiters would send the
    # six within about 3 s, so the bound still tells a fleet-wide limit from none)
    assert len(group_sends) == 6 and group_sends[-1] - group_sends[1] >= 4 * 3.0 - 1.5


async def test_a_setting_made_through_one_replica_holds_in_the_others(fake, tg_engine, pg_url):
    async with Fleet(fake, tg_engine, pg_url, 2) as fleet:
        admin = 9001
        fake.set_member(GROUP, admin, "administrator")
        on = update(fake, 1, GROUP, admin, "/moderation on")
        delivery = Delivery(fleet.urls[:1], SECRET)  # to replica 0 only
        await delivery.run([on])
        flagged = update(fake, 2, GROUP, 9002, IRAN_TEXT)
        await Delivery(fleet.urls[1:], SECRET).run([flagged])  # to replica 1 only
        m = flagged["message"]
        await fake.wait_for(lambda: fake.replies_to(GROUP, m["message_id"]), 10, "the card from replica 1")
        assert Moderation(fleet.states[1]).settings("telegram", GROUP).enabled is True


async def test_a_replica_answers_an_update_that_another_left_unfinished(fake, tg_engine, pg_url):
    """A replica took an update and died before answering (its claim row stays "taken"): the redelivery
    is refused while the lease runs, then taken over and answered once."""
    async with Fleet(fake, tg_engine, pg_url, 1) as fleet:
        u = update(fake, 77, 4242, 4242, IRAN_TEXT)
        with open_state(pg_url) as s:
            assert s.claim_update("telegram", 77, "dead-replica", lease_s=1.5) == "take"
        t0 = time.monotonic()
        delivery = Delivery(fleet.urls, SECRET, max_backoff=0.3)
        await delivery.run([u])
        assert time.monotonic() - t0 >= 1.0  # refused (503) until the lease ran out
        assert {a.status for a in delivery.attempts} >= {503, 200}
        assert len(fake.replies_to(4242, u["message"]["message_id"])) == 1


async def test_health_readiness_and_metrics_endpoints(fake, tg_db, pg_url):
    from aiohttp import ClientSession
    from prometheus_client import REGISTRY

    from bot.knowledge_live import LiveEngine

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    checked, matched = value("claim_context_messages_checked_total"), value("claim_context_decisions_total", kind="match")
    async with Fleet(fake, LiveEngine(tg_db), pg_url, 1) as fleet:
        base = f"http://127.0.0.1:{fleet.ports[0]}"
        await Delivery(fleet.urls, SECRET).run([update(fake, 1, 4343, 4343, IRAN_TEXT)])
        async with ClientSession() as http:
            async with http.get(base + "/healthz") as r:
                assert r.status == 200
            async with http.get(base + "/readyz") as r:
                assert r.status == 200 and (await r.json())["checks"] == {"state": True}
            async with http.get(base + "/metrics") as r:
                text = await r.text()
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
            assert 'claim_context_updates_total{platform="telegram",status="take"}' in text
            assert value("claim_context_messages_checked_total") == checked + 1
            assert value("claim_context_decisions_total", kind="match") == matched + 1
            assert 'claim_context_knowledge_info{version="' in text
            for name in ("claim_context_messages_checked_total", "claim_context_match_seconds_bucket",
                         "claim_context_link_fetches_total", "claim_context_flood_waits_total",
                         "claim_context_knowledge_info", "claim_context_decisions_total"):
                assert name in text, name
            fleet.states[0].close()  # the state database is gone for this replica: not ready any more
            await asyncio.sleep(ops.READY_REUSE_S)  # once the last answer (reused for this long) is stale
            async with http.get(base + "/readyz") as r:
                assert r.status == 503 and (await r.json())["checks"] == {"state": False}
