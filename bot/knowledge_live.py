"""The engine a running process answers with, switched to a new knowledge version without a restart.

`LiveEngine` stands in for `Engine` (every attribute is the current engine's). It opens the version file
the knowledge path points at (bot/knowledge_versions.py), never the symlink itself, so each engine reads
one version for its whole life. Reload: the process checks the symlink every `interval` seconds (a file
change: one stat, no inotify dependency) and at once on SIGHUP; when it points elsewhere, the new version
is opened and checked off the event loop, then swapped in with one assignment. A message already being
matched keeps the engine it started with (all engine work for a message is one call, see
bot/chat/checking.py), so nothing in flight is dropped or answered twice; a broken new version is logged
and the current one stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from pathlib import Path
from typing import Any

from bot import ops
from bot.engine.service import Engine
from bot.knowledge_versions import current_version

log = logging.getLogger(__name__)


class LiveEngine:
    def __init__(self, db_path: str | Path, *, semantic: bool = False) -> None:
        self.db_path = Path(db_path)
        self.semantic = semantic
        self.refused: Path | None = None  # the last version that could not be opened (not tried again)
        version = current_version(self.db_path)
        if version is None:
            raise FileNotFoundError(f"{self.db_path}: knowledge database not found (run `python -m bot knowledge build`)")
        self.engine = Engine(version, semantic=semantic)
        self.version_file = version
        self._publish_version()

    def __getattr__(self, name: str) -> Any:  # only for what LiveEngine itself does not define
        if name in ("engine", "version_file"):  # not set yet: __init__ failed
            raise AttributeError(name)
        return getattr(self.engine, name)

    # the matching entry points, timed and counted for /metrics (one engine for the whole call)
    def check(self, *args: Any, **kwargs: Any) -> Any:
        engine, start = self.engine, time.perf_counter()
        result = engine.check(*args, **kwargs)
        ops.observe_check(result.decision, time.perf_counter() - start)
        return result

    def check_candidates(self, *args: Any, **kwargs: Any) -> Any:
        engine, start = self.engine, time.perf_counter()
        result = engine.check_candidates(*args, **kwargs)
        ops.observe_check(result.decision, time.perf_counter() - start)
        return result

    def check_image(self, *args: Any, **kwargs: Any) -> Any:
        engine, start = self.engine, time.perf_counter()
        result = engine.check_image(*args, **kwargs)
        ops.observe_check(result.decision, time.perf_counter() - start)
        return result

    def ready(self) -> bool:
        """Knowledge loaded and readable (for /readyz)."""
        return self.engine.conn.execute("SELECT 1 FROM meta LIMIT 1").fetchone() is not None

    def _publish_version(self) -> None:
        try:
            ops.set_knowledge_version(str(self.engine.about().get("knowledge_version", "")) or self.version_file.name)
        except Exception:  # metrics never stop the bot
            log.debug("knowledge version metric not set", exc_info=True)

    def reload_if_changed(self) -> bool:
        """Open the version the path points at now, if it is another one; True when switched. Blocking:
        call it in a worker thread."""
        version = current_version(self.db_path)
        if version is None or version == self.version_file or version == self.refused:
            return False
        try:
            engine = Engine(version, semantic=self.semantic)
        except Exception as exc:  # said once: the path is polled every 2 s and a refused version stays refused
            log.error("new knowledge version %s cannot be opened; still answering from %s: %s", version.name,
                      self.version_file.name, exc)
            self.refused = version
            return False
        self.engine, self.version_file = engine, version  # one assignment: the next message uses it
        ops.KNOWLEDGE_RELOADS.inc()
        self._publish_version()
        log.info("knowledge switched to %s", version.name)
        return True

    async def watch(self, stop: asyncio.Event, interval: float = 2.0) -> None:
        """Reload on a change of the knowledge path (checked every `interval` s) and on SIGHUP, until `stop`."""
        loop = asyncio.get_running_loop()
        poke = asyncio.Event()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, poke.set)
        try:
            while not stop.is_set():
                waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(poke.wait())]
                await asyncio.wait(waiters, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
                for w in waiters:
                    w.cancel()
                poke.clear()
                if not stop.is_set():
                    await asyncio.to_thread(self.reload_if_changed)
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signal.SIGHUP)
