"""Telegram's send limits for a whole fleet: one schedule in the shared state database.

Telegram limits the bot, not a process: about 30 messages a second overall, 20 a minute in one group and
about one a second in one chat. With several replicas, per-process limiters (throttle.FloodLimiter) would
each allow the full rate. So every send first reserves a time slot in the shared database
(StateStore.take_send_slot): one short transaction over the rows of the buckets it belongs to (the chat,
the group, the bot), then sleeps outside any transaction until its slot. Chosen over PostgreSQL advisory
locks because a limit is about *when* the next send may go, which is state to share, not only exclusion: a
lock would have to be held (with a database connection) for the whole spacing interval, while a reservation
is one round trip and the waiting costs nothing. Slots are evenly spaced (no bursts), which stays inside
Telegram's burst-tolerant limits by construction. Clocks of the replicas must agree (NTP) to within a
small part of the per-chat interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot import ops
from bot.state import StateStore

log = logging.getLogger(__name__)

SENDING = ("send", "edit", "forward", "copy")


class SharedFloodLimiter(BaseRateLimiter[int]):
    def __init__(self, state: StateStore, *, per_chat_rate: float = 1.0, group_per_minute: float = 20,
                 overall_per_second: float = 30, max_retries: int = 3) -> None:
        self.state = state
        self.chat_interval = 1.0 / per_chat_rate if per_chat_rate else 0.0
        self.group_interval = 60.0 / group_per_minute if group_per_minute else 0.0
        self.overall_interval = 1.0 / overall_per_second if overall_per_second else 0.0
        self.max_retries = max_retries

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def buckets(self, chat_id: str) -> list[tuple[str, float]]:
        out = [(f"tg:chat:{chat_id}", self.chat_interval)]
        if chat_id.startswith("-") and self.group_interval:  # groups and channels have negative ids
            out.append((f"tg:group:{chat_id}", self.group_interval))
        if self.overall_interval:
            out.append(("tg:overall", self.overall_interval))
        return [b for b in out if b[1] > 0]

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: int | None) -> Any:
        chat_id = data.get("chat_id")
        limited = chat_id is not None and endpoint.startswith(SENDING)
        for attempt in range(self.max_retries + 1):
            if limited:
                await self._wait_for_slot(str(chat_id))
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                ops.FLOOD_WAITS.labels("telegram").inc()
                if attempt >= self.max_retries:
                    raise
                delay = exc.retry_after.total_seconds() if hasattr(exc.retry_after, "total_seconds") else float(exc.retry_after)
                log.info("flood wait from Telegram: retrying %s in %.1fs", endpoint, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _wait_for_slot(self, chat_id: str) -> None:
        start = time.time()
        at = await asyncio.to_thread(self.state.take_send_slot, self.buckets(chat_id))
        wait = at - time.time()
        ops.SEND_WAIT_SECONDS.observe(max(0.0, at - start))
        if wait > 0:
            await asyncio.sleep(wait)
