"""Neutral replies out as Telegram messages: HTML pages (rendered in a worker thread), keyboards from
actions, network retries, and callback answers for button presses."""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.adapters.telegram import render as R
from bot.adapters.telegram.incoming import user_is_admin
from bot.adapters.telegram.refs import MORE as MORE_REF
from bot.adapters.telegram.refs import Refs
from bot.chat import texts
from bot.chat.i18n import EN, N_, Translator
from bot.chat.messages import (AboutReply, Action, CardReply, FlagsReply, HelpReply, LogChatProbe, MuteReply, Receipt,
                               Refusal, RefusalKind, RelatedReply, Reply, SettingsReply, SourcesReply)

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
SEND_ATTEMPTS = 4  # network errors: the reply is retried, never dropped silently
OPEN_THE_BOT = N_("Open the bot to see more.")
MORE_LABEL = N_("More")


def _html(template: str, **fields: str) -> str:
    """A translated sentence as HTML: its own words escaped, the (already HTML) fields put in after."""
    return html.escape(template, quote=False).format(**fields)


def _lines(reply: Reply, username: str, t: Translator = EN) -> list[R.Line] | str:
    """A reply as Telegram lines (paginated later), or as ready HTML for short fixed texts."""
    if isinstance(reply, SourcesReply):
        return R.sources_lines(reply.card, t)
    if isinstance(reply, RelatedReply):
        return R.related_lines(reply.card, t)
    if isinstance(reply, AboutReply):
        return R.about_lines(reply.about, t)
    if isinstance(reply, SettingsReply):
        return R.settings_lines(reply.settings, reply.saved, t)
    if isinstance(reply, FlagsReply):
        return R.flags_lines(reply.flags, t)
    if isinstance(reply, HelpReply):
        if reply.topic == "moderation":
            return R.moderation_help_html(t)
        if reply.topic in texts.USAGE:
            return html.escape(t(texts.USAGE[reply.topic])).replace("/check", "<code>/check</code>")
        return R.help_html(username, t)
    if isinstance(reply, MuteReply):
        return _html(t(texts.MUTED if reply.muted else texts.UNMUTED), claim=f"<code>{html.escape(reply.claim_id)}</code>")
    if isinstance(reply, LogChatProbe):
        return _html(t(texts.LOG_CHAT_PROBE), title=f"<b>{html.escape(reply.chat_title)}</b>")
    if isinstance(reply, Refusal):
        detail = f"<code>{html.escape(reply.detail)}</code>" if reply.kind is RefusalKind.UNKNOWN_CLAIM else html.escape(reply.detail)
        return _html(t(texts.REFUSALS[reply.kind]), detail=detail)
    if isinstance(reply, Receipt):
        return html.escape(t(texts.RECEIPTS[reply.kind]))
    raise TypeError(f"no Telegram rendering for {type(reply).__name__}")


class TelegramSender:
    """Sends rendered replies for one bot; shared by every responder."""

    def __init__(self, bot: Any, refs: Refs) -> None:
        self.bot, self.refs = bot, refs

    async def send(self, chat_id: int | str, html_text: str, *, reply_to: int | str | None = None,
                   markup: InlineKeyboardMarkup | None = None, plain: str | None = None) -> Message | None:
        """One HTML message. Network errors are retried (the rate limiter already retries flood waits); a
        rejected HTML message falls back to plain text, so the user still gets an answer."""
        reply = ReplyParameters(message_id=int(reply_to), allow_sending_without_reply=True) if reply_to else None
        delay = 0.5
        for attempt in range(SEND_ATTEMPTS):
            try:
                return await self.bot.send_message(chat_id, html_text, parse_mode=ParseMode.HTML, reply_parameters=reply,
                                                   reply_markup=markup, link_preview_options=NO_PREVIEW)
            except RetryAfter as e:  # the limiter's own retries ran out: wait once more ourselves
                wait = getattr(e, "_retry_after", None)
                await asyncio.sleep(wait.total_seconds() if wait is not None else 1.0)
            except BadRequest as e:
                if "parse entities" in e.message.lower() and plain:
                    log.error("Telegram rejected our HTML (%s); sending plain text", e.message)
                    try:
                        return await self.bot.send_message(chat_id, plain[:R.MAX_MESSAGE], parse_mode=None,
                                                           reply_parameters=reply, reply_markup=markup,
                                                           link_preview_options=NO_PREVIEW)
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

    def keyboard(self, actions: tuple[Action, ...], more_key: str | None = None, t: Translator = EN) -> InlineKeyboardMarkup | None:
        """Buttons for neutral actions: card actions two to a row, related claims one to a row."""
        rows: list[list[InlineKeyboardButton]] = ([[InlineKeyboardButton(t(MORE_LABEL) + " \u25b8", callback_data=f"{MORE_REF}:{more_key}")]]
                                                  if more_key else [])
        row: list[InlineKeyboardButton] = []
        for a in actions:
            label = a.label[:60] if a.label else texts.action_label(a.kind, t)
            button = InlineKeyboardButton(label or a.claim_id, callback_data=self.refs.callback_data(a))
            assert R.fits_callback(str(button.callback_data)), button.callback_data
            if a.label:
                rows.append([button])
            else:
                row.append(button)
                if len(row) == 2:
                    rows.append(row)
                    row = []
        if row:
            rows.append(row)
        return InlineKeyboardMarkup(rows) if rows else None

    def _prepare(self, chat_id: int | str, reply: Reply, username: str,
                 t: Translator = EN) -> tuple[list[str], InlineKeyboardMarkup | None, str | None]:
        """(pages, keyboard of the last page, plain-text fallback): all the rendering, for a worker thread."""
        lines = R.card_reply_lines(reply, t) if isinstance(reply, CardReply) else _lines(reply, username, t)
        if isinstance(lines, str):
            return [lines], None, None
        pages = R.paginate(lines, max_pages=R.MAX_PAGES, t=t)
        plain = R.plain_text(lines) if len(pages) == 1 else None
        actions = getattr(reply, "actions", ())
        if isinstance(reply, CardReply) and reply.result.card is not None and len(pages) > 1:
            return pages[:1], self.keyboard(actions, self.refs.put_pages(chat_id, pages[1:]), t), plain
        return pages, self.keyboard(actions, t=t), plain

    async def deliver(self, chat_id: int | str, reply: Reply, *, reply_to: int | str | None, username: str,
                      t: Translator = EN) -> list[Message]:
        pages, markup, plain = await asyncio.to_thread(self._prepare, chat_id, reply, username, t)
        sent = []
        for i, page in enumerate(pages):
            last = i == len(pages) - 1
            m = await self.send(chat_id, page, reply_to=reply_to, markup=markup if last else None, plain=plain)
            if m is not None:
                sent.append(m)
        if isinstance(reply, CardReply) and reply.result.card is not None and sent and reply.checked_text:
            await asyncio.to_thread(self.refs.put_checked, chat_id, sent[-1].message_id, reply.checked_text)
        return sent


class TelegramResponder:
    """Where one update's replies go: under the message, or as the answer to a button press; in the
    language of the user behind the update (`t`, from their Telegram language_code)."""

    def __init__(self, sender: TelegramSender, chat_id: int | str | None, *, reply_to: int | str | None = None,
                 query: CallbackQuery | None = None, username: str = "", t: Translator = EN) -> None:
        self.sender, self.chat_id, self.reply_to, self.query, self.username = sender, chat_id, reply_to, query, username
        self.t = t
        self._answered = False

    async def reply(self, reply: Reply) -> None:
        t = self.t
        if self.query is not None and isinstance(reply, (Receipt, Refusal)):
            await self._answer(t(texts.RECEIPTS[reply.kind]) if isinstance(reply, Receipt) else texts.refusal_text(reply, t))
            return
        if self.query is not None:
            await self._answer(None if self.chat_id is not None else t(OPEN_THE_BOT))
        if self.chat_id is not None:
            await self.sender.deliver(self.chat_id, reply, reply_to=self.reply_to, username=self.username, t=t)

    async def post(self, chat_id: str, reply: Reply) -> bool:
        return bool(await self.sender.deliver(chat_id, reply, reply_to=None, username=self.username, t=self.t))

    async def runs(self, chat_id: str, user_id: str) -> bool:
        if chat_id == user_id:  # the admin's own private chat with the bot
            return True
        try:
            chat, user = int(chat_id), int(user_id)
        except ValueError:
            return False
        return await user_is_admin(self.sender.bot, chat, user)

    async def _answer(self, text: str | None) -> None:
        if self.query is None or self._answered:
            return
        self._answered = True
        try:
            await self.query.answer(text)
        except BadRequest as e:  # e.g. the query is too old to answer: nothing the user can be told
            log.info("callback answer failed: %s", e.message)
