"""Telegram adapter (python-telegram-bot v22): translates Telegram updates into engine calls and
engine results into Telegram HTML messages. Rendering lives in `telegram_render`.

Entry points: `build_application(settings, engine, state, resolver)` and `run_telegram(...)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import re
import secrets
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiolimiter import AsyncLimiter
from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseRateLimiter,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.adapters import telegram_render as R
from bot.config import Settings
from bot.engine.cards import Card, CheckResult
from bot.engine.service import Engine
from bot.engine.urls import find_urls, strip_urls
from bot.state import StateStore

if TYPE_CHECKING:
    from bot.links import LinkResolver
    from bot.moderation import Moderation

log = logging.getLogger(__name__)

PLATFORM = "telegram"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
ADMIN_STATUSES = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR}
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.INLINE_QUERY, Update.CALLBACK_QUERY]
INLINE_CACHE_TIME = 10  # seconds: knowledge changes rarely, but answers should feel live
# httpcore scans every pooled connection on each request; the flood limits cap useful parallelism far
# below this anyway (30 messages/s overall), so a small pool is both enough and much cheaper under load.
POOL_SIZE = 16
SEND_ATTEMPTS = 4  # network errors: the reply is retried, never dropped silently

PUBLIC_COMMANDS = [
    BotCommand("check", "Context for a headline or link (or reply /check to a message)"),
    BotCommand("sources", "Full sourcing list of a claim: /sources <claim id or text>"),
    BotCommand("about", "Knowledge base size, last update, sources and licences"),
    BotCommand("help", "What this bot does, with an example"),
    BotCommand("start", "Start here"),
]
ADMIN_COMMANDS = PUBLIC_COMMANDS + [
    BotCommand("moderation", "Group auto-moderation: on|off, mode, log, cooldown, quiet"),
    BotCommand("mute", "Never auto-flag a claim in this group: /mute <claim id>"),
    BotCommand("unmute", "Auto-flag a muted claim again: /unmute <claim id>"),
    BotCommand("flags", "Recent auto-flags in this group"),
]

HELP_TEXT = (
    "<b>Claim Context</b> tells you what is known about a claim or headline you just saw: who first "
    "reported it and on what sourcing, who denied it, what fact-checkers ruled and what happened later.\n\n"
    "Send me a headline or a link, or use:\n"
    "/check <i>headline or URL</i> (or reply /check to a message)\n"
    "/sources <i>claim id or text</i> \u2014 the full sourcing list\n"
    "/about \u2014 the knowledge base, its sources and licences\n\n"
    "<b>Example:</b> <code>/check US intelligence claims Iran paid Taliban to kill American troops</code>\n\n"
    "In any chat you can also type <code>@{username} headline</code> to share a card.\n"
    "Group admins: /moderation, /mute, /unmute, /flags."
)
MODERATION_HELP = (
    "<b>Moderation commands</b> (group admins):\n"
    "/moderation on|off\n/moderation mode reply|notify\n/moderation log &lt;chat id&gt;|here|off\n"
    "/moderation cooldown &lt;hours&gt;\n/moderation quiet &lt;from&gt;-&lt;to&gt;|off (UTC hours)\n"
    "/moderation threshold &lt;0..1&gt;\n/mute &lt;claim id&gt;, /unmute &lt;claim id&gt;, /flags"
)


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


# --- flood control and update ordering -------------------------------------------------------------

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


# --- compact references for callback_data and deep links -------------------------------------------

KEY_SCHEMA = """
CREATE TABLE IF NOT EXISTS telegram_keys (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    ts REAL NOT NULL
);
"""
ID_SAFE = re.compile(r"^[A-Za-z0-9-]+$")


class Keys:
    """Short keys for values that do not fit in 64-byte callback_data or a /start payload (long claim ids,
    the rest of a long card). Stored in the state database so buttons keep working after a restart."""

    def __init__(self, state: StateStore) -> None:
        self.state = state
        state.execute(KEY_SCHEMA.strip())

    def put(self, key: str, value: str) -> str:
        self.state.execute("INSERT OR REPLACE INTO telegram_keys (key, value, ts) VALUES (?,?,?)", (key, value, time.time()))
        return key

    def get(self, key: str) -> str | None:
        row = self.state.execute("SELECT value FROM telegram_keys WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def claim_ref(self, claim_id: str, room: int) -> str:
        """The claim id itself when it fits in `room` bytes and is unambiguous; else "_" + a stored hash."""
        if len(claim_id.encode("utf-8")) <= room and ID_SAFE.match(claim_id) and not claim_id.startswith("_"):
            return claim_id
        return self.put("_" + R.short_hash(claim_id, 20), claim_id)

    def claim_id(self, ref: str) -> str | None:
        if ref.startswith("_"):
            return self.get(ref)
        return ref or None


# --- the adapter -----------------------------------------------------------------------------------

def message_text_and_urls(message: Message | None) -> tuple[str, list[str]]:
    """The text of a message plus the URLs its entities carry that the text does not show in full
    (`text_link` targets, bare domains Telegram detected as `url`)."""
    if message is None:
        return "", []
    text = message.text or message.caption or ""
    entities = message.entities or message.caption_entities or ()
    parse = message.parse_entity if message.text else message.parse_caption_entity
    present = set(find_urls(text))
    extra: list[str] = []
    for e in entities:
        url = ""
        if e.type == MessageEntity.TEXT_LINK and e.url:
            url = e.url
        elif e.type == MessageEntity.URL:
            try:
                url = parse(e)
            except (IndexError, ValueError):
                continue
            if not re.match(r"(?i)^[a-z][a-z0-9+.-]*://", url):
                url = "http://" + url
        if url and url not in present and url not in extra:
            extra.append(url)
    return text, extra


class TelegramAdapter:
    def __init__(self, settings: Settings, engine: Engine, state: StateStore, resolver: "LinkResolver | None") -> None:
        self.settings = settings
        self.engine = engine
        self.state = state
        self.resolver = resolver
        self.keys = Keys(state)
        self.moderation = self._load_moderation(state)

    @staticmethod
    def _load_moderation(state: StateStore) -> "Moderation | None":
        try:
            from bot.moderation import Moderation

            return Moderation(state)
        except NotImplementedError:
            log.warning("moderation is not implemented yet: group auto-moderation is off")
            return None

    # -- engine calls (sync engine work runs in threads so the event loop keeps serving updates) --

    async def check(self, text: str, extra_urls: list[str] | None = None) -> CheckResult:
        extra_urls = extra_urls or []
        if not extra_urls and not find_urls(text):
            return await asyncio.to_thread(self.engine.check, text)
        full = text + ("\n" + "\n".join(extra_urls) if extra_urls else "")
        try:
            return await self.engine.check_message(full, self.resolver)
        except Exception:  # a hostile URL must never cost the user their answer
            log.warning("link lookup failed; matching the text alone", exc_info=True)
            return await asyncio.to_thread(self.engine.check, strip_urls(text))

    async def card(self, claim_id: str) -> Card | None:
        try:
            return await asyncio.to_thread(self.engine.card, claim_id)
        except (KeyError, ValueError):
            return None

    async def card_for(self, text: str) -> Card | None:
        """A claim id, or else the best match for the text."""
        text = text.strip()
        if not text:
            return None
        if " " not in text:
            card = await self.card(text)
            if card is not None:
                return card
        result = await asyncio.to_thread(self.engine.check, text)
        return result.card

    # -- sending --------------------------------------------------------------------------------

    async def send(self, bot: Any, chat_id: int | str, html_text: str, *, reply_to: int | None = None,
                   markup: InlineKeyboardMarkup | None = None, plain: str | None = None) -> Message | None:
        """Send one HTML message. Network errors are retried (the rate limiter already retries flood waits);
        a rejected HTML message falls back to plain text, so the user still gets an answer."""
        reply = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
        delay = 0.5
        for attempt in range(SEND_ATTEMPTS):
            try:
                return await bot.send_message(chat_id, html_text, parse_mode=ParseMode.HTML, reply_parameters=reply,
                                              reply_markup=markup, link_preview_options=NO_PREVIEW)
            except RetryAfter as e:  # the limiter's own retries ran out: wait once more ourselves
                wait = getattr(e, "_retry_after", None)
                await asyncio.sleep(wait.total_seconds() if wait is not None else 1.0)
            except BadRequest as e:
                if "parse entities" in e.message.lower() and plain:
                    log.error("Telegram rejected our HTML (%s); sending plain text", e.message)
                    try:
                        return await bot.send_message(chat_id, plain[:4096], parse_mode=None, reply_parameters=reply,
                                                      reply_markup=markup, link_preview_options=NO_PREVIEW)
                    except TelegramError:
                        log.exception("plain-text fallback failed too")
                        return None
                log.warning("sendMessage to %s rejected: %s", chat_id, e.message)
                return None
            except Forbidden as e:
                log.info("cannot write to %s: %s", chat_id, e.message)
                return None
            except NetworkError as e:  # includes TimedOut
                if attempt == SEND_ATTEMPTS - 1:
                    log.error("giving up on a message to %s after %d attempts: %s", chat_id, SEND_ATTEMPTS, e)
                    return None
                log.warning("network error sending to %s (%s); retrying", chat_id, e)
                await asyncio.sleep(delay)
                delay *= 2
        return None

    async def send_pages(self, bot: Any, chat_id: int | str, lines: list[R.Line], *, reply_to: int | None = None,
                         markup: InlineKeyboardMarkup | None = None) -> list[Message]:
        """A long text as several messages; the keyboard goes on the last one."""
        pages = R.paginate(lines)
        sent = []
        for i, page in enumerate(pages):
            last = i == len(pages) - 1
            m = await self.send(bot, chat_id, page, reply_to=reply_to, markup=markup if last else None,
                                plain=R.plain_text(lines) if len(pages) == 1 else None)
            if m is not None:
                sent.append(m)
        return sent

    def card_keyboard(self, card: Card, more_key: str | None = None) -> InlineKeyboardMarkup:
        ref = self.keys.claim_ref(card.claim_id, R.MAX_CALLBACK_DATA - 2)
        rows = [[InlineKeyboardButton("Sources", callback_data=f"s:{ref}")]]
        if card.related:
            rows[0].append(InlineKeyboardButton("Related", callback_data=f"r:{ref}"))
        rows.append([InlineKeyboardButton("Wrong match", callback_data=f"w:{ref}"),
                     InlineKeyboardButton("Helpful", callback_data=f"h:{ref}")])
        if more_key:
            rows.insert(0, [InlineKeyboardButton("More \u25b8", callback_data=f"m:{more_key}")])
        for row in rows:
            for b in row:
                assert R.fits_callback(str(b.callback_data)), b.callback_data
        return InlineKeyboardMarkup(rows)

    async def send_result(self, bot: Any, chat_id: int | str, result: CheckResult, *, reply_to: int | None,
                          prefix: list[R.Line] | None = None) -> Message | None:
        """A card (or a plain 'not known' answer). Cards longer than one message get a "More" button."""
        if result.card is None:
            sent = await self.send_pages(bot, chat_id, (prefix or []) + R.no_match_lines(result), reply_to=reply_to)
            return sent[0] if sent else None
        lines = (prefix or []) + R.card_lines(result.card, result.outlet)
        pages = R.paginate(lines)
        more_key = None
        if len(pages) > 1:
            more_key = self.keys.put("m" + secrets.token_hex(8), json.dumps(pages[1:]))
        markup = await asyncio.to_thread(self.card_keyboard, result.card, more_key)
        plain = R.plain_text(lines) if len(pages) == 1 else None
        return await self.send(bot, chat_id, pages[0], reply_to=reply_to, markup=markup, plain=plain)

    # -- handlers -------------------------------------------------------------------------------

    async def ignore_bots(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Messages from bots (including this one, and our own inline cards) are never answered."""
        msg = update.message or update.edited_message
        if msg is None:
            return
        sender = msg.from_user
        anonymous_admin = msg.sender_chat is not None and msg.sender_chat.id == msg.chat.id
        if (sender is not None and sender.is_bot and not anonymous_admin) or msg.via_bot is not None:
            raise ApplicationHandlerStop

    async def cmd_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.effective_message
        payload = context.args[0] if context.args else ""
        if payload[:2] in ("s_", "c_"):  # deep link from an inline card
            claim_id = self.keys.claim_id(payload[2:])
            card = await self.card(claim_id) if claim_id else None
            if card is not None:
                if payload.startswith("s_"):
                    await self.send_pages(context.bot, msg.chat_id, R.sources_lines(card), reply_to=msg.message_id)
                else:
                    await self.send_result(context.bot, msg.chat_id, CheckResult(text="", decision="match", card=card),
                                           reply_to=msg.message_id)
                return
        await self.cmd_help(update, context)

    async def cmd_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.effective_message
        await self.send(context.bot, msg.chat_id, HELP_TEXT.replace("{username}", context.bot.username or "bot"),
                        reply_to=msg.message_id)

    async def cmd_check(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.effective_message
        text, urls = message_text_and_urls(msg)
        text = re.sub(r"^/\S+\s*", "", text, count=1)  # the command itself (with @botname)
        target = msg
        if not text.strip() and not urls and msg.reply_to_message is not None:
            target = msg.reply_to_message
            text, urls = message_text_and_urls(target)
        if not text.strip() and not urls:
            await self.send(context.bot, msg.chat_id,
                            "Send <code>/check</code> followed by a headline or a link, or reply "
                            "<code>/check</code> to the message you want checked.", reply_to=msg.message_id)
            return
        result = await self.check(text, urls)
        await self.send_result(context.bot, msg.chat_id, result, reply_to=target.message_id)

    async def cmd_about(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.effective_message
        about = await asyncio.to_thread(self.engine.about)
        await self.send_pages(context.bot, msg.chat_id, R.about_lines(about), reply_to=msg.message_id)

    async def cmd_sources(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.effective_message
        arg = re.sub(r"^/\S+\s*", "", msg.text or "", count=1)
        if not arg.strip() and msg.reply_to_message is not None:
            arg = message_text_and_urls(msg.reply_to_message)[0]
        if not arg.strip():
            await self.send(context.bot, msg.chat_id, "Send <code>/sources</code> followed by a claim id or the claim's text.",
                            reply_to=msg.message_id)
            return
        card = await self.card_for(arg)
        if card is None:
            await self.send_pages(context.bot, msg.chat_id, R.no_match_lines(CheckResult(text=arg, decision="none")),
                                  reply_to=msg.message_id)
            return
        await self.send_pages(context.bot, msg.chat_id, R.sources_lines(card), reply_to=msg.message_id)

    async def on_private_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.effective_message
        text, urls = message_text_and_urls(msg)
        if not text.strip() and not urls:
            return
        result = await self.check(text, urls)
        await self.send_result(context.bot, msg.chat_id, result, reply_to=msg.message_id)

    def _addresses_bot(self, msg: Message, bot_id: int, username: str) -> bool:
        reply = msg.reply_to_message
        if reply is not None and reply.from_user is not None and reply.from_user.id == bot_id:
            return True
        text = (msg.text or msg.caption or "").lower()
        return bool(username) and f"@{username.lower()}" in text

    async def on_group_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.effective_message
        edited = update.edited_message is not None
        text, urls = message_text_and_urls(msg)
        if not text.strip() and not urls:
            return
        if not edited and self._addresses_bot(msg, context.bot.id, context.bot.username or ""):
            # someone talks to the bot (works with privacy mode on): answer like a /check
            clean = re.sub(rf"(?i)@{re.escape(context.bot.username or '')}\b", " ", text) if context.bot.username else text
            result = await self.check(clean, urls)
            await self.send_result(context.bot, msg.chat_id, result, reply_to=msg.message_id)
            return
        await self.moderate(context.bot, msg, text, urls, edited=edited)

    async def moderate(self, bot: Any, msg: Message, text: str, urls: list[str], *, edited: bool) -> None:
        """Group auto-moderation: engine check -> Moderation.decide -> reply / notify the log chat / nothing."""
        if self.moderation is None:
            return
        try:
            settings = await asyncio.to_thread(self.moderation.settings, PLATFORM, msg.chat_id)
        except NotImplementedError:
            return
        if not settings.enabled:
            return  # nothing to decide: skip the engine work entirely
        result = await self.check(text, urls)
        link = msg.link or ""
        try:
            decision = await asyncio.to_thread(self.moderation.decide, PLATFORM, msg.chat_id, msg.message_id, text, result,
                                               message_link=link, edited=edited)
        except NotImplementedError:
            return
        log.debug("moderation %s/%s: %s (%s)", msg.chat_id, msg.message_id, decision.action, decision.reason)
        if decision.action == "reply":
            await self.send_result(bot, msg.chat_id, result, reply_to=msg.message_id)
        elif decision.action == "notify" and settings.log_chat_id:
            title = msg.chat.title or str(msg.chat_id)
            where = R.Seg("the message", href=link) if link else R.Seg(f"message {msg.message_id}")
            excerpt = text if len(text) <= 300 else text[:300] + "\u2026"
            prefix: list[R.Line] = [
                (R.Seg("Known claim posted in ", bold=True), R.Seg(title, bold=True), R.Seg(": "), where),
                (R.Seg("\u201c" + excerpt + "\u201d", italic=True),),
                (R.Seg(""),),
            ]
            await self.send_result(bot, settings.log_chat_id, result, reply_to=None, prefix=prefix)

    # -- inline mode ----------------------------------------------------------------------------

    async def on_inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.inline_query
        text = (query.query or "").strip()
        username = context.bot.username or "bot"
        if not text:
            help_html = ("Type a headline or claim after <code>@" + username + "</code> to share what is known about it. "
                         "Example: <code>@" + username + " Iran paid Taliban bounties</code>")
            results = [InlineQueryResultArticle(
                id="help", title="Type a headline or claim to check it",
                description="Claim Context: who reported it, on what sourcing, who denied it, fact-checks",
                input_message_content=InputTextMessageContent(help_html, parse_mode=ParseMode.HTML,
                                                              link_preview_options=NO_PREVIEW))]
            await query.answer(results, cache_time=INLINE_CACHE_TIME)
            return
        results = await asyncio.to_thread(self._inline_results, text[:512], username)
        await query.answer(results[:10], cache_time=INLINE_CACHE_TIME)

    def _inline_results(self, text: str, username: str) -> list[InlineQueryResultArticle]:
        found = self.engine.search(text, limit=10)
        out: list[InlineQueryResultArticle] = []
        for m in found.matches[:10]:
            card = self.engine.card(m.id, confidence=m.score, decision="match")
            if card is None:
                continue
            page = R.paginate(R.card_lines(card))[0]
            ref = self.keys.claim_ref(card.claim_id, R.MAX_START_PAYLOAD - 2)
            keyboard = InlineKeyboardMarkup([
                [InlineKeyboardButton("Sources", url=f"https://t.me/{username}?start=s_{ref}")],
                [InlineKeyboardButton("Wrong match", callback_data=f"w:{self.keys.claim_ref(card.claim_id, 62)}"),
                 InlineKeyboardButton("Helpful", callback_data=f"h:{self.keys.claim_ref(card.claim_id, 62)}")],
            ])
            out.append(InlineQueryResultArticle(
                id=R.short_hash(card.claim_id, 32),
                title=card.statement[:200] or card.claim_id,
                description=R.one_line_summary(card)[:200],
                input_message_content=InputTextMessageContent(page, parse_mode=ParseMode.HTML,
                                                              link_preview_options=NO_PREVIEW),
                reply_markup=keyboard,
            ))
        if not out:
            out.append(InlineQueryResultArticle(
                id="none", title="No known claim matches", description="Send it to the bot in private to report it",
                input_message_content=InputTextMessageContent(R.to_html(R.no_match_lines(found)), parse_mode=ParseMode.HTML,
                                                              link_preview_options=NO_PREVIEW)))
        return out

    # -- buttons --------------------------------------------------------------------------------

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        data = query.data or ""
        kind, _, ref = data.partition(":")
        msg = query.message if isinstance(query.message, Message) else None
        bot = context.bot
        try:
            if kind == "m" and msg is not None:
                stored = await asyncio.to_thread(self.keys.get, ref)
                if stored is None:
                    await query.answer("This card has expired; send the message again.")
                    return
                await query.answer()
                for page in json.loads(stored):
                    await self.send(bot, msg.chat_id, page, reply_to=msg.message_id)
                return
            claim_id = await asyncio.to_thread(self.keys.claim_id, ref)
            if not claim_id or kind not in "srcwh":
                await query.answer("This button has expired.")
                return
            if kind in ("w", "h"):
                await self.feedback(update, context, claim_id, kind)
                return
            if msg is None:  # inline message: no chat to post into
                await query.answer("Open the bot to see more.", show_alert=False)
                return
            card = await self.card(claim_id)
            if card is None:
                await query.answer("This claim is no longer in the knowledge base.")
                return
            await query.answer()
            if kind == "s":
                await self.send_pages(bot, msg.chat_id, R.sources_lines(card), reply_to=msg.message_id)
            elif kind == "r":
                buttons = [[InlineKeyboardButton(r.statement[:60] or r.id,
                                                 callback_data=f"c:{self.keys.claim_ref(r.id, 62)}")] for r in card.related[:5]]
                await self.send_pages(bot, msg.chat_id, R.related_lines(card), reply_to=msg.message_id,
                                      markup=InlineKeyboardMarkup(buttons) if buttons else None)
            elif kind == "c":
                await self.send_result(bot, msg.chat_id, CheckResult(text="", decision="match", card=card),
                                       reply_to=msg.message_id)
        except BadRequest as e:  # e.g. the query is too old to answer: nothing the user can be told
            log.info("callback %r: %s", data, e.message)

    async def is_admin(self, bot: Any, chat_id: int, user_id: int) -> bool:
        try:
            member = await bot.get_chat_member(chat_id, user_id)
        except TelegramError as e:
            log.info("getChatMember(%s, %s) failed: %s", chat_id, user_id, e)
            return False
        return member.status in ADMIN_STATUSES

    async def feedback(self, update: Update, context: ContextTypes.DEFAULT_TYPE, claim_id: str, kind: str) -> None:
        query = update.callback_query
        msg = query.message if isinstance(query.message, Message) else None
        chat_id: int | str = msg.chat_id if msg is not None else "inline"
        user_id = query.from_user.id
        checked = msg.reply_to_message if msg is not None else None
        text = message_text_and_urls(checked)[0] if checked is not None else ""
        group = msg is not None and msg.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
        is_admin = group and await self.is_admin(context.bot, msg.chat_id, user_id)  # type: ignore[union-attr]
        label = "wrong" if kind == "w" else "helpful"
        recorded = await asyncio.to_thread(self._record_feedback, chat_id, user_id, claim_id, label, text, is_admin)
        if not recorded:
            await query.answer("You already sent this feedback. Thank you!")
        elif label == "wrong":
            extra = " It will no longer be auto-flagged for this text here." if is_admin and self.moderation else ""
            await query.answer("Thanks \u2014 reported to the curators as a wrong match." + extra)
        else:
            await query.answer("Thanks for the feedback!")

    def _record_feedback(self, chat_id: int | str, user_id: int, claim_id: str, kind: str, text: str, is_admin: bool) -> bool:
        dup = self.state.execute(
            "SELECT 1 FROM feedback WHERE platform=? AND chat_id=? AND user_id=? AND claim_id=? AND kind=? LIMIT 1",
            (PLATFORM, str(chat_id), str(user_id), claim_id, kind)).fetchone()
        if dup:
            return False
        if kind == "wrong" and self.moderation is not None:
            try:  # records the feedback row itself, and for admins stops the claim auto-flagging this text
                self.moderation.wrong_match(PLATFORM, chat_id, claim_id, text, user_id, is_admin=is_admin)
                return True
            except NotImplementedError:
                pass
        self.state.add_feedback(platform=PLATFORM, chat_id=chat_id, user_id=user_id, claim_id=claim_id, kind=kind,
                                text=text, is_admin=is_admin)
        return True

    # -- moderation commands (group admins) -----------------------------------------------------

    async def _admin_guard(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
        msg = update.effective_message
        if msg.chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
            await self.send(context.bot, msg.chat_id, "Moderation commands work in groups, run by a group admin.",
                            reply_to=msg.message_id)
            return False
        anonymous_admin = msg.sender_chat is not None and msg.sender_chat.id == msg.chat_id
        if not anonymous_admin and not (msg.from_user and await self.is_admin(context.bot, msg.chat_id, msg.from_user.id)):
            await self.send(context.bot, msg.chat_id, "Sorry, only the group's admins can change moderation settings.",
                            reply_to=msg.message_id)
            return False
        if self.moderation is None:
            await self.send(context.bot, msg.chat_id, "Group moderation is not available on this bot yet.",
                            reply_to=msg.message_id)
            return False
        return True

    @staticmethod
    def _settings_lines(s: Any) -> list[R.Line]:
        quiet = f"{s.quiet_start:02d}:00\u2013{s.quiet_end:02d}:00 UTC" if s.quiet_start is not None and s.quiet_end is not None else "off"
        return [
            (R.Seg("Moderation: ", bold=True), R.Seg("on" if s.enabled else "off")),
            (R.Seg("Mode: ", bold=True), R.Seg(s.mode)),
            (R.Seg("Log chat: ", bold=True), R.Seg(str(s.log_chat_id) if s.log_chat_id else "none")),
            (R.Seg("Cooldown: ", bold=True), R.Seg(f"{s.cooldown_s / 3600:g} h per claim")),
            (R.Seg("Quiet hours: ", bold=True), R.Seg(quiet)),
            (R.Seg("Extra threshold: ", bold=True), R.Seg(f"{s.threshold:g}")),
            (R.Seg("Muted claims: ", bold=True), R.Seg(", ".join(sorted(s.muted)) or "none")),
        ]

    async def cmd_moderation(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self._admin_guard(update, context):
            return
        msg = update.effective_message
        mod = self.moderation
        assert mod is not None
        args = [a.lower() for a in (context.args or [])]
        changes: dict[str, Any] = {}
        try:
            if not args:
                pass
            elif args[0] in ("on", "off") and len(args) == 1:
                changes["enabled"] = args[0] == "on"
            elif args[0] == "mode" and len(args) == 2:
                changes["mode"] = args[1]
            elif args[0] == "log" and len(args) == 2:
                if args[1] == "off":
                    changes["log_chat_id"] = None
                else:
                    target = str(msg.chat_id) if args[1] == "here" else args[1]
                    if not re.fullmatch(r"-?\d{1,20}", target):
                        raise ValueError("the log chat must be a numeric chat id, 'here' or 'off'")
                    if target != str(msg.chat_id):
                        probe = await self.send(context.bot, target, "This chat will receive claim-context moderation "
                                                f"notices for <b>{html.escape(msg.chat.title or str(msg.chat_id))}</b>.")
                        if probe is None:
                            raise ValueError("I cannot post in that chat; add me there first")
                    changes["log_chat_id"] = target
            elif args[0] == "cooldown" and len(args) == 2:
                hours = float(args[1])
                if not 0 <= hours <= 168:
                    raise ValueError("cooldown must be between 0 and 168 hours (7 days)")
                changes["cooldown_s"] = int(round(hours * 3600))
            elif args[0] == "quiet" and len(args) == 2:
                if args[1] == "off":
                    changes.update(quiet_start=None, quiet_end=None)
                else:
                    m = re.fullmatch(r"(\d{1,2})(?::00)?-(\d{1,2})(?::00)?", args[1])
                    if not m:
                        raise ValueError("quiet hours look like 22-7 (UTC hours)")
                    changes.update(quiet_start=int(m.group(1)), quiet_end=int(m.group(2)))
            elif args[0] == "threshold" and len(args) == 2:
                changes["threshold"] = float(args[1])
            else:
                await self.send(context.bot, msg.chat_id, MODERATION_HELP, reply_to=msg.message_id)
                return
            if changes:
                s = await asyncio.to_thread(mod.update, PLATFORM, msg.chat_id, **changes)
            else:
                s = await asyncio.to_thread(mod.settings, PLATFORM, msg.chat_id)
        except ValueError as e:
            await self.send(context.bot, msg.chat_id, f"Not changed: {html.escape(str(e))}", reply_to=msg.message_id)
            return
        head: list[R.Line] = [(R.Seg("Saved.", bold=True),)] if changes else []
        await self.send_pages(context.bot, msg.chat_id, head + self._settings_lines(s), reply_to=msg.message_id)

    async def _mute(self, update: Update, context: ContextTypes.DEFAULT_TYPE, mute: bool) -> None:
        if not await self._admin_guard(update, context):
            return
        msg = update.effective_message
        mod = self.moderation
        assert mod is not None
        claim_id = (context.args or [""])[0].strip()
        if not claim_id:
            await self.send(context.bot, msg.chat_id, f"Usage: /{'mute' if mute else 'unmute'} &lt;claim id&gt;",
                            reply_to=msg.message_id)
            return
        if mute and await self.card(claim_id) is None:
            await self.send(context.bot, msg.chat_id, f"No claim has the id <code>{html.escape(claim_id)}</code>.",
                            reply_to=msg.message_id)
            return
        try:
            fn = mod.mute if mute else mod.unmute
            await asyncio.to_thread(fn, PLATFORM, msg.chat_id, claim_id)
        except ValueError as e:
            await self.send(context.bot, msg.chat_id, f"Not changed: {html.escape(str(e))}", reply_to=msg.message_id)
            return
        verb = "will no longer be auto-flagged" if mute else "will be auto-flagged again"
        await self.send(context.bot, msg.chat_id, f"<code>{html.escape(claim_id)}</code> {verb} in this group.",
                        reply_to=msg.message_id)

    async def cmd_mute(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._mute(update, context, True)

    async def cmd_unmute(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._mute(update, context, False)

    async def cmd_flags(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self._admin_guard(update, context):
            return
        msg = update.effective_message
        assert self.moderation is not None
        flags = await asyncio.to_thread(self.moderation.recent_flags, PLATFORM, msg.chat_id, 20)
        lines: list[R.Line] = [(R.Seg("Recent flags", bold=True),)]
        if not flags:
            lines.append((R.Seg("None yet."),))
        for f in flags:
            when = f.get("ts")
            stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime(float(when))) if isinstance(when, (int, float)) else str(when or "")
            detail = ", ".join(f"{k}: {v}" for k, v in f.items()
                               if k in ("action", "reason", "repeat_count", "message_id") and v not in (None, ""))
            link = str(f.get("message_link") or "")
            lines.append((R.Seg("\u2022 " + stamp + " "), R.Seg(str(f.get("claim_id") or ""), code=True),
                          R.Seg(" " + detail), *( (R.Seg(" "), R.Seg("message", href=link)) if link else ())))
        await self.send_pages(context.bot, msg.chat_id, lines, reply_to=msg.message_id)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("error handling an update: %r", context.error, exc_info=context.error)
        # Someone who asked (private chat or a command) gets a clear answer rather than silence;
        # group auto-moderation stays silent.
        msg = update.effective_message if isinstance(update, Update) else None
        if msg is None or update.edited_message is not None:  # type: ignore[union-attr]
            return
        asked = msg.chat.type == ChatType.PRIVATE or (msg.text or "").startswith("/")
        if asked:
            await self.send(context.bot, msg.chat_id, "Sorry, something went wrong while checking this. "
                            "Please try again in a moment.", reply_to=msg.message_id)

    # -- wiring ---------------------------------------------------------------------------------

    def register(self, app: Application) -> None:
        app.add_handler(TypeHandler(Update, self.ignore_bots), group=-1)
        for name, cb in (("start", self.cmd_start), ("help", self.cmd_help), ("check", self.cmd_check),
                         ("about", self.cmd_about), ("sources", self.cmd_sources), ("moderation", self.cmd_moderation),
                         ("mute", self.cmd_mute), ("unmute", self.cmd_unmute), ("flags", self.cmd_flags)):
            app.add_handler(CommandHandler(name, cb, filters=filters.UpdateType.MESSAGE))
        text = (filters.TEXT | filters.CAPTION) & ~filters.COMMAND
        app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & text, self.on_private_text))
        app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.UpdateType.MESSAGES & text, self.on_group_message))
        app.add_handler(InlineQueryHandler(self.on_inline))
        app.add_handler(CallbackQueryHandler(self.on_callback))
        app.add_error_handler(self.on_error)


def _file_base_url(base_url: str) -> str:
    """Telegram serves files from /file/bot<token>/...; derive that from an API base ending in /bot."""
    if base_url.rstrip("/").endswith("/bot"):
        return base_url.rstrip("/")[: -len("/bot")] + "/file/bot"
    return base_url.rstrip("/") + "/file/bot"


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
        .rate_limiter(limiter or FloodLimiter())
        .concurrent_updates(PerChatUpdateProcessor(concurrency))
        .connection_pool_size(POOL_SIZE)
        .pool_timeout(30)
        .get_updates_read_timeout(40)
    )
    if settings.telegram_api_base_url:
        base = settings.telegram_api_base_url
        builder = builder.base_url(base).base_file_url(_file_base_url(base))
    app = builder.build()
    adapter = TelegramAdapter(settings, engine, state, resolver)
    app.bot_data["adapter"] = adapter
    adapter.register(app)
    return app


async def _set_commands(app: Application) -> None:
    try:
        await app.bot.set_my_commands(PUBLIC_COMMANDS, scope=BotCommandScopeDefault())
        await app.bot.set_my_commands(ADMIN_COMMANDS, scope=BotCommandScopeAllChatAdministrators())
    except TelegramError as e:  # the bot works without the menu
        log.warning("setMyCommands failed: %s", e)


async def run_telegram(settings: Settings, engine: Engine, state: StateStore, resolver: "LinkResolver | None",
                       stop_event: asyncio.Event | None = None, *, app: Application | None = None,
                       poll_timeout: int = 30) -> None:
    """Run until `stop_event` is set (or SIGINT/SIGTERM when no event is given); polling by default,
    webhook mode when Settings.telegram_webhook_url is set. Shuts down gracefully: in-flight updates
    finish and the last getUpdates offset is confirmed, so no update is lost or answered twice."""
    app = app or build_application(settings, engine, state, resolver)
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
            await app.updater.start_webhook(
                listen=settings.telegram_webhook_listen, port=settings.telegram_webhook_port, url_path=path,
                webhook_url=settings.telegram_webhook_url, secret_token=settings.telegram_webhook_secret or None,
                allowed_updates=ALLOWED_UPDATES)
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
