"""Flood control and update ordering for the Telegram adapter."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import Update
from telegram.ext import AIORateLimiter, BaseRateLimiter, BaseUpdateProcessor


class FloodLimiter(BaseRateLimiter[int]):
    """AIORateLimiter (overall and per-group limits, RetryAfter retries) plus a per-chat limit of about
    one message per second with a small burst, which Telegram also enforces in private chats.

    The per-chat bucket is taken right before the HTTP call so waiting elsewhere cannot bunch sends."""

    SENDING = ("send", "edit", "forward", "copy")

    def __init__(self, *, per_chat_burst: int = 2, per_chat_rate: float = 1.0, group_per_minute: float = 19,
                 overall_per_second: float = 29, max_retries: int = 3) -> None:
        self._inner = AIORateLimiter(
            overall_max_rate=overall_per_second, overall_time_period=1 if overall_per_second else 0,
            group_max_rate=group_per_minute, group_time_period=60 if group_per_minute else 0,
            max_retries=max_retries,
        )
        self._burst = per_chat_burst
        self._rate = per_chat_rate
        self._chats: dict[str, AsyncLimiter] = {}

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()

    def _limiter(self, chat_id: str) -> AsyncLimiter:
        if len(self._chats) > 4096:  # forget idle chats
            for key, lim in list(self._chats.items()):
                if lim.has_capacity(lim.max_rate):
                    del self._chats[key]
        lim = self._chats.get(chat_id)
        if lim is None:
            lim = self._chats[chat_id] = AsyncLimiter(self._burst, self._burst / self._rate)
        return lim

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: int | None) -> Any:
        chat_id = data.get("chat_id")
        if chat_id is not None and self._rate and endpoint.startswith(self.SENDING):
            limiter = self._limiter(str(chat_id))
            inner_callback = callback

            async def callback(*a: Any, **kw: Any) -> Any:  # noqa: F811 - deliberately wrapped
                async with limiter:
                    return await inner_callback(*a, **kw)

        return await self._inner.process_request(callback, args, kwargs, endpoint, data, rate_limit_args)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates are processed concurrently across chats but in order within one chat, so replies in a
    chat follow the order of its messages and a message is never handled twice at once."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    @staticmethod
    def _key(update: object) -> int | None:
        if isinstance(update, Update):
            if update.effective_chat is not None:
                return update.effective_chat.id
            if update.effective_user is not None:
                return update.effective_user.id
        return None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = self._key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                self._locks.pop(key, None)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
