"""`python -m bot run`: start every adapter whose token is set, or the console adapter when none is."""

from __future__ import annotations

import asyncio
import logging
import signal

from bot import ops
from bot.config import Settings
from bot.knowledge_live import LiveEngine
from bot.links import LinkResolver
from bot.state import StateStore

log = logging.getLogger("claim_context")


async def run(settings: Settings) -> int:
    engine = LiveEngine(settings.db_path, semantic=settings.semantic)  # switches to new knowledge versions live
    resolver = ops.InstrumentedResolver(LinkResolver.from_settings(settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix
            pass
    tasks = []
    state = StateStore(settings.state_target, **settings.state_options)
    health = ops.Health({"knowledge": engine.ready, "state": state.ping})
    watcher = asyncio.create_task(engine.watch(stop))
    ops_server = ops.serve(health, settings.ops_port, settings.ops_listen) if settings.ops_port else None
    try:
        if settings.telegram_token:
            from bot.adapters.telegram import run_telegram

            log.info("starting Telegram adapter")
            tasks.append(asyncio.create_task(run_telegram(settings, engine, state, resolver, stop,  # type: ignore[arg-type]
                                                          health=health)))
        if settings.discord_token:
            from bot.adapters.discord import run_discord

            log.info("starting Discord adapter")
            tasks.append(asyncio.create_task(run_discord(settings, engine, state, resolver, stop)))
        if not tasks:
            from bot.adapters.console import run_console
            from bot.chat.conversation import Conversation

            await run_console(Conversation(engine, state, resolver))
            return 0
        done, _ = await asyncio.wait([*tasks, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)]
        for r in failed:
            log.error("adapter stopped with an error: %r", r)
        return 1 if failed else 0
    finally:
        stop.set()
        await asyncio.gather(watcher, return_exceptions=True)
        if ops_server is not None:
            ops_server.stop()
        await resolver.aclose()
        state.close()
