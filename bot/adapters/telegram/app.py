"""The Telegram adapter's application: python-telegram-bot v22 set up with our handlers, flood control and
update ordering, run by polling or a webhook until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from telegram import BotCommand, BotCommandScopeAllChatAdministrators, BotCommandScopeDefault, Update
from telegram.constants import ParseMode
from telegram.error import NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter, Defaults

from bot.adapters.telegram.handlers import TelegramHandlers
from bot.adapters.telegram.responder import NO_PREVIEW
from bot.adapters.telegram.shared_limits import SharedFloodLimiter
from bot.adapters.telegram.throttle import FloodLimiter, PerChatUpdateProcessor
from bot.adapters.telegram.webhook import FleetWebhook, UpdateGate
from bot import ops
from bot.chat.conversation import Conversation
from bot.chat.i18n import EN, N_, TRANSLATED, Translator, translator
from bot.config import Settings
from bot.engine.service import Engine
from bot.state import StateStore

if TYPE_CHECKING:
    from bot.links import LinkResolver

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.INLINE_QUERY, Update.CALLBACK_QUERY]
# httpcore scans every pooled connection on each request; the flood limits cap useful parallelism far
# below this anyway (30 messages/s overall), so a small pool is both enough and much cheaper under load.
POOL_SIZE = 16

PUBLIC = [
    ("check", N_("Context for a headline or link (or reply /check to a message)")),
    ("sources", N_("Full sourcing list of a claim: /sources <claim id or text>")),
    ("about", N_("Knowledge base size, last update, sources and licences")),
    ("help", N_("What this bot does, with an example")),
    ("start", N_("Start here")),
]
ADMIN = PUBLIC + [
    ("moderation", N_("Group auto-moderation: on|off, mode, log, cooldown, quiet")),
    ("mute", N_("Never auto-flag a claim in this group: /mute <claim id>")),
    ("unmute", N_("Auto-flag a muted claim again: /unmute <claim id>")),
    ("flags", N_("Recent auto-flags in this group")),
]


def command_list(t: Translator = EN, *, admin: bool = False) -> list[BotCommand]:
    """The command menu in one language (names stay as typed; descriptions are translated)."""
    return [BotCommand(name, t(description)[:256]) for name, description in (ADMIN if admin else PUBLIC)]


PUBLIC_COMMANDS = command_list()
ADMIN_COMMANDS = command_list(admin=True)


# --- logging: the token must never reach a log line ------------------------------------------------

class _RedactToken(logging.Filter):
    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            try:
                message = record.getMessage()
            except Exception:  # a malformed record is not ours to fix
                return True
            if self.token in message:
                record.msg, record.args = message.replace(self.token, "<token>"), None
        return True


def _protect_logs(token: str) -> None:
    # httpx logs every request URL (which contains the token) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    redact = _RedactToken(token)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _RedactToken) and f.token == token for f in handler.filters):
            handler.addFilter(redact)
    for name in ("telegram", "telegram.ext", "telegram.ext.Application", "telegram.ext.Updater", "telegram.Bot",
                 "telegram.request", "httpx", __name__):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactToken) and f.token == token for f in logger.filters):
            logger.addFilter(redact)


def _file_base_url(base_url: str) -> str:
    """Telegram serves files from /file/bot<token>/...; derive that from an API base ending in /bot."""
    if base_url.rstrip("/").endswith("/bot"):
        return base_url.rstrip("/")[: -len("/bot")] + "/file/bot"
    return base_url.rstrip("/") + "/file/bot"


def default_limiter(state: StateStore) -> BaseRateLimiter:
    """Shared state (PostgreSQL) means a fleet may be sending: the limits are kept in the database for all
    processes; a SQLite file is one process, which keeps them in memory."""
    return SharedFloodLimiter(state) if state.dialect == "postgresql" else FloodLimiter()


def build_application(settings: Settings, engine: Engine, state: StateStore, resolver: "LinkResolver | None", *,
                      limiter: BaseRateLimiter | None = None, concurrency: int = 256) -> Application:
    """The PTB Application with every handler registered; nothing is started."""
    if not settings.telegram_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    _protect_logs(settings.telegram_token)
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW))
        .rate_limiter(limiter or default_limiter(state))
        .concurrent_updates(PerChatUpdateProcessor(concurrency))
        .connection_pool_size(POOL_SIZE)
        .pool_timeout(30)
        .get_updates_read_timeout(40)
    )
    if settings.telegram_api_base_url:
        base = settings.telegram_api_base_url
        builder = builder.base_url(base).base_file_url(_file_base_url(base))
    app = builder.build()
    handlers = TelegramHandlers(Conversation(engine, state, resolver))
    app.bot_data["handlers"] = handlers
    handlers.register(app)
    return app


async def _set_commands(app: Application) -> None:
    """The menu for everyone and for group admins: in English, and for users whose Telegram app is set to one
    of the translated languages, in that language (Telegram picks the list by the user's language_code)."""
    try:
        await app.bot.set_my_commands(PUBLIC_COMMANDS, scope=BotCommandScopeDefault())
        await app.bot.set_my_commands(ADMIN_COMMANDS, scope=BotCommandScopeAllChatAdministrators())
        for lang in TRANSLATED:
            t = translator(lang)
            await app.bot.set_my_commands(command_list(t), scope=BotCommandScopeDefault(), language_code=lang)
            await app.bot.set_my_commands(command_list(t, admin=True), scope=BotCommandScopeAllChatAdministrators(),
                                          language_code=lang)
    except TelegramError as e:  # the bot works without the menu
        log.warning("setMyCommands failed: %s", e)


async def run_telegram(settings: Settings, engine: Engine, state: StateStore, resolver: "LinkResolver | None",
                       stop_event: asyncio.Event | None = None, *, app: Application | None = None,
                       poll_timeout: int = 30, health: ops.Health | None = None) -> None:
    """Run until `stop_event` is set (or SIGINT/SIGTERM when no event is given); polling by default,
    webhook mode when Settings.telegram_webhook_url is set. Shuts down gracefully: in-flight updates
    finish and the last getUpdates offset is confirmed, so no update is lost or answered twice. In webhook
    mode each update is acknowledged only once handled, and taken in the shared state first, so replicas
    behind one URL answer it once (bot/adapters/telegram/webhook.py)."""
    app = app or build_application(settings, engine, state, resolver)
    health = health or ops.Health({"state": state.ping})
    hook: FleetWebhook | None = None
    own_signals = stop_event is None
    stop = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    if own_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
    delay = 1.0
    while True:  # the API may be unreachable at start: retry instead of dying
        try:
            await app.initialize()
            break
        except NetworkError as e:
            log.warning("Telegram is unreachable (%s); retrying in %.0fs", e, delay)
            try:
                await asyncio.wait_for(stop.wait(), delay)
                return
            except asyncio.TimeoutError:
                delay = min(delay * 2, 60)
    try:
        await _set_commands(app)
        assert app.updater is not None
        if settings.telegram_webhook_url:
            path = urlsplit(settings.telegram_webhook_url).path.lstrip("/")
            hook = FleetWebhook(UpdateGate(app, state, lease_s=settings.update_lease_s), path=path, secret=settings.telegram_webhook_secret,
                                health=health)
            hook.listen(settings.telegram_webhook_port, settings.telegram_webhook_listen)
            if not settings.telegram_webhook_skip_register:
                await app.bot.set_webhook(settings.telegram_webhook_url, allowed_updates=ALLOWED_UPDATES,
                                          secret_token=settings.telegram_webhook_secret or None)
            log.info("Telegram adapter running (webhook on %s:%s)", settings.telegram_webhook_listen,
                     settings.telegram_webhook_port)
        else:
            await app.updater.start_polling(poll_interval=0, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES,
                                            drop_pending_updates=False)
            log.info("Telegram adapter running (polling) as @%s", app.bot.username)
        await app.start()
        await stop.wait()
    finally:
        log.info("Telegram adapter stopping")
        if hook is not None:
            await hook.stop()
        with contextlib.suppress(Exception):
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
        with contextlib.suppress(Exception):
            if app.running:
                await app.stop()
        await app.shutdown()
        if own_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
