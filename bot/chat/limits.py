"""Sliding-window allowances, in memory: at most so many events per key (a chat, a member of a chat) in any
window of so many seconds. One process's view: in a fleet each process counts what it handles."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable

MAX_KEYS = 10_000  # past this, idle keys are forgotten: the table stays bounded however many chats there are


class WindowLimit:
    def __init__(self, per_window: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_window, self.window, self.clock = per_window, window, clock
        self._recent: dict[Hashable, deque[float]] = {}

    def take(self, key: Hashable) -> bool:
        """Whether one more event for `key` fits in the window now; counts it when it does."""
        now = self.clock()
        if len(self._recent) > MAX_KEYS:
            self._recent = {k: q for k, q in self._recent.items() if q and now - q[-1] < self.window}
        recent = self._recent.setdefault(key, deque())
        while recent and now - recent[0] >= self.window:
            recent.popleft()
        if len(recent) >= self.per_window:
            return False
        recent.append(now)
        return True
