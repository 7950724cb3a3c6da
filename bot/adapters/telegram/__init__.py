"""The Telegram adapter: Telegram updates in, chat-layer calls out, neutral replies rendered as Telegram HTML.

app (setup and run), handlers (one per kind of update), incoming (messages as `Incoming`), responder and
render (replies out), refs (callback references), throttle (flood limits and update ordering).
"""

from bot.adapters.telegram.app import build_application, run_telegram

__all__ = ["build_application", "run_telegram"]
