"""Bounded concurrency for link lookups: at most N at once per key (a host, a chat), waited for a bounded time.

A semaphore per key lives only while someone holds or waits for it, so a million distinct hosts cost
nothing once their fetches are done.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable


class Busy(Exception):
    """No slot came free within the wait bound: our own saturation, not the link's fault."""


class KeyedLimiter:
    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self._slots: dict[Hashable, tuple[asyncio.Semaphore, list[int]]] = {}

    def active(self, key: Hashable) -> int:
        """How many hold a slot for `key` now (for tests and stats)."""
        entry = self._slots.get(key)
        return self.limit - entry[0]._value if entry else 0  # noqa: SLF001 - read-only peek

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable, wait: float | None) -> AsyncIterator[None]:
        """Hold one of `key`'s slots; raises Busy after `wait` seconds without one (None: wait forever)."""
        sem, users = self._slots.setdefault(key, (asyncio.Semaphore(self.limit), [0]))
        users[0] += 1
        try:
            try:
                async with asyncio.timeout(wait):
                    await sem.acquire()
            except TimeoutError:
                raise Busy(f"more than {self.limit} lookups already running for this {key!r:.60}") from None
            try:
                yield
            finally:
                sem.release()
        finally:
            users[0] -= 1
            if users[0] == 0:
                self._slots.pop(key, None)
