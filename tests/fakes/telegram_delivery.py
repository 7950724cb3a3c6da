"""Telegram's webhook delivery, as the fleet sees it: updates POSTed to one URL that a load balancer spreads
over replicas, at most `max_connections` at once, each redelivered until a replica answers 2xx.

Telegram's documented behaviour: an update is retried after an unsuccessful request (non-2xx, a refused
connection, or no answer in time) "a reasonable amount of attempts"; redeliveries may arrive while the
first attempt is still being handled (a slow replica), and at another replica. This deliverer does exactly
that, with a short answer timeout so slow handling really is redelivered, and records every attempt.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Attempt:
    update_id: int
    replica: int
    status: int  # HTTP status, 0 for a refused connection or a timeout
    started: float
    seconds: float


@dataclass
class Delivery:
    urls: list[str]
    secret: str = ""
    max_connections: int = 40
    answer_timeout: float = 10.0  # Telegram waits longer; a short one makes slow handling redelivered
    max_backoff: float = 2.0
    give_up_after: float = 120.0
    race_first: bool = False  # the first attempt goes to two replicas at once (a retry racing a slow answer)
    attempts: list[Attempt] = field(default_factory=list)
    delivered: dict[int, float] = field(default_factory=dict)  # update id -> seconds from first try to 2xx
    failed: list[int] = field(default_factory=list)
    _rr: Any = field(default_factory=lambda: itertools.count())

    async def run(self, updates: list[dict[str, Any]], *, rate: float = 0.0) -> None:
        """Deliver every update (at `rate` per second when > 0), each until a 2xx; returns when all are done."""
        sem = asyncio.Semaphore(self.max_connections)
        timeout = ClientTimeout(total=self.answer_timeout)
        async with ClientSession(timeout=timeout) as http:
            tasks = []
            start = time.monotonic()
            for i, update in enumerate(updates):
                if rate > 0:
                    delay = start + i / rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(self._one(http, sem, update)))
            await asyncio.gather(*tasks)

    async def _post(self, http: ClientSession, sem: asyncio.Semaphore, update: dict[str, Any]) -> int:
        replica = next(self._rr) % len(self.urls)
        status = 0
        async with sem:  # Telegram's connection limit: the attempt starts when a connection is free
            t0 = time.monotonic()
            try:
                async with http.post(self.urls[replica], json=update,
                                     headers={SECRET_HEADER: self.secret} if self.secret else {}) as r:
                    status = r.status
            except Exception:  # refused, reset, timed out: retried
                status = 0
        self.attempts.append(Attempt(update["update_id"], replica, status, t0, time.monotonic() - t0))
        return status

    async def _one(self, http: ClientSession, sem: asyncio.Semaphore, update: dict[str, Any]) -> None:
        uid = update["update_id"]
        first = time.monotonic()
        backoff = 0.1
        tries = 0
        while time.monotonic() - first < self.give_up_after:
            if self.race_first and tries == 0:
                statuses = await asyncio.gather(self._post(http, sem, update), self._post(http, sem, update))
            else:
                statuses = [await self._post(http, sem, update)]
            tries += 1
            if any(200 <= s < 300 for s in statuses):
                self.delivered[uid] = time.monotonic() - first
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)
        self.failed.append(uid)
